//! `replay run` against targets on loopback: the example server from the
//! library (port 0, counting what it receives), a refused port, failing and
//! slow endpoints; the CLI's exit codes, `plan` and `demo`.

use crate::util::{replay, root, text};
use replay::client::{Client, ClientConfig, Failure};
use replay::plan::{Pace, PlanSettings, Requests, build};
use replay::profile::Profile;
use replay::profile::load::parse;
use replay::run::{PreciseTimer, RunConfig, RunOutcome, run_plan, unobserved};
use replay::schedule::Arrivals;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

const PROFILE: &str = r#"{"version": 1,
    "endpoints": [
        {"method": "GET", "path": "/", "weight": 2},
        {"method": "GET", "path": "/profile", "weight": 1},
        {"method": "GET", "path": "/users/{id}", "weight": 1, "params": {"id": ["7", "42"]}}
    ],
    "arrival": {"bin_s": 1, "counts": [100, 100, 100, 100, 100, 100, 100, 100, 100, 100]}}"#;

/// How a test runs: the plan's settings and the run's.
#[derive(Clone)]
pub struct Cfg {
    pub plan: PlanSettings,
    pub run: RunConfig,
}

pub fn config(base: &str, speed: f64) -> Cfg {
    Cfg {
        plan: PlanSettings { pace: Pace::Speed(speed), arrivals: Arrivals::Uniform, ..PlanSettings::default() },
        // No spinning: the gate reads the process's CPU, here every test's at once, and would spin
        // through short waits while the others run (the spin is tested in `run/timer.rs`).
        run: RunConfig { progress_every: Duration::from_secs(60), spin: false, ..RunConfig::new(ClientConfig::new(base.parse().unwrap())) },
    }
}

/// Runs `profile` with `cfg` to its end, with the real client and timer.
pub fn run(rt: &tokio::runtime::Runtime, profile: &Profile, cfg: &Cfg) -> RunOutcome {
    let planned = build(&Requests(profile), &cfg.plan).unwrap();
    let client = Client::new(cfg.run.client.clone()).unwrap();
    let config = cfg.run.clone();
    rt.block_on(async move {
        let timer = PreciseTimer::new(config.spin).unwrap();
        run_plan(planned, config, client, timer, std::future::pending(), unobserved()).await
    })
}

/// The requests the example server counted (its `METHOD /path` keys).
pub fn requests(got: &std::collections::BTreeMap<String, u64>) -> u64 {
    got.iter()
        .filter(|(k, _)| k.split_once(' ').is_some_and(|(m, p)| m.bytes().all(|b| b.is_ascii_uppercase()) && p.starts_with('/')))
        .map(|(_, v)| v)
        .sum()
}

/// A bare TCP target on 127.0.0.1, port 0: each connection goes to `handle` on its own task.
pub fn raw_target<F, Fut>(rt: &tokio::runtime::Runtime, handle: F) -> std::net::SocketAddr
where
    F: Fn(tokio::net::TcpStream) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(handle(stream));
            }
        });
        addr
    })
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

#[test]
fn the_server_sees_the_profiles_count_and_mix() {
    let rt = runtime();
    let profile = parse(PROFILE, "p.json").unwrap();
    let (addr, received, stop) = rt.block_on(replay::demo::start()).unwrap();
    let outcome = run(&rt, &profile, &config(&format!("http://{addr}"), 5.0));
    let _ = stop.send(());
    let got = received.lock().unwrap().clone();
    let s = &outcome.summary;
    assert_eq!((s.intended, s.requests, s.failures), (1000, 1000, 0));
    assert_eq!(requests(&got), 1000);
    let share = |k: &str| got.get(k).copied().unwrap_or(0) as f64 / 1000.0;
    assert!((share("GET /") - 0.5).abs() < 0.05 && (share("GET /profile") - 0.25).abs() < 0.05, "{got:?}");
    assert!((share("GET /users/{id}") - 0.25).abs() < 0.05, "{got:?}");
    // Ten profile seconds at speed 5: two seconds, one clock.
    assert!(outcome.duration >= Duration::from_millis(1900) && outcome.duration < Duration::from_secs(4), "{:?}", outcome.duration);
    assert!(!outcome.interrupted);
}

