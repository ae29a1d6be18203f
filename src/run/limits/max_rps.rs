//! `--max-rps N`: a hard cap on the sending rate (governor, on the run's own
//! clock so tests can pause time), with a burst of a hundredth of a second at
//! most, so no second ever holds more than the cap and that.

use super::{Limit, NotSent};
use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use std::num::NonZeroU32;
use std::time::Duration;

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

pub struct MaxRps {
    cap: RateLimiter<NotKeyed, InMemoryState, RunClock, NoOpMiddleware<Duration>>,
    clock: RunClock,
}

impl MaxRps {
    /// A cap of `rps` on the clock that started at `t0`.
    pub fn new(rps: NonZeroU32, t0: tokio::time::Instant) -> Self {
        let clock = RunClock { t0 };
        let burst = NonZeroU32::new((rps.get() / 100).max(1)).expect("at least 1");
        MaxRps { cap: RateLimiter::direct_with_clock(Quota::per_second(rps).allow_burst(burst), clock), clock }
    }
}

impl Limit for MaxRps {
    fn wait(&self) -> Option<Duration> {
        self.cap.check().err().map(|not_until| not_until.wait_time_from(self.clock.now()).max(Duration::from_micros(1)))
    }

    fn reason(&self) -> NotSent {
        NotSent::RateCap
    }
}
