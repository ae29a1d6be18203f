//! What a run (or `replay report`) leaves in its folder: one file per
//! [`Writer`] in [`WRITERS`] (summary.md is also appended to
//! `$GITHUB_STEP_SUMMARY` when that is set), and the table and verdict on stdout.
//! A new report is a writer in `report/` and one line here.

use crate::Exit;
use crate::report::json::Results;
use crate::report::{Writer, csv, html, json, junit, markdown, text};
use anyhow::Context;
use std::io::Write;
use std::path::Path;

/// Every file a run leaves, in the order they are written; results.json first.
pub const WRITERS: &[Writer] = &[
    Writer { file: "results.json", write: json::write_json },
    Writer { file: "report.html", write: html::write_html },
    Writer { file: "summary.md", write: markdown::write_summary },
    Writer { file: "junit.xml", write: junit::write_junit },
    Writer { file: "stats.csv", write: csv::write_stats },
    Writer { file: "history.csv", write: csv::write_history },
];

/// The file a CI step summary gets a copy of.
const STEP_SUMMARY: &str = "summary.md";

/// `report.html, summary.md, …`: the files besides results.json, for what the run prints.
pub fn other_files() -> String {
    WRITERS.iter().skip(1).map(|w| w.file).collect::<Vec<_>>().join(", ")
}

/// Writes every output of `results` into `dir`, prints the table and the verdict, and says how to exit.
pub fn write_all(results: &Results, dir: &Path) -> anyhow::Result<Exit> {
    write_with(results, dir, WRITERS)
}

/// [`write_all`] with `writers`.
pub fn write_with(results: &Results, dir: &Path, writers: &[Writer]) -> anyhow::Result<Exit> {
    for writer in writers {
        let path = dir.join(writer.file);
        let mut bytes = Vec::new();
        (writer.write)(results, &mut bytes).map_err(anyhow::Error::msg).with_context(|| format!("cannot make {}", path.display()))?;
        std::fs::write(&path, &bytes).with_context(|| format!("cannot write {}", path.display()))?;
        if writer.file == STEP_SUMMARY
            && let Some(step_summary) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty())
        {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&step_summary)
                .with_context(|| format!("cannot append to $GITHUB_STEP_SUMMARY ({})", Path::new(&step_summary).display()))?;
            f.write_all(&bytes)?;
        }
    }
    let mut stdout = std::io::stdout().lock();
    text::write_table(results, &mut stdout)?;
    text::write_verdict(results, &mut stdout)?;
    let names: Vec<&str> = writers.iter().map(|w| w.file).filter(|f| *f != "results.json").collect();
    writeln!(stdout, "results: {} ({} beside it)", dir.join("results.json").display(), names.join(", "))?;
    let passed = results.verdict.as_ref().is_some_and(|v| v.passed);
    Ok(if results.interrupted {
        Exit::Aborted
    } else if passed {
        Exit::Ok
    } else {
        Exit::ThresholdsFailed
    })
}
