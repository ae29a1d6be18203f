//! The layout lib.rs describes holds: no two top-level modules import each
//! other, directly or through others, so each extension point stays one file.

use std::collections::{BTreeMap, BTreeSet};

fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let pattern = regex::Regex::new(r"crate::([a-z_]+)").unwrap();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let src = crate::util::root().join("src");
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let relative = path.strip_prefix(&src).unwrap().to_string_lossy().into_owned();
            let top = relative.split('/').next().unwrap().trim_end_matches(".rs").to_owned();
            if top == "main" || top == "lib" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Tests may reach anywhere.
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for m in pattern.captures_iter(code) {
                if m[1] != top {
                    deps.entry(top.clone()).or_default().insert(m[1].to_owned());
                }
            }
        }
    }
    deps
}

#[test]
fn no_two_top_level_modules_depend_on_each_other() {
    let deps = imports();
    let reaches = |from: &str, to: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.to_owned()];
        while let Some(at) = stack.pop() {
            for next in deps.get(&at).into_iter().flatten() {
                if next == to {
                    return true;
                }
                if seen.insert(next.clone()) {
                    stack.push(next.clone());
                }
            }
        }
        false
    };
    let cycles: Vec<String> =
        deps.iter().flat_map(|(a, bs)| bs.iter().filter(|b| reaches(b, a)).map(move |b| format!("{a} -> {b}"))).collect();
    assert!(cycles.is_empty(), "modules that import each other: {cycles:?}");
    // The run's side does not read reports; nothing below the commands reads them.
    assert!(!deps["run"].contains("report") && !deps["plan"].contains("run"), "{deps:?}");
}
