//! Watching a run as it goes: `--abort-on-fail` stops it once a threshold
//! can no longer pass, whatever the rest of the run does; and any run stops
//! early when the target has refused every connection for its first seconds,
//! instead of playing a schedule nobody can receive.
//!
//! "Can no longer pass" is judged against the most requests the run can
//! still send (`expected`): `errors<1%` is lost once failures exceed 1% of
//! that, `p99<300ms` once more than 1% of it took longer, `max<2s` at the
//! first request over 2 s, a windowed threshold once one whole window failed.
//! Thresholds on one endpoint are judged at the end only: its share of what
//! is still to come is not known.

use super::measure::{Traffic, measure, periods_per_window};
use super::threshold::{Metric, Threshold};
use crate::client::Failure;
use crate::run::Summary;

/// A run that refused every connection this long is stopped.
pub const REFUSED_FOR_S: f64 = 5.0;
/// … once it has tried at least this many requests.
const REFUSED_AT_LEAST: u64 = 10;

/// Decides, from the summary so far, whether the run should stop early.
pub struct Watch {
    thresholds: Vec<Threshold>,
    abort_on_fail: bool,
    /// The first failed login has been told.
    told_login: bool,
    /// The run's endpoints by index (`POST /login`), to name them.
    names: Vec<String>,
    /// The most requests the run will have intended by its end.
    expected: f64,
    target: String,
}

impl Watch {
    pub fn new(thresholds: Vec<Threshold>, abort_on_fail: bool, expected: f64, target: &str) -> Self {
        Watch { thresholds, abort_on_fail, told_login: false, names: Vec::new(), expected: expected.max(1.0), target: target.to_owned() }
    }

    /// Names the run's endpoints (by index) in what it tells.
    pub fn naming(self, names: Vec<String>) -> Self {
        Watch { names, ..self }
    }

    /// What to tell at once, the first time it happens: a session's login that failed.
    pub fn notice(&mut self, s: &Summary) -> Option<String> {
        if self.told_login || !s.by_failure.contains_key(&Failure::Login) {
            return None;
        }
        self.told_login = true;
        let (endpoint, detail) = s.failure_examples.get(&Failure::Login).cloned().unwrap_or((usize::MAX, String::new()));
        let login = self.names.get(endpoint).map_or("a session's login".to_owned(), |name| format!("the sessions' login ({name})"));
        Some(format!(
            "{login} failed: {detail}. Its users go on without being logged in, and the run will fail; \
             check the values given with --vars (one row per user){}",
            if self.abort_on_fail && self.thresholds.is_empty() { "" } else { " or stop it now" }
        ))
    }

    /// The thresholds that can no longer pass, whatever the rest of the run does (with or without `--abort-on-fail`).
    pub fn lost(&self, s: &Summary) -> Vec<&str> {
        let expected = self.expected.max(s.intended as f64);
        self.thresholds.iter().filter(|t| lost(t, s, expected)).map(|t| t.text.as_str()).collect()
    }

    /// Why to stop now, if the run should stop.
    pub fn check(&self, s: &Summary, elapsed_s: f64) -> Option<String> {
        let refused = s.by_failure.get(&Failure::Connect).copied().unwrap_or(0);
        if elapsed_s >= REFUSED_FOR_S && s.requests >= REFUSED_AT_LEAST && refused == s.requests {
            return Some(format!(
                "{} refused every connection for the first {}: is it up, and is --host right? (stopped early)",
                self.target,
                crate::units::human_duration(elapsed_s)
            ));
        }
        if !self.abort_on_fail {
            return None;
        }
        // With no threshold, a failed login fails the run (the default verdict): stop at the first.
        if self.thresholds.is_empty() && s.by_failure.contains_key(&Failure::Login) {
            return Some("a session's login failed, which fails the run (--abort-on-fail)".to_owned());
        }
        let expected = self.expected.max(s.intended as f64);
        self.thresholds.iter().find(|t| lost(t, s, expected)).map(|t| format!("threshold `{t}` can no longer pass (--abort-on-fail)"))
    }
}

/// Whether `t` fails whatever the rest of a run of at most `expected` requests does.
fn lost(t: &Threshold, s: &Summary, expected: f64) -> bool {
    if t.endpoint.is_some() {
        // An endpoint's share of what is still to come is unknown: its thresholds are judged at the end only.
        return false;
    }
    if let Some(window) = t.window {
        return window_lost(t, s, window);
    }
    let ceiling = t.is_ceiling();
    // Every metric says whether it can be lost early; a floor (`rps>=100`, `errors>1%`) and a mean
    // can still be made up by what is to come.
    let over = |count: u64| ceiling && count as f64 / expected > t.limit;
    match t.metric {
        Metric::Quantile(q) => ceiling && (s.requests - s.latency.count_between(0, t.limit as u64)) as f64 > (1.0 - q) * expected,
        Metric::Max => ceiling && s.latency.max() as f64 > t.limit,
        Metric::Mean => false,
        Metric::Errors(None) => over(s.failures),
        Metric::Errors(Some(name)) => over(s.by_failure.iter().filter(|(f, _)| f.name() == name).map(|(_, n)| *n).sum()),
        Metric::NotSent => over(s.not_sent_total()),
        Metric::StatusMismatch => over(s.status_mismatches),
        Metric::Rps => t.of_intended && !ceiling && s.not_sent_total() as f64 / expected > 1.0 - t.limit,
    }
}

