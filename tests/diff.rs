//! `replay diff` from the command line: exit codes, the JSON and Markdown it writes.

use crate::util::{replay, text};

#[test]
fn diff_exits_by_its_conditions_and_writes_json_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let derived = dir.path().join("demo.json");
    assert_eq!(replay(&["derive", "fixtures/demo/access.log", "-o", derived.to_str().unwrap()], b"").status.code(), Some(0));
    let p = derived.to_str().unwrap();
    // The same profile: within the default conditions.
    let same = replay(&["diff", p, p], b"");
    assert_eq!(same.status.code(), Some(0), "{}", text(&same.stdout));
    assert!(text(&same.stdout).starts_with("diff: within the conditions; mix distance 0.0000 (within noise), correlation 1.000"));
    // Against the hand-written steady profile: GET /users/{id} is gone, the mix moved, the shape differs.
    let (json, md) = (dir.path().join("d.json"), dir.path().join("d.md"));
    let args = ["diff", p, "profiles/steady.json", "--fail-on", "mix<0.05", "--json", json.to_str().unwrap(), "--md", md.to_str().unwrap()];
    let moved = replay(&args, b"");
    assert_eq!(moved.status.code(), Some(1), "{}", text(&moved.stdout));
    let out = text(&moved.stdout);
    assert!(out.contains("FAIL mix<0.05") && out.contains("GET /users/{id}") && out.contains("gone"), "{out}");
    assert!(out.contains("not compared: sample sizes"), "{out}");
    let d: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert!(d["mix"]["distance"].as_f64().unwrap() > 0.1 && d["judged"][0]["holds"] == false, "{d}");
    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(markdown.starts_with("### replay diff: BEYOND the conditions") && markdown.contains("| `GET /users/{id}` |"), "{markdown}");
    // A condition with a typo is bad input.
    let bad = replay(&["diff", p, p, "--fail-on", "mixx<0.05"], b"");
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("`mixx` is not a measure"), "{}", text(&bad.stderr));
}
