//! One virtual user (`--sessions`): each step after the first waits for
//! the previous response and a think time, so its intended time is that
//! moment and its latency stays honest. Every step passes the same gate as
//! any request (cap, connections, end of sending, `--max-requests`); steps a
//! limit stops are counted as not sent, never lost.

use super::gate::{Gate, Passed, Stop, stopped};
use super::state::RunState;
use super::timer::TokioSleeper;
use crate::client::{CookieJar, Transport};
use crate::plan::SessionSpec;
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

/// A login answered with a 4xx, or a redirect to a login page or back to
/// itself, failed: the outcome becomes a `login_failed`. The user goes on, as
/// a Locust user would, and what it then receives shows in the statuses.
pub fn login_failed(outcome: &mut crate::client::Outcome) {
    let Some(status) = outcome.status else { return };
    let failed = (400..500).contains(&status) || ((300..400).contains(&status) && outcome.to_login);
    if failed {
        outcome.failure = Some(crate::client::Failure::Login);
        outcome.detail = Some(match status {
            300..=399 => format!("HTTP {status}, back to a login page"),
            _ => format!("HTTP {status}"),
        });
    }
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
                // Steps whose time never comes (the schedule ends first, the run is stopped, a limit
                // is reached) are cut off: planned, never intended.
                if self.end_ns.is_some_and(|end| intended_ns >= end) {
                    return self.state.user_done(now_ns(), left);
                }
                tokio::select! {
                    biased;
                    _ = stopped(&mut stop) => return self.state.user_done(now_ns(), left),
                    _ = tokio::time::sleep_until(t0 + Duration::from_nanos(intended_ns)) => {}
                }
                if !self.gate.limits.admit() {
                    return self.state.user_done(now_ns(), left);
                }
                self.state.step_due(intended_ns, spec.endpoint);
                match self.gate.pass(&TokioSleeper, &mut stop).await {
                    Ok(p) => passed = Some(p),
                    Err(reason) => {
                        self.state.not_sent(reason, 1);
                        return self.state.user_done(now_ns(), left - 1);
                    }
                }
            }
            // Counted here for every step, the first (which passed the gate in the loop) included.
            if passed.as_ref().is_some_and(|p| p.held_back) {
                self.state.held_back();
            }
            self.state.launch();
            let mut outcome = super::guard::send(&self.transport, spec, intended_ns, now_ns, Some(&mut jar), &self.error).await;
            if i == 0 && session.login {
                login_failed(&mut outcome);
            }
            self.state.record(&outcome);
            drop(passed.take());
            if let Some(&think) = session.think_ns.get(i) {
                intended_ns = outcome.done_ns.saturating_add(think);
            }
        }
        self.state.user_done(now_ns(), 0);
    }
}
