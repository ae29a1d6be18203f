//! The whole chain on every real log in ../shared/real-logs (never copied
//! here) and on hostile logs the project makes: derive with no flags, plan
//! with no values, and build every distinct request a run would send. No
//! panic anywhere; a derived profile runs with no hand-written value unless
//! it has a login; every request is one a client can put on the wire.

use crate::util::real_logs;
use replay::derive::{DeriveConfig, derive};
use replay::plan::request::{RequestMaker, Vars};
use replay::plan::{Pace, PlanSettings, Requests, Users, Work, build};
use replay::profile::Profile;
use std::path::{Path, PathBuf};

/// Every log file below `dir`, in name order.
fn logs_below(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "log" || e == "jsonl") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The manifest's `--format` for a log, where it names one.
fn manifest_format(dir: &Path, path: &Path) -> Option<replay::log::Format> {
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).ok()?;
    let relative = path.strip_prefix(dir).ok()?.to_string_lossy().into_owned();
    let row = manifest.lines().find(|l| l.split('\t').next() == Some(relative.as_str()))?;
    let format = row.split('\t').nth(2)?;
    (format != "auto").then(|| format.parse().expect("the manifest's format parses"))
}

/// Checks one request as the client would send it: a method that is a token and a target that becomes a URI.
fn check_request(name: &str, spec: &replay::plan::RequestSpec) {
    assert!(replay::log::request_rule::is_token(spec.method.as_str().as_bytes()), "{name}: method {:?}", spec.method);
    let target = replay::client::percent_encode_target(&spec.target);
    let uri = format!("http://127.0.0.1:9{}", if target.starts_with('/') { target.as_str() } else { "/" });
    assert!(hyper::Uri::try_from(uri.as_str()).is_ok(), "{name}: {:?} is no URI", spec.target);
}

/// Builds the plan of `profile` with no values and sends none of it: every work item, then every
/// endpoint's request 50 times (its examples, its sampled and synthetic values). Returns the share of
/// planned requests that carried a synthetic value.
fn build_every_request(name: &str, profile: &Profile) -> f64 {
    let settings = PlanSettings { pace: Pace::Duration(std::time::Duration::from_secs(60)), ..PlanSettings::default() };
    let has_login = profile.endpoints.iter().any(|e| e.once_per_session);
    let planned = match build(&Requests(profile), &settings) {
        Ok(planned) => planned,
        Err(e) if has_login => {
            assert!(e.0.contains("--var"), "{name}: {e}");
            return 0.0;
        }
        Err(e) => panic!("{name}: a derived profile needs no hand-written value unless it has a login: {e}"),
    };
    // Nothing is left out for want of a value either: every redacted value has a shape.
    assert!(planned.left_out.is_empty(), "{name}: left out {:?}", planned.left_out);
    let (mut requests, mut synthetic) = (0u64, 0u64);
    for planned in planned.plan.take(50_000) {
        let Work::Request(spec) = planned.work else { panic!("{name}: a plain run plans requests") };
        check_request(name, &spec);
        requests += 1;
        synthetic += u64::from(spec.synthetic);
    }
    let mut maker = RequestMaker::new(profile, &Vars::new(), 7, false).unwrap();
    for index in 0..profile.endpoints.len() {
        for _ in 0..50 {
            check_request(name, &maker.request(index));
        }
    }
    // Sessions too, where the log has them.
    if profile.sessions.is_some() && !has_login {
        let planned = build(&Users(profile), &settings).unwrap_or_else(|e| panic!("{name}: --sessions: {e}"));
        for planned in planned.plan.take(2_000) {
            if let Work::Session(session) = planned.work {
                session.steps.iter().for_each(|s| check_request(name, s));
            }
        }
    }
    if requests == 0 { 0.0 } else { synthetic as f64 / requests as f64 }
}

