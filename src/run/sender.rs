//! The loop itself: wake when work is due, count it as intended, pass it
//! through the gate, and send it on its own task (a request) or hand it to a
//! walker (a virtual user); when sending ends early, count what was due as
//! not sent. While it waits for a connection it keeps pulling the work that
//! comes due (see [`MAX_PENDING`]).

use super::batching::Batches;
use super::gate::{Gate, Passed, Stop, stopped};
use super::limits::NotSent;
use super::state::RunState;
use super::timer::Sleeper;
use super::{guard, walk};
use crate::client::Transport;
use crate::plan::{Planned, Work};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Work whose time has come, counted as intended: (due time, work, requests it stands for).
type Due = (u64, Work, u64);

/// What the loop sends with and keeps while it runs.
pub struct Sender<T: Transport> {
    pub state: Arc<RunState>,
    pub gate: Arc<Gate>,
    pub transport: T,
    pub error: guard::InternalError,
    pub t0: Instant,
    /// When the schedule ends: a walker's step due then or later never comes due.
    pub end_ns: Option<u64>,
    pub walkers: tokio::task::JoinSet<()>,
    /// Work pulled while the loop waited for a connection, in order.
    pub pending: VecDeque<Due>,
}

impl<T: Transport> Sender<T> {
    fn now_ns(&self) -> u64 {
        self.t0.elapsed().as_nanos() as u64
    }

    /// Sends the plan until it is done, a limit ends it, sending ends, or the run is stopped;
    /// returns why it stopped early, if it did.
    pub async fn schedule<P: Iterator<Item = Planned>>(
        &mut self,
        batches: &mut Batches<P>,
        sleeper: &impl Sleeper,
        stop: &mut watch::Receiver<Stop>,
    ) -> Option<NotSent> {
        let send_until_ns = self.gate.limits.send_until_ns();
        // One stop future for the loop's life: a wake costs no new one.
        let mut loop_stop = stop.clone();
        let stopping = stopped(&mut loop_stop);
        tokio::pin!(stopping);
        while !self.gate.limits.exhausted() || !self.pending.is_empty() {
            // Work already due waits for no wake.
            if self.pending.is_empty() {
                let wake_ns = batches.wake_ns()?;
                let then = batches.wake_after_ns(wake_ns).map(|then_ns| self.t0 + Duration::from_nanos(then_ns));
                tokio::select! {
                    biased;
                    reason = &mut stopping => return Some(reason),
                    _ = sleeper.sleep_until_then(self.t0 + Duration::from_nanos(wake_ns), then) => {}
                }
            }
            let now = self.now_ns();
            if send_until_ns.is_some_and(|until| now > until) {
                return Some(NotSent::DurationBound);
            }
            loop {
                // Work pulled while waiting for a connection first (already admitted and intended).
                let (at_ns, work, steps) = match self.pending.pop_front() {
                    Some(due) => due,
                    None => match batches.next_due(now) {
                        Some(Planned { at_ns, work, .. }) => {
                            if !self.gate.limits.admit() {
                                return None;
                            }
                            let steps = intend(&self.state, at_ns, &work);
                            (at_ns, work, steps)
                        }
                        None => break,
                    },
                };
                match self.pass(batches, sleeper, stop).await {
                    Ok(passed) => self.dispatch(at_ns, work, passed, stop),
                    Err(reason) => {
                        self.state.not_sent(reason, 1);
                        if matches!(work, Work::Session(_)) {
                            self.state.user_not_started(self.now_ns(), steps - 1);
                        }
                        return Some(reason);
                    }
                }
            }
        }
        None
    }

