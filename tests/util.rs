//! Shared test helpers: where things are, running the binary, golden files.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the built `replay` with `args` in the crate root, feeding `stdin`.
pub fn replay(args: &[&str], stdin: &[u8]) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_replay"))
        .args(args)
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("replay starts");
    let mut input = child.stdin.take().expect("stdin is piped");
    let stdin = stdin.to_vec();
    let feeder = std::thread::spawn(move || {
        let _ = input.write_all(&stdin);
    });
    let output = child.wait_with_output().expect("replay runs");
    feeder.join().expect("stdin feeder");
    output
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Compares `actual` with the golden file, or rewrites it when `UPDATE_GOLDEN=1`.
pub fn golden(path: &Path, actual: &str) {
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(path, actual).expect("golden file written");
        return;
    }
    let expected = std::fs::read_to_string(path)
        .unwrap_or_else(|_| panic!("{} is missing; run UPDATE_GOLDEN=1 cargo test to create it", path.display()));
    if expected != actual {
        let first_diff =
            expected.lines().zip(actual.lines()).position(|(e, a)| e != a).unwrap_or(expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs at line {}:\n  expected: {}\n  actual:   {}\n(UPDATE_GOLDEN=1 cargo test rewrites golden files)",
            path.display(),
            first_diff + 1,
            expected.lines().nth(first_diff).unwrap_or("<end>"),
            actual.lines().nth(first_diff).unwrap_or("<end>")
        );
    }
}

/// `../shared/real-logs`; the tests that read it are ignored (and say so) where it is missing.
pub fn real_logs() -> PathBuf {
    let dir = root().join("../shared/real-logs");
    assert!(dir.join("MANIFEST.tsv").is_file(), "{} is missing", dir.display());
    dir
}

#[test]
fn ci_has_the_real_logs() {
    if std::env::var_os("CI").is_some() {
        assert!(root().join("../shared/real-logs/MANIFEST.tsv").is_file(), "CI must have ../shared/real-logs beside the checkout");
    }
}
