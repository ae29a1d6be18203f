//! One virtual user (`--sessions`): each step after the first waits for
//! the previous response and a think time, so its intended time is that
//! moment and its latency stays honest. Every step passes the same gate as
//! any request (cap, connections, end of sending, `--max-requests`); steps a
//! limit stops are counted as not sent, never lost.

use super::gate::{Gate, Passed, Stop, stopped};
use super::state::RunState;
use super::timer::TokioSleeper;
use crate::client::{CookieJar, Transport};
use crate::plan::{NotSent, SessionSpec};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// What a walker shares with the loop.
pub struct Walker<T: Transport> {
    pub transport: T,
    pub state: Arc<RunState>,
    pub gate: Arc<Gate>,
    pub t0: Instant,
    /// When the schedule ends: a step due then or later never comes due.
    pub end_ns: Option<u64>,
    pub error: super::guard::InternalError,
}

impl<T: Transport> Walker<T> {
    /// Walks `session` from `start_ns`; its first step has passed the gate already.
    pub async fn walk(self, session: SessionSpec, start_ns: u64, first: Passed, mut stop: watch::Receiver<Stop>) {
        let t0 = self.t0;
        let now_ns = move || t0.elapsed().as_nanos() as u64;
        let mut jar = CookieJar::default();
        let mut intended_ns = start_ns;
        let mut passed = Some(first);
        let steps = session.steps.len();
        for (i, spec) in session.steps.iter().enumerate() {
            let left = (steps - i) as u64;
            if i > 0 {
                if self.end_ns.is_some_and(|end| intended_ns >= end) {
                    return self.state.abandon(NotSent::DurationBound, left);
                }
                tokio::select! {
                    biased;
                    reason = stopped(&mut stop) => return self.state.abandon(reason, left),
                    _ = tokio::time::sleep_until(t0 + Duration::from_nanos(intended_ns)) => {}
                }
                if !self.gate.limits.admit() {
                    return self.state.abandon(NotSent::MaxRequests, left);
                }
                self.state.step_due(intended_ns);
                match self.gate.pass(&TokioSleeper, &mut stop).await {
                    Ok(p) => passed = Some(p),
                    Err(reason) => {
                        self.state.not_sent(reason, 1);
                        return self.state.abandon(reason, left - 1);
                    }
                }
            }
            // Counted here for every step, the first (which passed the gate in the loop) included.
            if passed.as_ref().is_some_and(|p| p.held_back) {
                self.state.held_back();
            }
            self.state.launch();
            let outcome = super::guard::send(&self.transport, spec, intended_ns, now_ns, Some(&mut jar), &self.error).await;
            self.state.record(&outcome);
            drop(passed.take());
            if let Some(&think) = session.think_ns.get(i) {
                intended_ns = outcome.done_ns.saturating_add(think);
            }
        }
    }
}
