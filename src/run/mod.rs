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
//!
//! - `sender.rs`: the loop; `walk.rs`: a virtual user; `gate.rs`: the way out.
//! - `limits/`: one [`limits::Limit`] per file; `batching.rs`: wakes; `timer.rs`: the clock; `spin.rs`: when it spins.
//! - `state.rs` and `summary.rs`: the tally every outcome goes into, which report/ and verdict/ read.
//! - `look.rs`: progress and the watch; `config.rs`: what a run is told and tells.

pub mod batching;
mod config;
mod gate;
mod guard;
pub mod limits;
mod look;
mod sender;
mod spin;
mod state;
pub mod summary;
pub mod timer;
mod walk;

pub use config::{DEFAULT_BATCH_WINDOW, DEFAULT_PROGRESS_EVERY, PROGRESS_ON_A_TERMINAL, Progress, RunConfig, RunOutcome};
pub use limits::{Limits, NotSent};
pub use summary::Summary;
pub use timer::{PreciseTimer, Sleeper, TokioSleeper};

use crate::client::Transport;
use crate::plan::PlannedRun;
use crate::run::batching::Batches;
use gate::{Gate, Stop, stopped};
use look::Look;
use sender::Sender;
use state::RunState;
use std::collections::VecDeque;
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

/// Lets virtual users walk until the end of sending and `grace` after it (only `grace` once
/// the run is stopped), then ends them: their steps not yet due are cut off.
async fn wait_for_walkers(
    walkers: &mut tokio::task::JoinSet<()>,
    stop: &mut watch::Receiver<Stop>,
    send_until: Option<Instant>,
    grace: Duration,
) {
    let mut stopping_now = *stop.borrow() != Stop::Running;
    let mut bound = match (stopping_now, send_until) {
        (false, Some(until)) => until.max(Instant::now()) + grace,
        (false, None) => Instant::now() + Duration::from_secs(100 * 365 * 86_400),
        (true, _) => Instant::now() + grace,
    };
    loop {
        tokio::select! {
            biased;
            joined = walkers.join_next() => if joined.is_none() { break },
            _ = tokio::time::sleep_until(bound) => break,
            _ = stopped(stop), if !stopping_now => {
                stopping_now = true;
                bound = bound.min(Instant::now() + grace);
            }
        }
    }
    walkers.abort_all();
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

    let mut sender = Sender {
        state: Arc::clone(&state),
        gate: Arc::clone(&gate),
        transport,
        error: error.clone(),
        t0,
        end_ns,
        walkers: tokio::task::JoinSet::new(),
        pending: VecDeque::new(),
    };
    // The loop's sleeps, told to the client: responses may wait in their sockets for its next wake.
    let sleeper = timer::Announced { sleeper, transport: sender.transport.clone() };
    let cut = sender.schedule(&mut batches, &sleeper, &mut stop).await;
    // The loop wakes no more: responses still out are read as they come.
    sender.transport.will_wait(Duration::MAX);
    sender.count_unsent(batches, cut);
    let Sender { mut walkers, .. } = sender;
    let send_until = send_until_ns.map(|until| t0 + Duration::from_nanos(until));
    wait_for_walkers(&mut walkers, &mut stop, send_until, config.grace()).await;
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
