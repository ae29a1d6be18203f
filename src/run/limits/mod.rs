//! The limits that hold for every source of work, checked as each request
//! comes due and is about to go out: one [`Limit`] per file (`--max-requests`
//! in `max_requests.rs`, the `--max-rps` cap in `max_rps.rs`), held as a list,
//! and the end of sending. A request that a limit stops is never lost: it is
//! counted as not sent, with the limit's [`NotSent`] reason.

mod max_requests;
mod max_rps;

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

/// After the schedule's end, due requests may still go out for this long
/// (they were held back by the cap or a busy pool); then sending stops.
pub const LATE_ALLOWANCE: Duration = Duration::from_secs(1);

/// Why an intended request was not sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NotSent {
    /// Ctrl-C or SIGTERM stopped the run first.
    Interrupted,
    /// The run reached its end (`--duration`, or the schedule's length) first.
    DurationBound,
    /// `--max-requests` had been reached (the rest of a started session).
    MaxRequests,
    /// Every connection was busy until the end.
    NoConnection,
    /// The `--max-rps` cap held it back until the end.
    RateCap,
    /// The run stopped early: a threshold could no longer pass (`--abort-on-fail`), or the target refused everything.
    Aborted,
    /// Another [`Limit`] held it back until the end: its name in results.json.
    Limit(&'static str),
}

impl NotSent {
    pub const ALL: [NotSent; 6] =
        [NotSent::Interrupted, NotSent::DurationBound, NotSent::MaxRequests, NotSent::NoConnection, NotSent::RateCap, NotSent::Aborted];

    /// The name in results.json.
    pub fn name(self) -> &'static str {
        match self {
            NotSent::Interrupted => "interrupted",
            NotSent::DurationBound => "duration_bound",
            NotSent::MaxRequests => "max_requests",
            NotSent::NoConnection => "no_free_connection",
            NotSent::RateCap => "max_rps_cap",
            NotSent::Aborted => "aborted",
            NotSent::Limit(name) => name,
        }
    }

    pub fn from_name(name: &str) -> Option<NotSent> {
        NotSent::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// One limit on sending, checked for every request of every source. A new
/// limit is a file here implementing this, and a line in [`Limits::new`]
/// (or a caller's own, in [`crate::run::RunConfig`]'s `limits`).
pub trait Limit: Send + Sync {
    /// Counts a request whose time has come; `false` once no more may come due (the plan ends there).
    fn admit(&self) -> bool {
        true
    }

    /// No more requests may come due at all.
    fn exhausted(&self) -> bool {
        false
    }

    /// `None` when the request may go now (and charges it), else how long until it may.
    fn wait(&self) -> Option<Duration> {
        None
    }

    /// Why a request this limit holds back until sending ends is not sent.
    fn reason(&self) -> NotSent;
}

/// The limits of one run, shared by everything that sends, and when sending ends.
pub struct Limits {
    list: Vec<Arc<dyn Limit>>,
    send_until_ns: Option<u64>,
}

impl Limits {
    /// `end_ns`: when the schedule ends (sending stops [`LATE_ALLOWANCE`] later); `t0`: the run's start.
    pub fn new(max_requests: Option<u64>, max_rps: Option<u32>, end_ns: Option<u64>, t0: tokio::time::Instant) -> Self {
        let mut list: Vec<Arc<dyn Limit>> = Vec::new();
        if let Some(max) = max_requests {
            list.push(Arc::new(max_requests::MaxRequests::new(max)));
        }
        if let Some(rps) = max_rps.and_then(NonZeroU32::new) {
            list.push(Arc::new(max_rps::MaxRps::new(rps, t0)));
        }
        Limits { list, send_until_ns: end_ns.map(|end| end.saturating_add(LATE_ALLOWANCE.as_nanos() as u64)) }
    }

    /// These limits and `more`.
    pub fn with(mut self, more: impl IntoIterator<Item = Arc<dyn Limit>>) -> Self {
        self.list.extend(more);
        self
    }

    /// Counts a request whose time has come against every limit; false once one says no more.
    pub fn admit(&self) -> bool {
        self.list.iter().all(|l| l.admit())
    }

    /// Whether a limit allows no more requests.
    pub fn exhausted(&self) -> bool {
        self.list.iter().any(|l| l.exhausted())
    }

    /// The limits a request waits for, one after another.
    pub fn each(&self) -> impl Iterator<Item = &dyn Limit> {
        self.list.iter().map(|l| &**l)
    }

    /// When sending stops, nanoseconds after the start.
    pub fn send_until_ns(&self) -> Option<u64> {
        self.send_until_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_requests_admits_exactly_that_many() {
        let limits = Limits::new(Some(3), None, None, tokio::time::Instant::now());
        assert_eq!((0..5).filter(|_| limits.admit()).count(), 3);
        assert!(limits.exhausted());
        let unlimited = Limits::new(None, None, Some(1_000), tokio::time::Instant::now());
        assert!((0..1000).all(|_| unlimited.admit()));
        assert_eq!(unlimited.send_until_ns(), Some(1_000 + 1_000_000_000));
    }

    #[tokio::test(start_paused = true)]
    async fn the_cap_lets_its_rate_through_on_the_runs_clock() {
        let limits = Limits::new(None, Some(100), None, tokio::time::Instant::now());
        let cap = limits.each().next().unwrap();
        // A burst of one, then one every 10 ms.
        assert_eq!(cap.wait(), None);
        let wait = cap.wait().expect("the second must wait");
        assert!(wait <= Duration::from_millis(10) && wait > Duration::from_millis(9), "{wait:?}");
        tokio::time::advance(wait).await;
        assert_eq!(cap.wait(), None);
        assert_eq!(NotSent::from_name("max_rps_cap"), Some(NotSent::RateCap));
    }
}
