//! The replay loop under paused time, with a stand-in transport: the cap
//! holds for every source, the run ends on time, and every intended request
//! is accounted for (`intended == requests + not_sent`) however it ends.

use replay::client::{CookieJar, Failure, Outcome, Transport};
use replay::plan::{Pace, PlanSettings, PlannedRun, RequestSpec, Requests, Trace, Users, build, trace};
use replay::profile::load::parse;
use replay::run::Summary;
use replay::run::{RunConfig, RunOutcome, TokioSleeper, run_plan, unobserved};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Answers after `latency`, or fails as a timeout at `timeout`; notes when each request went out.
#[derive(Clone)]
pub struct Stand {
    latency: Duration,
    timeout: Duration,
    pub sent_ns: Arc<Mutex<Vec<u64>>>,
}

impl Stand {
    pub fn new(latency_ms: u64, timeout_ms: u64) -> Self {
        Stand { latency: Duration::from_millis(latency_ms), timeout: Duration::from_millis(timeout_ms), sent_ns: Arc::default() }
    }

    /// The most requests that went out in any one second (any window, not only whole seconds).
    fn busiest_second(&self) -> usize {
        let mut sent = self.sent_ns.lock().unwrap().clone();
        sent.sort_unstable();
        let mut most = 0;
        let mut from = 0;
        for to in 0..sent.len() {
            while sent[to] - sent[from] >= 1_000_000_000 {
                from += 1;
            }
            most = most.max(to - from + 1);
        }
        most
    }
}

impl Transport for Stand {
    async fn send(&self, spec: &RequestSpec, intended_ns: u64, now_ns: impl Fn() -> u64 + Send, _jar: Option<&mut CookieJar>) -> Outcome {
        let sent_ns = now_ns();
        self.sent_ns.lock().unwrap().push(sent_ns);
        let slow = self.latency > self.timeout;
        tokio::time::sleep(self.latency.min(self.timeout)).await;
        Outcome {
            endpoint: spec.endpoint,
            intended_ns,
            sent_ns,
            done_ns: now_ns(),
            status: (!slow).then_some(200),
            failure: slow.then_some(Failure::Timeout),
            detail: slow.then(|| "no response".to_owned()),
            retried: false,
            synthetic: false,
            to_login: false,
            bytes: 0,
        }
    }
}

/// 100 requests a second for 10 s, with a 3-step session flow.
const PROFILE: &str = r#"{"version": 1,
    "endpoints": [{"method": "GET", "path": "/", "weight": 2}, {"method": "GET", "path": "/profile", "weight": 1},
                  {"method": "POST", "path": "/login", "weight": 0, "once_per_session": true}],
    "arrival": {"bin_s": 1, "counts": [100, 100, 100, 100, 100, 100, 100, 100, 100, 100]},
    "sessions": {"key": "user", "gap_s": 1800, "count": 300, "length": {"p50": 3, "p90": 3, "p99": 3},
                 "think_time_s": {"p50": 0.5, "p90": 0.5, "p99": 0.5},
                 "flows": [{"steps": ["POST /login", "GET /", "GET /profile"], "share": 1.0}]}}"#;

pub fn planned(source: &str, settings: &PlanSettings, trace_file: &std::path::Path) -> PlannedRun {
    let profile = parse(PROFILE, "p.json").unwrap();
    match source {
        "profile" => build(&Requests(&profile), settings).unwrap(),
        "sessions" => build(&Users(&profile), settings).unwrap(),
        _ => {
            let info = trace::scan(trace_file, &settings.vars).unwrap();
            build(&Trace(&info), settings).unwrap()
        }
    }
}

/// A trace of 1,000 rows over 10 s.
fn trace_file(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("trace.csv");
    let mut text = String::from("offset_s,method,template,target,session\n");
    for i in 0..1000 {
        text.push_str(&format!("{:.3},GET,/,/,s{}\n", i as f64 / 100.0, i % 7));
    }
    std::fs::write(&path, text).unwrap();
    path
}

pub fn config(connections: usize, timeout_ms: u64) -> RunConfig {
    let mut client = replay::client::ClientConfig::new("http://127.0.0.1:9".parse().unwrap());
    client.connections = connections;
    client.timeout = Duration::from_millis(timeout_ms);
    RunConfig { progress_every: Duration::from_secs(3600), ..RunConfig::new(client) }
}

