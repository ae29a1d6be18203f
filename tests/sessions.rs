//! The classic Locust scenario made real: an app that needs its login, 20
//! users logging in once then browsing `/` and `/profile` 2:1 with 0.5–1 s
//! waits for a minute, logged in Combined format. Derived, then replayed with
//! `--sessions`: with each user's values, without them, with a wrong
//! password, and as a plain run whose statuses differ from production's.

use crate::run::runtime;
use crate::util::{replay, text};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

const USERS: u32 = 20;

/// The log the app would write: every user logs in, then 2:1 `/` and `/profile` with 0.5–1 s between.
fn locust_log() -> (String, Vec<f64>) {
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        (rng >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut lines: Vec<(f64, String)> = Vec::new();
    let mut gaps = Vec::new();
    for user in 0..USERS {
        let mut t = f64::from(user) * 0.3 + next();
        let mut step = 0;
        while t < 60.0 {
            let (method, path) = match step {
                0 => ("POST", "/login"),
                _ if next() < 2.0 / 3.0 => ("GET", "/"),
                _ => ("GET", "/profile"),
            };
            lines.push((t, format!("10.0.0.{user} - - [TIME] \"{method} {path} HTTP/1.1\" 200 120 \"-\" \"locust-user-{user}\"")));
            let gap = 0.5 + next() * 0.5;
            gaps.push(gap);
            t += gap;
            step += 1;
        }
    }
    lines.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut log = String::new();
    for (t, line) in lines {
        let time = format!("04/Dec/2026:09:{:02}:{:02} +0000", 10 + t as u32 / 60, t as u32 % 60);
        let _ = writeln!(log, "{}", line.replace("TIME", &time));
    }
    (log, gaps)
}

fn run_sessions(profile: &Path, addr: std::net::SocketAddr, out: &Path, extra: &[&str]) -> std::process::Output {
    let host = format!("http://{addr}");
    let mut args = vec!["run", profile.to_str().unwrap(), "--host", &host, "--sessions", "--speed", "10", "--out", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    replay(&args, b"")
}

#[test]
fn a_derived_login_logs_in_and_a_failed_one_fails_the_run() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = locust_log();
    let log_path = dir.path().join("access.log");
    std::fs::write(&log_path, log).unwrap();
    let profile = dir.path().join("profile.json");
    let derived = replay(&["derive", log_path.to_str().unwrap(), "-o", profile.to_str().unwrap()], b"");
    assert_eq!(derived.status.code(), Some(0), "{}", text(&derived.stderr));
    let said = text(&derived.stderr);
    assert!(said.contains("POST /login opens the sessions") && said.contains("--vars users.csv"), "{said}");
    assert!(said.contains("whole seconds"), "the log's one-second clock is named: {said}");
    let p: serde_json::Value = serde_json::from_slice(&std::fs::read(&profile).unwrap()).unwrap();
    assert_eq!(p["sessions"]["count"].as_u64(), Some(u64::from(USERS)), "{}", p["sessions"]);
    let login = p["endpoints"].as_array().unwrap().iter().find(|e| e["path"] == "/login").unwrap();
    assert_eq!(login["body"]["text"], "username={username}&password={password}");
    // check says what the login needs before anyone runs it.
    let checked = replay(&["check", profile.to_str().unwrap()], b"");
    assert_eq!(checked.status.code(), Some(0));
    assert!(
        text(&checked.stdout).contains("POST /login logs users in with values the profile does not hold ({username}, {password})"),
        "{}",
        text(&checked.stdout)
    );

    // Without values: refused, naming them, before any traffic.
    let rt = runtime();
    let (addr, received, stop) = rt.block_on(replay::demo::start_app(replay::demo::App::with_login())).unwrap();
    let refused = run_sessions(&profile, addr, &dir.path().join("r0"), &[]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(text(&refused.stderr).contains("{username} (in POST /login)") && text(&refused.stderr).contains("{password}"));
    assert!(received.lock().unwrap().is_empty(), "nothing was sent: {:?}", received.lock().unwrap());

    // With a row per user: every user logs in with its own row, first, and is never sent to the login page.
    let users = dir.path().join("users.csv");
    let mut csv = "username,password\n".to_owned();
    for k in 0..USERS {
        let _ = writeln!(csv, "user-{k},pw-user-{k}");
    }
    std::fs::write(&users, csv).unwrap();
    let out = run_sessions(&profile, addr, &dir.path().join("r1"), &["--vars", users.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}\n{}", text(&out.stdout), text(&out.stderr));
    let got: BTreeMap<String, u64> = std::mem::take(&mut *received.lock().unwrap());
    assert_eq!(got.get("sent to the login page"), None, "every request after a login carries its cookie: {got:?}");
    assert_eq!(got.get("login failed"), None, "{got:?}");
    for k in 0..USERS {
        assert_eq!(got.get(&format!("login user-{k}")), Some(&1), "user {k} logged in once with its row: {got:?}");
    }
    let (home, profile_page) = (got["GET /"], got["GET /profile"]);
    let ratio = home as f64 / profile_page as f64;
    assert!((ratio - 2.0).abs() <= 0.1, "the 2:1 mix within 5%: {got:?}");
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("r1/results.json")).unwrap()).unwrap();
    assert_eq!(results["totals"]["status_mismatches"], 0, "{}", results["totals"]);
    assert_eq!(results["totals"]["users"], u64::from(USERS));
    // history.csv's User Count is the users in flight, as Locust's is.
    let history = std::fs::read_to_string(dir.path().join("r1/history.csv")).unwrap();
    let most = history.lines().skip(1).filter_map(|l| l.split(',').nth(1)?.parse::<u64>().ok()).max();
    assert_eq!(most, Some(u64::from(USERS)), "{history}");
    // The live line counts a step as intended when it comes due, as it counts any request.
    assert!(text(&out.stderr).contains(" users  intended "), "{}", text(&out.stderr));

    // A wrong password: the run says so at once, counts it, and the default verdict fails.
    let wrong = dir.path().join("wrong.csv");
    std::fs::write(&wrong, "username,password\nuser-1,guess\n").unwrap();
    let out = run_sessions(&profile, addr, &dir.path().join("r2"), &["--vars", wrong.to_str().unwrap()]);
    // With --abort-on-fail, the first failed login stops the run.
    let aborted = run_sessions(&profile, addr, &dir.path().join("r3"), &["--vars", wrong.to_str().unwrap(), "--abort-on-fail"]);
    let _ = stop.send(());
    assert_eq!(aborted.status.code(), Some(1), "{}", text(&aborted.stderr));
    assert!(text(&aborted.stderr).contains("a session's login failed, which fails the run (--abort-on-fail)"), "{}", text(&aborted.stderr));
    let r3: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.path().join("r3/results.json")).unwrap()).unwrap();
    assert!(r3["duration_s"].as_f64().unwrap() < 5.0, "stopped early: {}", r3["duration_s"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("the sessions' login (POST /login) failed: HTTP 401"), "said at once: {stderr}");
    assert!(!stderr.contains("guess"), "values never reach the output: {stderr}");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("login_failed 20") && stdout.contains("failed: 20 session logins failed"), "{stdout}");
    assert!(stdout.contains("verdict: FAILED"), "{stdout}");
}