#[test]
fn trace_headers_reach_the_target_when_asked_for() {
    let rt = runtime();
    let profile = parse(PROFILE, "p.json").unwrap();
    let (addr, received, stop) = rt.block_on(replay::demo::start()).unwrap();
    let mut cfg = config(&format!("http://{addr}"), 20.0);
    cfg.run.max_requests = Some(50);
    run(&rt, &profile, &cfg);
    assert_eq!(received.lock().unwrap().get("traced"), None);
    cfg.run.client.trace_headers = Some(0xabc);
    run(&rt, &profile, &cfg);
    let _ = stop.send(());
    assert_eq!(received.lock().unwrap().get("traced"), Some(&50));
}

#[test]
fn refused_failing_and_slow_targets_are_counted_and_the_run_completes() {
    let rt = runtime();
    let profile = parse(PROFILE, "p.json").unwrap();
    // Nothing listens on port 1.
    let outcome = run(&rt, &profile, &config("http://127.0.0.1:1", 20.0));
    let s = &outcome.summary;
    assert_eq!((s.requests, s.failures), (1000, 1000));
    assert_eq!(s.by_failure.get(&Failure::Connect), Some(&1000), "{:?}", s.by_failure);
    let why = &s.failure_examples[&Failure::Connect].1;
    assert!(why.to_lowercase().contains("refused"), "{why}");

    let (addr, _, stop) = rt.block_on(replay::demo::start()).unwrap();
    let failing = parse(&PROFILE.replace("\"/profile\"", "\"/fail\"").replace("\"path\": \"/\"", "\"path\": \"/slow\""), "f.json").unwrap();
    let mut cfg = config(&format!("http://{addr}"), 20.0);
    cfg.run.client.timeout = Duration::from_millis(300);
    cfg.run.client.connections = 2000;
    let outcome = run(&rt, &failing, &cfg);
    let _ = stop.send(());
    let s = &outcome.summary;
    use Failure::*;
    assert_eq!(s.requests, 1000);
    let class = |f| s.by_failure.get(&f).copied().unwrap_or(0);
    assert!(class(Timeout) > 400 && class(Http5xx) > 150, "{:?}", s.by_failure);
    assert_eq!(class(Timeout) + class(Http5xx), s.failures);
}

#[test]
fn the_max_rps_cap_holds_requests_back() {
    let rt = runtime();
    let profile = parse(PROFILE, "p.json").unwrap();
    let (addr, received, stop) = rt.block_on(replay::demo::start()).unwrap();
    let mut cfg = config(&format!("http://{addr}"), 10.0);
    cfg.run.max_requests = Some(300);
    cfg.run.max_rps = Some(300);
    // 1,000 rps asked for, 300 allowed: 300 requests take about a second instead of 0.3.
    let outcome = run(&rt, &profile, &cfg);
    let _ = stop.send(());
    assert_eq!(requests(&received.lock().unwrap()), 300);
    assert!(outcome.summary.held_back > 200, "{}", outcome.summary.held_back);
    assert!(outcome.duration >= Duration::from_millis(900), "{:?}", outcome.duration);
}

