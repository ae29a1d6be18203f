//! What a run (or `replay report`) leaves in its folder: one file per
//! [`Writer`] in [`WRITERS`] (summary.md is also appended to
//! `$GITHUB_STEP_SUMMARY` when that is set), and the table and verdict on stdout.

use crate::Exit;
use crate::report::json::Results;
use crate::report::{STEP_SUMMARY, WRITERS, Writer, text};
use anyhow::Context;
use std::io::Write;
use std::path::Path;

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
