//! What a run (or `replay report`) leaves in its folder: results.json,
//! stats.csv, history.csv, report.html, junit.xml and summary.md (appended to
//! `$GITHUB_STEP_SUMMARY` when that is set), and the table and verdict on stdout.

use crate::Exit;
use crate::report::json::Results;
use crate::report::{csv, html, junit, markdown, text};
use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Writes every output of `results` into `dir`, prints the table and the verdict, and says how to exit.
pub fn write_all(results: &Results, dir: &Path) -> anyhow::Result<Exit> {
    let file = |name: &str| dir.join(name);
    let create = |name: &str| std::fs::File::create(file(name)).with_context(|| format!("cannot write {}", file(name).display()));
    std::fs::write(file("results.json"), serde_json::to_string_pretty(results)? + "\n")
        .with_context(|| format!("cannot write {}", file("results.json").display()))?;
    csv::write_stats(results, std::io::BufWriter::new(create("stats.csv")?)).map_err(anyhow::Error::msg)?;
    csv::write_history(results, std::io::BufWriter::new(create("history.csv")?)).map_err(anyhow::Error::msg)?;
    std::fs::write(file("report.html"), html::write_html(results).map_err(anyhow::Error::msg)?)
        .with_context(|| format!("cannot write {}", file("report.html").display()))?;
    junit::write_junit(results, &mut std::io::BufWriter::new(create("junit.xml")?))?;
    let mut summary = Vec::new();
    markdown::write_summary(results, &mut summary)?;
    std::fs::write(file("summary.md"), &summary).with_context(|| format!("cannot write {}", file("summary.md").display()))?;
    if let Some(step_summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&step_summary)
            .with_context(|| format!("cannot append to $GITHUB_STEP_SUMMARY ({})", Path::new(&step_summary).display()))?;
        f.write_all(&summary)?;
    }
    let mut stdout = std::io::stdout().lock();
    text::write_table(results, &mut stdout)?;
    text::write_verdict(results, &mut stdout)?;
    writeln!(stdout, "results: {} (report.html, summary.md, junit.xml, stats.csv, history.csv beside it)", file("results.json").display())?;
    let passed = results.verdict.as_ref().is_some_and(|v| v.passed);
    Ok(if results.interrupted {
        Exit::Aborted
    } else if passed {
        Exit::Ok
    } else {
        Exit::ThresholdsFailed
    })
}