async fn run(planned: PlannedRun, config: RunConfig, stand: &Stand, stop_after: Option<Duration>) -> RunOutcome {
    let shutdown = async move {
        match stop_after {
            Some(after) => tokio::time::sleep(after).await,
            None => std::future::pending().await,
        }
    };
    run_plan(planned, config, stand.clone(), TokioSleeper, shutdown, unobserved()).await
}

pub fn assert_accounted(s: &Summary, what: &str) {
    assert_eq!(
        s.intended,
        s.requests + s.not_sent_total(),
        "{what}: intended {} requests {} not sent {:?}",
        s.intended,
        s.requests,
        s.not_sent
    );
}

#[tokio::test(start_paused = true)]
async fn the_cap_holds_for_every_source() {
    let dir = tempfile::tempdir().unwrap();
    let trace = trace_file(dir.path());
    for source in ["profile", "sessions", "trace"] {
        // Five times faster than the cap allows: 500 rps asked for, 50 allowed.
        let settings = PlanSettings { pace: Pace::Speed(5.0), ..PlanSettings::default() };
        let stand = Stand::new(20, 5000);
        let mut config = config(64, 5000);
        config.max_rps = Some(50);
        let outcome = run(planned(source, &settings, &trace), config, &stand, None).await;
        let busiest = stand.busiest_second();
        // The cap and its burst of a hundredth of a second (1 request at 50 rps).
        assert!(busiest <= 51, "{source}: {busiest} requests in one second under --max-rps 50");
        assert!(busiest >= 45, "{source}: the cap is a ceiling, not a stop: {busiest}");
        assert_accounted(&outcome.summary, source);
        assert!(
            outcome.summary.not_sent.contains_key(&replay::run::NotSent::RateCap) || source == "sessions",
            "{source}: {:?}",
            outcome.summary.not_sent
        );
    }
}

#[tokio::test(start_paused = true)]
async fn duration_bounds_the_wall_time_for_every_source() {
    let dir = tempfile::tempdir().unwrap();
    let trace = trace_file(dir.path());
    for source in ["profile", "sessions", "trace"] {
        // A slow target (2 s answers, 3 s timeout) and few connections: the schedule cannot be kept.
        let settings = PlanSettings { pace: Pace::Duration(Duration::from_secs(8)), ..PlanSettings::default() };
        let stand = Stand::new(2000, 3000);
        let outcome = run(planned(source, &settings, &trace), config(4, 3000), &stand, None).await;
        // 8 s, one second for late requests, then in-flight requests get their timeout.
        assert!(outcome.duration <= Duration::from_millis(8000 + 1000 + 3100 + 50), "{source}: {:?}", outcome.duration);
        assert!(outcome.duration >= Duration::from_secs(8), "{source}: {:?}", outcome.duration);
        assert_accounted(&outcome.summary, source);
        let s = &outcome.summary;
        assert!(s.not_sent_total() > 0, "{source}: four connections cannot keep up: {:?}", s.not_sent);
        assert!(!outcome.interrupted);
    }
}

#[tokio::test(start_paused = true)]
async fn a_stalled_target_cannot_stretch_the_run() {
    // Every request hangs until its 2 s timeout; 8 connections; a 5 s run.
    let settings = PlanSettings { pace: Pace::Speed(2.0), ..PlanSettings::default() };
    let stand = Stand::new(60_000, 2000);
    let outcome = run(planned("profile", &settings, std::path::Path::new("")), config(8, 2000), &stand, None).await;
    assert!(outcome.duration <= Duration::from_millis(5000 + 1000 + 2100 + 50), "{:?}", outcome.duration);
    let s = &outcome.summary;
    assert_accounted(s, "stalled");
    assert_eq!(s.intended, 1000, "every request of the plan came due");
    assert!(s.not_sent[&replay::run::NotSent::NoConnection] > 900, "{:?}", s.not_sent);
    assert_eq!(s.by_failure.get(&Failure::Timeout), Some(&s.requests));
}

