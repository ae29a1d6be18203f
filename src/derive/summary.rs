//! The human summary `replay derive` prints on stderr: per input, its format
//! and what became of its lines, the first rejected lines with their line
//! numbers and reasons, and the time span covered.

use super::Derived;
use std::io::{self, Write};

pub fn write_summary(derived: &Derived, out: &mut dyn Write) -> io::Result<()> {
    for file in &derived.files {
        let format = file.format.as_ref().map_or("empty", |f| f.name());
        writeln!(
            out,
            "replay: {}: {format}, {} lines: {} requests, {} skipped, {} rejected",
            file.name, file.lines, file.records, file.skipped, file.rejected
        )?;
        for reject in &file.rejects {
            writeln!(
                out,
                "  {}:{}: rejected: {}",
                file.name, reject.line, reject.error
            )?;
            if !reject.excerpt.is_empty() {
                writeln!(out, "    {}", reject.excerpt.escape_debug())?;
            }
        }
        if file.rejected > file.rejects.len() as u64 {
            writeln!(
                out,
                "  ... and {} more rejected lines",
                file.rejected - file.rejects.len() as u64
            )?;
        }
        if let Some(error) = &file.read_error {
            writeln!(
                out,
                "replay: warning: {}: input ended early after line {}: {error}; the lines before it are kept",
                file.name, file.lines
            )?;
        }
        if file.lines == 0 {
            writeln!(out, "replay: warning: {} is empty", file.name)?;
        }
    }
    let source = &derived.profile.source;
    if let (Some(first), Some(last)) = (&source.first, &source.last) {
        writeln!(
            out,
            "replay: {} requests from {first} to {last}",
            source.records
        )?;
    }
    Ok(())
}