/// Starts `replay` with `args` and reads its stderr up to the first line holding `marker`;
/// returns the child, the rest of its stderr, and that line (empty if it never came).
fn start_until(args: &[&str], marker: &str) -> (std::process::Child, BufReader<std::process::ChildStderr>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_replay"))
        .args(args)
        .current_dir(root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    while stderr.read_line(&mut line).unwrap() > 0 && !line.contains(marker) {
        line.clear();
    }
    (child, stderr, line)
}

#[test]
fn sigterm_writes_partial_results_and_exits_3() {
    let rt = runtime();
    let (addr, _, stop) = rt.block_on(replay::demo::start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let host = format!("http://{addr}");
    let (mut child, _stderr, line) =
        start_until(&["run", "profiles/steady.json", "--host", &host, "--out", dir.path().to_str().unwrap()], "Ctrl-C stops");
    assert!(line.contains("Ctrl-C stops"), "the run did not start: {line}");
    // SAFETY: sends SIGTERM to our own child process, which is still running.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    let _ = stop.send(());
    assert_eq!(status.code(), Some(3));
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("results.json")).unwrap()).unwrap();
    assert_eq!(results["interrupted"], true);
    assert_eq!(results["version"], 3);
    let totals = &results["totals"];
    assert!(totals["intended"].as_u64().unwrap() < 12_000);
    assert_eq!(totals["intended"].as_u64(), Some(totals["requests"].as_u64().unwrap() + totals["not_sent"].as_u64().unwrap()), "{totals}");
}

#[test]
fn results_json_holds_totals_classes_endpoints_and_histograms() {
    let rt = runtime();
    let (addr, _, stop) = rt.block_on(replay::demo::start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = replay(
        &[
            "run",
            "profiles/ramp.json",
            "--host",
            &format!("http://{addr}"),
            "--speed",
            "300",
            "--rate-scale",
            "0.02",
            "--out",
            dir.path().to_str().unwrap(),
        ],
        b"",
    );
    let _ = stop.send(());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("results.json")).unwrap()).unwrap();
    let totals = &r["totals"];
    assert_eq!(totals["requests"], totals["intended"]);
    assert_eq!(totals["failures"], 0);
    assert!((2500..3700).contains(&totals["requests"].as_u64().unwrap()), "{totals}");
    let endpoints = r["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 2, "login is once per session, not drawn: {endpoints:?}");
    let histogram = replay::report::json::decode(endpoints[0]["histogram"].as_str().unwrap()).unwrap();
    assert_eq!(histogram.len(), endpoints[0]["requests"].as_u64().unwrap());
    assert!(r["histograms"]["latency"].is_string() && r["schedule_lag_ms"]["p99"].is_number());
    let periods = r["periods"].as_array().unwrap();
    assert!(periods.len() >= 2, "{periods:?}");
    assert_eq!(periods.iter().map(|p| p["requests"].as_u64().unwrap()).sum::<u64>(), totals["requests"].as_u64().unwrap());
    // The ramp climbs: the last period is busier than the first.
    assert!(periods.last().unwrap()["requests"].as_u64() > periods[0]["requests"].as_u64(), "{periods:?}");
    let table = text(&out.stdout);
    assert!(table.contains("GET /profile") && table.contains("p99 ms"), "{table}");
}

