//! `--max-requests N`: the run ends after N requests have come due.

use super::{Limit, NotSent};
use std::sync::atomic::{AtomicU64, Ordering};

pub struct MaxRequests {
    max: u64,
    admitted: AtomicU64,
}

impl MaxRequests {
    pub fn new(max: u64) -> Self {
        MaxRequests { max, admitted: AtomicU64::new(0) }
    }
}

impl Limit for MaxRequests {
    fn admit(&self) -> bool {
        self.admitted.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| (n < self.max).then_some(n + 1)).is_ok()
    }

    fn exhausted(&self) -> bool {
        self.admitted.load(Ordering::Relaxed) >= self.max
    }

    fn reason(&self) -> NotSent {
        NotSent::MaxRequests
    }
}
