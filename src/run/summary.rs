//! `Summary`: what a run did, built one outcome at a time.
//!
//! Latency is measured from each request's *intended* send time, not from
//! when it went out, so a stalled target or a busy generator shows up as
//! latency instead of hiding (no coordinated omission); service time, from
//! the actual send, is kept beside it, and so is schedule lag (actual minus
//! intended send). All three are HDR histograms in microseconds, overall and
//! per endpoint, and serialise losslessly so results of several runs or
//! shards merge exactly.

use crate::client::{Failure, Outcome};
use crate::run::NotSent;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;

/// Per-period histograms: 2 significant digits, a few KiB each.
fn period_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 2).expect("static bounds are valid")
}

/// Microsecond histograms from 1 µs to an hour, 3 significant digits.
pub fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("static bounds are valid")
}

#[derive(Debug, Clone)]
pub struct EndpointSummary {
    /// Requests to this endpoint whose time came, sent or not.
    pub intended: u64,
    pub requests: u64,
    pub failures: u64,
    pub by_failure: BTreeMap<Failure, u64>,
    pub latency: Histogram<u64>,
    /// Response body bytes received.
    pub bytes: u64,
    /// Responses by status class, 1xx … 5xx.
    pub classes: [u64; 5],
    /// Responses whose class production rarely answered here (see `status_classes.rs`).
    pub mismatches: u64,
    /// The classes production answered here, as a mask; `None` when the profile holds no statuses.
    pub expected: Option<u8>,
}

/// Per-second counts of the run, for the achieved rate and lag per window.
#[derive(Debug, Clone, Default)]
pub struct Window {
    pub intended: u64,
    pub sent: u64,
    /// Sent more than [`LATE_US`] after their intended time.
    pub late: u64,
    pub lag_max_us: u64,
    /// Virtual users: the most in flight at a start or end in this second, and how many after its last.
    pub users_max: u64,
    pub users_end: Option<u64>,
}

/// A request that left more than this after its intended time (µs) left late.
pub const LATE_US: u64 = 50_000;

/// Latency over one stretch of the run, for the shape of the run over time.
#[derive(Debug, Clone)]
pub struct Period {
    /// Requests due in this period (sent or not).
    pub intended: u64,
    pub requests: u64,
    pub failures: u64,
    pub by_failure: BTreeMap<Failure, u64>,
    pub latency: Histogram<u64>,
    /// The worst schedule lag of a request due in this period.
    pub lag_max_us: u64,
}

/// At most this many periods; past it, neighbours merge and the width doubles.
const MAX_PERIODS: usize = 720;

#[derive(Debug, Clone)]
pub struct Summary {
    pub intended: u64,
    pub requests: u64,
    pub failures: u64,
    /// Requests the `--max-rps` cap held back (they went out late).
    pub held_back: u64,
    /// Intended requests that were not sent, by reason: `intended == requests + not_sent`.
    pub not_sent: BTreeMap<NotSent, u64>,
    /// Requests that went out a second time on a new connection (see the client).
    pub retried: u64,
    /// Virtual users started, and in flight now.
    pub users_started: u64,
    pub users_active: u64,
    /// Later steps of virtual users that never came due (the user was stopped first): planned, not intended.
    pub cut_off: u64,
    /// Requests sent with a synthetic value for a placeholder (see `plan::request`).
    pub synthetic: u64,
    pub by_failure: BTreeMap<Failure, u64>,
    /// The first failure of each class: its endpoint and what went wrong, in words.
    pub failure_examples: BTreeMap<Failure, (usize, String)>,
    pub by_status: BTreeMap<u16, u64>,
    /// Responses whose status class production rarely answered on their endpoint.
    pub status_mismatches: u64,
    pub latency: Histogram<u64>,
    pub service: Histogram<u64>,
    pub lag: Histogram<u64>,
    pub endpoints: Vec<EndpointSummary>,
    /// By second of the run.
    pub windows: Vec<Window>,
    /// Latency by period of `period_s` seconds, by when requests were due.
    pub periods: Vec<Period>,
    pub period_s: u64,
    pub last_done_ns: u64,
}

impl Summary {
    pub fn new(endpoints: usize) -> Self {
        Self::with_periods(endpoints, 1)
    }