#[test]
fn statuses_unlike_productions_fail_the_default_verdict_and_show_in_every_report() {
    let dir = tempfile::tempdir().unwrap();
    let (log, _) = locust_log();
    let log_path = dir.path().join("access.log");
    std::fs::write(&log_path, log).unwrap();
    let profile = dir.path().join("profile.json");
    assert_eq!(replay(&["derive", log_path.to_str().unwrap(), "-o", profile.to_str().unwrap()], b"").status.code(), Some(0));
    let rt = runtime();
    let (addr, received, stop) = rt.block_on(replay::demo::start_app(replay::demo::App::with_login())).unwrap();
    // A plain run keeps no login: the app sends `/` to the login page and refuses `/profile`.
    let out_dir = dir.path().join("plain");
    let host = format!("http://{addr}");
    let args = [
        "run",
        profile.to_str().unwrap(),
        "--host",
        &host,
        "--speed",
        "20",
        "--var",
        "username=user-1",
        "--var",
        "password=pw-user-1",
        "--out",
        out_dir.to_str().unwrap(),
    ];
    let out = replay(&args, b"");
    let _ = stop.send(());
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(received.lock().unwrap()["sent to the login page"] > 0);
    // The end table: staging's classes beside production's, and the mismatches.
    let home = stdout.lines().find(|l| l.starts_with("GET / ")).unwrap();
    assert!(home.contains("3xx 100%") && home.contains("2xx 100%"), "{home}");
    assert!(stdout.contains("in a status class production rarely answered there, most on GET /"), "{stdout}");
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(out_dir.join("results.json")).unwrap()).unwrap();
    let endpoint = results["endpoints"].as_array().unwrap().iter().find(|e| e["path"] == "/").unwrap();
    assert_eq!(endpoint["statuses"]["3xx"], endpoint["requests"]);
    assert_eq!(endpoint["production_statuses"]["2xx"], 1.0);
    assert_eq!(endpoint["status_mismatches"], endpoint["requests"]);
    let summary = std::fs::read_to_string(out_dir.join("summary.md")).unwrap();
    assert!(summary.contains("| 3xx 100% | 2xx 100% |"), "{summary}");
    let html = std::fs::read_to_string(out_dir.join("report.html")).unwrap();
    assert!(html.contains("statuses (staging, production)") && html.contains("class=\"c3xx\""), "report.html charts the classes");
    // A threshold judges it too, and replaces the default verdict.
    let rejudged = replay(&["report", out_dir.join("results.json").to_str().unwrap(), "--threshold", "status_mismatch<1%"], b"");
    assert_eq!(rejudged.status.code(), Some(1));
    assert!(text(&rejudged.stdout).contains("threshold FAIL: status_mismatch<1%"), "{}", text(&rejudged.stdout));
    let lenient = replay(&["report", out_dir.join("results.json").to_str().unwrap(), "--threshold", "p99<10s"], b"");
    assert_eq!(lenient.status.code(), Some(0), "{}", text(&lenient.stdout));
}

