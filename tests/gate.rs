//! The CI gate from outside: exit codes and verdicts for thresholds and for
//! the default verdict, every report a run leaves (junit.xml parsed, the CSVs
//! with Locust's columns), `--abort-on-fail`, a refusing target stopped
//! early, and the tools around results: report, merge, compare.

use crate::run::{raw_target, runtime};
use crate::util::{replay, text};
use std::path::Path;

/// A small profile: 200 requests over 2 s of `GET /` and `GET /profile`.
const PROFILE: &str = r#"{"version": 1, "endpoints": [{"method": "GET", "path": "/", "weight": 3}, {"method": "GET", "path": "/profile", "weight": 1}],
    "arrival": {"bin_s": 1, "counts": [100, 100]}}"#;

fn profile(dir: &Path) -> String {
    let path = dir.join("p.json");
    std::fs::write(&path, PROFILE).unwrap();
    path.to_string_lossy().into_owned()
}

fn run(args: &[&str]) -> std::process::Output {
    replay(&[&["run"][..], args].concat(), b"")
}

fn results(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("results.json")).unwrap()).unwrap()
}

/// The testcases of a junit.xml: (name, failure message if it failed).
fn junit(dir: &Path) -> Vec<(String, Option<String>)> {
    let xml = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap_or_else(|e| panic!("junit.xml does not parse: {e}\n{xml}"));
    doc.descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|n| {
            let failure = n.children().find(|c| c.has_tag_name("failure")).and_then(|f| f.attribute("message")).map(str::to_owned);
            (n.attribute("name").unwrap_or_default().to_owned(), failure)
        })
        .collect()
}

#[test]
fn thresholds_decide_the_exit_code_and_every_report_says_why() {
    let rt = runtime();
    let (addr, _, stop) = rt.block_on(replay::demo::start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path());
    let host = format!("http://{addr}");
    // Passing thresholds: exit 0.
    let pass = dir.path().join("pass");
    let out = run(&[
        &p,
        "--host",
        &host,
        "--out",
        pass.to_str().unwrap(),
        "--threshold",
        "p99<2s",
        "--threshold",
        "errors<1%",
        "--threshold",
        "GET /profile: p50<1s",
        "--threshold",
        "rps>=0.99*intended",
        "--threshold",
        "p99[1s]<2s",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}{}", text(&out.stdout), text(&out.stderr));
    assert!(text(&out.stdout).contains("verdict: PASSED (5 of 5 thresholds passed)"), "{}", text(&out.stdout));
    let cases = junit(&pass);
    assert_eq!(cases.len(), 6, "{cases:?}");
    assert!(cases.iter().all(|(_, failure)| failure.is_none()), "{cases:?}");
    // A threshold that fails: exit 1, the measured value against the limit everywhere.
    let fail = dir.path().join("fail");
    let out = run(&[&p, "--host", &host, "--out", fail.to_str().unwrap(), "--threshold", "p50<1us", "--threshold", "errors<1%"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("threshold FAIL: p50<1us: measured") && stdout.contains("want < 0.0 ms"), "{stdout}");
    assert!(stdout.contains("threshold pass: errors<1%"), "{stdout}");
    let cases = junit(&fail);
    let failed: Vec<_> = cases.iter().filter(|(_, f)| f.is_some()).collect();
    assert_eq!(failed.len(), 1, "{cases:?}");
    assert!(failed[0].0 == "p50<1us" && failed[0].1.as_ref().unwrap().contains("measured"), "{cases:?}");
    let r = results(&fail);
    assert_eq!(r["verdict"]["passed"], false);
    assert_eq!(r["verdict"]["thresholds"][0]["passed"], false);
    assert!(r["verdict"]["thresholds"][0]["measured"].as_f64().unwrap() > 1.0);
    let summary = std::fs::read_to_string(fail.join("summary.md")).unwrap();
    assert!(summary.contains("replay: FAILED") && summary.contains("| `p50<1us` |") && summary.contains("**FAIL**"), "{summary}");
    // The CSVs carry Locust's columns.
    let mut stats = csv::Reader::from_path(fail.join("stats.csv")).unwrap();
    let header: Vec<String> = stats.headers().unwrap().iter().map(str::to_owned).collect();
    for column in [
        "Type",
        "Name",
        "Request Count",
        "Failure Count",
        "Median Response Time",
        "Average Response Time",
        "Min Response Time",
        "Max Response Time",
        "Average Content Size",
        "Requests/s",
        "Failures/s",
        "50%",
        "95%",
        "99%",
        "100%",
    ] {
        assert!(header.iter().any(|h| h == column), "stats.csv lacks {column}: {header:?}");
    }
    let rows: Vec<csv::StringRecord> = stats.records().map(Result::unwrap).collect();
    assert_eq!(rows.last().unwrap().get(1), Some("Aggregated"));
    assert_eq!(rows.last().unwrap().get(2), Some("200"));
    assert!(rows.iter().any(|r| r.get(1) == Some("/profile")));
    let average_size: f64 = rows.last().unwrap().get(8).unwrap().parse().unwrap();
    assert!(average_size > 5.0, "the demo's pages have bodies: {average_size}");
    let mut history = csv::Reader::from_path(fail.join("history.csv")).unwrap();
    assert!(history.headers().unwrap().iter().any(|h| h == "Total Request Count"));
    assert!(history.records().count() >= 2);
    let html = std::fs::read_to_string(fail.join("report.html")).unwrap();
    assert!(
        html.contains("<svg") && html.contains("id=\"endpoints\"") && html.contains("FAILED") && !html.contains("<script"),
        "report.html"
    );
    let _ = stop.send(());
}

#[test]
fn bad_thresholds_are_exit_2_before_any_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path());
    let table: [(&str, &str); 4] = [
        ("p99<300", "give a unit"),
        ("erors<1%", "`erors` is not a metric"),
        ("GET /users/{id}: p99<250ms", "no endpoint `GET /users/{id}` in this run; its endpoints: GET /, GET /profile"),
        ("GET /: p99[1m]<1s", "leave out the endpoint or the window"),
    ];
    for (threshold, why) in table {
        for command in ["run", "plan"] {
            let out = replay(&[command, &p, "--host", "http://127.0.0.1:9", "--threshold", threshold], b"");
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{command} {threshold}: {stderr}");
            assert!(stderr.contains(why), "{command} {threshold}: {stderr}");
        }
    }
    // A profile's own thresholds are read and checked too.
    let with = dir.path().join("with.json");
    std::fs::write(&with, PROFILE.replace("\"arrival\"", "\"thresholds\": [\"p99<<1s\"], \"arrival\"")).unwrap();
    let out = replay(&["run", with.to_str().unwrap(), "--host", "http://127.0.0.1:9"], b"");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

#[test]
fn with_no_threshold_a_run_where_everything_failed_never_exits_0() {
    let rt = runtime();
    // Answers 404 to everything.
    let addr = raw_target(&rt, |mut stream| async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut buf = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buf).await {
            if n == 0 || stream.write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n").await.is_err() {
                return;
            }
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path());
    for (host, class) in [
        (format!("http://{addr}"), "http_4xx"),
        ("http://127.0.0.1:9".to_owned(), "connect"),
        (format!("https://127.0.0.1:{}", addr.port()), "tls"),
    ] {
        let out_dir = dir.path().join(class);
        let out = run(&[&p, "--host", &host, "--out", out_dir.to_str().unwrap(), "--speed", "4"]);
        assert_eq!(out.status.code(), Some(1), "{host}: {}", text(&out.stderr));
        assert!(text(&out.stdout).contains("failed: every request failed"), "{}", text(&out.stdout));
        let cases = junit(&out_dir);
        assert!(cases.last().unwrap().1.as_ref().is_some_and(|f| f.contains(class)), "{cases:?}");
    }
}