    /// Past the limits and into a free connection, pulling work that comes due while it waits.
    async fn pass<P: Iterator<Item = Planned>>(
        &mut self,
        batches: &mut Batches<P>,
        sleeper: &impl Sleeper,
        stop: &mut watch::Receiver<Stop>,
    ) -> Result<Passed, NotSent> {
        let held_back = self.gate.pass_cap(sleeper, stop).await?;
        if let Some(passed) = self.gate.try_slot(held_back) {
            return Ok(passed);
        }
        // Only a wait for a connection holds the gate apart from `self`, which pulls meanwhile.
        // The responses that free connections are read as they come, not on the loop's wakes.
        self.transport.will_wait(Duration::MAX);
        let gate = Arc::clone(&self.gate);
        let slot = gate.slot(held_back, stop);
        tokio::pin!(slot);
        let mut tick = tokio::time::interval(PULL_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                passed = &mut slot => return passed,
                _ = tick.tick() => self.pull(batches),
            }
        }
    }

    /// Counts the work that has come due as intended, for the loop to send when a connection frees.
    fn pull<P: Iterator<Item = Planned>>(&mut self, batches: &mut Batches<P>) {
        let now = self.now_ns();
        while self.pending.len() < MAX_PENDING {
            let Some(Planned { at_ns, work, .. }) = batches.take_due(now) else { break };
            if !self.gate.limits.admit() {
                break;
            }
            let steps = intend(&self.state, at_ns, &work);
            self.pending.push_back((at_ns, work, steps));
        }
    }

    /// Sends a request on its own task, or starts a virtual user's walk.
    fn dispatch(&mut self, at_ns: u64, work: Work, passed: Passed, stop: &watch::Receiver<Stop>) {
        match work {
            Work::Request(spec) => {
                if passed.held_back {
                    self.state.held_back();
                }
                self.state.launch();
                let (transport, state, error, t0) = (self.transport.clone(), Arc::clone(&self.state), self.error.clone(), self.t0);
                let fut = async move {
                    let now_ns = move || t0.elapsed().as_nanos() as u64;
                    let outcome = guard::send(&transport, &spec, at_ns, now_ns, None, &error).await;
                    // Recorded before the slot is freed: a run that waits for free slots has every outcome.
                    state.record(&outcome);
                    drop(passed);
                };
                // Boxed: the task then holds a pointer, and spawning it moves 8 bytes, not the future.
                tokio::spawn(Box::pin(fut));
            }
            Work::Session(session) => {
                let walker = walk::Walker {
                    transport: self.transport.clone(),
                    state: Arc::clone(&self.state),
                    gate: Arc::clone(&self.gate),
                    t0: self.t0,
                    end_ns: self.end_ns,
                    error: self.error.clone(),
                };
                self.walkers.spawn(walker.walk(session, at_ns, passed, stop.clone()));
            }
        }
    }

    /// Sending ended before the plan did: work whose time had come is counted as not sent. At
    /// the end of sending that is the rest of the plan up to it; when stopped early, what was
    /// due by now, queued behind busy connections or not yet woken for.
    pub fn count_unsent<P: Iterator<Item = Planned>>(&mut self, mut batches: Batches<P>, cut: Option<NotSent>) {
        let state = Arc::clone(&self.state);
        let unsent = |at_ns: u64, work: &Work, steps: u64, reason: NotSent| {
            state.not_sent(reason, 1);
            if matches!(work, Work::Session(_)) {
                state.user_not_started(at_ns, steps - 1);
            }
        };
        // Work pulled while waiting and never sent: intended already.
        for (at_ns, work, steps) in self.pending.drain(..) {
            unsent(at_ns, &work, steps, cut.unwrap_or(NotSent::DurationBound));
        }
        let count = |Planned { at_ns, work, .. }: Planned, reason: NotSent| {
            let steps = intend(&state, at_ns, &work);
            unsent(at_ns, &work, steps, reason);
        };
        match cut {
            Some(reason @ (NotSent::Interrupted | NotSent::Aborted)) => {
                let now = self.now_ns();
                while let Some(due) = batches.take_due(now) {
                    if !self.gate.limits.admit() {
                        break;
                    }
                    count(due, reason);
                }
            }
            Some(reason) => {
                for due in batches.drain() {
                    if !self.gate.limits.admit() {
                        break;
                    }
                    count(due, reason);
                }
            }
            None => {}
        }
    }
}

/// While the loop waits for a connection, work keeps coming due: pulling it
/// counts it as intended when its time comes (so the live line's intended
/// rate, and an interrupted run's count, hold during a stall), in order, up
/// to [`MAX_PENDING`] waiting, for the loop to send when connections free.
const MAX_PENDING: usize = 100_000;
/// How often a wait for a connection looks for work that came due.
const PULL_EVERY: Duration = Duration::from_millis(50);

/// Counts `work` as intended at `at_ns`; returns how many requests it stands for.
pub fn intend(state: &RunState, at_ns: u64, work: &Work) -> u64 {
    match work {
        Work::Request(spec) => {
            state.intend(at_ns, spec.endpoint);
            1
        }
        Work::Session(session) => {
            let steps = session.steps.len() as u64;
            state.intend_session(at_ns, steps, session.steps.first().map_or(usize::MAX, |s| s.endpoint));
            steps
        }
    }
}
