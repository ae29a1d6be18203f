//! The vocabulary every source of work shares: endpoints and their catalog,
//! a request, a virtual user's session, work due at a time, and a planned run.

use crate::profile::{Profile, Quantiles};
use std::fmt;

/// An endpoint as the run names it: method and path template (`GET /users/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndpointKey {
    pub method: String,
    pub path: String,
}

impl EndpointKey {
    pub fn new(method: &str, path: &str) -> Self {
        EndpointKey { method: method.to_owned(), path: path.to_owned() }
    }
}

impl fmt::Display for EndpointKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// One endpoint of a run: its name and, where the profile holds it, production's latency.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry {
    pub key: EndpointKey,
    pub production_latency_ms: Option<Quantiles>,
    /// Production's share of each status class (1xx … 5xx), where the profile holds statuses.
    pub production_status: Option<[f64; 5]>,
}

impl CatalogEntry {
    /// An endpoint with nothing known of production.
    pub fn named(key: EndpointKey) -> Self {
        CatalogEntry { key, production_latency_ms: None, production_status: None }
    }
}

/// The endpoints a run's requests point into (by index), for reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    pub endpoints: Vec<CatalogEntry>,
}

impl Catalog {
    pub fn of_profile(profile: &Profile) -> Self {
        Catalog {
            endpoints: profile
                .endpoints
                .iter()
                .map(|e| CatalogEntry {
                    key: EndpointKey::new(&e.method, &e.path),
                    production_latency_ms: e.latency_ms,
                    production_status: crate::profile::status_classes::production_shares(&e.status),
                })
                .collect(),
        }
    }

    /// `GET /users/{id}` for endpoint `index` (`endpoint #N` past the end).
    pub fn name(&self, index: usize) -> String {
        self.endpoints.get(index).map_or_else(|| format!("endpoint #{index}"), |e| e.key.to_string())
    }
}

/// One request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    /// The request's number in the run, from 0.
    pub seq: u64,
    /// Index into the run's [`Catalog`].
    pub endpoint: usize,
    pub method: hyper::Method,
    /// Path and query, ready for the request line. It may hold values from
    /// `--var`: never print it; name the endpoint instead.
    pub target: String,
    /// (content type, body)
    pub body: Option<(String, String)>,
    /// Whether a placeholder in it was filled with a synthetic value (no `--var` gave one).
    pub synthetic: bool,
}

/// One virtual user's requests and the waits between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSpec {
    pub steps: Vec<RequestSpec>,
    /// The first step is the session's login: a 4xx, or a redirect to a login page, fails it.
    pub login: bool,
    /// Think time after each step but the last, nanoseconds of run time.
    pub think_ns: Vec<u64>,
}

/// What is due: one request, or a virtual user's whole session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    Request(RequestSpec),
    Session(SessionSpec),
}

impl Work {
    /// How many requests this work stands for.
    pub fn requests(&self) -> u64 {
        match self {
            Work::Request(_) => 1,
            Work::Session(s) => s.steps.len() as u64,
        }
    }
}

/// Work and when it is due (nanoseconds after the run's start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub at_ns: u64,
    pub work: Work,
    /// Which shard the work belongs to, as `key % count` (see `shard.rs`): a request's seq, a
    /// virtual user's number, a trace client's hash, so a client's work stays in one shard.
    pub shard_key: u64,
}

/// A source's work in time order.
pub type Plan = Box<dyn Iterator<Item = Planned> + Send>;

/// A run, planned: its work, its endpoints, and how long it is meant to take.
pub struct PlannedRun {
    pub plan: Plan,
    pub catalog: Catalog,
    /// When the schedule ends, nanoseconds after the start; `None` for a `--loop` without `--duration`.
    pub end_ns: Option<u64>,
    /// `requests` or `virtual users`, for messages.
    pub unit: &'static str,
    /// Endpoints left out of the mix because a placeholder on them has no value (see `request.rs`).
    pub left_out: Vec<String>,
    /// Placeholders filled with synthetic values, with the share of requests they are on (see `request.rs`).
    pub synthetic: Vec<String>,
    /// How many times faster than production the timeline plays.
    pub speed: f64,
    /// The requests the run is expected to intend (infinite for an endless loop), for watching thresholds.
    pub expected_requests: f64,
    /// The profile's segments on the run's clock, for charts.
    pub segments: Vec<RunSegment>,
}

/// A stretch of the profile's curve (steady, bursty, ramp), in seconds of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSegment {
    pub kind: &'static str,
    pub start_s: f64,
    pub end_s: f64,
}

/// The profile's segments within `window`, on the run's clock at `speed`.
pub fn run_segments(profile: &Profile, window: Option<(u64, u64)>, speed: f64) -> Vec<RunSegment> {
    let (from, to) = window.unwrap_or((0, u64::MAX));
    profile
        .segments
        .iter()
        .filter(|s| s.end_s > from && s.start_s < to)
        .map(|s| RunSegment {
            kind: s.kind.name(),
            start_s: (s.start_s.max(from) - from) as f64 / speed,
            end_s: (s.end_s.min(to) - from) as f64 / speed,
        })
        .collect()
}

/// Stops a plan at `end_ns`: work due then or later never comes due.
pub fn until(plan: impl Iterator<Item = Planned> + Send + 'static, end_ns: Option<u64>) -> Plan {
    match end_ns {
        Some(end) => Box::new(plan.take_while(move |p| p.at_ns < end)),
        None => Box::new(plan),
    }
}
