//! The live web view in a real browser (headless Chromium, network off
//! except loopback): a run watched from start to end, whose page's figures
//! change and end equal to results.json, with no console errors and a
//! screenshot kept in target/test-artifacts/live.png; `replay ui` started,
//! refused a second Start and stopped from its form; and the refusals that
//! need no browser: a non-loopback address without a token, a foreign Host.

use crate::cdp::Browser;
use crate::util::{replay, root, text};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::Receiver;
use std::time::{Duration, Instant};

/// `replay ARGS` in the background, and its stderr line by line.
fn spawn(args: &[&str]) -> (Child, Receiver<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_replay"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("replay starts");
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// The first `http://…` address on a stderr line that says `marker`.
fn address(lines: &Receiver<String>, marker: &str) -> String {
    loop {
        let line = lines.recv_timeout(Duration::from_secs(60)).expect("replay prints the page's address");
        if line.contains(marker) {
            let at = line.find("http://").expect("an address");
            return line[at..].split_whitespace().next().unwrap().to_owned();
        }
    }
}

/// Waits for `child` to exit, at most `within`; its exit code.
fn exits_within(child: &mut Child, within: Duration) -> i32 {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("replay did not exit within {within:?}");
        }
        std::thread::park_timeout(Duration::from_millis(50));
    }
}

fn number(browser: &mut Browser, id: &str) -> u64 {
    let v = browser.eval(&format!("document.getElementById('{id}').dataset.value"));
    v.as_str().and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("#{id} holds no number: {v}"))
}

fn results(dir: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).expect("results.json was written")).unwrap()
}

