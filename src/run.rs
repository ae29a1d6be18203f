//! The replay loop: schedule → request → client → outcome, on one clock.
//!
//! Each request waits for its intended time (`t0 + offset`, on a
//! microsecond timer: see `timer.rs`), passes the
//! `--max-rps` safety cap (governor; requests it holds back are counted and go
//! out late, which their latency shows), takes one of `--connections` slots,
//! and is sent on its own task; its outcome goes into the [`Summary`]. The
//! loop never waits for a response, so a slow target cannot slow the
//! schedule (an open model). A shutdown future (Ctrl-C, SIGTERM, a test)
//! stops scheduling; requests in flight get a grace period to finish.

use crate::batching::Batches;
use crate::client::{Client, ClientConfig, CookieJar};
use crate::profile::Profile;
use crate::report::Summary;
use crate::request::{RequestMaker, RequestSpec, Vars};
use crate::schedule::{Schedule, ScheduleConfig};
use crate::timer::PreciseTimer;
use crate::users::SessionSpec;
use governor::{Quota, RateLimiter};
use std::future::Future;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Semaphore;
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub struct RunConfig {
    pub client: ClientConfig,
    pub schedule: ScheduleConfig,
    pub max_rps: Option<u32>,
    pub vars: Vars,
    /// How long requests in flight may take to finish after the schedule ends or is stopped.
    pub grace: Duration,
    /// How often progress is reported.
    pub progress_every: Duration,
    /// Requests due within this long of the first waiting go out on one wake (see `batching.rs`).
    pub batch_window: Duration,
}

/// A look at a run in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct Progress {
    pub elapsed_s: f64,
    pub total_s: f64,
    pub intended: u64,
    pub requests: u64,
    pub failures: u64,
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
    pub interrupted: bool,
}

/// What is due: one request, or a virtual user's whole session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    Request(RequestSpec),
    Session(SessionSpec),
}

/// Work of a run and when it is due (nanoseconds after the start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub at_ns: u64,
    pub work: Work,
}

/// A profile's requests: its schedule, each due time given a request.
pub struct ProfilePlan {
    schedule: Schedule,
    maker: RequestMaker,
}

impl ProfilePlan {
    pub fn new(profile: &Profile, config: &RunConfig) -> Result<Self, String> {
        let maker = RequestMaker::new(profile, config.vars.clone(), config.schedule.seed)?;
        Ok(ProfilePlan { schedule: Schedule::new(profile, config.schedule.clone()), maker })
    }
    pub fn pass_ns(&self) -> u64 {
        self.schedule.pass_ns()
    }
}

impl Iterator for ProfilePlan {
    type Item = Planned;
    fn next(&mut self) -> Option<Planned> {
        let due = self.schedule.next()?;
        Some(Planned { at_ns: due.at_ns, work: Work::Request(self.maker.next(due.profile_s)) })
    }
}

/// One virtual user: each step waits for the previous response and a think
/// time; its intended time is that moment, so latency stays honest.
async fn walk(
    session: SessionSpec,
    start_ns: u64,
    client: Client,
    summary: Arc<Mutex<Summary>>,
    slots: Arc<Semaphore>,
    now_ns: impl Fn() -> u64 + Copy,
) {
    let mut jar = CookieJar::default();
    let mut intended_ns = start_ns;
    for (i, spec) in session.steps.iter().enumerate() {
        if i > 0 {
            summary.lock().expect("summary lock").intend(intended_ns);
        }
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else { return };
        let outcome = client.send_in_session(spec, intended_ns, now_ns, Some(&mut jar)).await;
        drop(permit);
        summary.lock().expect("summary lock").add(&outcome);
        if let Some(&think) = session.think_ns.get(i) {
            tokio::time::sleep(Duration::from_nanos(think)).await;
            intended_ns = outcome.done_ns + think;
        }
    }
}

/// Runs `profile` against the configured target until the schedule ends or `shutdown` resolves.
pub async fn run(
    profile: &Profile,
    config: RunConfig,
    shutdown: impl Future<Output = ()>,
    report: impl FnMut(&Progress) + Send + 'static,
) -> Result<RunOutcome, String> {
    let plan = ProfilePlan::new(profile, &config)?;
    let total_s = plan.pass_ns() as f64 / 1e9;
    run_plan(plan, profile.endpoints.len(), total_s, config, shutdown, report).await
}

