//! Logs with long values: what derive samples stays within what a partial may
//! carry (so derive's own partials always merge) and within its memory budget
//! (`profile/deriver/budget.rs`); over budget, every sample is trimmed alike,
//! and a split of the log merges into the profile one derive of it writes.

use crate::util::{replay, text};
use replay::derive::{DeriveConfig, derive, derive_partial, merge_partials_within, write_summary};
use replay::profile::deriver::slot_budget;
use replay::profile::{Profile, partial};
use std::path::Path;

fn line(second: u32, client: u32, target: &str) -> String {
    format!(
        "10.0.{}.{} - - [04/Dec/2026:10:{:02}:{:02} +0000] \"GET {target} HTTP/1.1\" 200 12 \"-\" \"t\"\n",
        client / 250,
        client % 250,
        second / 60 % 60,
        second % 60
    )
}

#[test]
fn values_past_what_a_partial_may_carry_derive_into_partials_that_merge() {
    let work = tempfile::tempdir().unwrap();
    let deep: String = (1..=5000).map(|i| format!("/{i}")).collect();
    let targets = [
        format!("/a?q={}", "x".repeat(100_000)),
        format!("/{}/b", "b".repeat(70_000)),
        format!("/c?token={}", "a-".repeat(2_000)),
        format!("/c/{}", "ab-".repeat(1_000)),
        deep,
        "/a?q=short".to_owned(),
    ];
    let log: String = targets.iter().enumerate().map(|(i, t)| line(i as u32, i as u32, t)).collect();
    let log_path = work.path().join("long.log");
    std::fs::write(&log_path, log).unwrap();
    let at = |name: &str| work.path().join(name).display().to_string();
    let run = |args: &[&str]| {
        let out = replay(args, b"");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out.stderr));
    };
    run(&["derive", "--partial", &at("long.log"), "-o", &at("part.json")]);
    run(&["derive", "--merge", &at("part.json"), "-o", &at("merged.json")]);
    run(&["derive", &at("long.log"), "-o", &at("single.json")]);
    run(&["check", &at("single.json")]);
    let read = |name: &str| std::fs::read_to_string(work.path().join(name)).unwrap();
    let (merged, single): (serde_json::Value, serde_json::Value) =
        (serde_json::from_str(&read("merged.json")).unwrap(), serde_json::from_str(&read("single.json")).unwrap());
    assert_eq!(merged["endpoints"], single["endpoints"]);
    // The short value is sampled; the 100 KB one is not, and no value or shape written is longer than 64 KB.
    assert!(read("single.json").contains("\"short\""));
    assert!(!read("single.json").contains(&"x".repeat(70_000)));
    let longest = |v: &serde_json::Value| -> usize {
        fn walk(v: &serde_json::Value, best: &mut usize) {
            match v {
                serde_json::Value::String(s) => *best = (*best).max(s.len()),
                serde_json::Value::Array(a) => a.iter().for_each(|x| walk(x, best)),
                serde_json::Value::Object(o) => o.values().for_each(|x| walk(x, best)),
                _ => {}
            }
        }
        let mut best = 0;
        walk(v, &mut best);
        best
    };
    assert!(longest(&single["endpoints"]) <= 64 * 1024, "{}", longest(&single["endpoints"]));
}

/// Eight paths, each request with ten query keys of long distinct values: about 250 KB of samples.
fn long_valued_log(dir: &Path) -> Vec<String> {
    let mut lines = Vec::new();
    let mut state: u64 = 7;
    for i in 0..4_000u32 {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        // Search-like values: words joined by `+`, 50 to 400 bytes (random tokens would be taken for secrets).
        const WORDS: [&str; 16] = [
            "red", "shoes", "size", "blue", "coat", "winter", "sale", "men", "women", "kids", "wool", "rain", "boots", "hat", "green",
            "warm",
        ];
        let query: Vec<String> = (0..10)
            .map(|k| {
                let len = 50 + ((state >> (k * 5)) % 350) as usize;
                let mut value = String::new();
                let mut pick = state.rotate_left(k * 7) ^ u64::from(i);
                while value.len() < len {
                    pick = pick.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    if !value.is_empty() {
                        value.push('+');
                    }
                    value.push_str(WORDS[(pick >> 60) as usize]);
                }
                format!("k{k}={value}")
            })
            .collect();
        const PATHS: [&str; 8] = ["/search", "/shop", "/cart", "/list", "/find", "/browse", "/items", "/catalog"];
        lines.push(line(i / 4, i % 97, &format!("{}?{}", PATHS[i as usize % 8], query.join("&"))));
    }
    // The whole log, then three uneven parts of it.
    let mut paths = Vec::new();
    for (name, range) in [("all", 0..4_000), ("a", 0..900), ("b", 900..2_600), ("c", 2_600..4_000)] {
        let path = dir.join(name);
        std::fs::write(&path, lines[range].concat()).unwrap();
        paths.push(path.display().to_string());
    }
    paths
}