    /// A summary whose latency periods are `period_s` seconds wide (about
    /// a hundredth of the planned run is a good width).
    pub fn with_periods(endpoints: usize, period_s: u64) -> Self {
        Summary {
            intended: 0,
            requests: 0,
            failures: 0,
            held_back: 0,
            not_sent: BTreeMap::new(),
            retried: 0,
            users_started: 0,
            users_active: 0,
            cut_off: 0,
            synthetic: 0,
            by_failure: BTreeMap::new(),
            failure_examples: BTreeMap::new(),
            by_status: BTreeMap::new(),
            status_mismatches: 0,
            latency: new_histogram(),
            service: new_histogram(),
            lag: new_histogram(),
            endpoints: (0..endpoints)
                .map(|_| EndpointSummary {
                    intended: 0,
                    requests: 0,
                    failures: 0,
                    by_failure: BTreeMap::new(),
                    latency: new_histogram(),
                    bytes: 0,
                    classes: [0; 5],
                    mismatches: 0,
                    expected: None,
                })
                .collect(),
            windows: Vec::new(),
            periods: Vec::new(),
            period_s: period_s.max(1),
            last_done_ns: 0,
        }
    }

    /// Judges each endpoint's statuses against production's classes, where `catalog` holds them.
    pub fn expect_statuses(&mut self, catalog: &crate::plan::Catalog) {
        for (e, entry) in self.endpoints.iter_mut().zip(&catalog.endpoints) {
            e.expected = entry.production_status.as_ref().map(crate::profile::status_classes::expected_mask);
        }
    }

    fn window(&mut self, ns: u64) -> &mut Window {
        let second = (ns / 1_000_000_000) as usize;
        if self.windows.len() <= second {
            self.windows.resize(second + 1, Window::default());
        }
        &mut self.windows[second]
    }

    fn period(&mut self, ns: u64) -> &mut Period {
        let mut index = (ns / 1_000_000_000 / self.period_s) as usize;
        while index >= MAX_PERIODS {
            self.coarsen_periods();
            index = (ns / 1_000_000_000 / self.period_s) as usize;
        }
        if self.periods.len() <= index {
            self.periods.resize_with(index + 1, || Period {
                intended: 0,
                requests: 0,
                failures: 0,
                by_failure: BTreeMap::new(),
                latency: period_histogram(),
                lag_max_us: 0,
            });
        }
        &mut self.periods[index]
    }

    fn coarsen_periods(&mut self) {
        let old = std::mem::take(&mut self.periods);
        for pair in old.chunks(2) {
            let mut merged = pair[0].clone();
            if let Some(second) = pair.get(1) {
                merged.intended += second.intended;
                merged.requests += second.requests;
                merged.failures += second.failures;
                for (f, n) in &second.by_failure {
                    *merged.by_failure.entry(*f).or_default() += n;
                }
                merged.lag_max_us = merged.lag_max_us.max(second.lag_max_us);
                let _ = merged.latency.add(&second.latency);
            }
            self.periods.push(merged);
        }
        self.period_s *= 2;
    }

    /// A request became due (whether or not it could be sent).
    pub fn intend(&mut self, at_ns: u64) {
        self.intended += 1;
        self.window(at_ns).intended += 1;
        self.period(at_ns).intended += 1;
    }

    /// A request to `endpoint` came due at `at_ns`: [`Summary::intend`], and the endpoint's count.
    pub fn intend_on(&mut self, at_ns: u64, endpoint: usize) {
        self.intend(at_ns);
        if let Some(e) = self.endpoints.get_mut(endpoint) {
            e.intended += 1;
        }
    }

    /// A virtual user started at `at_ns`.
    pub fn user_started(&mut self, at_ns: u64) {
        self.users_started += 1;
        self.users_active += 1;
        self.users_changed(at_ns);
    }

    /// A virtual user finished (or stopped) at `at_ns`.
    pub fn user_done(&mut self, at_ns: u64) {
        self.users_active = self.users_active.saturating_sub(1);
        self.users_changed(at_ns);
    }

    fn users_changed(&mut self, at_ns: u64) {
        let active = self.users_active;
        let window = self.window(at_ns);
        window.users_max = window.users_max.max(active);
        window.users_end = Some(active);
    }

    /// Virtual users in flight in each second of the run (the most at any moment of it).
    pub fn users_by_second(&self) -> Vec<u64> {
        let mut carried = 0;
        self.windows
            .iter()
            .map(|w| {
                let most = w.users_max.max(carried);
                carried = w.users_end.unwrap_or(carried);
                most
            })
            .collect()
    }

    /// `n` intended requests were not sent, for `reason`.
    pub fn not_sent(&mut self, reason: NotSent, n: u64) {
        if n > 0 {
            *self.not_sent.entry(reason).or_default() += n;
        }
    }

