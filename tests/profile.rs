//! What `replay derive` makes of logs: privacy, sessions, determinism, the
//! filters, and the real logs' endpoints.

use crate::util::{real_logs, replay, root, text};
use replay::derive::{DeriveConfig, derive};
use serde_json::Value;

fn derive_json(args: &[&str]) -> Value {
    let mut all = vec!["derive"];
    all.extend_from_slice(args);
    let out = replay(&all, b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn planted_secrets_never_reach_the_profile_or_the_trace() {
    let dir = tempfile::tempdir().unwrap();
    let trace_path = dir.path().join("trace.csv");
    let out = replay(&["derive", "fixtures/logs/secrets.log", "--trace", trace_path.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let profile = text(&out.stdout);
    let summary = text(&out.stderr);
    let trace = std::fs::read_to_string(&trace_path).unwrap();
    assert_eq!(trace.lines().count(), 13, "a header and a row per request:\n{trace}");
    let planted = [
        "user=bob",
        "203.0.113.",
        "mallory",
        "dave",
        "victim@example.com",
        "victim%40",
        "tok_9f8e7d6c5b4a39281706",
        "eyJhbGciOiJIUzI1NiJ9",
        "hunter2",
        "0f1e2d3c4b5a6978",
        "AUTHCODE4Q7Z",
        "xyzzy42",
        "sk_live_51HxYz",
        "AKIAIOSFODNN7EXAMPLE",
        "carol%40example.org",
        "a1b2c3d4e5f6g7h8",
        "deadbeef12345678",
        "eve@example.net",
        "refsecret9Q",
    ];
    for secret in planted {
        assert!(!profile.contains(secret), "{secret} reached the profile:\n{profile}");
        assert!(!summary.contains(secret), "{secret} reached the summary:\n{summary}");
        assert!(!trace.contains(secret), "{secret} reached the trace:\n{trace}");
    }
    // What replaced them is there, ready for --var.
    for placeholder in ["{email}", "{token}", "{password}", "{access_token}", "{X_Amz_Signature}", "{apikey}", "{session_id}", "{sig}"] {
        assert!(profile.contains(placeholder), "{placeholder} missing:\n{profile}");
    }
    assert!(trace.contains("/login?user={user}&password={password}&next=/home"), "{trace}");
    // Safe values are still sampled.
    assert!(profile.contains("\"shoes\"") && profile.contains("\"report.pdf\""), "{profile}");
}

#[test]
fn a_crafted_session_log_gives_its_known_flows() {
    let profile = derive_json(&["fixtures/logs/sessions.log"]);
    let sessions = &profile["sessions"];
    assert_eq!(sessions["count"], 5);
    let flows: Vec<(Vec<String>, u64)> = sessions["flows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (serde_json::from_value(f["steps"].clone()).unwrap(), f["count"].as_u64().unwrap()))
        .collect();
    let login_flow = vec!["POST /login".to_owned(), "GET /".to_owned(), "GET /profile".to_owned()];
    assert_eq!(flows[0], (login_flow, 3));
    assert!(flows.contains(&(vec!["GET /".to_owned(), "GET /profile".to_owned()], 1)), "{flows:?}");
    // The one-request session is counted in `count`, but flows are ranked among the longer ones.
    assert!(!flows.iter().any(|(steps, _)| steps.len() == 1), "{flows:?}");
    // Think times 2, 8, 4, 16, 3, 30, 30 seconds: the median is 8.
    let think = sessions["think_time_s"]["p50"].as_f64().unwrap();
    assert!((think - 8.0).abs() < 0.2, "{think}");
    assert_eq!(sessions["length"]["p50"], 3.0);
    let gap = derive_json(&["fixtures/logs/sessions.log", "--session-gap", "1h"]);
    assert_eq!(gap["sessions"]["count"], 4, "one idle gap under an hour joins two sessions");
}

#[test]
#[cfg_attr(not(has_real_logs), ignore = "../shared/real-logs is not beside this checkout: no real log was read")]
fn the_same_logs_give_a_byte_identical_profile_whatever_the_threads() {
    let dir = real_logs();
    let log = dir.join("haproxy/no7dw_haproxy_2014-12-24.log");
    let log = log.to_str().unwrap();
    let one = replay(&["derive", "--threads", "1", log], b"");
    let two = replay(&["derive", "--threads", "2", log], b"");
    let again = replay(&["derive", "--threads", "2", log], b"");
    assert_eq!(one.status.code(), Some(0));
    assert!(one.stdout == two.stdout && two.stdout == again.stdout, "profiles differ between runs");
    let other_seed = replay(&["derive", "--seed", "8", log], b"");
    assert_ne!(other_seed.stdout, one.stdout, "the seed picks the samples");
}

#[test]
fn filters_and_limits() {
    let all = derive_json(&["fixtures/logs/secrets.log"]);
    let kept = |p: &Value| p["source"]["records"].as_u64().unwrap() - p["source"]["excluded"].as_u64().unwrap();
    assert_eq!(kept(&all), 12);
    let since = derive_json(&["fixtures/logs/secrets.log", "--since", "2026-11-28T10:00:40Z", "--until", "2026-11-28T10:01:10Z"]);
    assert_eq!(kept(&since), 4);
    assert_eq!(since["source"]["first"], "2026-11-28T10:00:42Z");
    let excluded = derive_json(&["fixtures/logs/secrets.log", "--exclude", "^/api/"]);
    assert_eq!(kept(&excluded), 8);
    let capped = derive_json(&["fixtures/logs/secrets.log", "--max-endpoints", "3"]);
    let endpoints = capped["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), 3);
    assert_eq!(endpoints[2]["tail"], true);
    assert_eq!(endpoints.iter().map(|e| e["count"].as_u64().unwrap()).sum::<u64>(), 12);
    let binned = derive_json(&["fixtures/logs/secrets.log", "--bin", "1m"]);
    assert_eq!(binned["arrival"]["bin_s"], 60);
    assert_eq!(binned["arrival"]["counts"], serde_json::json!([9, 3]));
    let hosts = replay(&["derive", "fixtures/logs/alb.log", "--host-filter", "nowhere.example.com"], b"");
    assert_eq!(hosts.status.code(), Some(2));
    assert!(text(&hosts.stderr).contains("were left out"), "{}", text(&hosts.stderr));
    let hosts = derive_json(&["fixtures/logs/alb.log", "--host-filter", "WWW.example.com"]);
    assert_eq!(kept(&hosts), 4);
    for (flag, value) in [("--session-gap", "soon"), ("--since", "yesterday"), ("--exclude", "(")] {
        let out = replay(&["derive", "fixtures/logs/common.log", flag, value], b"");
        assert_eq!(out.status.code(), Some(2), "{flag} {value}");
    }
}

#[test]
#[cfg_attr(not(has_real_logs), ignore = "../shared/real-logs is not beside this checkout: no real log was read")]
fn real_logs_derive_without_a_template_explosion() {
    let dir = real_logs();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    for row in manifest.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let cols: Vec<&str> = row.split('\t').collect();
        let format = (cols[2] != "auto").then(|| cols[2].parse().unwrap());
        let config = DeriveConfig { format, ..DeriveConfig::new(vec![dir.join(cols[0]).to_string_lossy().into_owned()]) };
        let profile = derive(&config).unwrap().profile;
        let path = cols[0];
        assert!(profile.endpoints.len() <= 200, "{path}: {} endpoints", profile.endpoints.len());
        let sum: f64 = profile.endpoints.iter().map(|e| e.weight).sum();
        assert!((sum - 1.0).abs() < 1e-6, "{path}: weights sum to {sum}");
        for e in &profile.endpoints {
            let numeric = e.path.split('/').any(|seg| seg.len() >= 2 && seg.bytes().all(|b| b.is_ascii_digit()));
            assert!(!numeric, "{path}: an id was not collapsed in {}", e.path);
        }
        let source = profile.source.unwrap();
        let arrived: u64 = profile.arrival.counts.iter().sum();
        assert_eq!(arrived, source.records - source.excluded, "{path}: the curve holds every kept request");
        let span_s = profile.arrival.counts.len() as u64 * u64::from(profile.arrival.bin_s);
        assert!(profile.arrival.counts.len() <= 3600 && span_s > 0, "{path}");
        let last = profile.segments.last().unwrap();
        assert_eq!((profile.segments[0].start_s, last.end_s), (0, span_s), "{path}: segments tile the curve");
    }
}

#[test]
fn nginx_ids_collapse_under_their_prefix() {
    let profile = derive_json(&[
        "fixtures/logs/nginx_custom.log",
        "--format",
        &std::fs::read_to_string(root().join("fixtures/logs/nginx_custom.format")).unwrap(),
    ]);
    let paths: Vec<&str> = profile["endpoints"].as_array().unwrap().iter().map(|e| e["path"].as_str().unwrap()).collect();
    assert!(paths.contains(&"/api/v1/users/{id}"), "{paths:?}");
    let users =
        profile["endpoints"].as_array().unwrap().iter().find(|e| e["path"] == "/api/v1/users/{id}" && e["method"] == "GET").unwrap();
    assert_eq!(users["params"]["id"], serde_json::json!(["17"]));
    assert_eq!(users["latency_ms"]["p50"].as_f64().map(f64::round), Some(12.0));
}

#[test]
fn every_hand_written_profile_loads_and_matches_its_recipe() {
    let mut names: Vec<String> =
        std::fs::read_dir(root().join("profiles")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert_eq!(names, ["bursty.json", "daily.json", "locust.json", "ramp.json", "steady.json"]);
    for name in &names {
        let profile = replay::profile::load::load(&root().join("profiles").join(name)).unwrap_or_else(|e| panic!("{e}"));
        let paths: Vec<String> = profile.endpoints.iter().map(|e| format!("{} {}", e.method, e.path)).collect();
        assert_eq!(paths, ["GET /", "GET /profile", "POST /login"], "{name}: the Locust example's endpoints");
        assert!(profile.endpoints[2].once_per_session && (profile.endpoints[0].weight - 2.0 / 3.0).abs() < 1e-9, "{name}");
        let out = replay(&["check", &format!("profiles/{name}")], b"");
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
    }
    // The recipes in docs/profile.md make these files exactly.
    let recipes = [
        ("steady.json", vec!["--shape", "steady", "--rps", "20", "--over", "10m", "--bin", "10s"]),
        (
            "bursty.json",
            vec!["--shape", "bursty", "--rps", "20", "--peak", "200", "--burst-every", "5m", "--burst-length", "10s", "--over", "10m"],
        ),
        ("ramp.json", vec!["--shape", "ramp", "--from", "10", "--to", "500", "--over", "10m", "--bin", "5s"]),
        ("daily.json", vec!["--shape", "daily", "--from", "5", "--to", "120", "--bin", "5m"]),
        (
            "locust.json",
            vec!["--shape", "users", "--users", "20", "--spawn-rate", "2", "--over", "10m", "--bin", "10s", "--think", "5s..9s"],
        ),
    ];
    for (name, mut args) in recipes {
        args.splice(0..0, ["profile"]);
        args.extend(["--endpoint", "GET /=2", "--endpoint", "GET /profile=1", "--login", "POST /login"]);
        let out = replay(&args, b"");
        let committed = std::fs::read(root().join("profiles").join(name)).unwrap();
        assert!(out.stdout == committed, "profiles/{name} differs from `replay {}`", args.join(" "));
    }
}

#[test]
fn a_bad_profile_is_an_error_naming_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(root().join("profiles/steady.json")).unwrap();
    let table = [
        ("\"version\": 1", "\"version\": 9", "version: 9 is not supported"),
        ("\"weight\": 0.6666666666666666", "\"wieght\": 1", "unknown field `wieght`"),
        ("\"weight\": 0.6666666666666666", "\"weight\": -1", "endpoints[0].weight"),
        ("\"bin_s\": 10", "\"bin_s\": 0", "arrival.bin_s"),
        ("\"end_s\": 600", "\"end_s\": 6000", "segments[0].end_s: 6000 is past the curve's end (600 s)"),
        ("\"version\": 1,", "\"version\": 1, \"thresholds\": [\"p99<1e305s\"],", "thresholds: threshold `p99<1e305s`"),
        ("\"version\": 1,", "\"version\": 1, \"thresholds\": [\"GET /nope: p99<1s\"],", "no endpoint `GET /nope`"),
        ("\"method\": \"GET\"", "\"method\": \"=HYPERLINK(1)\"", "endpoints[0].method"),
    ];
    for (edit, with, needle) in table {
        assert!(good.contains(edit), "{edit}");
        let path = dir.path().join("bad.json");
        std::fs::write(&path, good.replacen(edit, with, 1)).unwrap();
        let out = replay(&["check", path.to_str().unwrap()], b"");
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{with}: {stderr}");
        assert!(stderr.contains("bad.json: ") && stderr.contains(needle), "{with}: {stderr}");
    }
    // A derived profile passes its own validation.
    let derived = replay(&["derive", "fixtures/logs/sessions.log", "-o", dir.path().join("d.json").to_str().unwrap()], b"");
    assert_eq!(derived.status.code(), Some(0));
    let out = replay(&["check", dir.path().join("d.json").to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn a_login_and_real_flows_are_found_among_bots() {
    let dir = tempfile::tempdir().unwrap();
    let mut log = String::new();
    // 30 users: log in, then home, then profile, two seconds apart; 200 one-request bots around them.
    for user in 0..30u32 {
        for (step, (method, path)) in [("POST", "/login"), ("GET", "/"), ("GET", "/profile")].iter().enumerate() {
            let second = user * 7 + step as u32 * 2;
            log.push_str(&format!(
                "10.1.0.{user} - - [01/Dec/2026:10:{:02}:{:02} +0000] \"{method} {path} HTTP/1.1\" 200 10 \"-\" \"browser-{user}\"\n",
                second / 60,
                second % 60
            ));
        }
    }
    for bot in 0..200u32 {
        let second = bot;
        log.push_str(&format!(
            "10.2.{}.{} - - [01/Dec/2026:10:{:02}:{:02} +0000] \"GET /robots.txt HTTP/1.1\" 200 10 \"-\" \"bot-{bot}\"\n",
            bot / 250,
            bot % 250,
            second / 60,
            second % 60
        ));
    }
    let path = dir.path().join("access.log");
    std::fs::write(&path, log).unwrap();
    let out = replay(&["derive", path.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let profile: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let login = profile["endpoints"].as_array().unwrap().iter().find(|e| e["path"] == "/login").unwrap();
    assert_eq!(login["once_per_session"], true, "{login}");
    let home = profile["endpoints"].as_array().unwrap().iter().find(|e| e["path"] == "/").unwrap();
    assert!(home.get("once_per_session").is_none(), "GET / opens sessions too, but it is no POST: {home}");
    let flows = profile["sessions"]["flows"].as_array().unwrap();
    assert_eq!(flows[0]["steps"], serde_json::json!(["POST /login", "GET /", "GET /profile"]), "{flows:?}");
    assert_eq!(flows[0]["share"], 1.0, "ranked among the sessions of more than one request: {flows:?}");
    // Logs hold no bodies: the login gets a form with named placeholders.
    assert_eq!(login["body"]["text"], "username={username}&password={password}", "{login}");
    assert_eq!(login["body"]["content_type"], "application/x-www-form-urlencoded");
    // Users are not started without values for it, named; with them, the plan goes ahead.
    let saved = dir.path().join("p.json");
    std::fs::write(&saved, &out.stdout).unwrap();
    let plan = |extra: &[&str]| {
        let mut args = vec!["plan", saved.to_str().unwrap(), "--host", "http://127.0.0.1:9", "--speed", "10", "--sessions"];
        args.extend_from_slice(extra);
        replay(&args, b"")
    };
    let refused = plan(&[]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    for name in ["{username} (in POST /login)", "{password} (in POST /login)", "--vars", "one row per user"] {
        assert!(text(&refused.stderr).contains(name), "{name}: {}", text(&refused.stderr));
    }
    let planned = plan(&["--var", "username=u", "--var", "password=p"]);
    assert_eq!(planned.status.code(), Some(0), "{}", text(&planned.stderr));
    // --login-form names the fields; a form opening with `{` goes as JSON.
    let json_form = r#"{"email": "{email}", "pin": "{pin}"}"#;
    let out = replay(&["derive", path.to_str().unwrap(), "--login-form", json_form], b"");
    let profile: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let login = profile["endpoints"].as_array().unwrap().iter().find(|e| e["path"] == "/login").unwrap();
    assert_eq!((login["body"]["text"].as_str(), login["body"]["content_type"].as_str()), (Some(json_form), Some("application/json")));
    let bad = replay(&["derive", path.to_str().unwrap(), "--login-form", "user=me"], b"");
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("names no value to fill"), "{}", text(&bad.stderr));
}
