//! The command line as a user meets it: help, version, exit codes, and what
//! bad usage and bad input say.

use crate::util::{replay, text};
use std::io::Write;

fn stderr_of(args: &[&str], stdin: &[u8]) -> (Option<i32>, String) {
    let out = replay(args, stdin);
    (out.status.code(), text(&out.stderr))
}

#[test]
fn help_and_version() {
    let out = replay(&["--help"], b"");
    let help = text(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(help.contains("derive") && help.contains("parse"), "{help}");
    let out = replay(&["derive", "--help"], b"");
    let help = text(&out.stdout);
    for needle in
        ["--format", "--output", "--strict", "nginx:", "apache:", "json:time=", "haproxy", "Exit codes: 0 done, 2 bad usage or input"]
    {
        assert!(help.contains(needle), "derive --help lacks {needle}: {help}");
    }
    let out = replay(&["--version"], b"");
    assert_eq!(text(&out.stdout).trim(), format!("replay {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn bad_usage_exits_2_with_a_hint() {
    let table: [(&[&str], &str); 5] = [
        (&["derive"], "required"),
        (&["derive", "-f", "syslog", "x.log"], "unknown format"),
        (&["derive", "-f", "apache", "x.log"], "needs its LogFormat"),
        (&["derive", "-f", "nginx:no variables here", "x.log"], "no $variable"),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, needle) in table {
        let (code, stderr) = stderr_of(args, b"");
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
}

#[test]
fn bad_input_exits_2_and_names_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.log");
    std::fs::write(&empty, b"").unwrap();
    let nonsense = dir.path().join("nonsense.log");
    std::fs::write(&nonsense, "hello there\n".repeat(50)).unwrap();
    let d = dir.path().to_str().unwrap();
    let table: Vec<(Vec<&str>, &str)> = vec![
        (vec!["derive", "no/such/file.log"], "no/such/file.log: no such file"),
        (vec!["derive", d], "is a directory"),
        (vec!["derive", empty.to_str().unwrap()], "no request lines found"),
        (vec!["derive", nonsense.to_str().unwrap()], "could not tell the log format"),
        (vec!["derive", "-f", "elb", "fixtures/logs/combined.log"], "do not look like elb"),
        (
            vec!["derive", "--strict", "fixtures/logs/combined.log"],
            "combined.log:14: expected a [dd/Mon/yyyy:HH:MM:SS +zzzz] time at column 1",
        ),
    ];
    for (args, needle) in table {
        let (code, stderr) = stderr_of(&args, b"");
        assert_eq!(code, Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    let (_, stderr) = stderr_of(&["derive", nonsense.to_str().unwrap()], b"");
    assert!(stderr.contains("--format") && stderr.contains("common read 0 of 50 lines"), "{stderr}");
}

#[test]
fn truncated_gzip_keeps_what_came_before() {
    let mut log = String::new();
    for i in 0..5000 {
        log.push_str(&format!("192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /page/{i} HTTP/1.1\" 200 {i} \"-\" \"ua\"\n"));
    }
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(log.as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    let cut = &bytes[..bytes.len() * 2 / 3];
    let out = replay(&["derive", "-"], cut);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("input ended early"), "{stderr}");
    let profile: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let records = profile["source"]["records"].as_u64().unwrap();
    assert!(records > 1000 && records < 5000, "{records}");
    assert_eq!(profile["source"]["rejected"].as_u64(), Some(0), "no half line is invented");
    let (code, stderr) = stderr_of(&["derive", "--strict", "-"], cut);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("ended early"), "{stderr}");
}

#[test]
fn huge_lines_nul_bytes_and_invalid_utf8_are_counted_not_fatal() {
    let good = b"192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"\n";
    let mut input = Vec::new();
    for _ in 0..10 {
        input.extend_from_slice(good);
    }
    input.extend(std::iter::repeat_n(b'x', 10 << 20));
    input.push(b'\n');
    input.extend_from_slice(b"\0\0\xff\xfe garbage\n");
    input.extend_from_slice(b"192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] \"GET /\xff\xfe HTTP/1.1\" 200 1 \"-\" \"\0\"\n");
    let out = replay(&["derive", "-"], &input);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let profile: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let source = &profile["source"];
    assert_eq!((source["lines"].as_u64(), source["records"].as_u64(), source["rejected"].as_u64()), (Some(13), Some(11), Some(2)));
    assert!(stderr.contains("<stdin>:11: rejected: expected a line shorter than 1 MiB"), "{stderr}");
}

#[test]
fn output_file_and_parse_command() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("profile.json");
    let out = replay(&["derive", "fixtures/logs/common.log", "-o", path.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    let profile: replay::profile::Profile = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(profile.source.unwrap().records, 4);

    let out = replay(&["parse", "-n", "2", "fixtures/logs/common.log"], b"");
    let lines: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["path"], "/");
    assert_eq!(lines[1]["status"], 304);
}
