//! `TimeSpan`: the earliest and latest request time, accumulated record by
//! record (input is not assumed sorted).

use crate::log::LogRecord;
use crate::scan::Accumulator;

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct TimeSpan {
    pub first_us: Option<i64>,
    pub last_us: Option<i64>,
}

impl TimeSpan {
    fn widen(&mut self, first: i64, last: i64) {
        self.first_us = Some(self.first_us.map_or(first, |f| f.min(first)));
        self.last_us = Some(self.last_us.map_or(last, |l| l.max(last)));
    }
}

impl Accumulator for TimeSpan {
    fn add(&mut self, record: &LogRecord<'_>) {
        if let Some(t) = record.time_us {
            self.widen(t, t);
        }
    }
    fn merge(&mut self, later: Self) {
        if let (Some(first), Some(last)) = (later.first_us, later.last_us) {
            self.widen(first, last);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_times_widen_the_span() {
        let mut span = TimeSpan::default();
        for t in [50, 10, 70, 30] {
            span.add(&LogRecord {
                time_us: Some(t),
                ..LogRecord::default()
            });
        }
        span.add(&LogRecord::default());
        let mut later = TimeSpan::default();
        later.add(&LogRecord {
            time_us: Some(5),
            ..LogRecord::default()
        });
        span.merge(later);
        assert_eq!((span.first_us, span.last_us), (Some(5), Some(70)));
    }
}