/// A windowed threshold is lost once a whole window of the run, already over, failed it.
fn window_lost(t: &Threshold, s: &Summary, window: std::time::Duration) -> bool {
    let per_window = periods_per_window(window, s.period_s);
    // The last period may still be filling: judge only windows wholly before it.
    let done = s.periods.len().saturating_sub(1);
    s.periods[..done].chunks_exact(per_window).any(|chunk| {
        let mut latency = crate::run::summary::new_histogram();
        chunk.iter().for_each(|p| {
            let _ = latency.add(&p.latency);
        });
        let class = |p: &crate::run::summary::Period| match t.metric {
            Metric::Errors(Some(name)) => p.by_failure.iter().filter(|(f, _)| f.name() == name).map(|(_, n)| *n).sum(),
            _ => 0,
        };
        let traffic = Traffic {
            intended: chunk.iter().map(|p| p.intended.max(p.requests)).sum(),
            requests: chunk.iter().map(|p| p.requests).sum(),
            failures: chunk.iter().map(|p| p.failures).sum(),
            class_failures: chunk.iter().map(class).sum(),
            mismatches: 0,
            seconds: chunk.len() as f64 * s.period_s as f64,
            latency: &latency,
        };
        traffic.requests > 0 && measure(t, &traffic).is_some_and(|v| !t.op.holds(v, t.limit))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Outcome;

    fn outcome(latency_ms: u64, failure: Option<Failure>) -> Outcome {
        Outcome {
            endpoint: 0,
            intended_ns: 0,
            sent_ns: 0,
            done_ns: latency_ms * 1_000_000,
            status: failure.is_none().then_some(200),
            failure,
            detail: None,
            retried: false,
            synthetic: false,
            to_login: false,
            bytes: 0,
        }
    }

    #[test]
    fn a_threshold_is_lost_only_when_the_rest_of_the_run_cannot_save_it() {
        let watch = |t: &str| Watch::new(vec![Threshold::parse(t).unwrap()], true, 1000.0, "http://127.0.0.1:9");
        let mut s = Summary::new(1);
        for _ in 0..100 {
            s.intend(0);
            s.add(&outcome(5, None));
        }
        // 9 failures of an expected 1,000 keep errors<1% possible; 11 do not.
        for _ in 0..9 {
            s.intend(0);
            s.add(&outcome(5, Some(Failure::Http5xx)));
        }
        assert_eq!(watch("errors<1%").check(&s, 1.0), None);
        for _ in 0..2 {
            s.intend(0);
            s.add(&outcome(5, Some(Failure::Http5xx)));
        }
        assert!(watch("errors<1%").check(&s, 1.0).unwrap().contains("`errors<1%` can no longer pass"));
        assert!(watch("http_5xx<1%").check(&s, 1.0).is_some());
        assert_eq!(watch("timeout<1%").check(&s, 1.0), None);
        // p99<100ms: lost when more than 1% of 1,000 took longer.
        assert_eq!(watch("p99<100ms").check(&s, 1.0), None);
        for _ in 0..11 {
            s.intend(0);
            s.add(&outcome(500, None));
        }
        assert!(watch("p99<100ms").check(&s, 1.0).is_some());
        assert!(watch("max<400ms").check(&s, 1.0).is_some());
        assert_eq!(watch("max<1s").check(&s, 1.0), None);
        // Without --abort-on-fail, thresholds never stop a run.
        assert_eq!(Watch::new(vec![Threshold::parse("errors<1%").unwrap()], false, 1000.0, "x").check(&s, 1.0), None);
        // Status mismatches: lost past 1% of the 1,000; a mean and a floor can still be made up.
        assert_eq!(watch("status_mismatch<1%").check(&s, 1.0), None);
        s.status_mismatches = 11;
        assert!(watch("status_mismatch<1%").check(&s, 1.0).is_some());
        assert_eq!(watch("mean<1ms").check(&s, 1.0), None);
        assert_eq!(watch("rps>=1000").check(&s, 1.0), None);
    }

    #[test]
    fn a_target_that_refuses_everything_stops_the_run_after_a_few_seconds() {
        let watch = Watch::new(vec![], false, 1000.0, "http://127.0.0.1:9");
        let mut s = Summary::new(1);
        for _ in 0..50 {
            s.intend(0);
            s.add(&outcome(1, Some(Failure::Connect)));
        }
        assert_eq!(watch.check(&s, 2.0), None, "not before five seconds");
        assert!(watch.check(&s, 5.5).unwrap().contains("refused every connection"));
        s.intend(0);
        s.add(&outcome(1, None));
        assert_eq!(watch.check(&s, 6.0), None, "one answer and it goes on");
    }
}
