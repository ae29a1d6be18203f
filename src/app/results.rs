//! The tools around saved results: `replay report` (re-render and re-judge),
//! `replay merge` (exact), `replay compare` (against a baseline).

use super::outputs::write_all;
use crate::Exit;
use crate::report::compare;
use crate::report::json::{RESULTS_VERSION, Results};
use crate::report::merge::merge;
use crate::verdict::{check_endpoints, judge, parse_all};
use anyhow::Context;
use std::io::Read;
use std::path::{Path, PathBuf};

/// results.json files are at most this large: a run's, with its endpoints, periods and
/// histograms, takes a few MiB; a file is read whole, so this bounds the memory it takes.
const MAX_RESULTS_BYTES: u64 = 64 << 20;

/// Reads a results.json; a corrupt or truncated one is an error naming the field.
pub fn load_results(path: &Path) -> anyhow::Result<Results> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut text = String::new();
    file.take(MAX_RESULTS_BYTES + 1).read_to_string(&mut text).with_context(|| format!("cannot read {} as text", path.display()))?;
    if text.len() as u64 > MAX_RESULTS_BYTES {
        anyhow::bail!("{}: over {} MiB; a run's results.json is a few MiB at most", path.display(), MAX_RESULTS_BYTES >> 20);
    }
    parse_results(&text, path)
}

/// A results.json's text, parsed and validated (see `report::validate`); errors name `path` and the field.
pub fn parse_results(text: &str, path: &Path) -> anyhow::Result<Results> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let results: Results = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let what = if inner.is_eof() { "is cut short (truncated?)".to_owned() } else { inner.to_string() };
        anyhow::anyhow!(
            "{}: {}{what}; expected the results.json a run writes",
            path.display(),
            if field == "." { String::new() } else { format!("{field}: ") }
        )
    })?;
    if !(2..=RESULTS_VERSION).contains(&results.version) {
        anyhow::bail!("{}: results version {} is not one this replay reads (2 to {RESULTS_VERSION})", path.display(), results.version);
    }
    crate::report::validate::validate(&results)
        .map_err(|e| anyhow::anyhow!("{}: {e}; expected the results.json a run writes", path.display()))?;
    Ok(results)
}

/// `replay report`: judge a saved run again (its own thresholds, or those given) and write every output.
pub fn report_command(file: &Path, thresholds: &[String], out: Option<&Path>) -> anyhow::Result<Exit> {
    let mut results = load_results(file)?;
    let texts: Vec<String> = if thresholds.is_empty() {
        results.verdict.as_ref().map(|v| v.thresholds.iter().map(|j| j.threshold.clone()).collect()).unwrap_or_default()
    } else {
        thresholds.to_vec()
    };
    let parsed = parse_all(&texts).map_err(anyhow::Error::msg)?;
    let names: Vec<String> = results.endpoints.iter().map(|e| format!("{} {}", e.method, e.path)).collect();
    check_endpoints(&parsed, &names).map_err(anyhow::Error::msg)?;
    let mut verdict = judge(&results, &parsed).map_err(anyhow::Error::msg)?;
    // A run that was stopped early stays failed for that.
    if let Some(stopped) = results.verdict.as_ref().and_then(|v| v.reasons.iter().find(|r| r.starts_with("stopped early")).cloned()) {
        verdict.reasons.insert(0, stopped);
        verdict.passed = false;
    }
    results.verdict = Some(verdict);
    let dir = match out {
        Some(dir) => dir.to_path_buf(),
        None => file.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf),
    };
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    write_all(&results, &dir)
}

/// `replay merge`: one results.json from several, exactly.
pub fn merge_command(files: &[PathBuf], output: &Path) -> anyhow::Result<Exit> {
    let runs: Vec<Results> = files.iter().map(|f| load_results(f)).collect::<anyhow::Result<_>>()?;
    let merged = merge(&runs).map_err(anyhow::Error::msg)?;
    // The sum of valid runs must itself be one (no total past 2^53, periods inside the merged run).
    crate::report::validate::validate(&merged).map_err(|e| anyhow::anyhow!("the merged results would not be valid: {e}"))?;
    std::fs::write(output, serde_json::to_string_pretty(&merged)? + "\n").with_context(|| format!("cannot write {}", output.display()))?;
    println!(
        "merged {} runs: {} intended, {} sent, {} failed, over {}; judge it with `replay report {}`",
        runs.len(),
        crate::units::thousands(merged.totals.intended),
        crate::units::thousands(merged.totals.requests),
        crate::units::thousands(merged.totals.failures),
        crate::units::human_duration(merged.duration_s),
        output.display()
    );
    Ok(Exit::Ok)
}

/// `replay compare`: exit 1 when the current run regressed against the baseline.
pub fn compare_command(baseline: &Path, current: &Path, tolerance: f64, out: Option<&Path>) -> anyhow::Result<Exit> {
    let changes = compare::compare(&load_results(baseline)?, &load_results(current)?, tolerance).map_err(anyhow::Error::msg)?;
    let markdown = compare::markdown(&changes, tolerance);
    print!("{markdown}");
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        std::fs::write(dir.join("compare.md"), &markdown)?;
        std::fs::write(dir.join("compare.html"), compare::html(&changes, tolerance))?;
    }
    Ok(if changes.iter().any(|c| c.regression) { Exit::ThresholdsFailed } else { Exit::Ok })
}