    /// All requests not sent, whatever the reason.
    pub fn not_sent_total(&self) -> u64 {
        self.not_sent.values().sum()
    }

    /// `n` requests went out but had no response when the run ended: failed as timeouts.
    pub fn unfinished(&mut self, n: u64) {
        if n == 0 {
            return;
        }
        self.requests += n;
        self.failures += n;
        *self.by_failure.entry(Failure::Timeout).or_default() += n;
        self.failure_examples.entry(Failure::Timeout).or_insert((usize::MAX, "no response before the run ended".into()));
    }

    pub fn add(&mut self, o: &Outcome) {
        let us = |ns: u64| (ns / 1000).max(1);
        self.requests += 1;
        let latency = us(o.done_ns.saturating_sub(o.intended_ns));
        let service = us(o.done_ns.saturating_sub(o.sent_ns));
        let lag = us(o.sent_ns.saturating_sub(o.intended_ns));
        self.latency.saturating_record(latency);
        self.service.saturating_record(service);
        self.lag.saturating_record(lag);
        let window = self.window(o.intended_ns);
        window.sent += 1;
        window.late += u64::from(lag > LATE_US);
        window.lag_max_us = window.lag_max_us.max(lag);
        let period = self.period(o.intended_ns);
        period.requests += 1;
        period.failures += u64::from(o.failure.is_some());
        period.latency.saturating_record(latency);
        period.lag_max_us = period.lag_max_us.max(lag);
        if let Some(f) = o.failure {
            *period.by_failure.entry(f).or_default() += 1;
        }
        if let Some(status) = o.status {
            *self.by_status.entry(status).or_default() += 1;
        }
        if let Some(e) = self.endpoints.get_mut(o.endpoint) {
            if let Some(status) = o.status {
                if let Some(class) = crate::profile::status_classes::class_of(status) {
                    e.classes[class] += 1;
                }
                if crate::profile::status_classes::mismatched(e.expected, status) {
                    e.mismatches += 1;
                    self.status_mismatches += 1;
                }
            }
            e.requests += 1;
            e.failures += u64::from(o.failure.is_some());
            e.latency.saturating_record(latency);
            e.bytes += o.bytes;
            if let Some(f) = o.failure {
                *e.by_failure.entry(f).or_default() += 1;
            }
        }
        if let Some(f) = o.failure {
            self.failures += 1;
            *self.by_failure.entry(f).or_default() += 1;
            if let Some(detail) = &o.detail {
                self.failure_examples.entry(f).or_insert_with(|| (o.endpoint, detail.clone()));
            }
        }
        self.retried += u64::from(o.retried);
        self.synthetic += u64::from(o.synthetic);
        self.last_done_ns = self.last_done_ns.max(o.done_ns);
    }

    /// Seconds the run under-delivered: more than 5% of the requests due in
    /// them left over [`LATE_US`] late or were not sent. The last, partial
    /// second is not judged.
    pub fn behind_windows(&self) -> Vec<usize> {
        let judged = self.windows.len().saturating_sub(1);
        self.windows[..judged]
            .iter()
            .enumerate()
            .filter(|(_, w)| w.intended > 0 && ((w.sent.saturating_sub(w.late)) as f64) < 0.95 * w.intended as f64)
            .map(|(i, _)| i)
            .collect()
    }

    /// The run delivered its schedule: schedule lag p99 within [`LATE_US`],
    /// and at most 2% of its seconds (and never more than one) under-delivered.
    /// Calibrated on a 2-core machine with a CPU hog beside the run (see README):
    /// a healthy run there keeps its lag p99 in single milliseconds, a swamped
    /// one falls seconds behind, so the line sits far from both.
    pub fn trustworthy(&self) -> bool {
        let behind = self.behind_windows().len();
        self.lag.value_at_quantile(0.99) <= LATE_US && (behind <= 1 || (behind as f64) <= 0.02 * self.windows.len() as f64)
    }

