//! replay turns production access logs into traffic profiles and replays
//! them against a staging server.
//!
//! # Layout
//! The modules follow the data:
//! `input` bytes → `log` records → `scan` (parallel, streaming) → `derive` → `profile`
//! → `schedule` → `plan` (sources of work) → `run` (the loop, its limits and its tally) → `client`,
//! and the tally → `verdict` (thresholds) and `report` (every file a run leaves).
//! Dependencies point the same way: `cli → app → {derive, plan, run, report, verdict}`;
//! `plan → {profile, schedule, client}`; `run → {plan, client}`; `report → {run, verdict, plan, client}`;
//! nothing below imports `app` or `cli`, and `run` does not import `report`.
//!
//! - [`input`]: opening files, stdin and gzip, with errors that name the path.
//! - [`log`]: one line → [`log::LogRecord`]: the nom field parsers, one file per log family, format detection.
//! - [`bytes`]: finding a byte or two in a line's short spans, and a chunk's newlines, faster than `memchr` there.
//! - [`scan`]: the chunked, multi-core, bounded-memory pass over an input that feeds an accumulator.
//! - [`derive`]: `replay derive`: inputs → format → scan → [`profile::Profile`], and its stderr summary.
//! - [`profile`]: the versioned profile wire format, and everything that builds, synthesises and loads it.
//! - [`schedule`]: when each request is due: pure, one clock, speed, rate scale and window.
//! - [`plan`]: what a run sends and when: the work vocabulary, one [`plan::WorkSource`] per kind
//!   (a profile's requests, its users, a trace), sharding, and `replay plan`'s estimates.
//! - [`run`]: the one replay loop: plan → limits and gate → client → outcomes into the run's
//!   [`run::Summary`], with a shutdown future; every intended request is sent or counted as not sent.
//! - [`client`]: the hyper/rustls client; every request becomes an [`client::Outcome`], never an error.
//! - [`verdict`]: thresholds parsed, measured live and at the end, and the default verdict.
//! - [`report`]: `results.json` from the summary, its validation and merging, and one writer per file.
//! - [`export`]: a profile as a locustfile, for teams that keep Locust in CI.
//! - [`ui`]: the live web view: a run's snapshots from its tally, served with the page that draws them.
//! - [`demo`]: the example target server, for `replay demo` and the tests.
//! - [`app`]: the commands behind the CLI, returning an [`Exit`] code.
//! - [`cli`]: clap definitions and their translation into typed configs.
//! - [`units`]: durations, rates and counts in words people read.
//! - [`untrusted`]: text from the logs or a results file rendered inert for a terminal, Markdown, XML, CSV or HTML.

pub mod allocator;
pub mod app;
pub mod bytes;
pub mod cli;
pub mod client;
pub mod demo;
pub mod derive;
pub mod diff;
pub mod export;
pub mod input;
pub mod log;
pub mod plan;
pub mod profile;
pub mod report;
pub mod run;
pub mod scan;
pub mod schedule;
pub mod ui;
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