#[test]
fn bad_run_flags_exit_2_with_an_example() {
    let table: [(&[&str], &str); 9] = [
        (&["run", "profiles/steady.json", "--host", "localhost:8080"], "--host http://127.0.0.1:8080"),
        (&["run", "profiles/steady.json", "--host", "http://127.0.0.1:9", "--speed", "0"], "--speed 60"),
        (&["run", "profiles/steady.json", "--host", "http://127.0.0.1:9", "--window", "4h..2h"], "--window 2h..4h"),
        (&["run", "profiles/steady.json", "--host", "http://127.0.0.1:9", "--window", "1h..2h"], "but the profile ends at 10 m"),
        (&["run", "no-such.json", "--host", "http://127.0.0.1:9"], "no-such.json"),
        // A day's profile with neither --speed nor --duration: refused up front, in human units.
        (&["run", "profiles/daily.json", "--host", "http://127.0.0.1:9"], "the timeline is 1 d long"),
        (&["plan", "profiles/daily.json", "--host", "http://127.0.0.1:9"], "--speed 1 to replay it in real time"),
        // Past the rate ceiling.
        (&["plan", "profiles/steady.json", "--host", "http://127.0.0.1:9", "--speed", "1", "--rate-scale", "1e12"], "past the ceiling"),
        // An access log is not a profile.
        (
            &["run", "fixtures/demo/access.log", "--host", "http://127.0.0.1:9", "--speed", "10"],
            "run `replay derive LOG > profile.json` first",
        ),
    ];
    for (args, needle) in table {
        let out = replay(args, b"");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn plan_and_demo() {
    let out = replay(&["plan", "profiles/steady.json", "--host", "http://127.0.0.1:9", "--speed", "10"], b"");
    let plan = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(plan.contains("duration 1 m,") && plan.contains("about 12,000 requests") && plan.contains("peak 200 rps"), "{plan}");
    assert!(!plan.contains("None") && !plan.contains("Some("), "no debug forms: {plan}");
    assert!(plan.contains("its sessions are about 58 users walking at once"), "a plain plan says what its sessions amount to: {plan}");
    // Sessions and traces plan too.
    let out = replay(&["plan", "profiles/steady.json", "--host", "http://127.0.0.1:9", "--speed", "10", "--sessions"], b"");
    let plan = text(&out.stdout);
    // 12,000 requests in sessions of a login and 20 tasks 3 s apart: 571 users, 58 walking at once
    // (Little's law: a user a second for a minute), and the last minute's users cut off by the end.
    assert!(plan.contains("about 571 virtual users, up to 58 at once") && plan.contains("about 11,407 requests"), "{plan}");
    assert!(plan.contains("peak 201 rps"), "the users' requests spread over their sessions: {plan}");
    // The demo, run where a newcomer would: it names the folder it keeps everything in.
    let here = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_replay")).args(["demo", "--duration", "2s"]).current_dir(here.path()).output().unwrap();
    let demo = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(demo.contains("POST /login") && demo.contains("GET /users/{id}") && demo.contains(", 0 failed"), "{demo}");
    assert!(demo.contains("replay: arrival"), "the derive summary first: {demo}");
    assert!(demo.contains("schedule lag is") && demo.contains("replay derive /var/log/nginx/access.log"), "{demo}");
    for file in ["replay-demo/profile.json", "replay-demo/results/report.html", "replay-demo/results/results.json"] {
        assert!(here.path().join(file).is_file(), "{file} kept: {demo}");
    }
    assert!(!demo.contains("over HTTP/2"), "{demo}");
    // Over HTTP/2 (h2c): the example server counts every request it received so.
    let out =
        Command::new(env!("CARGO_BIN_EXE_replay")).args(["demo", "--duration", "1s", "--http2"]).current_dir(here.path()).output().unwrap();
    let demo = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let sent = demo.lines().find_map(|l| l.strip_prefix("demo: ")?.split_once(" of ")?.0.replace(',', "").parse::<u64>().ok());
    let over_h2 = demo.split("over HTTP/2: ").nth(1).and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse::<u64>().ok());
    assert!(sent.is_some_and(|n| n > 0) && over_h2 == sent, "every request over HTTP/2: {demo}");
}

#[test]
fn a_derived_trace_replays_request_by_request() {
    let rt = runtime();
    let (addr, received, stop) = rt.block_on(replay::demo::start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.csv");
    let out = replay(
        &["derive", "fixtures/demo/access.log", "--trace", trace.to_str().unwrap(), "-o", dir.path().join("p.json").to_str().unwrap()],
        b"",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rows: Vec<String> = std::fs::read_to_string(&trace).unwrap().lines().skip(1).map(str::to_owned).collect();
    let out = replay(
        &[
            "run",
            trace.to_str().unwrap(),
            "--host",
            &format!("http://{addr}"),
            "--speed",
            "300",
            "--out",
            dir.path().join("r").to_str().unwrap(),
        ],
        b"",
    );
    let _ = stop.send(());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Every row was sent, to the endpoint it names.
    let mut got = received.lock().unwrap().clone();
    got.remove("connections");
    let mut want = std::collections::BTreeMap::new();
    for row in &rows {
        let cols: Vec<&str> = row.split(',').collect();
        *want.entry(format!("{} {}", cols[1], cols[2])).or_insert(0u64) += 1;
    }
    assert_eq!(got, want);
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("r/results.json")).unwrap()).unwrap();
    assert_eq!(results["totals"]["requests"].as_u64(), Some(rows.len() as u64));
    // A trace with a placeholder needs its value.
    let secret = dir.path().join("secret.csv");
    std::fs::write(&secret, "offset_s,method,template,target,session\n0.0,GET,/s/{token}/view,/s/{token}/view,00\n").unwrap();
    let out = replay(&["run", secret.to_str().unwrap(), "--host", "http://127.0.0.1:9"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("{token}"), "{}", text(&out.stderr));
    let out = replay(&["run", trace.to_str().unwrap(), "--host", "http://127.0.0.1:9", "--rate-scale", "2"], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn virtual_users_log_in_once_then_repeat_their_tasks_by_weight() {
    let rt = runtime();
    let (addr, received, stop) = rt.block_on(replay::demo::start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let args = ["run", "profiles/steady.json", "--host", &format!("http://{addr}"), "--sessions", "--speed", "150", "--rate-scale", "0.1"];
    let out = replay(&[&args[..], &["--out", dir.path().to_str().unwrap()]].concat(), b"");
    let _ = stop.send(());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let got = received.lock().unwrap().clone();
    let logins = got["POST /login"];
    // 12,000 requests in sessions of a login and 20 tasks: 571 users, a tenth of them.
    assert!((50..65).contains(&logins), "{got:?}");
    // One login per user, then the tasks by weight, 2:1, as a Locust user repeats them.
    let (home, profile) = (got["GET /"], got["GET /profile"]);
    let ratio = home as f64 / profile as f64;
    assert!((ratio - 2.0).abs() < 0.1, "2:1 within 5%: {got:?}");
    assert!(home + profile > 15 * logins, "users repeat their tasks: {got:?}");
    assert_eq!(got["with the login cookie"], home + profile, "every request after the login sends its cookie: {got:?}");
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("results.json")).unwrap()).unwrap();
    let totals = &results["totals"];
    assert_eq!(totals["requests"].as_u64(), Some(logins + home + profile));
    assert_eq!(totals["users"].as_u64(), Some(logins), "{totals}");
    // Users still walking at the end have later steps that never came due: apart from intended.
    let intended = totals["intended"].as_u64().unwrap();
    assert_eq!(intended + totals["steps_cut_off"].as_u64().unwrap(), 21 * logins, "{totals}");
    assert_eq!(intended, totals["requests"].as_u64().unwrap() + totals["not_sent"].as_u64().unwrap(), "{totals}");
    assert!(text(&out.stdout).contains(&format!("virtual users: {logins} started")), "{}", text(&out.stdout));
}

#[test]
fn https_targets_need_a_trusted_certificate_or_insecure() {
    let rt = runtime();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let tls = rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let mut tls = tls;
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let received = replay::demo::Received::default();
    let (addr, stop) = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(replay::demo::serve_tls(listener, std::sync::Arc::new(tls), std::sync::Arc::clone(&received), async move {
            let _ = stopped.await;
        }));
        (addr, stop)
    });
    let profile = parse(PROFILE, "p.json").unwrap();
    let base = format!("https://localhost:{}", addr.port());
    let mut cfg = config(&base, 50.0);
    cfg.run.max_requests = Some(100);
    let untrusted = run(&rt, &profile, &cfg);
    assert_eq!(untrusted.summary.by_failure.get(&Failure::Tls), Some(&100), "{:?}", untrusted.summary.by_failure);
    let why = &untrusted.summary.failure_examples[&Failure::Tls].1;
    assert!(why.contains("certificate"), "a clear word for a bad certificate: {why}");
    let refused_connections = received.lock().unwrap().get("connections").copied().unwrap_or(0);
    assert!(refused_connections >= 1);
    cfg.run.client.insecure = true;
    let trusted = run(&rt, &profile, &cfg);
    let _ = stop.send(());
    assert_eq!((trusted.summary.requests, trusted.summary.failures), (100, 0), "{:?}", trusted.summary.by_failure);
    let got = received.lock().unwrap().clone();
    // The server offers h2 by ALPN: every request went over HTTP/2, each with its authority.
    assert_eq!(got.get("over HTTP/2"), Some(&100), "{got:?}");
    assert_eq!(got.get("without a host"), None, "{got:?}");
    assert_eq!(requests(&got), 100, "{got:?}");
    // One multiplexed connection, not one per request in flight.
    assert_eq!(got["connections"] - refused_connections, 1, "{got:?}");
}

#[test]
fn http2_in_cleartext_when_asked_for() {
    let rt = runtime();
    let profile = parse(PROFILE, "p.json").unwrap();
    let (addr, received, stop) = rt.block_on(replay::demo::start()).unwrap();
    let mut cfg = config(&format!("http://{addr}"), 50.0);
    cfg.run.max_requests = Some(200);
    cfg.run.client.http2 = true;
    cfg.run.client.connections = 64;
    // All at once: the first requests race to open the connection.
    cfg.plan.pace = Pace::Speed(1e4);
    let outcome = run(&rt, &profile, &cfg);
    let _ = stop.send(());
    let got = received.lock().unwrap().clone();
    assert_eq!((outcome.summary.requests, outcome.summary.failures), (200, 0), "{:?}", outcome.summary.failure_examples);
    assert_eq!(got.get("over HTTP/2"), Some(&200), "{got:?}");
    assert_eq!(got.get("without a host"), None, "{got:?}");
    assert_eq!(got.get("connections"), Some(&1), "a burst of first requests opens one connection: {got:?}");
}

#[test]
fn connections_the_target_closes_between_requests_are_replaced_not_failed() {
    let rt = runtime();
    let profile = parse(PROFILE, "p.json").unwrap();
    // Answers one request per connection, keep-alive implied, then hangs up.
    let connections = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counted = std::sync::Arc::clone(&connections);
    let addr = raw_target(&rt, move |mut stream| {
        counted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut buf = [0u8; 4096];
            let mut got = Vec::new();
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => got.extend_from_slice(&buf[..n]),
                }
            }
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
        }
    });
    let mut cfg = config(&format!("http://{addr}"), 20.0);
    cfg.run.max_requests = Some(100);
    let outcome = run(&rt, &profile, &cfg);
    let s = &outcome.summary;
    assert_eq!((s.requests, s.failures), (100, 0), "{:?}", s.failure_examples);
    assert_eq!(connections.load(std::sync::atomic::Ordering::Relaxed), 100);
}