#[test]
fn think_times_from_a_one_second_log_keep_their_mean() {
    let dir = tempfile::tempdir().unwrap();
    let (log, gaps) = locust_log();
    let log_path = dir.path().join("access.log");
    std::fs::write(&log_path, log).unwrap();
    let out = replay(&["derive", log_path.to_str().unwrap()], b"");
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let think = &p["sessions"]["think_time_s"];
    assert_eq!(p["sessions"]["time_resolution_s"], 1);
    let truth = gaps.iter().sum::<f64>() / gaps.len() as f64;
    let q = replay::profile::Quantiles {
        min: think["min"].as_f64(),
        p10: think["p10"].as_f64(),
        p25: think["p25"].as_f64(),
        p50: think["p50"].as_f64().unwrap(),
        p90: think["p90"].as_f64().unwrap(),
        p99: think["p99"].as_f64().unwrap(),
        max: think["max"].as_f64(),
    };
    let drawn = replay::plan::sessions::mean_of(Some(q), 0.0);
    // Whole-second times hide the 0.5 s floor; the mean survives (within a tenth of a second),
    // where leaving out the gaps logged as 0 made every think time a second.
    assert!((drawn - truth).abs() < 0.12, "drawn mean {drawn:.3} s, the log's {truth:.3} s: {think}");
    assert!(think["max"].as_f64().unwrap() < 2.0, "{think}");
}

#[test]
fn the_locust_quick_start_logs_in_once_then_browses_two_to_one_with_its_waits() {
    // profiles/locust.json: 20 users, 2 a second, log in once, then / and /profile 2:1, waiting 5 to 9 s.
    let dir = tempfile::tempdir().unwrap();
    let users = dir.path().join("users.csv");
    let mut csv = "username,password\n".to_owned();
    for k in 0..USERS {
        let _ = writeln!(csv, "user-{k},pw-user-{k}");
    }
    std::fs::write(&users, csv).unwrap();
    let rt = runtime();
    let (addr, received, stop) = rt.block_on(replay::demo::start_app(replay::demo::App::with_login())).unwrap();
    let host = format!("http://{addr}");
    let out_dir = dir.path().join("r");
    // Its first two minutes, 20 times faster: waits of 250 to 450 ms.
    let args = [
        "run",
        "profiles/locust.json",
        "--host",
        &host,
        "--sessions",
        "--window",
        "0s..120s",
        "--speed",
        "20",
        "--vars",
        users.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ];
    let out = replay(&args, b"");
    let _ = stop.send(());
    assert_eq!(out.status.code(), Some(0), "{}\n{}", text(&out.stdout), text(&out.stderr));
    let got = received.lock().unwrap().clone();
    assert_eq!(got.get("sent to the login page"), None, "every session logs in first: {got:?}");
    let logins: u64 = got.iter().filter(|(k, _)| k.starts_with("login user-")).map(|(_, n)| n).sum();
    assert_eq!(logins, u64::from(USERS), "{got:?}");
    let ratio = got["GET /"] as f64 / got["GET /profile"] as f64;
    assert!((ratio - 2.0).abs() <= 0.1, "2:1 within 5%: {got:?}");
    // Little's law, as plan says it: 20 users walking at once, in results.json's periods too.
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(out_dir.join("results.json")).unwrap()).unwrap();
    let most = results["periods"].as_array().unwrap().iter().map(|p| p["users"].as_u64().unwrap()).max();
    assert_eq!(most, Some(u64::from(USERS)), "{}", results["periods"]);
    let plan = replay(&["plan", "profiles/locust.json", "--host", &host, "--sessions", "--speed", "20"], b"");
    assert!(text(&plan.stdout).contains("up to 20 at once"), "{}", text(&plan.stdout));
    // Every gap between a user's requests is a wait of 5 to 9 s played 20 times faster, plus the answer's time.
    let gaps: Vec<(u64, u64)> = got.iter().filter_map(|(k, n)| Some((k.strip_prefix("gap_ms ")?.parse::<u64>().ok()?, *n))).collect();
    let total: u64 = gaps.iter().map(|(_, n)| n).sum();
    assert!(total > 200, "{gaps:?}");
    assert!(gaps.iter().all(|(ms, _)| (240..=470).contains(ms)), "gaps outside 250..450 ms: {gaps:?}");
    // Spread over the range, not bunched at one value: a quarter of them in each fifty milliseconds of it, roughly.
    let low: u64 = gaps.iter().filter(|(ms, _)| *ms < 300).map(|(_, n)| n).sum();
    assert!(low * 8 > total && low * 3 < total, "{low} of {total} under 300 ms");
}