#[test]
#[cfg_attr(not(has_real_logs), ignore = "../shared/real-logs is not beside this checkout: no real log was read")]
fn every_real_log_derives_plans_and_builds_its_requests_with_no_values() {
    let dir = real_logs();
    let mut derived_logs = 0;
    let mut figures = Vec::new();
    for path in logs_below(&dir) {
        let name = path.strip_prefix(&dir).unwrap().display().to_string();
        let config = DeriveConfig { format: manifest_format(&dir, &path), ..DeriveConfig::new(vec![path.display().to_string()]) };
        // A log with no request in it (an FTP log, a wrapped syslog) is refused with a reason, never a panic.
        let derived = match derive(&config) {
            Ok(derived) => derived,
            Err(e) => {
                assert!(!e.to_string().is_empty(), "{name}");
                figures.push(format!("{name}: refused: {e}"));
                continue;
            }
        };
        // The profile goes through its own wire format, as `replay run profile.json` reads it.
        let text = serde_json::to_string(&derived.profile).unwrap();
        let profile =
            replay::profile::load::parse(&text, &name).unwrap_or_else(|e| panic!("{name}: the derived profile does not load: {e}"));
        let share = build_every_request(&name, &profile);
        figures.push(format!("{name}: {} endpoints, synthetic values on {:.1}% of requests", profile.endpoints.len(), share * 100.0));
        derived_logs += 1;
    }
    eprintln!("{}", figures.join("\n"));
    assert!(derived_logs >= 40, "the real logs are there ({derived_logs})");
}

/// A honeypot's day, as nginx logs it: handshakes of other protocols, binary junk, escaped bytes,
/// braces and multi-byte text, beside real requests.
fn honeypot_log() -> String {
    let junk = [
        r#""\x16\x03\x01\x00\xF4\x01\x00\x00\xF0\x03\x03\x9A""#,
        r#""\x00\x00\x00T\xFFSMBr\x00\x00\x00\x00\x18S\xC8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xFF\xFE\x00\x00\x00\x00\x00""#,
        r#""\x03\x00\x00+&\xE0\x00\x00\x00\x00\x00Cookie: mstshash=hello""#,
        r#""SSH-2.0-PUTTY""#,
        r#""PRI * HTTP/2.0""#,
        r#""-""#,
        r#""""#,
        r#""\x05\x01\x00""#,
        r#""GET""#,
        r#""hello world""#,
    ];
    let requests = [
        r#""GET /wsgi/t\xC3\xA9st HTTP/1.1""#,
        r#""GET /a\xFF\xFE{{b}}/%7B HTTP/1.1""#,
        r#""GET /caf\xC3\xA9/{id}/\xE6\x97\xA5 HTTP/1.1""#,
        r#""POST /api/v1/items/V+4a4adadf-269f-41a7-a092-84632173d7c9 HTTP/1.1""#,
        r#""GET /callback?code=f2405b05-e2ee-4b0d-8f6a-9fed0fcfe2e0&state=active HTTP/1.1""#,
        r#""OPTIONS * HTTP/1.1""#,
        r#""CONNECT www.example.com:443 HTTP/1.1""#,
        r#""GET http://203.0.113.9/cgi-bin/x?cmd=${IFS}cat HTTP/1.1""#,
    ];
    let mut log = String::new();
    for i in 0..400 {
        let field = if i % 3 == 0 { junk[i % junk.len()] } else { requests[i % requests.len()] };
        log.push_str(&format!(
            "198.51.100.{} - - [04/Dec/2026:10:{:02}:{:02} +0000] {field} {} 157 \"-\" \"-\"\n",
            i % 250,
            (i / 60) % 60,
            i % 60,
            if i % 3 == 0 { 400 } else { 200 }
        ));
    }
    log
}

