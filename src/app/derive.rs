//! `replay derive`: logs to a profile, logs to a partial (`--partial`), or
//! partials to a profile or a partial (`--merge`); the summary on stderr.

use crate::Exit;
use crate::cli::DeriveMode;
use crate::derive::{self, DeriveConfig};
use crate::profile::Profile;
use crate::units::{count, thousands};
use anyhow::Context;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

pub fn derive_command(config: &DeriveConfig, output: Option<PathBuf>, mode: DeriveMode) -> anyhow::Result<Exit> {
    match mode {
        DeriveMode::Profile => {
            let derived = derive::derive(config)?;
            derive::write_summary(&derived, &mut io::stderr().lock())?;
            write_profile(&derived.profile, output)?;
        }
        DeriveMode::Partial => {
            let derived = derive::derive_partial(config)?;
            let mut err = io::stderr().lock();
            derive::write_file_lines(&derived.files, &mut err)?;
            if derived.partial.state.requests() == 0 {
                writeln!(
                    err,
                    "replay: warning: no requests to keep in {}: the partial is empty (check the files hold HTTP access logs)",
                    config.inputs.join(", ")
                )?;
            }
            write_partial(&derived.partial, output.as_deref())?;
            say_partial(&derived.partial, output.as_deref(), &mut err)?;
        }
        DeriveMode::Merge { into_partial } => {
            let merged = derive::merge_partials(&config.inputs)?;
            let mut err = io::stderr().lock();
            for (name, source) in &merged.inputs {
                writeln!(
                    err,
                    "replay: {name}: a partial of {}: {} lines, {} requests",
                    count(source.files.len() as u64, "file"),
                    thousands(source.lines),
                    thousands(source.records)
                )?;
            }
            if into_partial {
                let partial = merged.into_partial();
                write_partial(&partial, output.as_deref())?;
                say_partial(&partial, output.as_deref(), &mut err)?;
            } else {
                let derived = merged.into_profile(config)?;
                derive::write_summary(&derived, &mut err)?;
                write_profile(&derived.profile, output)?;
            }
        }
    }
    Ok(Exit::Ok)
}

pub fn write_profile(profile: &Profile, output: Option<PathBuf>) -> anyhow::Result<()> {
    let json = crate::profile::to_pretty_json(profile);
    match output {
        Some(path) => std::fs::write(&path, json).with_context(|| format!("cannot write the profile to {}", path.display())),
        None => io::stdout().lock().write_all(json.as_bytes()).context("cannot write the profile to stdout"),
    }
}

fn write_partial(partial: &crate::profile::partial::Partial, output: Option<&Path>) -> anyhow::Result<()> {
    let to = output.map_or_else(|| "stdout".to_owned(), |p| p.display().to_string());
    crate::profile::partial::write(partial, output).with_context(|| format!("cannot write the partial to {to}"))
}

fn say_partial(partial: &crate::profile::partial::Partial, output: Option<&Path>, out: &mut dyn Write) -> io::Result<()> {
    let state = &partial.state;
    let span = match (&partial.source.first, &partial.source.last) {
        (Some(first), Some(last)) => format!(" from {first} to {last}"),
        _ => String::new(),
    };
    writeln!(
        out,
        "replay: partial{}: {}{span}, {}, {} kept open at its edges for the merge",
        output.map_or_else(String::new, |p| format!(" {}", p.display())),
        count(state.requests(), "request"),
        count(state.templates.len() as u64, "template"),
        count(state.sessions.edges.len() as u64, "session"),
    )?;
    writeln!(out, "replay: merge the partials with: replay derive --merge PARTIAL... -o profile.json")
}