/// Runs a plan of requests (a profile's or a trace's) for `endpoints` endpoints.
pub async fn run_plan(
    plan: impl Iterator<Item = Planned>,
    endpoints: usize,
    total_s: f64,
    config: RunConfig,
    shutdown: impl Future<Output = ()>,
    mut report: impl FnMut(&Progress) + Send + 'static,
) -> Result<RunOutcome, String> {
    let client = Client::new(config.client.clone())?;
    let connections = config.client.connections.max(1);
    let slots = Arc::new(Semaphore::new(connections));
    let limiter = config.max_rps.and_then(NonZeroU32::new).map(|rps| {
        let burst = NonZeroU32::new((rps.get() / 100).max(1)).expect("at least 1");
        RateLimiter::direct(Quota::per_second(rps).allow_burst(burst))
    });
    let period_s = (total_s / 100.0).ceil().max(1.0) as u64;
    let summary = Arc::new(Mutex::new(Summary::with_periods(endpoints, period_s)));
    let t0 = Instant::now();
    let now_ns = move || t0.elapsed().as_nanos() as u64;

    let progress_summary = Arc::clone(&summary);
    let every = config.progress_every;
    let progress = tokio::spawn(async move {
        let mut ticker = tokio::time::interval_at(t0 + every, every);
        let mut last = (0u64, 0u64, 0.0f64);
        loop {
            ticker.tick().await;
            let elapsed = t0.elapsed().as_secs_f64();
            let snapshot = {
                let s = progress_summary.lock().expect("summary lock");
                let window = (elapsed - last.2).max(1e-9);
                let p = Progress {
                    elapsed_s: elapsed,
                    total_s,
                    intended: s.intended,
                    requests: s.requests,
                    failures: s.failures,
                    intended_rps: (s.intended - last.0) as f64 / window,
                    achieved_rps: (s.requests - last.1) as f64 / window,
                    p50_ms: s.latency.value_at_quantile(0.5) as f64 / 1000.0,
                    p99_ms: s.latency.value_at_quantile(0.99) as f64 / 1000.0,
                    lag_p99_ms: s.lag.value_at_quantile(0.99) as f64 / 1000.0,
                    falling_behind: !s.behind_windows().is_empty(),
                };
                last = (s.intended, s.requests, elapsed);
                p
            };
            report(&snapshot);
        }
    });

    // Waits use a microsecond timer on the runtime's own thread (tokio's
    // timers tick in whole milliseconds, which would show up as schedule lag).
    // At each wake every request now due goes out, so at high rates one wake
    // serves a batch.
    let timer = PreciseTimer::new().map_err(|e| format!("cannot create a timer: {e}"))?;
    let t0_std = t0.into_std();
    tokio::pin!(shutdown);
    let mut interrupted = false;
    let mut schedule = Batches::new(plan, config.batch_window.as_nanos() as u64);
    let mut users = tokio::task::JoinSet::new();
    'schedule: while let Some(wake_ns) = schedule.wake_ns() {
        tokio::select! {
            biased;
            _ = &mut shutdown => { interrupted = true; break; }
            woke = timer.sleep_until(t0_std + Duration::from_nanos(wake_ns)) => woke.map_err(|e| format!("the timer failed: {e}"))?,
        }
        let now = now_ns();
        while let Some(Planned { at_ns, work }) = schedule.next_due(now) {
            summary.lock().expect("summary lock").intend(at_ns);
            if let Some(limiter) = &limiter {
                let mut held = false;
                while let Err(not_until) = limiter.check() {
                    held = true;
                    let ready = not_until.wait_time_from(governor::clock::Clock::now(&governor::clock::DefaultClock::default()));
                    tokio::select! {
                        biased;
                        _ = &mut shutdown => { interrupted = true; break 'schedule; }
                        woke = timer.sleep_until(std::time::Instant::now() + ready) => woke.map_err(|e| format!("the timer failed: {e}"))?,
                    }
                }
                if held {
                    summary.lock().expect("summary lock").held_back += 1;
                }
            }
            let permit = match Arc::clone(&slots).try_acquire_owned() {
                Ok(permit) => permit,
                Err(_) => tokio::select! {
                    biased;
                    _ = &mut shutdown => { interrupted = true; break 'schedule; }
                    permit = Arc::clone(&slots).acquire_owned() => permit.expect("the semaphore is never closed"),
                },
            };
            let (client, summary, slots) = (client.clone(), Arc::clone(&summary), Arc::clone(&slots));
            match work {
                Work::Request(spec) => {
                    tokio::spawn(async move {
                        let outcome = client.send(&spec, at_ns, now_ns).await;
                        summary.lock().expect("summary lock").add(&outcome);
                        drop(permit);
                    });
                }
                Work::Session(session) => {
                    drop(permit);
                    users.spawn(walk(session, at_ns, client, summary, slots, now_ns));
                }
            }
        }
    }
    // Virtual users finish their sessions; after a stop, within the grace period.
    let all_users = async { while users.join_next().await.is_some() {} };
    if interrupted {
        let _ = tokio::time::timeout(config.grace, all_users).await;
    } else {
        tokio::select! {
            _ = all_users => {}
            _ = &mut shutdown => interrupted = true,
        }
    }
    users.abort_all();
    // Let requests in flight finish, for the grace period at most.
    let _ = tokio::time::timeout(config.grace, slots.acquire_many(connections as u32)).await;
    progress.abort();
    let duration = t0.elapsed();
    let summary = summary.lock().expect("summary lock").clone();
    Ok(RunOutcome { summary, duration, interrupted })
}
