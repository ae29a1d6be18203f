//! replay turns production access logs into traffic profiles and replays
//! them against a staging server.
//!
//! # Layout
//! The modules follow the data:
//! `input` bytes → `log` records → `scan` (parallel, streaming) → `derive` → `profile`.
//!
//! - [`input`]: opening files, stdin and gzip, with errors that name the path.
//! - [`log`]: one line → [`log::LogRecord`]: the nom field parsers, one file per log family, format detection.
//! - [`scan`]: the chunked, multi-core, bounded-memory pass over an input that feeds an accumulator.
//! - [`derive`]: `replay derive`: inputs → format → scan → [`profile::Profile`], and its stderr summary.
//! - [`profile`]: the versioned profile wire format.
//! - [`app`]: the commands behind the CLI, returning an [`Exit`] code.
//! - [`cli`]: clap definitions and their translation into typed configs.

pub mod app;
pub mod cli;
pub mod client;
pub mod demo;
pub mod derive;
pub mod input;
pub mod log;
pub mod profile;
pub mod report;
pub mod request;
pub mod run;
pub mod scan;
pub mod schedule;
pub mod timer;
pub mod trace_plan;
pub mod users;

/// The process exit codes, as documented in README.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Done; a run met its thresholds.
    Ok = 0,
    /// A run's thresholds failed.
    ThresholdsFailed = 1,
    /// Bad usage or bad input.
    BadInput = 2,
    /// A run was aborted (Ctrl-C).
    Aborted = 3,
}
