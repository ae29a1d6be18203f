//! The one integration-test binary (one link step keeps builds fast).
//!
//! - `util`: paths, running the built `replay`, golden-file comparison.
//! - `cli`: help, version, exit codes and error messages for bad usage and bad input.
//! - `derive`: the project's fixtures against their golden records and profiles; gzip, stdin.
//! - `real_logs`: the public logs in ../shared/real-logs, per MANIFEST.tsv.

mod cli;
mod derive;
mod real_logs;
mod util;
