//! `replay export --locust`: the locustfile runs in Locust against the
//! example app, and what the app received is the profile's traffic.

use crate::run::runtime;
use crate::util::{replay, text};

#[test]
fn an_exported_profile_parses_names_what_it_cannot_carry_and_refuses_a_bad_speed() {
    let out = replay(&["export", "--locust", "profiles/locust.json", "--speed", "20"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let py = text(&out.stdout);
    assert!(py.starts_with("# A locustfile made by replay ") && py.contains("from profiles/locust.json at --speed 20"), "{py}");
    assert!(py.contains("What it cannot carry: latency measured from each request's intended send time"), "{py}");
    // Tasks 2:1 in thousandths, the login in on_start, the waits drawn from 5-9 s at 20 times the speed.
    assert!(py.contains("@task(667)") && py.contains("@task(333)") && py.contains("def on_start(self):"), "{py}");
    assert!(py.contains("(0, 0.250000)") && py.contains("(1, 0.450000)"), "{py}");
    let bad = replay(&["export", "--locust", "profiles/locust.json", "--speed", "0"], b"");
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("--speed 0: give a factor above 0"), "{}", text(&bad.stderr));
}

#[test]
#[cfg_attr(not(has_locust), ignore = "Locust is not installed (.ci/run installs it from PyPI): the exported locustfile was not run")]
fn an_exported_locustfile_runs_in_locust_and_sends_the_profiles_traffic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("locustfile.py");
    // The quick start's ten minutes in ten seconds.
    let out = replay(&["export", "--locust", "profiles/locust.json", "--speed", "60", "-o", file.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let rt = runtime();
    let (addr, received, stop) = rt.block_on(replay::demo::start_app(replay::demo::App::with_login())).unwrap();
    let locust = std::process::Command::new("python3")
        .args(["-m", "locust", "-f", file.to_str().unwrap(), "--headless", "--only-summary", "--host", &format!("http://{addr}")])
        .env("REPLAY_VAR_USERNAME", "ann")
        .env("REPLAY_VAR_PASSWORD", "pw-ann")
        .current_dir(dir.path())
        .output()
        .unwrap();
    let _ = stop.send(());
    assert!(locust.status.success(), "{}\n{}", text(&locust.stdout), text(&locust.stderr));
    let got = received.lock().unwrap().clone();
    // Every user logged in first, with the values from the environment, and kept its cookie.
    assert!(got.get("login ann").is_some_and(|n| *n >= 15), "{got:?}");
    assert_eq!(got.get("login failed"), None, "{got:?}");
    assert_eq!(got.get("sent to the login page"), None, "{got:?}");
    // The mix: / and /profile 2:1, within 0.05 of the share.
    let (home, profile) = (got["GET /"] as f64, got["GET /profile"] as f64);
    assert!(home + profile > 500.0, "{got:?}");
    assert!((home / (home + profile) - 2.0 / 3.0).abs() < 0.05, "{got:?}");
}