#[test]
fn a_target_that_hangs_up_is_counted_as_resets() {
    let rt = runtime();
    let profile = parse(PROFILE, "p.json").unwrap();
    // Accepts each connection, reads the request, and closes without answering.
    let addr = raw_target(&rt, |mut stream| async move {
        let mut buf = [0u8; 1024];
        let _ = tokio::io::AsyncReadExt::read(&mut stream, &mut buf).await;
    });
    let mut cfg = config(&format!("http://{addr}"), 50.0);
    cfg.run.max_requests = Some(100);
    let outcome = run(&rt, &profile, &cfg);
    let s = &outcome.summary;
    assert_eq!((s.requests, s.failures), (100, 100));
    assert_eq!(s.by_failure.get(&Failure::Reset), Some(&100), "{:?} {:?}", s.by_failure, s.failure_examples);
}

#[test]
fn a_slow_tls_failure_fails_each_request_on_its_own_time() {
    let rt = runtime();
    let profile = parse(PROFILE, "p.json").unwrap();
    // Accepts, waits 300 ms, answers the TLS hello with plain text.
    let addr = raw_target(&rt, |mut stream| async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let _ = tokio::io::AsyncWriteExt::write_all(&mut stream, b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
    });
    let mut cfg = config(&format!("https://127.0.0.1:{}", addr.port()), 1e4);
    cfg.run.max_requests = Some(20);
    cfg.run.client.connections = 20;
    cfg.run.client.timeout = Duration::from_secs(2);
    let outcome = run(&rt, &profile, &cfg);
    let s = &outcome.summary;
    // One at a time, 20 handshakes would take 6 s and most would time out.
    assert_eq!(s.by_failure.get(&Failure::Tls), Some(&20), "{:?} {:?}", s.by_failure, s.failure_examples);
}

