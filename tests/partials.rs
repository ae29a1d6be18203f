//! `replay derive --partial` and `--merge`: logs split in parts, each derived
//! on its own, merged into the profile one derive of them all gives, in any
//! order and grouping; sessions across the split kept whole; mismatched and
//! hostile partials refused, never a panic. The logs: every real log, a
//! generated day, and the benchmark's own generator (bench/gen_realistic.rs).

use crate::util::{real_logs, replay, text};
use replay::derive::{DeriveConfig, derive, derive_partial, merge_partials};
use replay::log::Format;
use replay::profile::partial;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Writes `parts` (lines each) as files `part0…` in `dir`, each with `header` first.
fn write_parts(dir: &Path, header: &[&[u8]], parts: &[&[&[u8]]]) -> Vec<String> {
    parts
        .iter()
        .enumerate()
        .map(|(i, lines)| {
            let path = dir.join(format!("part{i}"));
            let mut bytes = Vec::new();
            for line in header.iter().chain(lines.iter()) {
                bytes.extend_from_slice(line);
                bytes.push(b'\n');
            }
            std::fs::write(&path, bytes).unwrap();
            path.display().to_string()
        })
        .collect()
}

fn config(inputs: Vec<String>, format: Option<&Format>) -> DeriveConfig {
    DeriveConfig { format: format.cloned(), ..DeriveConfig::new(inputs) }
}

/// Each input's partial, written to `dir` as `p{i}.json`.
fn partials(dir: &Path, inputs: &[String], format: Option<&Format>) -> Vec<String> {
    inputs
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let derived = derive_partial(&config(vec![input.clone()], format)).unwrap();
            let path = dir.join(format!("p{i}.json"));
            partial::write(&derived.partial, Some(&path)).unwrap();
            path.display().to_string()
        })
        .collect()
}

/// The profile the partials at `paths` merge into, as `replay derive --merge` writes it.
fn merged(paths: &[String]) -> String {
    let merged = merge_partials(paths).unwrap();
    replay::profile::to_pretty_json(&merged.into_profile(&DeriveConfig::new(paths.to_vec())).unwrap().profile)
}

/// The partials at `paths` merged into one partial, written to `to`.
fn merged_partial(paths: &[String], to: &Path) -> String {
    partial::write(&merge_partials(paths).unwrap().into_partial(), Some(to)).unwrap();
    to.display().to_string()
}

/// One derive of `inputs`, in the order the merged profile lists them (partials merge by time).
fn single(merged: &str, format: Option<&Format>) -> String {
    let order: Value = serde_json::from_str(merged).unwrap();
    let files: Vec<String> = order["source"]["files"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_owned()).collect();
    replay::profile::to_pretty_json(&derive(&config(files, format)).unwrap().profile)
}

/// Whether the log's request times never go back, line after line.
fn in_time_order(path: &Path, format: Option<&Format>) -> bool {
    let mut out = Vec::new();
    // A log that does not read to its end is not known to be in order.
    if replay::app::parse_records(&config(vec![path.display().to_string()], format), None, &mut out).is_err() {
        return false;
    }
    let times: Vec<chrono::DateTime<chrono::FixedOffset>> = text(&out)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok()?["time"].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()))
        .collect();
    times.windows(2).all(|w| w[0] <= w[1])
}

/// Cut points for `k` parts of `n` lines: even, or (with `seed`) uneven.
fn cuts(n: usize, k: usize, seed: Option<u64>) -> Vec<usize> {
    let mut points: Vec<usize> = match seed {
        None => (1..k).map(|i| i * n / k).collect(),
        Some(mut s) => (1..k)
            .map(|_| {
                s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (s >> 33) as usize % n.max(1)
            })
            .collect(),
    };
    points.sort_unstable();
    points.insert(0, 0);
    points.push(n);
    points
}

