//! The CI gate: thresholds (`p99<300ms`, `errors<1%`, …) parsed from the
//! command line and the profile, checked against the run's endpoints before
//! any traffic, and judged on its results; the verdict decides the exit code
//! (0 passed, 1 failed).
//!
//! - `threshold.rs`: the grammar.
//! - `measure.rs`: one view of traffic and one measure of every metric, live and at the end.
//! - `judge.rs`: each threshold on results.json's histograms.
//! - `default_rule.rs`: the default verdict, for a run given no threshold.
//! - `watch.rs`: `--abort-on-fail`: noticing, while the run goes, that a threshold can no longer pass.

pub mod default_rule;
pub mod judge;
pub mod measure;
pub mod threshold;
pub mod watch;

pub use judge::{Latency, check_endpoints, judge, judge_by};
pub use threshold::Threshold;

/// Parses every threshold; the first that does not parse is the error.
pub fn parse_all<'a>(texts: impl IntoIterator<Item = &'a String>) -> Result<Vec<Threshold>, String> {
    texts.into_iter().map(|t| Threshold::parse(t)).collect()
}
