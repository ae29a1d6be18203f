//! The commands behind the CLI: each takes its typed config, does the work
//! through the library, writes its output and says how the process exits.
//! `run.rs`, `plan.rs` and `demo.rs` hold the ones that send traffic (or
//! say what traffic they would send); `source.rs` loads what they replay;
//! `ui.rs` and `watch.rs` put a run in the browser (`--ui`, `replay ui`).

mod demo;
mod derive;
pub mod outputs;
mod plan;
mod progress;
pub mod results;
mod run;
mod source;
mod ui;
mod watch;

use crate::Exit;
use crate::cli::Command;
use crate::derive::{DeriveConfig, OpenedInput};
use crate::log::Parsed;
use crate::profile::load;
use crate::units::{count, human_duration};
use anyhow::Context;
use std::io::{self, BufRead, BufReader, Write};
use std::path::PathBuf;

pub fn run(command: Command) -> anyhow::Result<Exit> {
    match command {
        Command::Derive { config, output, mode } => derive::derive_command(&config, output, mode),
        Command::Profile { spec, output } => {
            let profile = crate::profile::synth::synthesize(&spec).map_err(anyhow::Error::msg)?;
            derive::write_profile(&profile, output)?;
            Ok(Exit::Ok)
        }
        Command::Check { files } => check_profiles(&files, &mut io::stdout().lock()),
        Command::Export { profile, tool, speed, output } => export_profile(&profile, tool, speed, output.as_deref()),
        Command::Diff { base, new, align, run, conditions, json, md, junit } => {
            let align = match (align, run) {
                (Some(align), _) => align,
                // A run's own results say at what speed, and from where in the profile, it replayed.
                (None, Some(run)) => {
                    let results = results::load_results(&run)?;
                    let plan = results
                        .plan
                        .ok_or_else(|| anyhow::anyhow!("{}: it holds no plan (speed and window) to align by", run.display()))?;
                    crate::diff::curve::Alignment { speed: plan.speed, from_s: plan.window.map_or(0.0, |(from, _)| from as f64) }
                }
                (None, None) => {
                    // Two days or more of logs each line up by time of day.
                    let (b, n) = (load::load(&base)?, load::load(&new)?);
                    crate::diff::curve::Alignment::by_time_of_day(&b, &n).unwrap_or_default()
                }
            };
            diff_profiles(&base, &new, align, &conditions, [json.as_deref(), md.as_deref(), junit.as_deref()])
        }
        Command::Run { request, ui } => run::run_command(request, ui),
        Command::Plan { request } => plan::plan_command(request, &mut io::stdout().lock()),
        Command::Demo { duration_s, http2, ui } => demo::demo_command(duration_s, http2, ui),
        Command::Ui { args } => ui::ui_command(args),
        Command::Report { file, thresholds, out } => results::report_command(&file, &thresholds, out.as_deref()),
        Command::Merge { files, output } => results::merge_command(&files, &output),
        Command::Compare { baseline, current, tolerance, out } => results::compare_command(&baseline, &current, tolerance, out.as_deref()),
        Command::Parse { config, limit } => parse_records(&config, limit, &mut io::stdout().lock()),
    }
}

/// `replay check`: loads each profile; the first that fails is the error.
fn check_profiles(files: &[PathBuf], out: &mut dyn Write) -> anyhow::Result<Exit> {
    for file in files {
        let profile = load::load(file)?;
        // The profile's own thresholds are judged as plan and run judge them: a typo, or an endpoint it does not have, is refused here.
        let thresholds =
            crate::verdict::parse_all(&profile.thresholds).map_err(|e| anyhow::anyhow!("{}: thresholds: {e}", file.display()))?;
        let names: Vec<String> = crate::plan::Catalog::of_profile(&profile).endpoints.iter().map(|e| e.key.to_string()).collect();
        crate::verdict::check_endpoints(&thresholds, &names).map_err(|e| anyhow::anyhow!("{}: thresholds: {e}", file.display()))?;
        let span_s = profile.arrival.counts.len() as f64 * f64::from(profile.arrival.bin_s);
        let requests: u64 = profile.arrival.counts.iter().sum();
        writeln!(
            out,
            "{}: ok: {}, {} over {}, {}{}",
            file.display(),
            count(profile.endpoints.len() as u64, "endpoint"),
            count(requests, "request"),
            human_duration(span_s),
            count(profile.segments.len() as u64, "segment"),
            if profile.sessions.is_some() { ", sessions" } else { "" }
        )?;
        // A login whose form has values nobody gave: the profile is valid, but users will not start without them.
        for login in profile.endpoints.iter().filter(|e| e.once_per_session) {
            let unfilled: Vec<String> = login
                .body
                .iter()
                .flat_map(|b| crate::profile::template::placeholders(&b.text).map(str::to_owned).collect::<Vec<_>>())
                .filter(|name| login.params.get(name).is_none_or(Vec::is_empty))
                .map(|name| format!("{{{name}}}"))
                .collect();
            if !unfilled.is_empty() {
                writeln!(
                    out,
                    "  note: {} {} logs users in with values the profile does not hold ({}): give them with --vars users.csv, one row per user",
                    login.method,
                    crate::untrusted::terminal(&login.path),
                    unfilled.join(", ")
                )?;
            }
        }
    }
    Ok(Exit::Ok)
}

