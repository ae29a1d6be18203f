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
    // Both exports of the quick start, as golden files.
    crate::util::golden(&crate::util::root().join("fixtures/golden/locust.locustfile.py"), &py);
    let k6 = replay(&["export", "--k6", "profiles/locust.json", "--speed", "20"], b"");
    crate::util::golden(&crate::util::root().join("fixtures/golden/locust.k6.js"), &text(&k6.stdout));
    // --users alone sizes a profile in users; a user count of 0 says what to give.
    let users = replay(&["profile", "--users", "0", "--endpoint", "GET /"], b"");
    assert_eq!(users.status.code(), Some(2));
    assert!(text(&users.stderr).contains("--users"), "{}", text(&users.stderr));
    let users = replay(&["profile", "--users", "5", "--endpoint", "GET /", "--over", "60s"], b"");
    assert_eq!(users.status.code(), Some(0), "{}", text(&users.stderr));
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

/// Runs an exported k6 script in Node with stand-ins for `k6` and `k6/http` that record calls:
/// its options, then `iterations` calls of `exec`; returns what the driver printed (JSON).
fn run_k6_script(script: &str, exec: &str, iterations: u32, env: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let script = script.replace("from 'k6/http'", "from './k6-http.mjs'").replace("from 'k6'", "from './k6.mjs'");
    std::fs::write(dir.path().join("script.mjs"), script).unwrap();
    std::fs::write(
        dir.path().join("k6-http.mjs"),
        "export default { request(method, url, body, params) { globalThis.calls.push({ method, url, body, name: params.tags.name }); return { status: 200 }; } };\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("k6.mjs"), "export function sleep(s) { globalThis.sleeps.push(s); }\n").unwrap();
    let driver = format!(
        "globalThis.calls = []; globalThis.sleeps = []; globalThis.__ENV = {env};\n\
         const m = await import('./script.mjs');\n\
         for (let i = 0; i < {iterations}; i++) m.{exec}();\n\
         console.log(JSON.stringify({{ options: m.options, calls: globalThis.calls, sleeps: globalThis.sleeps }}));\n"
    );
    std::fs::write(dir.path().join("driver.mjs"), driver).unwrap();
    let out = std::process::Command::new("node").arg("driver.mjs").current_dir(dir.path()).output().expect("node runs");
    assert!(out.status.success(), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
#[cfg_attr(not(has_node), ignore = "Node is not installed (.ci/run installs it): the exported k6 script was not run")]
fn an_exported_k6_script_follows_the_curve_and_the_mix() {
    // A derived profile with a login, sessions and production latency, and thresholds to translate.
    let dir = tempfile::tempdir().unwrap();
    let derived = dir.path().join("p.json");
    assert_eq!(replay(&["derive", "fixtures/demo/access.log", "-o", derived.to_str().unwrap()], b"").status.code(), Some(0));
    let mut p: serde_json::Value = serde_json::from_slice(&std::fs::read(&derived).unwrap()).unwrap();
    p["thresholds"] = serde_json::json!(["p99<300ms", "errors<1%", "GET /profile: p95<200ms", "rps>=0.99*intended"]);
    std::fs::write(&derived, p.to_string()).unwrap();
    let out = replay(&["export", "--k6", derived.to_str().unwrap(), "--speed", "60"], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let script = text(&out.stdout);
    assert!(script.contains("// Left out: `rps>=0.99*intended`: k6 has no such metric"), "{script}");
    let env = r#"{ REPLAY_HOST: "http://127.0.0.1:9", REPLAY_VAR_USERNAME: "ann", REPLAY_VAR_PASSWORD: "pw-ann" }"#;
    let ran = run_k6_script(&script, "requests", 6000, env);
    // The stages add up to the curve: every request of the profile, at sixty times the speed.
    let stages = ran["options"]["scenarios"]["requests"]["stages"].as_array().unwrap();
    let sent: f64 = stages
        .iter()
        .map(|s| {
            s["target"].as_f64().unwrap()
                * s["duration"].as_str().unwrap().trim_end_matches("ms").trim_end_matches('s').parse::<f64>().unwrap()
                / 1000.0
        })
        .sum();
    let total: u64 = p["arrival"]["counts"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).sum();
    assert!((sent - total as f64).abs() < 0.01 * total as f64, "stages hold {sent} requests of the curve's {total}");
    // The picks follow the mix among the endpoints drawn by weight (the login goes first in sessions).
    let calls = ran["calls"].as_array().unwrap();
    let endpoints = p["endpoints"].as_array().unwrap();
    let drawn: Vec<&serde_json::Value> = endpoints.iter().filter(|e| e.get("once_per_session").is_none()).collect();
    let weight_total: f64 = drawn.iter().map(|e| e["weight"].as_f64().unwrap()).sum();
    for e in &drawn {
        let name = format!("{} {}", e["method"].as_str().unwrap(), e["path"].as_str().unwrap());
        let share = calls.iter().filter(|c| c["name"] == name.as_str()).count() as f64 / calls.len() as f64;
        let want = e["weight"].as_f64().unwrap() / weight_total;
        assert!((share - want).abs() < 0.02, "{name}: {share:.3} of picks, {want:.3} of the mix");
    }
    assert!(calls.iter().all(|c| c["url"].as_str().unwrap().starts_with("http://127.0.0.1:9/")), "{:?}", &calls[..3]);
    // Thresholds in k6's syntax, per endpoint through the name tag.
    let thresholds = &ran["options"]["thresholds"];
    assert_eq!(thresholds["http_req_duration"], serde_json::json!(["p(99)<300"]));
    assert_eq!(thresholds["http_req_failed"], serde_json::json!(["rate<0.01"]));
    assert_eq!(thresholds["http_req_duration{name:GET /profile}"], serde_json::json!(["p(95)<200"]));
    // Sessions as their own scenario: the login first with the environment's values, then tasks with waits.
    let env = r#"{ REPLAY_HOST: "http://127.0.0.1:9", REPLAY_SESSIONS: "1", REPLAY_VAR_USERNAME: "ann", REPLAY_VAR_PASSWORD: "pw-ann" }"#;
    let ran = run_k6_script(&script, "session", 1, env);
    assert!(ran["options"]["scenarios"]["users"].is_object(), "{}", ran["options"]);
    let calls = ran["calls"].as_array().unwrap();
    assert_eq!(calls[0]["name"], "POST /login");
    assert_eq!(calls[0]["body"], "username=ann&password=pw-ann");
    assert_eq!(ran["sleeps"].as_array().unwrap().len(), calls.len() - 1, "a wait between each of a user's requests");
}
