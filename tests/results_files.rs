//! results.json files are untrusted input: a file edited by hand, cut short or
//! crafted is refused by `report`, `merge` and `compare` with exit 2 and the
//! field named, within bounded memory and time, never with a panic.

use crate::util::{replay, text};
use serde_json::{Value, json};

/// A real run's results.json, from a short run against the example server.
fn a_run() -> Value {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    let (addr, _, stop) = rt.block_on(replay::demo::start()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = replay(
        &["run", "profiles/steady.json", "--host", &format!("http://{addr}"), "--duration", "2s", "--rate-scale", "0.1"]
            .into_iter()
            .chain(["--var", "username=u", "--var", "password=p", "--out", dir.path().to_str().unwrap()])
            .collect::<Vec<_>>(),
        b"",
    );
    let _ = stop.send(());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    serde_json::from_slice(&std::fs::read(dir.path().join("results.json")).unwrap()).unwrap()
}

/// A histogram whose header claims a 4 GiB payload, in 60 bytes.
fn bomb_histogram() -> String {
    use base64::Engine;
    let mut b = Vec::new();
    b.extend_from_slice(&(0x1c84_9303u32 | 0x10).to_be_bytes());
    b.extend_from_slice(&u32::MAX.to_be_bytes());
    b.extend_from_slice(&0u32.to_be_bytes());
    b.extend_from_slice(&3u32.to_be_bytes());
    b.extend_from_slice(&1u64.to_be_bytes());
    b.extend_from_slice(&3_600_000_000u64.to_be_bytes());
    b.extend_from_slice(&1f64.to_be_bytes());
    b.extend_from_slice(&[0; 20]);
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[test]
fn hostile_results_files_are_refused_naming_the_field() {
    let good = a_run();
    // (what is done to the file, the field the error names)
    type Edit = fn(&mut Value);
    let table: [(Edit, &str); 12] = [
        (|r| r["histograms"]["latency"] = json!(bomb_histogram()), "declares 4294967295 bytes of counts"),
        (|r| r["periods"][0]["lag_max_ms"] = json!(1.7e308), "periods[0].lag_max_ms"),
        (|r| r["plan"]["shard"] = json!({"index": 3, "count": 2}), "plan.shard.index"),
        (|r| r["plan"]["shard"] = json!({"index": 0, "count": 0}), "plan.shard.count"),
        (|r| r["plan"]["shard"] = json!({"index": 0, "count": 4294967295u64}), "plan.shard.count"),
        (|r| r["totals"]["intended"] = json!(u64::MAX), "totals.intended"),
        (|r| r["totals"]["failures"] = json!(r["totals"]["requests"].as_u64().unwrap() + 1), "totals.failures"),
        (|r| r["duration_s"] = json!(-1.0), "duration_s"),
        (|r| r["duration_s"] = json!(1e308), "duration_s"),
        (|r| r["started"] = json!("yesterday"), "started"),
        (|r| r["periods"][0]["start_s"] = json!(1_000_000), "periods[0].start_s"),
        (|r| r["latency_ms"]["p99"] = json!(-5.0), "latency_ms.p99"),
    ];
    let dir = tempfile::tempdir().unwrap();
    let good_path = dir.path().join("good.json");
    std::fs::write(&good_path, good.to_string()).unwrap();
    for (i, (edit, field)) in table.into_iter().enumerate() {
        let mut bad = good.clone();
        edit(&mut bad);
        let path = dir.path().join(format!("bad-{i}.json"));
        std::fs::write(&path, bad.to_string()).unwrap();
        let (p, g) = (path.to_str().unwrap(), good_path.to_str().unwrap());
        let merged = dir.path().join("merged.json");
        for args in [
            vec!["report", p, "-o", dir.path().join("out").to_str().unwrap()],
            vec!["merge", g, p, "-o", merged.to_str().unwrap()],
            vec!["compare", g, p],
        ] {
            let out = replay(&args, b"");
            let stderr = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?} with {field}: {stderr}");
            assert!(stderr.contains(field) && stderr.contains(p) && !stderr.contains("panicked"), "{args:?}: {stderr}");
        }
    }
    // The good file still reports, and a file too large to be a run's is refused before it is parsed.
    assert_eq!(replay(&["report", good_path.to_str().unwrap(), "-o", dir.path().join("ok").to_str().unwrap()], b"").status.code(), Some(0));
    let huge = dir.path().join("huge.json");
    let file = std::fs::File::create(&huge).unwrap();
    file.set_len(65 << 20).unwrap();
    let out = replay(&["report", huge.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("over 64 MiB"), "{}", text(&out.stderr));
}

#[test]
fn names_from_the_logs_reach_every_output_inert() {
    let mut r = a_run();
    let hostile = [
        "/a\u{1b}[2J\u{1b}]0;owned\u{7}",
        "/b`](http://evil.example/x.png)",
        "/c```|![img](http://evil.example/i.png)|",
        "/d\u{fffe}\u{ffff}",
        "=HYPERLINK(\"http://evil.example\")",
        "/f\u{9b}31m",
        "/g</failure><x>&",
    ];
    let endpoints = r["endpoints"].as_array_mut().unwrap();
    let template = endpoints[0].clone();
    endpoints.clear();
    for (i, path) in hostile.iter().enumerate() {
        let mut e = template.clone();
        e["path"] = json!(path);
        e["method"] = json!(if i == 4 { "=CMD" } else { "GET" });
        e["requests"] = json!(0);
        e["failures"] = json!(0);
        e["statuses"] = json!({});
        e["status_mismatches"] = json!(0);
        endpoints.push(e);
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hostile.json");
    std::fs::write(&path, r.to_string()).unwrap();
    let out_dir = dir.path().join("out");
    let out = replay(&["report", path.to_str().unwrap(), "-o", out_dir.to_str().unwrap()], b"");
    assert!(matches!(out.status.code(), Some(0 | 1)), "{}", text(&out.stderr));
    // The terminal: no control character of the logs', shown escaped instead.
    let stdout = text(&out.stdout);
    assert!(!stdout.chars().any(|c| (c as u32) < 0x20 && c != '\n' || (0x7f..=0x9f).contains(&(c as u32))), "{stdout:?}");
    assert!(stdout.contains("\\x1b[2J"), "{stdout}");
    // Markdown: every name in a code span that nothing inside closes; no live link or image.
    let md = std::fs::read_to_string(out_dir.join("summary.md")).unwrap();
    for line in md.lines().filter(|l| l.contains("evil.example")) {
        let first = line.split(" | ").next().unwrap().trim_start_matches("| ");
        let fence = first.chars().take_while(|&c| c == '`').count();
        assert!(fence >= 1 && first.ends_with(&"`".repeat(fence)), "not one code span: {line}");
        assert!(!first[fence..first.len() - fence].contains(&"`".repeat(fence)), "closable: {line}");
    }
    // junit.xml parses, whatever the names held.
    let junit = std::fs::read_to_string(out_dir.join("junit.xml")).unwrap();
    roxmltree::Document::parse(&junit).unwrap_or_else(|e| panic!("junit.xml: {e}\n{junit}"));
    // stats.csv: no cell a spreadsheet would evaluate.
    let mut csv = csv::Reader::from_path(out_dir.join("stats.csv")).unwrap();
    for row in csv.records() {
        let row = row.unwrap();
        for cell in row.iter().take(2) {
            assert!(!cell.starts_with(['=', '+', '@']), "{row:?}");
        }
    }
}
