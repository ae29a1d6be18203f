//! `replay diff` from the command line: exit codes, the JSON and Markdown it writes.

use crate::util::{replay, text};

#[test]
fn diff_exits_by_its_conditions_and_writes_json_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let derived = dir.path().join("demo.json");
    assert_eq!(replay(&["derive", "fixtures/demo/access.log", "-o", derived.to_str().unwrap()], b"").status.code(), Some(0));
    let p = derived.to_str().unwrap();
    // The same profile: within the default conditions.
    let same = replay(&["diff", p, p], b"");
    assert_eq!(same.status.code(), Some(0), "{}", text(&same.stdout));
    assert!(text(&same.stdout).starts_with("diff: within the conditions; mix distance 0.0000 (within noise), correlation 1.000"));
    assert!(text(&same.stdout).contains("sessions: opening with the login"), "{}", text(&same.stdout));
    // Against the hand-written steady profile: GET /users/{id} is gone, the mix moved, the shape differs.
    let (json, md) = (dir.path().join("d.json"), dir.path().join("d.md"));
    let args = ["diff", p, "profiles/steady.json", "--fail-on", "mix<0.05", "--json", json.to_str().unwrap(), "--md", md.to_str().unwrap()];
    let moved = replay(&args, b"");
    assert_eq!(moved.status.code(), Some(1), "{}", text(&moved.stdout));
    let out = text(&moved.stdout);
    assert!(out.contains("FAIL mix<0.05") && out.contains("GET /users/{id}") && out.contains("gone"), "{out}");
    assert!(out.contains("not compared: sample sizes"), "{out}");
    let d: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert!(d["mix"]["distance"].as_f64().unwrap() > 0.1 && d["judged"][0]["holds"] == false, "{d}");
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(markdown.starts_with("### replay diff: BEYOND the conditions") && markdown.contains("| `GET /users/{id}` |"), "{markdown}");
    // A condition with a typo is bad input.
    let bad = replay(&["diff", p, p, "--fail-on", "mixx<0.05"], b"");
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("`mixx` is not a measure"), "{}", text(&bad.stderr));
}

/// Replays `profile` at `speed` (at a quarter of its rate, so one core keeps its bursts on time)
/// against the example app, which logs what it receives;
/// returns staging's log derived, and the path of the profile replayed.
fn replay_and_derive_staging(
    dir: &std::path::Path,
    profile: &std::path::Path,
    app: replay::demo::App,
    speed: &str,
) -> (std::path::PathBuf, std::path::PathBuf) {
    let rt = crate::run::runtime();
    let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let app = replay::demo::App { access_log: Some(std::sync::Arc::clone(&log)), ..app };
    let (addr, _, stop) = rt.block_on(replay::demo::start_app(app)).unwrap();
    let out_dir = dir.join(format!("run-{}", std::process::id()));
    let host = format!("http://{addr}");
    let args = [
        "run",
        profile.to_str().unwrap(),
        "--host",
        &host,
        "--speed",
        speed,
        "--rate-scale",
        "0.25",
        "--var",
        "username=a",
        "--var",
        "password=b",
        "--out",
        out_dir.to_str().unwrap(),
        "--overwrite",
    ];
    let out = replay(&args, b"");
    let _ = stop.send(());
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out.stderr));
    let staging_log = dir.join("staging.log");
    std::fs::write(&staging_log, &*log.lock().unwrap()).unwrap();
    let staging = dir.join("staging.json");
    let derived = replay(&["derive", staging_log.to_str().unwrap(), "-o", staging.to_str().unwrap()], b"");
    assert_eq!(derived.status.code(), Some(0), "{}", text(&derived.stderr));
    (staging, out_dir.join("results.json"))
}

#[test]
fn staging_received_what_was_replayed_and_a_misrouted_staging_is_flagged() {
    let dir = tempfile::tempdir().unwrap();
    // The bursty profile (20 rps, bursts of 200 every five minutes): a shape a correlation can see.
    let production = dir.path().join("production.json");
    std::fs::copy("profiles/bursty.json", &production).unwrap();
    // Ten minutes of production in twenty seconds; each of staging's one-second log lines is 30 s of production.
    let (staging, results) = replay_and_derive_staging(dir.path(), &production, replay::demo::App::default(), "30");
    let conditions = ["--fail-on", "mix<0.01", "--fail-on", "correlation>0.99", "--fail-on", "statuses<0.01"];
    // The run's own results.json says how to align staging's clock with production's.
    let junit = dir.path().join("diff.xml");
    let args = [
        &[
            "diff",
            production.to_str().unwrap(),
            staging.to_str().unwrap(),
            "--run",
            results.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
        ][..],
        &conditions[..],
    ]
    .concat();
    let proof = replay(&args, b"");
    assert_eq!(proof.status.code(), Some(0), "{}", text(&proof.stdout));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains(r#"tests="3" failures="0""#) && xml.contains(r#"name="correlation&gt;0.99""#), "{xml}");
    // A derived profile (with production's statuses) replayed against a staging that redirects /profile
    // to / is flagged: a fifth of its answers moved from 2xx to 3xx.
    let derived = dir.path().join("derived.json");
    assert_eq!(replay(&["derive", "fixtures/demo/access.log", "-o", derived.to_str().unwrap()], b"").status.code(), Some(0));
    let misrouting = replay::demo::App { misroutes_profile: true, ..replay::demo::App::default() };
    let (broken, _) = replay_and_derive_staging(dir.path(), &derived, misrouting, "60");
    let args = [&["diff", derived.to_str().unwrap(), broken.to_str().unwrap(), "--replayed-at", "60"][..], &conditions[..]].concat();
    let flagged = replay(&args, b"");
    assert_eq!(flagged.status.code(), Some(1), "{}", text(&flagged.stdout));
    assert!(text(&flagged.stdout).contains("FAIL statuses<0.01"), "{}", text(&flagged.stdout));
}
