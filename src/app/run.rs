//! `replay run`: load, plan, check where results go, send, write the
//! results, and say how the process exits.

use super::progress::ProgressView;
use super::source;
use crate::Exit;
use crate::cli::RunRequest;
use crate::client::{Client, display_url};
use crate::plan::{PlanSettings, PlannedRun};
use crate::report::json::{PlanFacts, Results, RunFacts, SegmentFacts, ShardFacts, results};
use crate::run::Summary;
use crate::run::{Observers, PreciseTimer, RunConfig, RunOutcome, run_plan};
use crate::units::human_duration;
use crate::verdict::watch::Watch;
use crate::verdict::{Threshold, judge};
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub fn run_command(mut request: RunRequest, ui: Option<crate::ui::UiOptions>) -> anyhow::Result<Exit> {
    let source = source::open(&mut request)?;
    let planned = crate::plan::build(source.as_ref(), &request.plan)?;
    let thresholds = source::thresholds(source.as_ref(), &request, &planned.catalog)?;
    let (server, watching) = match ui {
        Some(options) => {
            let facts = plan_facts("", &request.plan, &request.run, &planned);
            let (server, watching) = super::ui::watch_one(&options, source.profile(), &facts, &request.source)?;
            (Some(server), Some(watching))
        }
        None => (None, None),
    };
    let existed = request.out.as_deref().is_some_and(Path::exists);
    let out = prepare_out(request.out.as_deref(), request.overwrite)?;
    let runtime = runtime()?;
    if !wait_for_start(&runtime, request.start_at)? {
        // Nothing was sent: leave no empty results folder behind (one that was there stays).
        if !existed {
            let _ = std::fs::remove_dir(&out);
        }
        eprintln!("replay: interrupted while waiting for --start-at; nothing was sent");
        return Ok(Exit::Aborted);
    }
    let target = display_url(&request.run.client.base);
    let facts = plan_facts(&request.source.display().to_string(), &request.plan, &request.run, &planned);
    let run_id = request.run_id.clone().unwrap_or_else(|| default_run_id(&facts, request.start_at));
    eprintln!("replay: run {run_id}");
    let judging = Judging { thresholds, abort_on_fail: request.abort_on_fail, run_id };
    let exit = replay(&runtime, planned, request.run, &target, &out, facts, judging, watching)?.1;
    drop(server);
    Ok(exit)
}

/// What judges a run: its thresholds, and whether one lost stops it; and the run's identity.
#[derive(Default)]
pub struct Judging {
    pub thresholds: Vec<Threshold>,
    pub abort_on_fail: bool,
    pub run_id: String,
}

/// A run's identity when `--run-id` is not given. Every shard of one run is planned alike and
/// starts at one `--start-at`: its id comes from those, so all shards share it without being
/// told; a whole run's is new each time.
pub fn default_run_id(plan: &PlanFacts, start_at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = rustc_hash::FxHasher::default();
    match plan.shard {
        Some(shard) => {
            let p = plan;
            (&p.source, &p.unit, p.speed.to_bits(), p.rate_scale.to_bits(), p.window, p.seed).hash(&mut h);
            (p.length_s.map(f64::to_bits), p.max_rps, p.max_requests, shard.count, start_at.map(|t| t.timestamp_millis())).hash(&mut h);
        }
        None => (std::process::id(), chrono::Utc::now().timestamp_nanos_opt(), std::time::Instant::now()).hash(&mut h),
    }
    format!("{:016x}", h.finish())
}

/// The plan as results.json records it.
pub fn plan_facts(source: &str, p: &PlanSettings, run: &RunConfig, planned: &PlannedRun) -> PlanFacts {
    PlanFacts {
        source: source.to_owned(),
        unit: planned.unit.to_owned(),
        speed: planned.speed,
        rate_scale: p.rate_scale,
        window: p.window,
        seed: p.seed,
        length_s: planned.end_ns.map(|ns| ns as f64 / 1e9),
        max_rps: run.max_rps,
        max_requests: run.max_requests,
        connections: run.client.connections,
        timeout_ms: run.client.timeout.as_millis() as u64,
        segments: planned.segments.iter().map(|s| SegmentFacts { kind: s.kind.to_owned(), start_s: s.start_s, end_s: s.end_s }).collect(),
        shard: p.shard.map(|s| ShardFacts { index: s.index, count: s.count }),
    }
}