#[test]
#[cfg_attr(not(has_chromium), ignore = "chromium is not installed: the live view was not checked in a browser (apt-get install chromium)")]
fn a_watched_run_unfolds_on_the_page_and_ends_on_its_results() {
    let rt = crate::run::runtime();
    let (addr, _, stop) = rt.block_on(replay::demo::start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let (mut child, lines) = spawn(&[
        "run",
        "profiles/bursty.json",
        "--host",
        &format!("http://{addr}"),
        "--duration",
        "8s",
        "--threshold",
        "p99<2s",
        "--ui",
        "127.0.0.1:0",
        "--out",
        out.to_str().unwrap(),
    ]);
    let url = address(&lines, "watch it live at");
    let mut browser = Browser::launch();
    browser.open(&url);
    browser.wait_for(
        "document.body.dataset.phase === 'running' && Number(document.getElementById('sent').dataset.value) > 0",
        Duration::from_secs(30),
    );
    let early = number(&mut browser, "sent");
    // The figures change as the run goes, from the same stream.
    browser.wait_for(&format!("Number(document.getElementById('sent').dataset.value) > {early} + 20"), Duration::from_secs(30));
    browser.wait_for("document.querySelectorAll('#chart-rate polyline').length >= 2", Duration::from_secs(10));
    // Locust's CSVs, mid-run: made from the run's tally when asked, linked from the page.
    browser.wait_for("document.querySelector('#reports a[href=\"/live/stats.csv\"]') !== null", Duration::from_secs(10));
    let csv =
        browser.eval("fetch('/live/stats.csv').then(async r => r.status + ' ' + r.headers.get('content-type') + '\\n' + await r.text())");
    let csv = csv.as_str().unwrap();
    assert!(csv.starts_with("200 text/csv"), "{csv}");
    let aggregated = csv.lines().find(|l| l.contains(",Aggregated,")).unwrap_or_else(|| panic!("{csv}"));
    let count: u64 = aggregated.split(',').nth(2).unwrap().parse().unwrap();
    assert!(count > early, "the run so far ({count} requests) in the CSV: {aggregated}");
    assert!(csv.contains("Type,Name,Request Count,Failure Count"), "{csv}");
    let artifacts = root().join("target/test-artifacts");
    browser.screenshot(&artifacts.join("live.png"));
    browser.wait_for("document.body.dataset.phase === 'done'", Duration::from_secs(40));
    // The process exits on time though the page is still open.
    let code = exits_within(&mut child, Duration::from_secs(15));
    let _ = stop.send(());
    assert!(code <= 1, "exit {code}");
    let r = results(&out);
    for (id, field) in [("intended", "intended"), ("sent", "requests"), ("not-sent", "not_sent"), ("failures", "failures")] {
        assert_eq!(number(&mut browser, id), r["totals"][field].as_u64().unwrap(), "#{id} against totals.{field}");
    }
    let passed = browser.eval("document.getElementById('verdict').dataset.passed");
    assert_eq!(passed, Value::String(r["verdict"]["passed"].to_string()));
    let rows = browser.eval("document.querySelectorAll('#endpoints tr').length").as_u64().unwrap();
    assert_eq!(rows, 1 + r["endpoints"].as_array().unwrap().len() as u64, "a row per endpoint");
    let page_endpoints = browser.eval("Array.from(document.querySelectorAll('#endpoints tr td:first-child')).map(td => td.textContent)");
    let file_endpoints: Vec<String> = r["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| format!("{} {}", e["method"].as_str().unwrap(), e["path"].as_str().unwrap()))
        .collect();
    assert_eq!(page_endpoints, serde_json::json!(file_endpoints));
    // Segments shaded, production's curve behind, the threshold listed, the reports linked.
    for check in [
        "document.querySelectorAll('#chart-rate rect.band-bursty').length > 0",
        "document.querySelectorAll('#chart-rate polygon.area').length === 1",
        "document.getElementById('thresholds').textContent.includes('p99<2s')",
        "document.querySelector('#reports a[href$=\"report.html\"]') !== null",
        "document.querySelectorAll('#chart-endpoints .legend button').length >= 2",
    ] {
        assert_eq!(browser.eval(check), Value::Bool(true), "{check}");
    }
    browser.screenshot(&artifacts.join("live-done.png"));
    let png = std::fs::read(artifacts.join("live.png")).unwrap();
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "a screenshot of a drawn page ({} bytes)", png.len());
    assert!(browser.errors.is_empty(), "console: {:?}", browser.errors);
}

#[test]
#[cfg_attr(not(has_chromium), ignore = "chromium is not installed: `replay ui` was not checked in a browser (apt-get install chromium)")]
fn replay_ui_starts_refuses_a_second_start_and_stops_a_run_from_its_form() {
    let rt = crate::run::runtime();
    let (addr, _, stop) = rt.block_on(replay::demo::start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("runs");
    let host = format!("http://{addr}");
    let (mut child, lines) = spawn(&[
        "ui",
        "profiles/steady.json",
        "profiles/bursty.json",
        "--host",
        &host,
        "--listen",
        "127.0.0.1:0",
        "--out",
        out.to_str().unwrap(),
        "--header",
        "Authorization: Bearer s3cret-header-value",
    ]);
    let url = address(&lines, "web view is at");
    let mut browser = Browser::launch();
    browser.open(&url);
    browser.wait_for(
        "!document.getElementById('control').hidden && document.getElementById('f-profile').options.length === 2",
        Duration::from_secs(20),
    );
    // The plan's figures show before Start; a target that is not a URL is refused as the command line refuses it.
    browser.eval("document.getElementById('f-profile').value = '1'; document.getElementById('f-duration').value = '3s'; document.getElementById('f-thresholds').value = 'p99<2s'; document.getElementById('f-duration').dispatchEvent(new Event('input'))");
    browser.wait_for(
        "document.getElementById('plan').dataset.ok === 'true' && document.getElementById('plan').textContent.includes('duration 3 s')",
        Duration::from_secs(20),
    );
    browser.eval(
        "document.getElementById('f-host').value = 'ftp://nowhere'; document.getElementById('f-host').dispatchEvent(new Event('input'))",
    );
    browser.wait_for(
        "document.getElementById('plan').dataset.ok === 'false' && document.getElementById('plan').textContent.includes('--host')",
        Duration::from_secs(20),
    );
    // The browser logs the refusal it provoked (a 400); nothing else may be logged.
    browser.forget("400 (Bad Request)");
    browser.eval(&format!(
        "document.getElementById('f-host').value = '{host}'; document.getElementById('f-host').dispatchEvent(new Event('input'))"
    ));
    browser.wait_for("document.getElementById('plan').dataset.ok === 'true'", Duration::from_secs(20));
    browser.eval("document.getElementById('start').click()");
    browser.wait_for("document.body.dataset.phase === 'running'", Duration::from_secs(20));
    // One run at a time.
    let second = browser.eval(
        "fetch('/api/start', {method: 'POST', headers: {'content-type': 'application/json'}, body: JSON.stringify({profile: 0, host: document.getElementById('f-host').value, duration: '3s'})}).then(async r => [r.status, (await r.json()).error])",
    );
    assert_eq!(second[0], 409, "{second}");
    assert!(second[1].as_str().unwrap().contains("already going"), "{second}");
    browser.forget("409 (Conflict)");
    browser.wait_for("document.body.dataset.phase === 'done'", Duration::from_secs(30));
    browser.wait_for("document.querySelectorAll('#runs tr').length === 2", Duration::from_secs(10));
    let first_dir = std::fs::read_dir(&out).unwrap().next().unwrap().unwrap().path();
    let first = results(&first_dir);
    assert_eq!(number(&mut browser, "sent"), first["totals"]["requests"].as_u64().unwrap());
    assert_eq!(first["interrupted"], false);
    // A long run, stopped from the page: partial results, the reason recorded.
    browser.eval("document.getElementById('f-duration').value = '60s'; document.getElementById('start').click()");
    browser.wait_for(
        "document.body.dataset.phase === 'running' && Number(document.getElementById('sent').dataset.value) > 0",
        Duration::from_secs(20),
    );
    browser.eval("document.getElementById('stop').click()");
    browser.wait_for("document.body.dataset.phase === 'done'", Duration::from_secs(30));
    browser.wait_for("document.querySelectorAll('#runs tr').length === 3", Duration::from_secs(10));
    let mut dirs: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    let stopped = results(dirs.iter().find(|d| **d != first_dir).unwrap());
    assert_eq!(stopped["interrupted"], true);
    assert!(stopped["duration_s"].as_f64().unwrap() < 30.0, "{}", stopped["duration_s"]);
    assert!(stopped["warnings"].to_string().contains("stopped from the web view"), "{}", stopped["warnings"]);
    let t = &stopped["totals"];
    assert_eq!(
        t["intended"].as_u64(),
        Some(t["requests"].as_u64().unwrap() + t["not_sent"].as_u64().unwrap()),
        "every request accounted for"
    );
    // The page never held the header given on the command line.
    let page = browser.eval("document.documentElement.outerHTML + JSON.stringify(window.localStorage)");
    assert!(!page.to_string().contains("s3cret-header-value"));
    let snapshot = browser.eval("fetch('/api/snapshot').then(r => r.text())");
    assert!(!snapshot.to_string().contains("s3cret-header-value"));
    assert!(browser.errors.is_empty(), "console: {:?}", browser.errors);
    // Ctrl-C stops the server.
    // SAFETY: a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGINT) };
    assert_eq!(exits_within(&mut child, Duration::from_secs(15)), 0);
    let _ = stop.send(());
}

#[test]
fn a_view_on_another_address_without_a_token_is_refused_and_a_foreign_host_too() {
    let out = replay(&["ui", "profiles/steady.json", "--listen", "0.0.0.0:0"], b"");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("not a loopback address"), "{}", text(&out.stderr));
    let out = replay(&["run", "profiles/steady.json", "--host", "http://127.0.0.1:9", "--ui", "0.0.0.0:0", "--duration", "1s"], b"");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--ui-token"), "{}", text(&out.stderr));
    // A token asked of every request, and a loopback server answering loopback names only.
    let (mut child, lines) = spawn(&["ui", "profiles/steady.json", "--listen", "127.0.0.1:0", "--ui-token", "auto"]);
    let url = address(&lines, "web view is at");
    let (base, token) = url.split_once("/?token=").unwrap();
    let get = |path: &str, headers: &[(&str, &str)]| {
        let host = base.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(host).unwrap();
        let extra: String = headers.iter().map(|(k, v)| format!("{k}: {v}\r\n")).collect();
        std::io::Write::write_all(
            &mut stream,
            format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}Connection: close\r\n\r\n").as_bytes(),
        )
        .unwrap();
        let mut response = String::new();
        std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
        response
    };
    assert!(get("/api/snapshot", &[]).starts_with("HTTP/1.1 403"));
    assert!(get(&format!("/api/snapshot?token={token}"), &[]).starts_with("HTTP/1.1 200"));
    assert!(get("/api/snapshot", &[("Authorization", &format!("Bearer {token}"))]).starts_with("HTTP/1.1 200"));
    let page = get(&format!("/?token={token}"), &[]);
    assert!(page.to_lowercase().contains("set-cookie: replay_ui="), "{page}");
    let _ = child.kill();
    let _ = child.wait();
    let (mut child, lines) = spawn(&["ui", "profiles/steady.json", "--listen", "127.0.0.1:0"]);
    let url = address(&lines, "web view is at");
    let host = url.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let mut stream = std::net::TcpStream::connect(&host).unwrap();
    std::io::Write::write_all(&mut stream, b"GET /api/snapshot HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    std::io::Read::read_to_string(&mut stream, &mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 403") && response.contains("127.0.0.1 or localhost only"), "{response}");
    let _ = child.kill();
    let _ = child.wait();
}
