//! The replay loop: plan → gate → client → outcome, on one clock.
//!
//! The loop wakes when work is due (on the sleeper it is given: a
//! microsecond timer in a real run, see `timer.rs`), counts it as intended,
//! passes it through the [`gate::Gate`] (`--max-rps`, a free connection,
//! the end of sending) and sends it on its own task; a session goes to its
//! own walker (`walk.rs`), whose later steps pass the same gate. The loop
//! never waits for a response, so a slow target cannot slow the schedule
//! (an open model); a stalled one leaves due requests waiting, with their
//! lag showing, until sending ends, and they are counted as not sent. While
//! the loop waits for a connection it keeps pulling the work that comes due
//! (bounded, in order), so every request is intended when its time comes.
//!
//! The run ends when the plan is done, at the end of sending (the
//! schedule's end plus [`crate::run::limits::LATE_ALLOWANCE`]), at
//! `--max-requests`, or when `shutdown` resolves; requests in flight then
//! get their timeout to finish. Whatever happens, the tally closes with
//! `intended == requests + not_sent` (`state.rs`). A bug that panics while
//! planning or sending ends the run as aborted with its results kept
//! (`guard.rs`).

pub mod batching;
mod config;
mod gate;
mod guard;
pub mod limits;
mod state;
pub mod summary;
pub mod timer;
mod walk;

pub use config::{DEFAULT_BATCH_WINDOW, DEFAULT_PROGRESS_EVERY, PROGRESS_ON_A_TERMINAL, Progress, RunConfig, RunOutcome};
pub use limits::{Limits, NotSent};
pub use summary::Summary;
pub use timer::{PreciseTimer, Sleeper, TokioSleeper};

use crate::client::Transport;
use crate::plan::{Planned, PlannedRun, Work};
use crate::run::batching::Batches;
use gate::{Gate, Stop, stopped};
use state::RunState;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// What a run is told besides its plan: how to report progress, and what may stop it early.
pub struct Observers<R, W> {
    /// Called with a look at the run every `progress_every`.
    pub report: R,
    /// Called about twice a second with the summary so far and the seconds elapsed; `Some(why)` stops the run.
    pub watch: W,
}

/// Observers that report nothing and never stop a run.
pub fn unobserved() -> Observers<impl FnMut(&Progress) + Send + 'static, impl FnMut(&Summary, f64) -> Option<String> + Send + 'static> {
    Observers { report: |_: &Progress| {}, watch: |_: &Summary, _: f64| None }
}

