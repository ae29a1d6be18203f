//! What must never happen, checked from outside the binary: secrets in any
//! output, traffic before the results folder is known to be writable,
//! results overwritten silently, and hostile profiles growing memory or
//! hanging (each must exit 2 naming its field, under a memory limit).

use crate::run::{raw_target, runtime};
use crate::util::{root, text};
use std::io::{Read, Write};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex};

/// Runs `replay` with its address space limited to `limit_mb`, for `secs` at most.
fn replay_limited(args: &[&str], limit_mb: u64, secs: u64) -> Output {
    use std::os::unix::process::CommandExt;
    let mut command = Command::new(env!("CARGO_BIN_EXE_replay"));
    command.args(args).current_dir(root()).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    // SAFETY: setrlimit is async-signal-safe, and the closure touches nothing else.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: limit_mb << 20, rlim_max: limit_mb << 20 };
            if libc::setrlimit(libc::RLIMIT_AS, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = command.spawn().expect("replay starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if child.try_wait().unwrap().is_some() {
            return child.wait_with_output().unwrap();
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!("replay {args:?} did not finish within {secs} s: {}", text(&out.stderr));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[test]
fn hostile_profiles_exit_2_naming_the_field_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let endpoint = r#""endpoints": [{"method": "GET", "path": "/", "weight": 1}]"#;
    let table: [(&str, String, &[&str], &str); 10] = [
        (
            "wide-bin",
            format!(r#"{{"version": 1, {endpoint}, "arrival": {{"bin_s": 4294967295, "counts": [1]}}}}"#),
            &["check"],
            "arrival.bin_s",
        ),
        (
            "wrap",
            format!(r#"{{"version": 1, {endpoint}, "arrival": {{"bin_s": 1, "counts": [18446744073709551615, 1]}}}}"#),
            &["check"],
            "arrival.counts[0]",
        ),
        (
            "wrap-plan",
            format!(r#"{{"version": 1, {endpoint}, "arrival": {{"bin_s": 1, "counts": [9223372036854775807, 9223372036854775807]}}}}"#),
            &["plan", "--host", "http://127.0.0.1:9", "--speed", "1"],
            "arrival.counts[0]",
        ),
        (
            "huge-weight",
            format!(
                r#"{{"version": 1, "endpoints": [{{"method": "GET", "path": "/", "weight": 1e308}}, {{"method": "GET", "path": "/b", "weight": 1e308}}], "arrival": {{"bin_s": 1, "counts": [1]}}}}"#
            ),
            &["check"],
            "endpoints[0].weight",
        ),
        (
            "fast",
            format!(r#"{{"version": 1, {endpoint}, "arrival": {{"bin_s": 60, "counts": [600]}}}}"#),
            &["plan", "--host", "http://127.0.0.1:9", "--rate-scale", "1e12"],
            "past the ceiling",
        ),
        (
            "fast-run",
            format!(r#"{{"version": 1, {endpoint}, "arrival": {{"bin_s": 60, "counts": [600]}}}}"#),
            &["run", "--host", "http://127.0.0.1:9", "--rate-scale", "1e12"],
            "past the ceiling",
        ),
        (
            "one-bin",
            format!(r#"{{"version": 1, {endpoint}, "arrival": {{"bin_s": 86400, "counts": [1000000000000000]}}}}"#),
            &["plan", "--host", "http://127.0.0.1:9", "--speed", "1"],
            "past the ceiling",
        ),
        (
            "long-sessions",
            format!(
                r#"{{"version": 1, {endpoint}, "arrival": {{"bin_s": 1, "counts": [1]}}, "sessions": {{"key": "user", "gap_s": 1, "count": 1, "length": {{"p50": -1, "p90": 1e18, "p99": 1e18}}, "flows": []}}}}"#
            ),
            &["check"],
            "sessions.length.p50",
        ),
        (
            "negative-think-minimum",
            format!(
                r#"{{"version": 1, {endpoint}, "arrival": {{"bin_s": 1, "counts": [1]}}, "sessions": {{"key": "user", "gap_s": 1, "count": 1, "think_time_s": {{"min": -0.5, "p50": 1, "p90": 1, "p99": 1}}, "flows": []}}}}"#
            ),
            &["check"],
            "sessions.think_time_s.min",
        ),
        ("typed", format!(r#"{{"version": 1, {endpoint}, "arrival": {{"bin_s": "sixty", "counts": [1]}}}}"#), &["check"], "arrival.bin_s"),
    ];
    for (name, json, args, needle) in table {
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, json).unwrap();
        let mut full: Vec<&str> = args[..1].to_vec();
        full.push(path.to_str().unwrap());
        full.extend(&args[1..]);
        let out = replay_limited(&full, 1024, 20);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {stderr}");
        assert!(stderr.contains(needle), "{name}: {stderr}");
    }
    // Sessions a quintillion requests long are cut when drawn: the run stays small.
    let long = dir.path().join("long.json");
    std::fs::write(&long, format!(r#"{{"version": 1, {endpoint}, "arrival": {{"bin_s": 1, "counts": [500000]}}, "sessions": {{"key": "user", "gap_s": 1, "count": 1, "length": {{"p50": 1e18, "p90": 1e18, "p99": 1e18}}, "think_time_s": {{"p50": 0, "p90": 0, "p99": 0}}, "flows": []}}}}"#)).unwrap();
    let out_dir = dir.path().join("out");
    let out = replay_limited(
        &[
            "run",
            long.to_str().unwrap(),
            "--host",
            "http://127.0.0.1:9",
            "--sessions",
            "--max-requests",
            "20",
            "--out",
            out_dir.to_str().unwrap(),
        ],
        1024,
        20,
    );
    // It ran, and failed its default verdict: nothing listens there.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("every request failed"), "{}", text(&out.stdout));
    // An endless file that is not a profile.
    let out = replay_limited(&["run", "/dev/zero", "--host", "http://127.0.0.1:9"], 1024, 20);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("over 64 MiB"), "{}", text(&out.stderr));
}

/// A target that answers 500 to everything and keeps every request head it got.
fn failing_target(rt: &tokio::runtime::Runtime) -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let heads = Arc::new(Mutex::new(Vec::new()));
    let kept = Arc::clone(&heads);
    let addr = raw_target(rt, move |mut stream| {
        let kept = Arc::clone(&kept);
        async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                let end = got.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
                kept.lock().unwrap().push(String::from_utf8_lossy(&got[..end]).into_owned());
                got.drain(..end);
                if stream.write_all(b"HTTP/1.1 500 Internal Server Error\r\ncontent-length: 0\r\n\r\n").await.is_err() {
                    return;
                }
            }
        }
    });
    (addr, heads)
}

#[test]
fn planted_secrets_reach_no_output() {
    let rt = runtime();
    let (addr, heads) = failing_target(&rt);
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.json");
    std::fs::write(
        &profile,
        r#"{"version": 1, "endpoints": [
            {"method": "GET", "path": "/u/{user_id}", "weight": 1, "query": [{"key": "api_key", "share": 1.0, "placeholder": "{api_key}"}]}],
            "arrival": {"bin_s": 1, "counts": [20]}}"#,
    )
    .unwrap();
    let vars = dir.path().join("vars.csv");
    std::fs::write(&vars, "api_key\nSECRET-VARS-FILE-2\n").unwrap();
    let out_dir = dir.path().join("out");
    let host = format!("http://ops:SECRET-URL-4@{addr}");
    let flags = [
        "--host",
        &host,
        "--var",
        "user_id=SECRET-VAR-1",
        "--vars",
        vars.to_str().unwrap(),
        "--header",
        "X-Api-Token: SECRET-HEADER-3",
        "--speed",
        "10",
    ];
    let run = crate::util::replay(&[&["run", profile.to_str().unwrap()][..], &flags, &["--out", out_dir.to_str().unwrap()]].concat(), b"");
    let plan = crate::util::replay(&[&["plan", profile.to_str().unwrap()][..], &flags].concat(), b"");
    // Every answer is a 500: the default verdict fails the run (exit 1).
    assert_eq!(run.status.code(), Some(1), "{}", text(&run.stderr));
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    // The target got them all: they were used.
    let got = heads.lock().unwrap().join("\n");
    for secret in ["SECRET-VAR-1", "SECRET-VARS-FILE-2", "SECRET-HEADER-3"] {
        assert!(got.contains(secret), "the target should receive {secret}: {got}");
    }
    assert!(got.contains("authorization: Basic b3BzOlNFQ1JFVC1VUkwtNA=="), "the URL's credentials go as Basic authentication: {got}");
    // No output holds any of them.
    let mut outputs =
        vec![("run stdout", text(&run.stdout)), ("run stderr", text(&run.stderr)), ("plan", text(&plan.stdout) + &text(&plan.stderr))];
    for entry in std::fs::read_dir(&out_dir).unwrap() {
        let path = entry.unwrap().path();
        let mut content = String::new();
        std::fs::File::open(&path).unwrap().read_to_string(&mut content).unwrap();
        outputs.push(("results file", content));
    }
    for (what, content) in &outputs {
        for secret in ["SECRET-VAR-1", "SECRET-VARS-FILE-2", "SECRET-HEADER-3", "SECRET-URL-4", "b3BzOlNFQ1JFVC1VUkwtNA"] {
            assert!(!content.contains(secret), "{what} leaks {secret}:\n{content}");
        }
    }
    let results = &outputs[3].1;
    assert!(results.contains("HTTP 500 from GET /u/{user_id}"), "failure examples name the template: {results}");
    // Malformed flags do not echo what they were given.
    for bad in [["--header", "Authorization Bearer SECRET-5"], ["--var", "SECRET-5"], ["--host", "ftp://u:SECRET-5@x"]] {
        let out = crate::util::replay(&[&["run", profile.to_str().unwrap(), "--host", "http://127.0.0.1:9"][..], &bad].concat(), b"");
        assert_eq!(out.status.code(), Some(2));
        assert!(!text(&out.stderr).contains("SECRET-5"), "{bad:?}: {}", text(&out.stderr));
    }
}

#[test]
fn the_results_folder_is_checked_before_any_traffic_and_never_overwritten_silently() {
    let rt = runtime();
    let (addr, heads) = failing_target(&rt);
    let dir = tempfile::tempdir().unwrap();
    let host = format!("http://{addr}");
    // A folder that cannot be made: a file stands in its way.
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "").unwrap();
    let out = crate::util::replay(
        &["run", "profiles/steady.json", "--host", &host, "--speed", "60", "--out", blocker.join("results").to_str().unwrap()],
        b"",
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("choose another --out"), "{}", text(&out.stderr));
    assert!(heads.lock().unwrap().is_empty(), "no traffic before the results folder is known to work");
    // A folder with results in it.
    let used = dir.path().join("used");
    std::fs::create_dir(&used).unwrap();
    std::fs::File::create(used.join("results.json")).unwrap().write_all(b"{\"kept\": true}").unwrap();
    let out = crate::util::replay(&["run", "profiles/steady.json", "--host", &host, "--speed", "60", "--out", used.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("--overwrite"), "{}", text(&out.stderr));
    assert_eq!(std::fs::read_to_string(used.join("results.json")).unwrap(), "{\"kept\": true}");
    assert!(heads.lock().unwrap().is_empty());
    let out = crate::util::replay(
        &[
            "run",
            "profiles/steady.json",
            "--host",
            &host,
            "--speed",
            "600",
            "--max-requests",
            "5",
            "--out",
            used.to_str().unwrap(),
            "--overwrite",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1), "500s fail the default verdict: {}", text(&out.stderr));
    assert!(std::fs::read_to_string(used.join("results.json")).unwrap().contains("\"intended\": 5"));
}

#[test]
fn a_trace_takes_its_values_from_a_vars_file() {
    let rt = runtime();
    let (addr, heads) = failing_target(&rt);
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.csv");
    std::fs::write(&trace, "offset_s,method,template,target,session\n0.0,GET,/s/{token},/s/{token},a\n0.1,GET,/s/{token},/s/{token},a\n")
        .unwrap();
    let vars = dir.path().join("vars.csv");
    std::fs::write(&vars, "token\nfrom-the-file\n").unwrap();
    let out = crate::util::replay(
        &[
            "run",
            trace.to_str().unwrap(),
            "--host",
            &format!("http://{addr}"),
            "--vars",
            vars.to_str().unwrap(),
            "--out",
            dir.path().join("r").to_str().unwrap(),
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(1), "the target answers 500 to all: {}", text(&out.stderr));
    let got = heads.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|h| h.starts_with("GET /s/from-the-file HTTP/1.1")), "{got:?}");
    // plan reads traces too.
    let out =
        crate::util::replay(&["plan", trace.to_str().unwrap(), "--host", "http://127.0.0.1:9", "--vars", vars.to_str().unwrap()], b"");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("about 2 requests"), "{}", text(&out.stdout));
    // A bad trace row names its row and column.
    std::fs::write(&trace, "offset_s,method,template,target,session\nsoon,GET,/,/,a\n").unwrap();
    let out = crate::util::replay(&["run", trace.to_str().unwrap(), "--host", "http://127.0.0.1:9"], b"");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("row 2") && text(&out.stderr).contains("offset_s"), "{}", text(&out.stderr));
}