/// Connections opened before the clock starts: enough for the first milliseconds of a burst; more open as needed.
const WARM_CONNECTIONS: usize = 16;
const WARM_WITHIN: Duration = Duration::from_secs(1);

/// How late a `--start-at` may be found and still start: pods are not scheduled to the millisecond.
pub const START_GRACE: Duration = Duration::from_secs(5);
/// How far ahead a `--start-at` may be: further is surely a mistake.
const MAX_START_WAIT: Duration = Duration::from_secs(24 * 3600);

/// Waits for `--start-at`; an instant already past by more than [`START_GRACE`] is an error, not a silent late start.
/// Returns false when Ctrl-C or SIGTERM came first.
pub fn wait_for_start(runtime: &tokio::runtime::Runtime, start_at: Option<chrono::DateTime<chrono::Utc>>) -> anyhow::Result<bool> {
    let Some(start_at) = start_at else { return Ok(true) };
    let when = start_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let now = chrono::Utc::now();
    match (start_at - now).to_std() {
        Ok(wait) if wait > MAX_START_WAIT => {
            anyhow::bail!("--start-at {when} is {} away (more than a day); check the date", human_duration(wait.as_secs_f64()))
        }
        Ok(wait) => {
            runtime.block_on(async move {
                // The handlers are in place before the wait is announced: a signal then is never lost.
                let stop = interrupted()?;
                eprintln!("replay: waiting {} for the start at {when}; Ctrl-C stops", human_duration(wait.as_secs_f64()));
                tokio::select! {
                    _ = tokio::time::sleep(wait) => Ok(true),
                    _ = stop => Ok(false),
                }
            })
        }
        Err(_) => {
            let late = (now - start_at).to_std().unwrap_or_default();
            if late > START_GRACE {
                anyhow::bail!(
                    "--start-at {when} passed {} ago (more than {} of grace): this shard would start late and its part of the schedule would bunch up; give every shard a later --start-at",
                    human_duration(late.as_secs_f64()),
                    human_duration(START_GRACE.as_secs_f64())
                );
            }
            Ok(true)
        }
    }
}

/// The results folder, made and checked writable before any traffic; results already there are kept unless `overwrite`.
pub fn prepare_out(out: Option<&Path>, overwrite: bool) -> anyhow::Result<PathBuf> {
    let dir = out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("replay-results").join(chrono::Utc::now().format("%Y-%m-%dT%H-%M-%SZ").to_string()));
    let existing = dir.join("results.json");
    if existing.exists() && !overwrite {
        anyhow::bail!("{} already holds the results of a run; choose another --out, or pass --overwrite to replace them", dir.display());
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create the results folder {}; choose another --out", dir.display()))?;
    let probe = dir.join(".replay-write-check");
    std::fs::write(&probe, b"").with_context(|| format!("cannot write into the results folder {}; choose another --out", dir.display()))?;
    let _ = std::fs::remove_file(&probe);
    Ok(dir)
}

