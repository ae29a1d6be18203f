//! What a run is configured with, and what it reports while and after it runs.

use crate::client::ClientConfig;
use crate::run::Summary;
use std::time::Duration;

/// Requests due within this long of the first waiting go out on one wake, when not given.
pub const DEFAULT_BATCH_WINDOW: Duration = Duration::from_micros(500);
/// How often a run's progress line is printed (CI logs); a terminal's bar is redrawn every [`PROGRESS_ON_A_TERMINAL`].
pub const DEFAULT_PROGRESS_EVERY: Duration = Duration::from_secs(5);
pub const PROGRESS_ON_A_TERMINAL: Duration = Duration::from_millis(250);

#[derive(Clone)]
pub struct RunConfig {
    pub client: ClientConfig,
    /// `--max-rps`: a hard ceiling for every request of the run.
    pub max_rps: Option<u32>,
    /// `--max-requests`: the run sends this many at most.
    pub max_requests: Option<u64>,
    /// How often progress is reported.
    pub progress_every: Duration,
    /// Requests due within this long of the first waiting go out on one wake (see `batching.rs`).
    pub batch_window: Duration,
    /// Whether short waits may be spun through while the process is busy (`--no-spin` says no; see `spin.rs`).
    pub spin: bool,
    /// Limits beyond the flags' (see `limits/`), held for every request like them.
    pub limits: Vec<std::sync::Arc<dyn super::limits::Limit>>,
}

impl std::fmt::Debug for RunConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunConfig")
            .field("client", &self.client)
            .field("max_rps", &self.max_rps)
            .field("max_requests", &self.max_requests)
            .field("progress_every", &self.progress_every)
            .field("batch_window", &self.batch_window)
            .field("spin", &self.spin)
            .field("limits", &self.limits.len())
            .finish()
    }
}

impl RunConfig {
    pub fn new(client: ClientConfig) -> Self {
        RunConfig {
            client,
            max_rps: None,
            max_requests: None,
            progress_every: DEFAULT_PROGRESS_EVERY,
            batch_window: DEFAULT_BATCH_WINDOW,
            spin: true,
            limits: Vec::new(),
        }
    }

    /// How long requests in flight may take to finish once sending has stopped: their timeout, and a little.
    pub fn grace(&self) -> Duration {
        self.client.timeout + Duration::from_millis(100)
    }
}

/// A look at a run in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub elapsed_s: f64,
    /// The planned length; `None` for an endless loop.
    pub total_s: Option<f64>,
    pub intended: u64,
    pub requests: u64,
    pub not_sent: u64,
    pub failures: u64,
    /// Requests sent with a synthetic value for a placeholder no `--var` filled.
    pub synthetic: u64,
    /// Virtual users in flight now (0 without `--sessions`).
    pub users: u64,
    pub intended_rps: f64,
    pub achieved_rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub lag_p99_ms: f64,
    pub falling_behind: bool,
}

pub struct RunOutcome {
    pub summary: Summary,
    pub duration: Duration,
    /// Ctrl-C, SIGTERM or the caller's shutdown stopped it.
    pub interrupted: bool,
    /// The watch stopped it early, and why.
    pub aborted: Option<String>,
    /// A bug (a caught panic) ended it: what and where. The process exits 4.
    pub internal: Option<String>,
}
