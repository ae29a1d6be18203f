//! `replay run`, `replay plan` and `replay demo`: load, schedule, send,
//! report, and say how the process exits.

use crate::Exit;
use crate::cli::RunSpec;
use crate::client::ClientConfig;
use crate::profile::{Profile, load};
use crate::report::json::{Results, results};
use crate::request::vars_from_csv;
use crate::run::{Planned, ProfilePlan, Progress, RunConfig, RunOutcome, run_plan};
use crate::schedule::{Schedule, ScheduleConfig};
use crate::trace_plan;
use crate::users::SessionPlan;
use anyhow::Context;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The demo's log, made by fixtures/make_demo_log.py.
const DEMO_LOG: &str = include_str!("../../fixtures/demo/access.log");

fn schedule_config(spec: &RunSpec, profile: &Profile) -> anyhow::Result<ScheduleConfig> {
    let bin_s = u64::from(profile.arrival.bin_s);
    let span_s = profile.arrival.counts.len() as u64 * bin_s;
    if let Some((from, to)) = spec.window
        && from >= span_s
    {
        anyhow::bail!("--window {from}s..{to}s starts after the profile ends ({span_s} s); e.g. --window 0..{}s", span_s.min(to));
    }
    let window_s = spec.window.map_or(span_s, |(from, to)| to.min(span_s) - from);
    let speed = match (spec.speed, spec.duration_s) {
        (Some(speed), _) => speed,
        (None, Some(duration)) => window_s as f64 / duration as f64,
        (None, None) => 1.0,
    };
    Ok(ScheduleConfig {
        speed,
        rate_scale: spec.rate_scale,
        window: spec.window,
        arrivals: spec.arrivals,
        seed: spec.seed,
        looped: spec.looped,
        max_requests: spec.max_requests,
    })
}

fn run_config(spec: &RunSpec, profile: &Profile) -> anyhow::Result<RunConfig> {
    let mut vars = match &spec.vars_file {
        Some(path) => vars_from_csv(path).map_err(anyhow::Error::msg)?,
        None => Default::default(),
    };
    for (name, values) in &spec.vars {
        vars.insert(name.clone(), values.clone());
    }
    Ok(RunConfig {
        client: ClientConfig {
            base: spec.host.clone(),
            connections: spec.connections,
            timeout: spec.timeout,
            http2: spec.http2,
            insecure: spec.insecure,
            headers: spec.headers.clone(),
            // A run id from the clock, so traces of different runs differ.
            trace_headers: spec.trace_headers.then(|| chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0) as u64 ^ spec.seed),
        },
        schedule: schedule_config(spec, profile)?,
        max_rps: spec.max_rps,
        vars,
        grace: spec.timeout.max(Duration::from_secs(1)),
        progress_every: if std::io::stderr().is_terminal() { Duration::from_millis(250) } else { Duration::from_secs(5) },
        batch_window: spec.batch_window,
    })
}

/// How progress is shown: a live bar on a terminal, a plain line every few seconds otherwise.
#[derive(Clone)]
struct ProgressView {
    bar: Option<indicatif::ProgressBar>,
}

