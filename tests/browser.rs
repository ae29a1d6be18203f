//! report.html in a real browser: headless Chromium, the network off,
//! opened from disk. No console errors; the charts and tables render; a
//! screenshot is kept in `target/test-artifacts/report.png`. Where Chromium
//! is not installed the test is ignored, and says so (`.ci/run` installs it).

use crate::util::{replay, root, text};
use std::process::Command;

/// Debian's chromium, or another name for it (as build.rs looks).
pub fn chromium() -> &'static str {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .expect("build.rs found chromium")
}

/// Headless, quiet, nothing of its own fetched from the network (the callers add how the network is cut).
pub const HEADLESS: [&str; 9] = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
];

/// Runs headless Chromium on `page` with no network; returns (stdout, stderr).
fn headless(page: &std::path::Path, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(chromium())
        .args(HEADLESS)
        .args([
            // No network: every name fails to resolve, and any proxy use goes nowhere.
            "--host-resolver-rules=MAP * ~NOTFOUND",
            "--proxy-server=127.0.0.1:9",
            "--enable-logging=stderr",
            "--v=0",
            "--window-size=1000,2400",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    (text(&out.stdout), text(&out.stderr))
}

#[test]
#[cfg_attr(not(has_chromium), ignore = "chromium is not installed: report.html was not checked in a browser (apt-get install chromium)")]
fn the_html_report_renders_in_a_browser_with_no_console_errors() {
    let rt = crate::run::runtime();
    let (addr, _, stop) = rt.block_on(replay::demo::start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("r");
    let out = replay(
        &[
            "run",
            "profiles/bursty.json",
            "--host",
            &format!("http://{addr}"),
            "--duration",
            "3s",
            "--threshold",
            "p99<1ms",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        b"",
    );
    let _ = stop.send(());
    assert!(out.status.code().is_some_and(|c| c <= 1), "{}", text(&out.stderr));
    let page = out_dir.join("report.html");
    let (dom, stderr) = headless(&page, &["--dump-dom"]);
    for part in ["id=\"verdict\"", "id=\"thresholds\"", "id=\"endpoints\"", "<svg", "<polyline", "band-bursty", "GET /profile"] {
        assert!(dom.contains(part), "the rendered page lacks {part}");
    }
    let console: Vec<&str> = stderr.lines().filter(|l| l.contains("CONSOLE") || l.contains("Uncaught")).collect();
    assert!(console.is_empty(), "console messages: {console:?}");
    let artifacts = root().join("target/test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("report.png");
    let _ = std::fs::remove_file(&shot);
    headless(&page, &[&format!("--screenshot={}", shot.display())]);
    let png = std::fs::read(&shot).expect("a screenshot was written");
    assert!(png.starts_with(b"\x89PNG") && png.len() > 20_000, "a screenshot of a drawn page, not a blank one ({} bytes)", png.len());
}