#[test]
fn a_honeypot_log_replays_only_its_requests_and_keeps_their_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("honeypot.log");
    std::fs::write(&path, honeypot_log()).unwrap();
    let derived = derive(&DeriveConfig::new(vec![path.display().to_string()])).unwrap();
    let source = derived.profile.source.as_ref().unwrap();
    // 134 of the 400 lines are other protocols, junk or empty: counted apart, never replayed.
    assert_eq!((source.lines, source.records, source.not_requests, source.rejected), (400, 266, 134, 0));
    let paths: Vec<String> = derived.profile.endpoints.iter().map(|e| format!("{} {}", e.method, e.path)).collect();
    for p in &paths {
        for junk in ["mstshash", "SMB", "SSH", "PRI", "hello", "\u{fffd}"] {
            assert!(!p.contains(junk), "{junk} became an endpoint: {paths:?}");
        }
    }
    // Escaped bytes are the request's bytes: UTF-8 as text, the rest as %XX, braces doubled.
    for want in ["GET /wsgi/tést", "GET /a%FF%FE{{{{b}}}}/%7B", "OPTIONS *", "CONNECT www.example.com:443"] {
        assert!(paths.iter().any(|p| p == want), "{want} not in {paths:?}");
    }
    // The UUID-like id keeps its shape; `state=active` is a word and is sampled; `code=<uuid>` is a secret.
    let callback = derived.profile.endpoints.iter().find(|e| e.path == "/callback").unwrap();
    let state = callback.query.iter().find(|q| q.key == "state").unwrap();
    assert_eq!((state.samples.as_slice(), state.placeholder.as_deref()), (&["active".to_owned()][..], None));
    assert_eq!(callback.shapes["code"], ["{hex:8}-{hex:4}-{hex:4}-{hex:4}-{hex:12}"]);
    let share = build_every_request("honeypot.log", &derived.profile);
    assert!(share > 0.0, "its ids and codes are synthetic");
    // The wire form of a target a logged byte made: percent-encoded, as the server received it.
    let mut maker = RequestMaker::new(&derived.profile, &Vars::new(), 7, false).unwrap();
    let index = derived.profile.endpoints.iter().position(|e| e.path == "/wsgi/tést").unwrap();
    assert_eq!(replay::client::percent_encode_target(&maker.request(index).target), "/wsgi/t%C3%A9st");
}

#[test]
fn synthetic_values_fill_what_the_logs_redacted_and_real_values_win() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ids.log");
    let mut log = String::new();
    for i in 0..200 {
        log.push_str(&format!(
            "198.51.100.{} - - [04/Dec/2026:10:00:{:02} +0000] \"GET /orders/V+{:08x}-269f-41a7-a092-84632173d7c9/items?key={:08x}-aaaa-4bbb-8ccc-{:012x} HTTP/1.1\" 200 10 \"-\" \"-\"\n",
            i % 50,
            i % 60,
            0x4a4a_0000u32 + i,
            0x1000_0000u32 + i * 7,
            i * 13
        ));
    }
    std::fs::write(&path, log).unwrap();
    let profile = derive(&DeriveConfig::new(vec![path.display().to_string()])).unwrap().profile;
    let text = serde_json::to_string(&profile).unwrap();
    assert!(!text.contains("4a4a0000") && !text.contains("10000000"), "no value reaches the profile: {text}");
    let e = &profile.endpoints[0];
    assert_eq!(e.path, "/orders/{token}/items");
    assert_eq!(e.shapes["token"], ["V+{hex:8}-{hex:4}-{hex:4}-{hex:4}-{hex:12}"]);
    let mut maker = RequestMaker::new(&profile, &Vars::new(), 7, false).unwrap();
    assert_eq!(maker.synthetic(), ["{key} on 100.0% of requests", "{token} on 100.0% of requests"]);
    let shape = regex::Regex::new(r"^/orders/V\+[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/items\?key=[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$").unwrap();
    let made: Vec<String> = (0..100).map(|_| maker.next(0)).inspect(|r| assert!(r.synthetic)).map(|r| r.target).collect();
    assert!(made.iter().all(|t| shape.is_match(t)), "{made:?}");
    assert!(made.iter().collect::<std::collections::HashSet<_>>().len() == 100, "fresh values");
    // The same seed gives the same values; a --var gives real ones and nothing is synthetic.
    let mut again = RequestMaker::new(&profile, &Vars::new(), 7, false).unwrap();
    assert_eq!((0..100).map(|_| again.next(0).target).collect::<Vec<_>>(), made);
    let vars: Vars = [("token".to_owned(), vec!["T1".to_owned()]), ("key".to_owned(), vec!["K1".to_owned()])].into();
    let mut given = RequestMaker::new(&profile, &vars, 7, false).unwrap();
    let r = given.next(0);
    assert_eq!((r.target.as_str(), r.synthetic, given.synthetic().len()), ("/orders/T1/items?key=K1", false, 0));
    // --strict-vars takes no synthetic value for a given one: it refuses, naming them.
    let err = RequestMaker::new(&profile, &Vars::new(), 7, true).err().unwrap();
    assert!(err.contains("{token} (in GET /orders/{token}/items)") && err.contains("--strict-vars"), "{err}");
}