impl ProgressView {
    fn new(total_s: f64) -> Self {
        if !std::io::stderr().is_terminal() {
            return ProgressView { bar: None };
        }
        let bar = indicatif::ProgressBar::new((total_s * 1000.0).max(1.0) as u64);
        let style = indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {percent:>3}%\n  {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
        bar.set_style(style);
        ProgressView { bar: Some(bar) }
    }

    fn show(&self, p: &Progress) {
        match &self.bar {
            Some(bar) => {
                bar.set_position((p.elapsed_s * 1000.0) as u64);
                let behind = if p.falling_behind { "  FALLING BEHIND" } else { "" };
                bar.set_message(format!(
                    "intended {:.0} rps, achieved {:.0} rps  p50 {:.1} ms  p99 {:.1} ms  errors {}  lag p99 {:.2} ms{behind}",
                    p.intended_rps, p.achieved_rps, p.p50_ms, p.p99_ms, p.failures, p.lag_p99_ms
                ));
            }
            None => print_progress(p),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

fn print_progress(p: &Progress) {
    let behind = if p.falling_behind { "  FALLING BEHIND: results understate the load" } else { "" };
    eprintln!(
        "replay: {:.0}/{:.0} s  intended {:.0} rps, achieved {:.0} rps  p50 {:.1} ms p99 {:.1} ms  errors {}  lag p99 {:.2} ms{behind}",
        p.elapsed_s, p.total_s, p.intended_rps, p.achieved_rps, p.p50_ms, p.p99_ms, p.failures, p.lag_p99_ms
    );
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
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
fn interrupted() -> anyhow::Result<impl std::future::Future<Output = ()>> {
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

fn out_dir(spec_out: Option<&Path>) -> PathBuf {
    spec_out
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("replay-results").join(chrono::Utc::now().format("%Y-%m-%dT%H-%M-%SZ").to_string()))
}

/// Runs a profile and writes results; the exit says whether it was interrupted.
fn replay_profile(
    runtime: &tokio::runtime::Runtime,
    profile: &Profile,
    config: RunConfig,
    sessions: bool,
    target: &str,
    out: &Path,
) -> anyhow::Result<(Results, Exit)> {
    let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let (plan, pass_ns): (Box<dyn Iterator<Item = Planned> + Send>, u64) = if sessions {
        let plan = SessionPlan::new(profile, &config.schedule, config.vars.clone()).map_err(anyhow::Error::msg)?;
        let pass_ns = plan.pass_ns();
        (Box::new(plan), pass_ns)
    } else {
        let plan = ProfilePlan::new(profile, &config).map_err(anyhow::Error::msg)?;
        let pass_ns = plan.pass_ns();
        (Box::new(plan), pass_ns)
    };
    let what = if sessions { "virtual users" } else { "requests" };
    let outcome = drive(runtime, plan, profile.endpoints.len(), pass_ns as f64 / 1e9, config, &format!("{what} to {target}"))?;
    write_results(&outcome, profile, target, &started, out)
}

/// Runs a plan on `runtime` with Ctrl-C/SIGTERM handling and the progress view.
fn drive(
    runtime: &tokio::runtime::Runtime,
    plan: Box<dyn Iterator<Item = Planned> + Send>,
    endpoints: usize,
    total_s: f64,
    config: RunConfig,
    what: &str,
) -> anyhow::Result<RunOutcome> {
    let what = what.to_owned();
    runtime.block_on(async move {
        let stop = interrupted()?;
        eprintln!("replay: sending {what} for {total_s:.1} s; Ctrl-C stops and writes the partial results");
        let view = ProgressView::new(total_s);
        let shown = view.clone();
        // The loop runs as a task on the runtime's workers, beside the requests
        // it spawns: on one core, one thread, and no wake-ups across threads.
        let task = tokio::spawn(async move { run_plan(plan, endpoints, total_s, config, stop, move |p| shown.show(p)).await });
        let outcome = task.await.map_err(|e| anyhow::anyhow!("the run failed: {e}"));
        view.finish();
        outcome?.map_err(anyhow::Error::msg)
    })
}

/// Writes `results.json` under `out` and the table to stdout; the exit says whether the run was interrupted.
fn write_results(outcome: &RunOutcome, profile: &Profile, target: &str, started: &str, out: &Path) -> anyhow::Result<(Results, Exit)> {
    let results = results(&outcome.summary, profile, target, started, outcome.duration.as_secs_f64(), outcome.interrupted);
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let path = out.join("results.json");
    std::fs::write(&path, serde_json::to_string_pretty(&results)? + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    let mut stdout = std::io::stdout().lock();
    crate::report::text::write_table(&results, &mut stdout)?;
    writeln!(stdout, "results: {}", path.display())?;
    Ok((results, if outcome.interrupted { Exit::Aborted } else { Exit::Ok }))
}

pub fn run_command(spec: &RunSpec) -> anyhow::Result<Exit> {
    if trace_plan::is_trace(&spec.profile) {
        return run_trace(spec);
    }
    let profile = load::load(&spec.profile)?;
    let config = run_config(spec, &profile)?;
    // Placeholders nothing can fill are bad input, found before any traffic.
    crate::request::RequestMaker::new(&profile, config.vars.clone(), spec.seed).map_err(anyhow::Error::msg)?;
    let out = out_dir(spec.out.as_deref());
    Ok(replay_profile(&runtime()?, &profile, config, spec.sessions, &spec.host.to_string(), &out)?.1)
}

/// `replay run trace.csv`: the trace's requests at their offsets, divided by `--speed`.
fn run_trace(spec: &RunSpec) -> anyhow::Result<Exit> {
    if spec.rate_scale != 1.0 || spec.looped || spec.duration_s.is_some() {
        anyhow::bail!(
            "a trace is replayed request by request: --rate-scale, --loop and --duration do not apply to it; use --speed and --window"
        );
    }
    let vars = spec.vars.clone();
    let info = trace_plan::scan(&spec.profile, &vars).map_err(anyhow::Error::msg)?;
    let speed = spec.speed.unwrap_or(1.0);
    let mut config = run_config(spec, &info.profile)?;
    config.vars = vars.clone();
    let total_s = trace_plan::TracePlan::duration_s(&info, speed, spec.window);
    let plan = trace_plan::TracePlan::new(&info, vars, speed, spec.window, spec.max_requests).map_err(anyhow::Error::msg)?;
    let out = out_dir(spec.out.as_deref());
    let target = spec.host.to_string();
    let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    eprintln!("replay: {} rows of {} over {total_s:.1} s", info.rows, spec.profile.display());
    let outcome = drive(&runtime()?, Box::new(plan), info.profile.endpoints.len(), total_s, config, &format!("requests to {target}"))?;
    Ok(write_results(&outcome, &info.profile, &spec.host.to_string(), &started, &out)?.1)
}

/// `replay plan`: the run's shape without sending anything.
pub fn plan_command(spec: &RunSpec, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let profile = load::load(&spec.profile)?;
    let config = run_config(spec, &profile)?;
    crate::request::RequestMaker::new(&profile, config.vars.clone(), spec.seed).map_err(anyhow::Error::msg)?;
    let schedule = Schedule::new(&profile, config.schedule.clone());
    let pass_s = schedule.pass_ns() as f64 / 1e9;
    let mut per_second: Vec<u64> = Vec::new();
    let mut total = 0u64;
    let mut last_ns = 0;
    for due in schedule {
        total += 1;
        last_ns = due.at_ns;
        let second = (due.at_ns / 1_000_000_000) as usize;
        if per_second.len() <= second {
            per_second.resize(second + 1, 0);
        }
        per_second[second] += 1;
        if total >= 50_000_000 {
            break;
        }
    }
    let peak = per_second.iter().copied().max().unwrap_or(0);
    let capped = spec.max_rps.is_some_and(|cap| peak > u64::from(cap));
    let latency_s: f64 = profile.endpoints.iter().filter_map(|e| e.latency_ms.map(|l| e.weight * l.p50 / 1000.0)).sum();
    writeln!(out, "plan: {} against {}", spec.profile.display(), spec.host)?;
    writeln!(out, "  speed x{:.3}, rate scale x{}, window {:?}", config.schedule.speed, spec.rate_scale, spec.window)?;
    writeln!(out, "  duration {:.1} s ({} to the last request), {total} requests", pass_s, last_ns as f64 / 1e9)?;
    writeln!(
        out,
        "  mean {:.1} rps, peak {peak} rps in one second{}",
        total as f64 / pass_s.max(1e-9),
        if capped { " (over --max-rps: the cap will hold requests back)" } else { "" }
    )?;
    if latency_s > 0.0 {
        writeln!(
            out,
            "  expected concurrency at peak: {:.1} requests in flight at production's median latency (--connections {})",
            peak as f64 * latency_s,
            spec.connections
        )?;
    }
    Ok(Exit::Ok)
}

/// `replay demo`: an example server on loopback, a profile derived from the
/// demo log, replayed for `duration_s`.
pub fn demo_command(duration_s: u64) -> anyhow::Result<Exit> {
    let dir = std::env::temp_dir().join(format!("replay-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let log = dir.join("access.log");
    std::fs::write(&log, DEMO_LOG)?;
    let derived = crate::derive::derive(&crate::derive::DeriveConfig::new(vec![log.display().to_string()]))?;
    let profile = derived.profile;
    let runtime = runtime()?;
    let (addr, received, stop) = runtime.block_on(crate::demo::start())?;
    println!(
        "demo: example server on http://{addr}; replaying {} ({} requests over {} s) in {duration_s} s",
        log.display(),
        profile.arrival.counts.iter().sum::<u64>(),
        profile.arrival.counts.len() as u64 * u64::from(profile.arrival.bin_s)
    );
    let host: hyper::Uri = format!("http://{addr}").parse()?;
    let span_s = profile.arrival.counts.len() as f64 * f64::from(profile.arrival.bin_s);
    let config = RunConfig {
        client: ClientConfig::new(host.clone()),
        schedule: ScheduleConfig { speed: span_s / duration_s.max(1) as f64, ..ScheduleConfig::default() },
        max_rps: None,
        vars: Default::default(),
        grace: Duration::from_secs(2),
        progress_every: Duration::from_secs(2),
        batch_window: Duration::from_micros(500),
    };
    let (results, exit) = replay_profile(&runtime, &profile, config, false, &host.to_string(), &dir.join("results"))?;
    let _ = stop.send(());
    let got = received.lock().map(|r| r.clone()).unwrap_or_default();
    println!("demo: the server received {}", got.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", "));
    println!("demo: {} of {} intended requests sent, {} failed", results.totals.requests, results.totals.intended, results.totals.failures);
    Ok(exit)
}