/// Sends a planned run, judges it and writes its outputs into `out`; the exit says how it went.
/// A run `watching` in the browser publishes its figures as it goes, and its results at the end.
#[allow(clippy::too_many_arguments)]
pub fn replay(
    runtime: &tokio::runtime::Runtime,
    planned: PlannedRun,
    config: RunConfig,
    target: &str,
    out: &Path,
    plan: PlanFacts,
    judging: Judging,
    watching: Option<super::watch::Watching>,
) -> anyhow::Result<(Results, Exit)> {
    let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let catalog = planned.catalog.clone();
    let left_out = planned.left_out.clone();
    for endpoint in &left_out {
        eprintln!("replay: left out: {}", crate::untrusted::terminal(endpoint));
    }
    let synthetic = planned.synthetic.clone();
    if !synthetic.is_empty() {
        eprintln!("replay: synthetic values (no --var given) for {}", synthetic.join(", "));
    }
    let names = (0..planned.catalog.endpoints.len()).map(|i| planned.catalog.name(i)).collect();
    let watch = Watch::new(judging.thresholds.clone(), judging.abort_on_fail, planned.expected_requests, target).naming(names);
    let known = |planned| super::watch::Known {
        planned,
        plan: &plan,
        thresholds: &judging.thresholds,
        run_id: &judging.run_id,
        target,
        started: &started,
        out,
    };
    let mut live = watching.map(|w| super::watch::Live::start(w, known(&planned)));
    let outcome = drive(runtime, planned, config, target, watch, live.as_mut())?;
    if let Some(why) = &outcome.aborted {
        eprintln!("replay: stopped early: {why}");
    }
    let internal = outcome.internal.is_some();
    let facts = RunFacts {
        run_id: &judging.run_id,
        target,
        started: &started,
        duration_s: outcome.duration.as_secs_f64(),
        interrupted: outcome.interrupted,
        catalog: &catalog,
        left_out: &left_out,
        synthetic: &synthetic,
        plan: Some(plan),
    };
    let mut results = results(&outcome.summary, &facts);
    let stopped = live.as_ref().and_then(|l| l.stopped(outcome.duration.as_secs_f64()));
    results.warnings.extend(stopped.clone());
    let mut verdict = judge(&results, &judging.thresholds).map_err(anyhow::Error::msg)?;
    if let Some(why) = outcome.aborted {
        verdict.reasons.insert(0, format!("stopped early: {why}"));
        verdict.passed = false;
    }
    results.verdict = Some(verdict);
    let exit = super::outputs::write_all(&results, out)?;
    if let Some(live) = live {
        live.finish(runtime, &outcome.summary, &results, stopped);
    }
    if internal {
        eprintln!("replay: the run ended on an internal error (a bug in replay); its results so far are in {}", out.display());
        return Ok((results, Exit::Internal));
    }
    Ok((results, exit))
}

/// Runs a plan on `runtime` with Ctrl-C/SIGTERM handling and the progress view.
fn drive(
    runtime: &tokio::runtime::Runtime,
    planned: PlannedRun,
    config: RunConfig,
    target: &str,
    mut watch: Watch,
    live: Option<&mut super::watch::Live>,
) -> anyhow::Result<RunOutcome> {
    let total_s = planned.end_ns.map(|ns| ns as f64 / 1e9);
    let length = total_s.map_or("until stopped".to_owned(), |s| format!("for {}", human_duration(s)));
    let what = format!("{} to {target} {length}", planned.unit);
    let mut publish = live.as_ref().map(|l| l.observer());
    let page_stop = live.map(|l| l.page_stop());
    runtime.block_on(async move {
        let signal = interrupted()?;
        let stop = async move {
            match page_stop {
                Some(page) => tokio::select! { _ = signal => {}, _ = page => {} },
                None => signal.await,
            }
        };
        let client = Client::new(config.client.clone()).map_err(anyhow::Error::msg)?;
        client.warm(config.client.connections.min(WARM_CONNECTIONS), WARM_WITHIN).await;
        let timer = PreciseTimer::new(config.spin).context("cannot create a timer")?;
        eprintln!("replay: sending {what}; Ctrl-C stops and writes the partial results");
        let view = ProgressView::new(total_s);
        let (shown, told) = (view.clone(), view.clone());
        // The loop runs as a task on the runtime's workers, beside the requests
        // it spawns: on one core, one thread, and no wake-ups across threads.
        let observers = Observers {
            report: move |p: &crate::run::Progress| shown.show(p),
            watch: move |s: &Summary, elapsed: f64| {
                if let Some(publish) = &mut publish {
                    publish(s, elapsed);
                }
                if let Some(notice) = watch.notice(s) {
                    told.say(&notice);
                }
                watch.check(s, elapsed)
            },
        };
        let task = tokio::spawn(run_plan(planned, config, client, timer, stop, observers));
        let outcome = task.await.map_err(|e| anyhow::anyhow!("the run failed: {e}"));
        view.finish();
        outcome
    })
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    // On one core, one thread does everything: no wake-ups across threads.
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut builder = if cores == 1 { tokio::runtime::Builder::new_current_thread() } else { tokio::runtime::Builder::new_multi_thread() };
    builder.enable_all();
    if cores > 1 {
        // Check the queue of tasks from other threads often: a request waiting there is schedule lag.
        builder.global_queue_interval(4).event_interval(8);
    }
    builder.build().context("cannot start the async runtime")
}

/// A future that resolves on Ctrl-C or SIGTERM; the handlers are in place when it returns.
pub fn interrupted() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot watch for SIGTERM")?;
        let mut int = signal(SignalKind::interrupt()).context("cannot watch for Ctrl-C")?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}
