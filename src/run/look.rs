//! The run as it goes, beside the loop: progress reports every so often, and
//! twice a second the watch that may stop the run (a threshold lost, a target
//! refusing everything, a bug caught while sending).

use super::gate::Stop;
use super::state::RunState;
use super::{Observers, Progress, Summary, guard};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// The run as it goes: progress reports, and the watch that may stop it.
pub struct Look {
    pub state: Arc<RunState>,
    pub t0: Instant,
    pub total_s: Option<f64>,
    pub every: Duration,
    pub stop: Arc<watch::Sender<Stop>>,
    pub error: guard::InternalError,
}

impl Look {
    /// Watches twice a second and reports every `every`, until aborted.
    pub async fn run(
        self,
        mut observers: Observers<impl FnMut(&Progress) + Send + 'static, impl FnMut(&Summary, f64) -> Option<String> + Send + 'static>,
    ) {
        let tick = self.every.min(Duration::from_millis(500));
        let mut ticker = tokio::time::interval_at(self.t0 + tick, tick);
        let mut last = (0u64, 0u64, 0.0f64);
        loop {
            ticker.tick().await;
            let elapsed = self.t0.elapsed().as_secs_f64();
            // A bug caught while sending stops the run; its results so far are written.
            if let Some(e) = self.error.get() {
                self.stop.send_if_modified(|s| std::mem::replace(s, Stop::Aborted(format!("internal error: {e}"))) == Stop::Running);
            }
            if let Some(why) = self.state.peek(|s| (observers.watch)(s, elapsed)) {
                self.stop.send_if_modified(|s| std::mem::replace(s, Stop::Aborted(why.clone())) == Stop::Running);
            }
            if elapsed - last.2 + 1e-3 < self.every.as_secs_f64() {
                continue;
            }
            let snapshot = self.state.peek(|s| {
                let window = (elapsed - last.2).max(1e-9);
                let p = Progress {
                    elapsed_s: elapsed,
                    total_s: self.total_s,
                    intended: s.intended,
                    requests: s.requests,
                    not_sent: s.not_sent_total(),
                    failures: s.failures,
                    synthetic: s.synthetic,
                    users: s.users_active,
                    intended_rps: (s.intended - last.0) as f64 / window,
                    achieved_rps: (s.requests - last.1) as f64 / window,
                    p50_ms: s.latency.value_at_quantile(0.5) as f64 / 1000.0,
                    p99_ms: s.latency.value_at_quantile(0.99) as f64 / 1000.0,
                    lag_p99_ms: s.lag.value_at_quantile(0.99) as f64 / 1000.0,
                    falling_behind: s.falling_behind(),
                };
                last = (s.intended, s.requests, elapsed);
                p
            });
            (observers.report)(&snapshot);
        }
    }
}
