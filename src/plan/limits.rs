//! The limits that hold for every source of work, checked as each request
//! is about to go out: `--max-requests`, the `--max-rps` cap (governor, on
//! the run's own clock so tests can pause time), and the end of sending.
//! A request that a limit stops is never lost: it is counted as not sent,
//! with the [`NotSent`] reason.

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
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
        }
    }

    pub fn from_name(name: &str) -> Option<NotSent> {
        NotSent::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// The run's clock for governor: time since the start, from tokio's clock.
#[derive(Debug, Clone, Copy)]
pub struct RunClock {
    t0: tokio::time::Instant,
}

impl Clock for RunClock {
    type Instant = Duration;
    fn now(&self) -> Duration {
        self.t0.elapsed()
    }
}

type Cap = RateLimiter<NotKeyed, InMemoryState, RunClock, NoOpMiddleware<Duration>>;

/// The limits of one run, shared by everything that sends.
pub struct Limits {
    max_requests: Option<u64>,
    admitted: AtomicU64,
    cap: Option<Cap>,
    clock: RunClock,
    send_until_ns: Option<u64>,
}

impl Limits {
    /// `end_ns`: when the schedule ends (sending stops [`LATE_ALLOWANCE`] later); `t0`: the run's start.
    pub fn new(max_requests: Option<u64>, max_rps: Option<u32>, end_ns: Option<u64>, t0: tokio::time::Instant) -> Self {
        let clock = RunClock { t0 };
        let cap = max_rps.and_then(NonZeroU32::new).map(|rps| {
            // A burst of a hundredth of a second at most, so no second ever holds more than the cap and that.
            let burst = NonZeroU32::new((rps.get() / 100).max(1)).expect("at least 1");
            RateLimiter::direct_with_clock(Quota::per_second(rps).allow_burst(burst), clock)
        });
        let send_until_ns = end_ns.map(|end| end.saturating_add(LATE_ALLOWANCE.as_nanos() as u64));
        Limits { max_requests, admitted: AtomicU64::new(0), cap, clock, send_until_ns }
    }

    /// Counts one request against `--max-requests`; false once it is reached.
    pub fn admit(&self) -> bool {
        match self.max_requests {
            None => true,
            Some(max) => self.admitted.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n < max).then_some(n + 1)).is_ok(),
        }
    }

    /// Whether `--max-requests` has been reached.
    pub fn exhausted(&self) -> bool {
        self.max_requests.is_some_and(|max| self.admitted.load(Ordering::Relaxed) >= max)
    }

    /// `None` when the cap lets a request go now (and charges it), else how long until it may.
    pub fn cap_wait(&self) -> Option<Duration> {
        let cap = self.cap.as_ref()?;
        cap.check().err().map(|not_until| not_until.wait_time_from(self.clock.now()).max(Duration::from_micros(1)))
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
        // A burst of one, then one every 10 ms.
        assert_eq!(limits.cap_wait(), None);
        let wait = limits.cap_wait().expect("the second must wait");
        assert!(wait <= Duration::from_millis(10) && wait > Duration::from_millis(9), "{wait:?}");
        tokio::time::advance(wait).await;
        assert_eq!(limits.cap_wait(), None);
        assert_eq!(NotSent::from_name("max_rps_cap"), Some(NotSent::RateCap));
    }
}