#[test]
fn a_bug_that_panics_mid_run_keeps_the_results_and_exits_4() {
    let rt = runtime();
    let (addr, received, stop) = rt.block_on(replay::demo::start()).unwrap();
    // (fault, what stderr names): a panic while planning the 30th request, and in the 20th send.
    for (fault, where_) in [("plan:30", "while planning a request"), ("send:20", "while sending a request")] {
        let dir = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_replay"))
            .args(["run", "profiles/steady.json", "--host", &format!("http://{addr}"), "--duration", "3s"])
            .args(["--var", "username=u", "--var", "password=p", "--out", dir.path().to_str().unwrap()])
            .env("REPLAY_TEST_FAULT", fault)
            .current_dir(root())
            .output()
            .unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(4), "{fault}: {stderr}");
        assert!(stderr.contains("internal error") && stderr.contains(where_) && stderr.contains("please report"), "{fault}: {stderr}");
        // The results so far are written, every request accounted for, and the verdict says why it failed.
        let results: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("results.json")).unwrap()).unwrap();
        let totals = &results["totals"];
        let (intended, requests, not_sent) =
            (totals["intended"].as_u64().unwrap(), totals["requests"].as_u64().unwrap(), totals["not_sent"].as_u64().unwrap());
        assert_eq!(intended, requests + not_sent, "{fault}: {totals}");
        assert!(requests >= 19, "{fault}: what was measured before the fault is kept: {totals}");
        assert_eq!(results["verdict"]["passed"], false, "{fault}");
        assert!(results["verdict"]["reasons"][0].as_str().unwrap().contains("internal error"), "{fault}: {}", results["verdict"]);
        assert!(dir.path().join("report.html").is_file() && dir.path().join("junit.xml").is_file(), "{fault}: every report is written");
        if fault.starts_with("plan") {
            assert_eq!(intended, 29, "{fault}: the plan ends at the fault: {totals}");
        } else {
            assert_eq!(results["failures"]["other"], 1, "{fault}: the send that panicked is one failed request");
        }
    }
    let _ = stop.send(());
    assert!(requests(&received.lock().unwrap()) > 0);
}

#[test]
fn sigterm_while_waiting_for_start_at_exits_3_and_leaves_no_empty_folder() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("shard-0");
    let start = (chrono::Utc::now() + chrono::Duration::seconds(60)).to_rfc3339();
    let args = ["run", "profiles/steady.json", "--host", "http://127.0.0.1:9", "--start-at", &start, "--out", out_dir.to_str().unwrap()];
    let (mut child, mut stderr, line) = start_until(&args, "Ctrl-C stops");
    assert!(line.contains("waiting") && line.contains("Ctrl-C stops"), "the wait did not start: {line}");
    // SAFETY: sends SIGTERM to our own child process, which is still running.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGTERM) }, 0);
    let status = child.wait().unwrap();
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert_eq!(status.code(), Some(3), "{rest}");
    assert!(rest.contains("nothing was sent"), "{rest}");
    assert!(!out_dir.exists(), "an empty results folder was left");
}