#[test]
fn abort_on_fail_stops_a_lost_run_and_a_refusing_target_stops_early() {
    let rt = runtime();
    let (addr, _, stop) = rt.block_on(replay::demo::start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Every request fails (503): errors<1% is lost after a handful of a planned 2,000.
    let failing = dir.path().join("fail.json");
    std::fs::write(
        &failing,
        PROFILE
            .replace("\"/profile\"", "\"/fail\"")
            .replace("[100, 100]", "[100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100]"),
    )
    .unwrap();
    let out_dir = dir.path().join("abort");
    let started = std::time::Instant::now();
    let out = run(&[
        failing.to_str().unwrap(),
        "--host",
        &format!("http://{addr}"),
        "--threshold",
        "errors<1%",
        "--abort-on-fail",
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let _ = stop.send(());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(started.elapsed() < std::time::Duration::from_secs(12), "a lost run stops early: {:?}", started.elapsed());
    assert!(text(&out.stderr).contains("`errors<1%` can no longer pass"), "{}", text(&out.stderr));
    let r = results(&out_dir);
    // What had not come due when it stopped was never intended; what had is sent or counted.
    assert!(r["totals"]["intended"].as_u64().unwrap() < 1000, "{}", r["totals"]);
    assert!(r["verdict"]["reasons"][0].as_str().unwrap().starts_with("stopped early"), "{}", r["verdict"]);
    assert_eq!(
        r["totals"]["intended"].as_u64(),
        Some(r["totals"]["requests"].as_u64().unwrap() + r["totals"]["not_sent"].as_u64().unwrap())
    );
    // Nothing listens: the run stops after five seconds instead of twenty.
    let refused = dir.path().join("refused");
    let started = std::time::Instant::now();
    let out = run(&[failing.to_str().unwrap(), "--host", "http://127.0.0.1:9", "--out", refused.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "{:?}", started.elapsed());
    assert!(text(&out.stderr).contains("refused every connection for the first"), "{}", text(&out.stderr));
}

#[test]
fn report_rejudges_a_saved_run_and_refuses_a_corrupt_one() {
    let rt = runtime();
    let (addr, _, stop) = rt.block_on(replay::demo::start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = profile(dir.path());
    let saved = dir.path().join("saved");
    let out = run(&[&p, "--host", &format!("http://{addr}"), "--speed", "4", "--threshold", "p99<5s", "--out", saved.to_str().unwrap()]);
    let _ = stop.send(());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let results_json = saved.join("results.json");
    // Its own thresholds again: passes; a stricter one: fails, reports written where asked.
    let again = replay(&["report", results_json.to_str().unwrap(), "-o", dir.path().join("again").to_str().unwrap()], b"");
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(text(&again.stdout).contains("threshold pass: p99<5s"));
    let strict = replay(
        &["report", results_json.to_str().unwrap(), "--threshold", "max<1us", "-o", dir.path().join("strict").to_str().unwrap()],
        b"",
    );
    assert_eq!(strict.status.code(), Some(1), "{}", text(&strict.stderr));
    assert!(dir.path().join("strict/report.html").is_file() && dir.path().join("strict/junit.xml").is_file());
    // Corrupt, truncated and not results at all: exit 2 saying what is wrong.
    let whole = std::fs::read_to_string(&results_json).unwrap();
    let cases = [
        ("truncated", whole[..whole.len() / 2].to_owned(), "cut short"),
        ("corrupt", whole.replacen("\"requests\":", "\"requests\": \"many\", \"x\":", 1), "totals.requests"),
        ("other", "{\"hello\": 1}".to_owned(), "expected the results.json a run writes"),
    ];
    for (name, content, why) in cases {
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, content).unwrap();
        let out = replay(&["report", path.to_str().unwrap()], b"");
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(text(&out.stderr).contains(why), "{name}: {}", text(&out.stderr));
    }
}

#[test]
fn compare_flags_a_slower_target_and_passes_an_unchanged_rerun() {
    let rt = runtime();
    let (addr, _, stop) = rt.block_on(replay::demo::start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("steady.json");
    std::fs::write(&p, PROFILE.replace("[100, 100]", "[150, 150, 150]")).unwrap();
    let go = |name: &str, delay: &str| {
        let out_dir = dir.path().join(name);
        let header = format!("X-Delay-Ms: {delay}");
        let out = run(&[p.to_str().unwrap(), "--host", &format!("http://{addr}"), "--header", &header, "--out", out_dir.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        out_dir.join("results.json")
    };
    let (baseline, rerun, slower) = (go("baseline", "5"), go("rerun", "5"), go("slower", "45"));
    let _ = stop.send(());
    let same = replay(&["compare", baseline.to_str().unwrap(), rerun.to_str().unwrap()], b"");
    assert_eq!(same.status.code(), Some(0), "an unchanged rerun is no regression:\n{}", text(&same.stdout));
    let worse = replay(
        &[
            "compare",
            baseline.to_str().unwrap(),
            slower.to_str().unwrap(),
            "--tolerance",
            "10%",
            "-o",
            dir.path().join("cmp").to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(worse.status.code(), Some(1), "40 ms slower is a regression:\n{}", text(&worse.stdout));
    assert!(text(&worse.stdout).contains("**REGRESSION**") && text(&worse.stdout).contains("`GET /` | p50"), "{}", text(&worse.stdout));
    assert!(std::fs::read_to_string(dir.path().join("cmp/compare.html")).unwrap().contains("class=\"bad\""));
}

#[test]
fn the_ci_recipes_run_as_written_and_compare_even_when_the_gate_fails() {
    let doc = std::fs::read_to_string(crate::util::root().join("docs/ci.md")).unwrap();
    let block = doc
        .split("<!-- ci-commands -->")
        .nth(1)
        .and_then(|b| b.split("<!-- /ci-commands -->").next())
        .expect("docs/ci.md marks its commands");
    let script = block.trim().trim_start_matches("```sh").trim_end_matches("```");
    let rt = runtime();
    let (addr, received, stop) = rt.block_on(replay::demo::start()).unwrap();
    let work = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(work.path().join("profiles")).unwrap();
    std::fs::copy(crate::util::root().join("profiles/steady.json"), work.path().join("profiles/staging.json")).unwrap();
    // replay's repository beside the project's, as the recipes check it out.
    std::os::unix::fs::symlink(crate::util::root(), work.path().join("replay")).unwrap();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_replay")).parent().unwrap();
    let step_summary = work.path().join("step-summary.md");
    let go = |thresholds: &str| {
        std::process::Command::new("sh")
            .args(["-c", script])
            .current_dir(work.path())
            .env("PATH", format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default()))
            .env("STAGING_URL", format!("http://{addr}"))
            .env("REPLAY_DURATION", "3s")
            // A tenth of the profile's 4,000 rps: the recipe is under test, not the machine, and a
            // debug build beside the other tests under-delivered the full rate (which fails the gate).
            .env("REPLAY_FLAGS", "--rate-scale\n0.1")
            .env("REPLAY_THRESHOLDS", thresholds)
            .env("GITHUB_STEP_SUMMARY", &step_summary)
            .output()
            .unwrap()
    };
    let runs = |work: &Path| -> Vec<std::path::PathBuf> {
        let mut dirs: Vec<_> = std::fs::read_dir(work.join("replay-results")).unwrap().map(|e| e.unwrap().path()).collect();
        dirs.sort_by_key(|d| std::fs::metadata(d).unwrap().modified().unwrap());
        dirs
    };
    let first = go("p99<2s\nerrors<50%");
    assert_eq!(first.status.code(), Some(0), "{}\n{}", text(&first.stdout), text(&first.stderr));
    // About 800 at a tenth of the rate (8,000 at the whole): REPLAY_FLAGS reached the run.
    let got = received.lock().unwrap().get("GET /").copied().unwrap_or(0);
    assert!((100..2000).contains(&got), "GET / was sent {got} times");
    let good = runs(work.path()).pop().unwrap();
    for file in ["results.json", "report.html", "junit.xml", "summary.md", "stats.csv", "history.csv"] {
        assert!(good.join(file).is_file(), "{file}");
    }
    assert!(std::fs::read_to_string(&step_summary).unwrap().contains("replay: passed"));
    assert!(text(&first.stdout).contains("no baseline at baseline/results.json yet"), "{}", text(&first.stdout));
    // The good run becomes the baseline; the next run fails its gate, and is compared all the same,
    // into a folder of its own (no --overwrite needed to run the recipe again).
    std::fs::create_dir_all(work.path().join("baseline")).unwrap();
    std::fs::copy(good.join("results.json"), work.path().join("baseline/results.json")).unwrap();
    let second = go("p99<1us");
    let _ = stop.send(());
    let stdout = text(&second.stdout);
    assert_eq!(second.status.code(), Some(1), "{stdout}\n{}", text(&second.stderr));
    assert!(stdout.contains("replay compare:"), "the comparison ran after the failed gate: {stdout}");
    let failed = runs(work.path()).pop().unwrap();
    assert_ne!(failed, good);
    assert!(failed.join("compare.md").is_file() && failed.join("junit.xml").is_file());
    let summary = std::fs::read_to_string(&step_summary).unwrap();
    assert!(summary.contains("replay: FAILED") || summary.contains("replay: failed"), "{summary}");
    let compare = std::fs::read_to_string(failed.join("compare.md")).unwrap();
    assert!(summary.contains(compare.lines().find(|l| l.starts_with('|')).unwrap()), "compare's table is in the step summary: {summary}");
    // The recipes run that script, and keep junit.xml and the reports whatever the verdict.
    let action = std::fs::read_to_string(crate::util::root().join(".github/actions/replay-gate/action.yml")).unwrap();
    let action = &yaml_rust2::YamlLoader::load_from_str(&action).unwrap()[0];
    let steps = action["runs"]["steps"].as_vec().unwrap();
    assert!(steps.iter().any(|s| s["run"].as_str().is_some_and(|r| r.contains("ci/replay-gate.sh"))));
    let after_gate: Vec<_> = steps.iter().skip_while(|s| s["id"].as_str() != Some("gate")).skip(1).collect();
    assert!(after_gate.len() >= 2 && after_gate.iter().all(|s| s["if"].as_str().is_some_and(|c| c.starts_with("always()"))));
    assert!(after_gate.iter().any(|s| s["with"]["report_paths"].as_str().is_some_and(|p| p.ends_with("junit.xml"))));
    let gitlab = std::fs::read_to_string(crate::util::root().join("ci/replay.gitlab-ci.yml")).unwrap();
    let gitlab = &yaml_rust2::YamlLoader::load_from_str(&gitlab).unwrap()[0][".replay-gate"];
    assert!(gitlab["script"].as_vec().unwrap().iter().any(|l| l.as_str().is_some_and(|l| l.contains("ci/replay-gate.sh"))));
    assert_eq!(gitlab["artifacts"]["when"].as_str(), Some("always"));
    assert_eq!(gitlab["artifacts"]["reports"]["junit"].as_str(), Some("replay-results/*/junit.xml"));
}