#[test]
#[cfg_attr(not(has_real_logs), ignore = "../shared/real-logs is not beside this checkout: no real log was read")]
fn every_real_log_split_two_to_eight_ways_merges_into_its_single_derive() {
    let dir = real_logs();
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.tsv")).unwrap();
    let (mut compared, mut identical) = (0, 0);
    for row in manifest.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let fields: Vec<&str> = row.split('\t').collect();
        let (path, format_arg) = (dir.join(fields[0]), fields[2]);
        let format: Option<Format> = (format_arg != "auto").then(|| format_arg.parse().unwrap());
        let mut bytes = std::fs::read(&path).unwrap();
        // A gzipped log is split as its lines, as rotated files would be.
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut plain = Vec::new();
            let _ = std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(bytes.as_slice()), &mut plain);
            bytes = plain;
        }
        let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        if lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        // A W3C log's header lines (`#Fields:`) open every rotated file: each part gets them.
        let header_len = lines.iter().take_while(|l| l.starts_with(b"#")).count();
        let (header, body) = lines.split_at(header_len);
        let ordered = in_time_order(&path, format.as_ref());
        for (k, seed) in [(2, None), (3, None), (5, Some(11)), (8, None)] {
            let points = cuts(body.len(), k, seed);
            let parts: Vec<&[&[u8]]> = points.windows(2).map(|w| &body[w[0]..w[1]]).filter(|p| !p.is_empty()).collect();
            let work = tempfile::tempdir().unwrap();
            let inputs = write_parts(work.path(), header, &parts);
            // Parts too small to tell their format from are not a split a fleet makes.
            if inputs.iter().any(|i| derive(&config(vec![i.clone()], format.as_ref())).is_err()) {
                continue;
            }
            let mut paths = partials(work.path(), &inputs, format.as_ref());
            paths.reverse();
            let merged = merged(&paths);
            let single = single(&merged, format.as_ref());
            compared += 1;
            let (mut m, mut s): (Value, Value) = (serde_json::from_str(&merged).unwrap(), serde_json::from_str(&single).unwrap());
            // Counts and bins add exactly, whatever the log's order; so do the weights, but where a
            // log's paths fold while streaming (more than 4,096 templates), within half a percent.
            let what = format!("{} in {k} parts", fields[0]);
            assert_exact_but_for_streaming_folds(&m, &s, &what);
            let folded_alike = mix_distance(&m, &s) == 0.0;
            if folded_alike {
                let (m_sessions, s_sessions) = (m["sessions"].take(), s["sessions"].take());
                assert_eq!(m, s, "{what}: the merged profile differs beyond its sessions");
                assert_eq!(m_sessions["count"], s_sessions["count"], "{what}: sessions");
            }
            // In time order, and folded alike, the sessions join exactly too: the same bytes.
            if ordered && folded_alike {
                assert_eq!(merged, single, "{} in {k} parts, in time order: byte for byte", fields[0]);
                identical += 1;
            }
        }
    }
    // Parts too small to tell a format from are skipped; most splits of most logs are not.
    let logs = manifest.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()).count();
    assert!(compared * 2 >= logs * 4, "{compared} of {} splits compared ({identical} byte for byte)", logs * 4);
}

/// How [`generated_day`]'s lines read.
pub const GENERATED_FORMAT: &str = "json:time=ts,client=ip,method=method,path=uri,status=status,bytes=size,duration=dur_ms";

/// A generated day: logins, browsing by id, a long tail of distinct product slugs (so the
/// template table folds as it streams), whole-second and millisecond times.
pub fn generated_day(lines: usize) -> Vec<Vec<u8>> {
    let mut s: u64 = 42;
    let mut next = |m: u64| {
        s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (s >> 33) % m
    };
    let letters = |n: u64, len: usize| -> String { (0..len).map(|i| (b'a' + ((n >> (i * 3)) % 26) as u8) as char).collect() };
    let mut out = Vec::with_capacity(lines);
    let mut t_ms: u64 = 0;
    for _ in 0..lines {
        t_ms += next(400);
        // A pool of 300 users that drifts every ten minutes, so sessions end as others begin.
        let user = (t_ms / 600_000 * 150 + next(300)) % 60_000;
        let path = match next(10) {
            0 => "/login".to_owned(),
            1..=3 => format!("/users/{}", next(5000)),
            4..=6 => format!("/p/{}/{}", letters(next(1 << 40), 8), letters(next(1 << 40), 10)),
            7 => format!("/blog/{}", ["intro", "pricing", "faq"][next(3) as usize]),
            _ => "/".to_owned(),
        };
        let method = if path == "/login" { "POST" } else { "GET" };
        let (secs, ms) = (1_700_000_000 + t_ms / 1000, t_ms % 1000);
        out.push(
            format!(
                r#"{{"ts":{secs}.{ms:03},"ip":"10.{}.{}.{}","method":"{method}","uri":"{path}","status":{},"size":{},"dur_ms":{}}}"#,
                user / 65_536,
                user / 256 % 256,
                user % 256,
                [200, 200, 200, 404, 302][next(5) as usize],
                100 + next(5000),
                next(900)
            )
            .into_bytes(),
        );
    }
    out
}

