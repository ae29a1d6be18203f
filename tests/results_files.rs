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