#[tokio::test(start_paused = true)]
async fn interrupted_runs_account_for_every_request() {
    for (source, connections) in [("profile", 64), ("profile", 2), ("sessions", 64), ("sessions", 1)] {
        let settings = PlanSettings { pace: Pace::Speed(1.0), ..PlanSettings::default() };
        let stand = Stand::new(700, 5000);
        let outcome =
            run(planned(source, &settings, std::path::Path::new("")), config(connections, 5000), &stand, Some(Duration::from_millis(2500)))
                .await;
        assert!(outcome.interrupted, "{source}");
        let s = &outcome.summary;
        assert_accounted(s, source);
        // Requests due when it stopped are not sent; users' later steps whose time had not come are cut off.
        let cut = source == "sessions" && s.cut_off > 0;
        assert!(s.not_sent.contains_key(&replay::run::NotSent::Interrupted) || cut, "{source} x{connections}: {:?}", s.not_sent);
        // Stopped at 2.5 s; in-flight requests finish within their latency.
        assert!(outcome.duration < Duration::from_millis(2500 + 800), "{source}: {:?}", outcome.duration);
    }
}

#[tokio::test(start_paused = true)]
async fn max_requests_holds_for_sessions_too() {
    let settings = PlanSettings { pace: Pace::Speed(1.0), ..PlanSettings::default() };
    let stand = Stand::new(10, 5000);
    let mut config = config(64, 5000);
    config.max_requests = Some(100);
    let outcome = run(planned("sessions", &settings, std::path::Path::new("")), config, &stand, None).await;
    let s = &outcome.summary;
    assert_eq!(s.requests, 100, "{:?}", s.not_sent);
    assert_eq!(stand.sent_ns.lock().unwrap().len(), 100);
    assert_accounted(s, "sessions");
}

#[tokio::test(start_paused = true)]
async fn a_request_in_flight_at_the_end_is_counted_not_lost() {
    // Answers take longer than the grace the run waits (a stand-in that ignores its timeout).
    let settings = PlanSettings { pace: Pace::Speed(10.0), ..PlanSettings::default() };
    let stand = Stand::new(60_000, 60_000);
    let outcome = run(planned("profile", &settings, std::path::Path::new("")), config(2000, 1000), &stand, None).await;
    let s = &outcome.summary;
    assert_accounted(s, "in flight");
    assert_eq!((s.intended, s.requests), (1000, 1000));
    assert_eq!(s.by_failure[&Failure::Timeout], 1000);
    assert!(s.failure_examples[&Failure::Timeout].1.contains("before the run ended"));
}

#[tokio::test(start_paused = true)]
async fn interrupted_with_every_connection_busy_counts_every_request_whose_time_came() {
    // 100 rps, two connections, a target that never answers within the run: Ctrl-C at 4 s.
    let settings = PlanSettings { pace: Pace::Speed(1.0), ..PlanSettings::default() };
    let dir = tempfile::tempdir().unwrap();
    let stand = Stand::new(60_000, 60_000);
    let outcome =
        run(planned("profile", &settings, &trace_file(dir.path())), config(2, 60_000), &stand, Some(Duration::from_secs(4))).await;
    let s = &outcome.summary;
    assert!(outcome.interrupted);
    assert_accounted(s, "interrupted");
    // About 400 were due by then: two went out, the rest waited for a connection or for their wake.
    assert!((380..=420).contains(&s.intended), "intended {} (not sent {:?})", s.intended, s.not_sent);
}

#[tokio::test(start_paused = true)]
async fn the_live_intended_rate_holds_while_every_connection_is_busy() {
    // 100 rps, two connections, a target that never answers within the run.
    let settings = PlanSettings { pace: Pace::Speed(1.0), ..PlanSettings::default() };
    let dir = tempfile::tempdir().unwrap();
    let stand = Stand::new(60_000, 60_000);
    let mut config = config(2, 60_000);
    config.progress_every = Duration::from_secs(1);
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let log = std::sync::Arc::clone(&seen);
    let observers = replay::run::Observers {
        report: move |p: &replay::run::Progress| log.lock().unwrap().push((p.elapsed_s, p.intended_rps, p.achieved_rps)),
        watch: |_: &Summary, _: f64| None,
    };
    let shutdown = tokio::time::sleep(Duration::from_secs(5));
    let outcome =
        run_plan(planned("profile", &settings, &trace_file(dir.path())), config, stand.clone(), TokioSleeper, shutdown, observers).await;
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 4, "{seen:?}");
    // Past the first second, nothing more is sent, but a hundred requests a second still come due.
    for &(at, intended, achieved) in &seen[1..4] {
        assert!((85.0..=115.0).contains(&intended), "at {at:.1} s: intended {intended:.0} rps: {seen:?}");
        assert!(achieved < 1.0, "at {at:.1} s: {achieved}");
    }
    assert_accounted(&outcome.summary, "stalled");
}