    /// For the live line: the generator is falling behind now (lag p99 over [`LATE_US`]).
    pub fn falling_behind(&self) -> bool {
        self.lag.value_at_quantile(0.99) > LATE_US
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(intended_ms: u64, sent_ms: u64, done_ms: u64, failure: Option<Failure>) -> Outcome {
        let ms = 1_000_000;
        Outcome {
            endpoint: 0,
            intended_ns: intended_ms * ms,
            sent_ns: sent_ms * ms,
            done_ns: done_ms * ms,
            status: Some(200),
            failure,
            detail: failure.map(|f| f.name().to_owned()),
            retried: false,
            synthetic: false,
            to_login: false,
            bytes: 0,
        }
    }

    #[test]
    fn latency_counts_from_the_intended_time() {
        let mut s = Summary::new(1);
        s.intend(0);
        s.add(&outcome(0, 400, 410, None));
        assert_eq!(s.latency.max() / 1000, 410);
        assert_eq!(s.service.max() / 1000, 10);
        assert_eq!(s.lag.max() / 1000, 400);
        assert!(!s.trustworthy());
    }

    #[test]
    fn not_sent_and_unfinished_requests_keep_the_identity() {
        let mut s = Summary::new(1);
        for _ in 0..5 {
            s.intend(0);
        }
        s.add(&outcome(0, 0, 1, None));
        s.unfinished(1);
        s.not_sent(NotSent::Interrupted, 2);
        s.not_sent(NotSent::RateCap, 1);
        assert_eq!(s.intended, s.requests + s.not_sent_total());
        assert_eq!((s.requests, s.failures, s.by_failure[&Failure::Timeout]), (2, 1, 1));
    }

    #[test]
    fn users_in_flight_are_counted_through_the_seconds_they_span() {
        let mut s = Summary::new(1);
        let second = 1_000_000_000;
        s.user_started(0);
        s.user_started(second / 2);
        s.user_done(second + 1);
        s.intend(4 * second);
        // A user walked from second 0 to 5 with no event between: it counts in every second.
        s.user_done(5 * second);
        assert_eq!(s.users_by_second(), [2, 2, 1, 1, 1, 1]);
        assert_eq!((s.users_started, s.users_active), (2, 0));
    }

    #[test]
    fn status_classes_unlike_productions_are_mismatches() {
        let mut s = Summary::new(1);
        let catalog = crate::plan::Catalog {
            endpoints: vec![crate::plan::CatalogEntry {
                production_status: Some([0.0, 1.0, 0.0, 0.0, 0.0]),
                ..crate::plan::CatalogEntry::named(crate::plan::EndpointKey::new("GET", "/"))
            }],
        };
        s.expect_statuses(&catalog);
        for status in [200, 204, 302, 401] {
            s.add(&Outcome { status: Some(status), ..outcome(0, 0, 1, None) });
        }
        assert_eq!((s.status_mismatches, s.endpoints[0].classes), (2, [0, 2, 1, 1, 0]));
    }

    #[test]
    fn periods_keep_latency_over_time_and_stay_bounded() {
        let mut s = Summary::with_periods(1, 10);
        s.add(&outcome(1_000, 1_000, 1_005, None));
        s.add(&outcome(25_000, 25_000, 25_050, None));
        assert_eq!(s.periods.len(), 3);
        assert_eq!((s.periods[0].requests, s.periods[1].requests, s.periods[2].requests), (1, 0, 1));
        assert!(s.periods[2].latency.max() >= 49_000);
        // A soak ten times longer than planned doubles the width instead of growing without end.
        s.add(&outcome(72_000_000, 72_000_000, 72_000_001, None));
        assert!(s.periods.len() <= MAX_PERIODS && s.period_s >= 100, "{} periods of {} s", s.periods.len(), s.period_s);
        assert_eq!(s.periods.iter().map(|p| p.requests).sum::<u64>(), 3);
    }

    #[test]
    fn failures_by_class_and_windows_that_fell_behind() {
        let mut s = Summary::new(1);
        for i in 0..200 {
            s.intend(i * 10_000_000);
        }
        for i in 0..100 {
            s.add(&outcome(i * 10, i * 10, i * 10 + 2, (i % 10 == 0).then_some(Failure::Http5xx)));
        }
        assert_eq!((s.requests, s.failures, s.by_failure[&Failure::Http5xx]), (100, 10, 10));
        // Second 0 sent all 100; second 1 sent none of its 100 (and is the last, so not judged).
        assert!(s.behind_windows().is_empty());
        s.intend(2_500_000_000);
        assert_eq!(s.behind_windows(), [1]);
        // One second behind in a run is noise; the lag p99 decides with it.
        assert!(s.trustworthy());
        // Late by more than 50 ms counts as not delivered on time.
        let mut late = Summary::new(1);
        for second in 0..3u64 {
            for i in 0..100u64 {
                let at = second * 1000 + i * 10;
                late.intend(at * 1_000_000);
                let lag = if second == 1 && i < 10 { 80 } else { 1 };
                late.add(&outcome(at, at + lag, at + lag + 1, None));
            }
        }
        assert_eq!(late.behind_windows(), [1]);
    }
}
