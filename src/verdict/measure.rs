//! Measuring a threshold: one [`Traffic`] view, built from the live
//! summary (for `--abort-on-fail`) or from results.json (for the verdict),
//! and one [`measure`] that handles every metric. A new metric is a
//! [`Metric`] variant and its arm here; the compiler finds every other
//! place that must say what it does with it (no catch-all arms).

use super::threshold::{Metric, Threshold};
use hdrhistogram::Histogram;
use std::time::Duration;

/// What one stretch of traffic holds, to measure a threshold on.
pub struct Traffic<'a> {
    pub intended: u64,
    pub requests: u64,
    pub failures: u64,
    /// Failures of the class the threshold names, if it names one.
    pub class_failures: u64,
    /// Responses in a status class production rarely answered.
    pub mismatches: u64,
    pub seconds: f64,
    pub latency: &'a Histogram<u64>,
}

/// The threshold's measure of `traffic`, in its units; `None` when there is nothing to measure.
pub fn measure(t: &Threshold, traffic: &Traffic<'_>) -> Option<f64> {
    let share = |part: u64, whole: u64| (whole > 0).then(|| part as f64 / whole as f64);
    let latency = |f: &dyn Fn(&Histogram<u64>) -> f64| (!traffic.latency.is_empty()).then(|| f(traffic.latency));
    match t.metric {
        Metric::Quantile(q) => latency(&|h| h.value_at_quantile(q) as f64),
        Metric::Max => latency(&|h| h.max() as f64),
        Metric::Mean => latency(&|h| h.mean()),
        Metric::Errors(None) => share(traffic.failures, traffic.requests),
        Metric::Errors(Some(_)) => share(traffic.class_failures, traffic.requests),
        Metric::NotSent => share(traffic.intended.saturating_sub(traffic.requests), traffic.intended),
        Metric::StatusMismatch => share(traffic.mismatches, traffic.requests),
        Metric::Rps if t.of_intended => share(traffic.requests, traffic.intended),
        Metric::Rps => (traffic.seconds > 0.0).then(|| traffic.requests as f64 / traffic.seconds),
    }
}

/// How many periods of `period_s` seconds make a window of `window` (one at least).
pub fn periods_per_window(window: Duration, period_s: u64) -> usize {
    ((window.as_secs_f64() / period_s.max(1) as f64).round() as usize).max(1)
}