/// `replay diff`: how `new` differs from `base`, judged by `conditions`; exit 1 beyond them.
fn diff_profiles(
    base: &std::path::Path,
    new: &std::path::Path,
    align: crate::diff::curve::Alignment,
    conditions: &[crate::diff::gate::Condition],
    [json, md, junit]: [Option<&std::path::Path>; 3],
) -> anyhow::Result<Exit> {
    let d = crate::diff::diff(&load::load(base)?, &load::load(new)?, align, conditions);
    let mut text = String::new();
    crate::diff::write_text(&d, false, &mut text);
    io::stdout().lock().write_all(text.as_bytes())?;
    if let Some(path) = json {
        std::fs::write(path, serde_json::to_string_pretty(&d)? + "\n").with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = md {
        let mut markdown = String::new();
        crate::diff::write_text(&d, true, &mut markdown);
        std::fs::write(path, markdown).with_context(|| format!("cannot write {}", path.display()))?;
    }
    if let Some(path) = junit {
        std::fs::write(path, crate::diff::write_junit(&d)).with_context(|| format!("cannot write {}", path.display()))?;
    }
    Ok(if d.passed() { Exit::Ok } else { Exit::ThresholdsFailed })
}

/// `replay export`: the profile as a locustfile or a k6 script.
fn export_profile(path: &std::path::Path, tool: crate::export::Tool, speed: f64, output: Option<&std::path::Path>) -> anyhow::Result<Exit> {
    let profile = load::load(path)?;
    let text = crate::export::export(&profile, &path.display().to_string(), tool, speed).map_err(anyhow::Error::msg)?;
    match output {
        Some(file) => std::fs::write(file, text).with_context(|| format!("cannot write {}", file.display()))?,
        None => io::stdout().lock().write_all(text.as_bytes()).context("cannot write the export to stdout")?,
    }
    Ok(Exit::Ok)
}

/// `replay parse`: every record as one JSON line, in input order; rejects on stderr.
pub fn parse_records(config: &DeriveConfig, limit: Option<u64>, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let mut printed = 0;
    for path in &config.inputs {
        let OpenedInput { name, format, reader, .. } = crate::derive::open_input(path, config.format.as_ref())?;
        let Some(format) = format else { continue };
        let mut parser = format.parser().map_err(anyhow::Error::msg)?;
        eprintln!("replay: {name}: reading as {format}");
        let mut reader = BufReader::new(reader);
        let mut line = Vec::new();
        let mut number = 0u64;
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line).with_context(|| format!("{name}: read failed after line {number}"))? == 0 {
                break;
            }
            number += 1;
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            match parser.parse(text) {
                Parsed::Record(record) => {
                    serde_json::to_writer(&mut *out, &record.to_owned_record())?;
                    out.write_all(b"\n")?;
                    printed += 1;
                    if limit.is_some_and(|limit| printed >= limit) {
                        return Ok(Exit::Ok);
                    }
                }
                Parsed::Skip => {}
                Parsed::Reject(error) if config.strict => {
                    anyhow::bail!("{name}:{number}: {error} (--strict)")
                }
                Parsed::Reject(error) => eprintln!("{name}:{number}: rejected: {error}"),
            }
        }
    }
    Ok(Exit::Ok)
}
