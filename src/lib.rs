//! replay turns production access logs into traffic profiles and replays
//! them against a staging server.
//!
//! # Layout
//! The modules follow the data:
//! `input` bytes → `log` records → `scan` (parallel, streaming) → `derive` → `profile`
//! → `schedule` → `plan` (profile, sessions or trace; limits) → `run` → `client` → `report`.
//! Arrows point downstream: `cli → app → {log, profile, plan} → run → client → report`.
//!
//! - [`input`]: opening files, stdin and gzip, with errors that name the path.
//! - [`log`]: one line → [`log::LogRecord`]: the nom field parsers, one file per log family, format detection.
//! - [`scan`]: the chunked, multi-core, bounded-memory pass over an input that feeds an accumulator.
//! - [`derive`]: `replay derive`: inputs → format → scan → [`profile::Profile`], and its stderr summary.
//! - [`profile`]: the versioned profile wire format, and everything that builds, synthesises and loads it.
//! - [`schedule`]: when each request is due: pure, one clock, speed, rate scale and window.
//! - [`plan`]: what a run sends and when: the due-request vocabulary, the sources (profile,
//!   `--sessions`, trace), the settings and limits every source shares, and `replay plan`'s estimates.
//! - [`run`]: the one replay loop: plan → gate → client → outcomes, with a shutdown future;
//!   every intended request is sent or counted as not sent.
//! - [`client`]: the hyper/rustls client; every request becomes an [`client::Outcome`], never an error.
//! - [`report`]: the run's summary (HDR histograms), `results.json` and the end table.
//! - [`demo`]: the example target server, for `replay demo` and the tests.
//! - [`app`]: the commands behind the CLI, returning an [`Exit`] code.
//! - [`cli`]: clap definitions and their translation into typed configs.
//! - [`units`]: durations, rates and counts in words people read.
//! - [`untrusted`]: text from the logs or a results file rendered inert for a terminal, Markdown, XML, CSV or HTML.

pub mod app;
pub mod cli;
pub mod client;
pub mod demo;
pub mod derive;
pub mod input;
pub mod log;
pub mod plan;
pub mod profile;
pub mod report;
pub mod run;
pub mod scan;
pub mod schedule;
pub mod units;
pub mod untrusted;
pub mod verdict;

/// The process exit codes, as documented in README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done; a run completed (and met its thresholds, once there are thresholds).
    Ok = 0,
    /// A run's thresholds failed.
    ThresholdsFailed = 1,
    /// Bad usage or bad input.
    BadInput = 2,
    /// A run was aborted (Ctrl-C, SIGTERM); its partial results were written.
    Aborted = 3,
    /// An internal error: a bug in replay (a panic), said in words on stderr; a run's results so far were written.
    Internal = 4,
}