#[test]
fn a_generated_day_merges_byte_for_byte_in_any_order_and_grouping() {
    let format: Format = GENERATED_FORMAT.parse().unwrap();
    let day = generated_day(60_000);
    let body: Vec<&[u8]> = day.iter().map(Vec::as_slice).collect();
    let work = tempfile::tempdir().unwrap();
    let points = cuts(body.len(), 4, None);
    let parts: Vec<&[&[u8]]> = points.windows(2).map(|w| &body[w[0]..w[1]]).collect();
    let inputs = write_parts(work.path(), &[], &parts);
    let p = partials(work.path(), &inputs, Some(&format));
    let all = merged(&[p[2].clone(), p[0].clone(), p[3].clone(), p[1].clone()]);
    let single = single(&all, Some(&format));
    let profile: Value = serde_json::from_str(&single).unwrap();
    assert!(profile["endpoints"].as_array().unwrap().iter().any(|e| e["path"] == "/p/{param}/{param2}"), "the slugs fold");
    assert!(profile["sessions"]["count"].as_u64().unwrap() > 100);
    assert_eq!(all, single, "four partials merged, against one derive");
    // (p0 p1) (p2 p3), then together; and ((p3 p2) p1) p0: the same bytes.
    let left = merged_partial(&[p[0].clone(), p[1].clone()], &work.path().join("left.json"));
    let right = merged_partial(&[p[3].clone(), p[2].clone()], &work.path().join("right.json.gz"));
    assert_eq!(merged(&[right.clone(), left]), single);
    let three = merged_partial(&[right, p[1].clone()], &work.path().join("three.json"));
    assert_eq!(merged(&[p[0].clone(), three]), single);
}

/// The total variation distance between two profiles' endpoint mixes.
fn mix_distance(a: &Value, b: &Value) -> f64 {
    let weights = |p: &Value| -> std::collections::HashMap<String, f64> {
        let endpoints = p["endpoints"].as_array().unwrap().iter();
        endpoints.map(|e| (format!("{} {}", e["method"], e["path"]), e["weight"].as_f64().unwrap())).collect()
    };
    let (wa, wb) = (weights(a), weights(b));
    let keys: std::collections::HashSet<&String> = wa.keys().chain(wb.keys()).collect();
    keys.iter().map(|k| (wa.get(*k).unwrap_or(&0.0) - wb.get(*k).unwrap_or(&0.0)).abs()).sum::<f64>() / 2.0
}

/// A merged profile against one derive's: what was read, the curve, the segments' kinds and
/// spans and the sessions counted are exact; where paths fold while streaming, a literal popular
/// in one part's hours may stay apart there only (docs/distributed.md), so the mix moves, by
/// at most half a percent.
fn assert_exact_but_for_streaming_folds(merged: &Value, single: &Value, what: &str) {
    for part in ["source", "arrival"] {
        assert_eq!(merged[part], single[part], "{what}: {part}");
    }
    let spans = |p: &Value| -> Vec<(Value, Value, Value)> {
        p["segments"].as_array().unwrap().iter().map(|s| (s["kind"].clone(), s["start_s"].clone(), s["end_s"].clone())).collect()
    };
    assert_eq!(spans(merged), spans(single), "{what}: segments");
    assert_eq!(merged["sessions"]["count"], single["sessions"]["count"], "{what}: sessions");
    let distance = mix_distance(merged, single);
    assert!(distance < 0.005, "{what}: mix distance {distance}");
}

/// bench/gen_realistic.rs, compiled into `dir`.
fn benchmark_generator(dir: &Path) -> PathBuf {
    let binary = dir.join("gen_realistic");
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let built = std::process::Command::new(rustc)
        .args(["-O", "--edition", "2024", "-o"])
        .arg(&binary)
        .arg(crate::util::root().join("bench/gen_realistic.rs"))
        .output()
        .unwrap();
    assert!(built.status.success(), "{}", text(&built.stderr));
    binary
}

#[test]
fn the_benchmarks_generated_logs_split_in_parts_merge_exactly_but_for_streaming_folds() {
    let work = tempfile::tempdir().unwrap();
    let generator = benchmark_generator(work.path());
    // A realistic day (sessions, logins, crawlers, scanners, folding slugs) and the short-slug worst case.
    for (args, ways) in [(&["12", "7"][..], [3, 6]), (&["6", "7", "short-slugs"][..], [2, 7])] {
        let made = std::process::Command::new(&generator).args(args).output().unwrap();
        assert!(made.status.success());
        let lines: Vec<&[u8]> = made.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()).collect();
        for k in ways {
            let dir = tempfile::tempdir().unwrap();
            let points = cuts(lines.len(), k, None);
            let parts: Vec<&[&[u8]]> = points.windows(2).map(|w| &lines[w[0]..w[1]]).collect();
            let inputs = write_parts(dir.path(), &[], &parts);
            let mut paths = partials(dir.path(), &inputs, None);
            paths.rotate_left(1);
            let merged = merged(&paths);
            let single = single(&merged, None);
            let (m, s): (Value, Value) = (serde_json::from_str(&merged).unwrap(), serde_json::from_str(&single).unwrap());
            assert_exact_but_for_streaming_folds(&m, &s, &format!("{args:?} in {k} parts"));
        }
    }
}