/// Runs `planned` with `transport` until it is done, `shutdown` resolves, or the watch stops it.
pub async fn run_plan<T: Transport>(
    planned: PlannedRun,
    config: RunConfig,
    transport: T,
    sleeper: impl Sleeper,
    shutdown: impl Future<Output = ()> + Send + 'static,
    observers: Observers<impl FnMut(&Progress) + Send + 'static, impl FnMut(&Summary, f64) -> Option<String> + Send + 'static>,
) -> RunOutcome {
    let PlannedRun { plan, catalog, end_ns, .. } = planned;
    let error = guard::InternalError::default();
    let plan: crate::plan::Plan = Box::new(guard::GuardedPlan::new(plan, error.clone()));
    // The first item of a plan can take milliseconds to make (a schedule's first bins, the draw
    // tables): make it before the clock starts, or the run's first burst goes out late by that long.
    let mut batches = Batches::new(plan, config.batch_window.as_nanos() as u64);
    let _ = batches.wake_ns();
    // The tally's histograms (one per endpoint and period) take milliseconds to allocate: before the clock too.
    let total_s = end_ns.map(|ns| ns as f64 / 1e9);
    let period_s = (total_s.unwrap_or(3600.0) / 100.0).ceil().max(1.0) as u64;
    let mut summary = Summary::with_periods(catalog.endpoints.len(), period_s);
    summary.expect_statuses(&catalog);
    let state = Arc::new(RunState::new(summary));
    let t0 = Instant::now();
    let now_ns = move || t0.elapsed().as_nanos() as u64;
    let connections = config.client.connections.max(1);
    let limits = Limits::new(config.max_requests, config.max_rps, end_ns, t0).with(config.limits.iter().cloned());
    let gate = Arc::new(Gate::new(limits, connections, t0));
    let send_until_ns = gate.limits.send_until_ns();
    let (stop_tx, mut stop) = watch::channel(Stop::Running);
    let stop_tx = Arc::new(stop_tx);
    let signal_tx = Arc::clone(&stop_tx);
    let signal = tokio::spawn(async move {
        shutdown.await;
        signal_tx.send_if_modified(|s| std::mem::replace(s, Stop::Interrupted) == Stop::Running);
    });
    let look =
        Look { state: Arc::clone(&state), t0, total_s, every: config.progress_every, stop: Arc::clone(&stop_tx), error: error.clone() };
    let progress = tokio::spawn(look.run(observers));

    let mut walkers = tokio::task::JoinSet::new();
    // Work whose time came while the loop waited for a connection: (due time, work, requests it stands for).
    let mut pending: std::collections::VecDeque<(u64, Work, u64)> = std::collections::VecDeque::new();
    // Why the loop stopped early, if it did.
    let mut cut: Option<NotSent> = None;
    // One stop future for the loop's life: a wake costs no new one.
    let mut loop_stop = stop.clone();
    let stopping = stopped(&mut loop_stop);
    tokio::pin!(stopping);
    'schedule: while !gate.limits.exhausted() || !pending.is_empty() {
        // Work already due waits for no wake.
        if pending.is_empty() {
            let Some(wake_ns) = batches.wake_ns() else { break };
            tokio::select! {
                biased;
                reason = &mut stopping => { cut = Some(reason); break; }
                _ = sleeper.sleep_until(t0 + Duration::from_nanos(wake_ns)) => {}
            }
        }
        let now = now_ns();
        if send_until_ns.is_some_and(|until| now > until) {
            cut = Some(NotSent::DurationBound);
            break;
        }
        loop {
            // Work pulled while waiting for a connection first (already admitted and intended).
            let (at_ns, work, steps) = match pending.pop_front() {
                Some(due) => due,
                None => match batches.next_due(now) {
                    Some(Planned { at_ns, work, .. }) => {
                        if !gate.limits.admit() {
                            break 'schedule;
                        }
                        let steps = intend(&state, at_ns, &work);
                        (at_ns, work, steps)
                    }
                    None => break,
                },
            };
            let passed = match gate.pass_cap(&sleeper, &mut stop).await {
                Ok(held_back) => match gate.try_slot(held_back) {
                    Some(passed) => Ok(passed),
                    None => {
                        let pull = Pull { batches: &mut batches, pending: &mut pending, state: &state, gate: &gate, t0 };
                        wait_for_slot(&gate, held_back, &mut stop, pull).await
                    }
                },
                Err(reason) => Err(reason),
            };
            let passed = match passed {
                Ok(passed) => passed,
                Err(reason) => {
                    state.not_sent(reason, 1);
                    if matches!(work, Work::Session(_)) {
                        state.user_not_started(now_ns(), steps - 1);
                    }
                    cut = Some(reason);
                    break 'schedule;
                }
            };
            match work {
                Work::Request(spec) => {
                    if passed.held_back {
                        state.held_back();
                    }
                    state.launch();
                    let (transport, state, error) = (transport.clone(), Arc::clone(&state), error.clone());
                    tokio::spawn(async move {
                        let outcome = guard::send(&transport, &spec, at_ns, now_ns, None, &error).await;
                        // Recorded before the slot is freed: a run that waits for free slots has every outcome.
                        state.record(&outcome);
                        drop(passed);
                    });
                }
                Work::Session(session) => {
                    let walker = walk::Walker {
                        transport: transport.clone(),
                        state: Arc::clone(&state),
                        gate: Arc::clone(&gate),
                        t0,
                        end_ns,
                        error: error.clone(),
                    };
                    walkers.spawn(walker.walk(session, at_ns, passed, stop.clone()));
                }
            }
        }
    }
    // Sending ended before the plan did: work whose time had come is counted as not sent. At the
    // end of sending that is the rest of the plan up to it; when stopped early, what was due by
    // now, queued behind busy connections or not yet woken for.
    let not_sent = |Planned { at_ns, work, .. }: Planned, reason: NotSent| {
        let steps = intend(&state, at_ns, &work);
        state.not_sent(reason, 1);
        if matches!(work, Work::Session(_)) {
            state.user_not_started(at_ns, steps - 1);
        }
    };
    // Work pulled while waiting and never sent: intended already, not sent now.
    for (at_ns, work, steps) in pending.drain(..) {
        let reason = cut.unwrap_or(NotSent::DurationBound);
        state.not_sent(reason, 1);
        if matches!(work, Work::Session(_)) {
            state.user_not_started(at_ns, steps - 1);
        }
    }
    match cut {
        Some(reason @ (NotSent::Interrupted | NotSent::Aborted)) => {
            let now = now_ns();
            while let Some(due) = batches.take_due(now) {
                if !gate.limits.admit() {
                    break;
                }
                not_sent(due, reason);
            }
        }
        Some(reason) => {
            for due in batches.drain() {
                if !gate.limits.admit() {
                    break;
                }
                not_sent(due, reason);
            }
        }
        None => {}
    }
    let stopped_early = |stop: &watch::Receiver<Stop>| *stop.borrow() != Stop::Running;
    let mut stopping_now = stopped_early(&stop);
    let mut bound = match (stopping_now, send_until_ns) {
        (false, Some(until)) => (t0 + Duration::from_nanos(until)).max(Instant::now()) + config.grace(),
        (false, None) => Instant::now() + Duration::from_secs(100 * 365 * 86_400),
        (true, _) => Instant::now() + config.grace(),
    };
    loop {
        tokio::select! {
            biased;
            joined = walkers.join_next() => if joined.is_none() { break },
            _ = tokio::time::sleep_until(bound) => break,
            _ = stopped(&mut stop), if !stopping_now => {
                stopping_now = true;
                bound = bound.min(Instant::now() + config.grace());
            }
        }
    }
    walkers.abort_all();
    // Requests in flight finish within their timeout.
    if state.in_flight() > 0 {
        gate.drained(connections, config.grace()).await;
    }
    signal.abort();
    progress.abort();
    let duration = t0.elapsed();
    let internal = error.get();
    let how = stop.borrow().clone();
    let summary = state.close();
    let interrupted = how == Stop::Interrupted;
    let aborted = match how {
        Stop::Aborted(why) => Some(why),
        _ => internal.as_ref().map(|e| format!("internal error: {e}")),
    };
    RunOutcome { summary, duration, interrupted, aborted, internal }
}