#[test]
fn over_budget_every_sample_is_trimmed_alike_and_a_split_log_merges_into_the_same_profile() {
    let work = tempfile::tempdir().unwrap();
    let paths = long_valued_log(work.path());
    let budget = 64 << 10;
    let config = |inputs: Vec<String>, sample_budget| DeriveConfig { sample_budget, ..DeriveConfig::new(inputs) };
    let whole = derive(&config(vec![paths[0].clone()], budget)).unwrap();
    let roomy = derive(&config(vec![paths[0].clone()], 64 << 20)).unwrap();
    assert_eq!(roomy.sample_level, 0);
    assert!(whole.sample_level > 0, "the log's samples should pass {budget} bytes");
    let per_list = slot_budget(whole.sample_level);
    let mut kept = 0;
    for (trimmed, full) in whole.profile.endpoints.iter().zip(&roomy.profile.endpoints) {
        assert_eq!((&trimmed.path, trimmed.count), (&full.path, full.count));
        for (q, full_q) in trimmed.query.iter().zip(&full.query) {
            let cost: usize = q.samples.iter().map(|v| v.len() + 32).sum();
            assert!(cost <= per_list, "{}: {cost} bytes kept where {per_list} are allowed", q.key);
            assert!(q.samples.iter().all(|v| full_q.samples.contains(v)), "a trimmed sample keeps values of the whole one");
            kept += q.samples.len();
        }
    }
    assert!(kept > 0, "some values fit the budget");
    let mut summary = Vec::new();
    write_summary(&whole, &mut summary).unwrap();
    assert!(text(&summary).contains("keeps values of at most"), "{}", text(&summary));

    // Each part derived on its own under the same budget, then merged.
    let parts: Vec<String> = paths[1..]
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let derived = derive_partial(&config(vec![input.clone()], budget)).unwrap();
            let out = work.path().join(format!("p{i}.json"));
            partial::write(&derived.partial, Some(&out)).unwrap();
            out.display().to_string()
        })
        .collect();
    // A partial whose level or cut breaks the rules is refused, naming the field.
    let text_of = |path: &str| std::fs::read_to_string(path).unwrap();
    let mut edited: serde_json::Value = serde_json::from_str(&text_of(&parts[1])).unwrap();
    assert!(edited["state"]["sample_level"].as_u64().is_some_and(|l| l > 0), "a part over budget carries its level");
    edited["state"]["sample_level"] = 11.into();
    let bad_level = work.path().join("bad-level.json");
    std::fs::write(&bad_level, edited.to_string()).unwrap();
    let refused = merge_partials_within(&[bad_level.display().to_string()], budget).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(refused.contains("sample_level"), "{refused}");
    let mut edited: serde_json::Value = serde_json::from_str(&text_of(&parts[1])).unwrap();
    let sample = edited["state"]["templates"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .flat_map(|t| t["stats"]["query"].as_array_mut().unwrap().iter_mut())
        .map(|q| &mut q["sample"])
        .find(|s| s.get("cut").is_some() && s["items"].as_array().is_some_and(|i| !i.is_empty()))
        .expect("a trimmed sample keeps its cut");
    sample["cut"] = sample["items"][0][0].clone();
    let bad_cut = work.path().join("bad-cut.json");
    std::fs::write(&bad_cut, edited.to_string()).unwrap();
    let refused = merge_partials_within(&[bad_cut.display().to_string()], budget).err().map(|e| e.to_string()).unwrap_or_default();
    assert!(refused.contains("sample") && refused.contains("cut"), "{refused}");

    for order in [[0, 1, 2], [2, 0, 1]] {
        let ordered: Vec<String> = order.iter().map(|&i| parts[i].clone()).collect();
        let merged = merge_partials_within(&ordered, budget).unwrap().into_profile(&DeriveConfig::new(ordered.clone())).unwrap();
        assert_eq!(merged.sample_level, whole.sample_level);
        let endpoints = |p: &Profile| serde_json::to_value(&p.endpoints).unwrap();
        assert_eq!(endpoints(&merged.profile), endpoints(&whole.profile), "merged in order {order:?}");
    }
}