#[test]
fn a_session_split_across_two_files_stays_one_session() {
    let line =
        |t: &str, path: &str| format!(r#"203.0.113.9 - - [18/May/2015:{t} +0000] "GET {path} HTTP/1.1" 200 10 "-" "agent""#).into_bytes();
    let first = [line("10:00:00", "/login"), line("10:00:05", "/home"), line("10:00:09", "/cart")];
    let second = [line("10:00:20", "/checkout"), line("10:00:31", "/thanks"), line("11:30:00", "/home")];
    let work = tempfile::tempdir().unwrap();
    let (a, b): (Vec<&[u8]>, Vec<&[u8]>) = (first.iter().map(Vec::as_slice).collect(), second.iter().map(Vec::as_slice).collect());
    let inputs = write_parts(work.path(), &[], &[&a, &b]);
    let p = partials(work.path(), &inputs, None);
    let edges: Vec<usize> = p.iter().map(|path| partial::load(Path::new(path)).unwrap().state.sessions.edges.len()).collect();
    assert_eq!(edges, [1, 2], "the first file's open session, the second's head and its tail");
    let merged: Value = serde_json::from_str(&merged(&p)).unwrap();
    let sessions = &merged["sessions"];
    // One five-request session across the files, and one after 90 idle minutes.
    assert_eq!(sessions["count"], 2);
    assert_eq!(sessions["length"]["max"], 5.0);
    let flow = sessions["flows"][0]["steps"].as_array().unwrap();
    assert_eq!(flow.len(), 5, "{flow:?}");
    assert_eq!(flow[3], "GET /checkout");
    assert_eq!(merged.to_string(), serde_json::from_str::<Value>(&single(&merged.to_string(), None)).unwrap().to_string());
}

fn partial_of(dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let out = dir.join(name);
    let mut args = vec!["derive", "--partial", "fixtures/logs/combined.log", "-o", out.to_str().unwrap()];
    args.extend_from_slice(extra);
    let run = replay(&args, b"");
    assert_eq!(run.status.code(), Some(0), "{}", text(&run.stderr));
    out
}

#[test]
fn the_command_line_writes_gzip_partials_merges_them_and_refuses_a_mismatch() {
    let work = tempfile::tempdir().unwrap();
    let a = partial_of(work.path(), "a.json.gz", &[]);
    assert_eq!(std::fs::read(&a).unwrap()[..2], [0x1f, 0x8b], "a .gz partial is gzipped");
    let b = partial_of(work.path(), "b.json", &["--session-gap", "10m"]);
    let out = replay(&["derive", "--merge", a.to_str().unwrap(), b.to_str().unwrap()], b"");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("--session-gap: 30 m here, 10 m there") && err.contains("b.json"), "{err}");
    let profile = work.path().join("profile.json");
    let out = replay(&["derive", "--merge", a.to_str().unwrap(), "-o", profile.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let single = replay(&["derive", "fixtures/logs/combined.log"], b"");
    let (merged, single): (Value, Value) =
        (serde_json::from_slice(&std::fs::read(&profile).unwrap()).unwrap(), serde_json::from_slice(&single.stdout).unwrap());
    assert_eq!(merged["endpoints"], single["endpoints"]);
    assert_eq!(replay(&["check", profile.to_str().unwrap()], b"").status.code(), Some(0));
    // A gzip partial that fails its checksum is refused, though all its JSON was read.
    let mut broken = std::fs::read(&a).unwrap();
    let crc = broken.len() - 8;
    broken[crc] ^= 0xff;
    let bad = work.path().join("bad.json.gz");
    std::fs::write(&bad, &broken).unwrap();
    let out = replay(&["derive", "--merge", bad.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("bad.json.gz: cannot read"), "{}", text(&out.stderr));
    // A log given to --merge is named for what it is.
    let out = replay(&["derive", "--merge", "fixtures/logs/combined.log"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("combined.log: is not a partial profile"), "{}", text(&out.stderr));
    for refused in [&["derive", "--merge", "--since", "2020-01-01", "x.json"][..], &["derive", "--partial", "--trace", "t.csv", "x.log"]] {
        let out = replay(refused, b"");
        assert_eq!(out.status.code(), Some(2), "{refused:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains("cannot be used with"), "{}", text(&out.stderr));
    }
}

/// Every number in `json` (as text), with its byte range.
fn numbers(json: &str) -> Vec<(usize, usize)> {
    let bytes = json.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut in_string = false;
    while i < bytes.len() {
        match bytes[i] {
            b'"' if i == 0 || bytes[i - 1] != b'\\' => in_string = !in_string,
            b'-' | b'0'..=b'9' if !in_string => {
                let start = i;
                while i + 1 < bytes.len() && matches!(bytes[i + 1], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
                    i += 1;
                }
                out.push((start, i + 1));
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[test]
fn hostile_partials_get_an_error_naming_the_field_never_a_panic() {
    let work = tempfile::tempdir().unwrap();
    let good = partial_of(work.path(), "good.json", &[]);
    let json = std::fs::read_to_string(&good).unwrap();
    let bad = work.path().join("bad.json");
    let merge = |text: &str| {
        std::fs::write(&bad, text).unwrap();
        let paths = [good.display().to_string(), bad.display().to_string()];
        let result = std::panic::catch_unwind(|| merge_partials(&paths).and_then(|m| m.into_profile(&DeriveConfig::new(paths.to_vec()))))
            .unwrap_or_else(|_| panic!("a panic on {text}"));
        match result {
            // What a merge accepts makes a profile `run` accepts.
            Ok(derived) => {
                let profile = work.path().join("merged.json");
                std::fs::write(&profile, replay::profile::to_pretty_json(&derived.profile)).unwrap();
                replay::profile::load::load(&profile)
                    .map(|_| None)
                    .unwrap_or_else(|e| panic!("the merge of {text} made a bad profile: {e}"))
            }
            Err(e) => Some(e.to_string()),
        }
    };
    for (edit, field) in [
        (json.replacen("\"replay derive partial\"", "\"profile\"", 1), "kind"),
        (json.replacen("\"version\":1", "\"version\":9", 1), "version"),
        (json.replacen("\"session_gap_s\":1800", "\"session_gap_s\":0", 1), "settings"),
        (json.replacen("\"count\":", "\"count\":18446744073709551615,\"x\":", 1), "templates[0]"),
        (json.replacen("\"resolution_s\":1,", "\"resolution_s\":7,", 1), "state.arrival.resolution_s"),
        (json[..json.len() / 2].to_owned(), "cut short"),
    ] {
        let error = merge(&edit).unwrap_or_else(|| panic!("accepted a partial with a bad {field}"));
        assert!(error.contains(field) && error.contains("bad.json"), "{field}: {error}");
    }
    // Template keys no derive makes: refused, or merged into a profile that loads.
    for key in ["GET {", "GET /{id", "* *", "GET /a b", "G\\u0000T /x", "GET //", "OTHER /{overflow}", "GET /{param}/{param}"] {
        let first_key = json.find("\"key\":\"").unwrap() + 7;
        let end = first_key + json[first_key..].find('"').unwrap();
        let _ = merge(&format!("{}{key}{}", &json[..first_key], &json[end..]));
    }
    // Every number in turn (of this partial, and up to 500 of one with sessions and folded slugs),
    // replaced by values that break bounds: refused or merged, never a panic, and what merges loads.
    let format: Format = GENERATED_FORMAT.parse().unwrap();
    let day = generated_day(40_000);
    let lines: Vec<&[u8]> = day.iter().map(Vec::as_slice).collect();
    let inputs = write_parts(work.path(), &[], &[&lines]);
    let rich = std::fs::read_to_string(&partials(work.path(), &inputs, Some(&format))[0]).unwrap();
    assert!(
        rich.contains("\"edges\":[{") && rich.contains("\"flows\":[["),
        "the rich partial has open sessions and flows: {}",
        &rich[rich.find("\"sessions\"").unwrap_or(0)..][..300]
    );
    let values = ["0", "-1", "4294967296", "18446744073709551615", "-9223372036854775808", "1e308", "65535", "3"];
    let (mut tried, mut refused) = (0, 0);
    for text in [&json, &rich] {
        let spots = numbers(text);
        let step = spots.len().div_ceil(500);
        for (n, &(start, end)) in spots.iter().enumerate().step_by(step) {
            let edited = format!("{}{}{}", &text[..start], values[n % values.len()], &text[end..]);
            tried += 1;
            if merge(&edited).is_some() {
                refused += 1;
            }
        }
    }
    assert!(refused > tried / 4, "{refused} of {tried} edits refused");
}