/// While the loop waits for a connection, work keeps coming due: pulling it
/// counts it as intended when its time comes (so the live line's intended
/// rate, and an interrupted run's count, hold during a stall), in order, up
/// to [`MAX_PENDING`] waiting, for the loop to send when connections free.
const MAX_PENDING: usize = 100_000;
/// How often a wait for a connection looks for work that came due.
const PULL_EVERY: Duration = Duration::from_millis(50);

struct Pull<'a, P: Iterator<Item = Planned>> {
    batches: &'a mut Batches<P>,
    pending: &'a mut std::collections::VecDeque<(u64, Work, u64)>,
    state: &'a RunState,
    gate: &'a Gate,
    t0: Instant,
}

impl<P: Iterator<Item = Planned>> Pull<'_, P> {
    fn due(&mut self) {
        let now = self.t0.elapsed().as_nanos() as u64;
        while self.pending.len() < MAX_PENDING {
            let Some(Planned { at_ns, work, .. }) = self.batches.take_due(now) else { break };
            if !self.gate.limits.admit() {
                break;
            }
            let steps = intend(self.state, at_ns, &work);
            self.pending.push_back((at_ns, work, steps));
        }
    }
}

/// Waits for a free connection, pulling work that comes due meanwhile.
async fn wait_for_slot<P: Iterator<Item = Planned>>(
    gate: &Gate,
    held_back: bool,
    stop: &mut watch::Receiver<Stop>,
    mut pull: Pull<'_, P>,
) -> Result<gate::Passed, NotSent> {
    let slot = gate.slot(held_back, stop);
    tokio::pin!(slot);
    let mut tick = tokio::time::interval(PULL_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            biased;
            passed = &mut slot => return passed,
            _ = tick.tick() => pull.due(),
        }
    }
}

/// Counts `work` as intended at `at_ns`; returns how many requests it stands for.
fn intend(state: &RunState, at_ns: u64, work: &Work) -> u64 {
    match work {
        Work::Request(_) => {
            state.intend(at_ns);
            1
        }
        Work::Session(session) => {
            let steps = session.steps.len() as u64;
            state.intend_session(at_ns, steps);
            steps
        }
    }
}

/// The run as it goes: progress reports, and the watch that may stop it.
struct Look {
    state: Arc<RunState>,
    t0: Instant,
    total_s: Option<f64>,
    every: Duration,
    stop: Arc<watch::Sender<Stop>>,
    error: guard::InternalError,
}

impl Look {
    /// Watches twice a second and reports every `every`, until aborted.
    async fn run(
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
