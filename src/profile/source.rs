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

impl TimeSpan {
    pub fn add_time(&mut self, t: i64) {
        self.widen(t, t);
    }
    pub fn merge(&mut self, other: TimeSpan) {
        if let (Some(first), Some(last)) = (other.first_us, other.last_us) {
            self.widen(first, last);
        }
    }
}

impl Accumulator for TimeSpan {
    type Total = TimeSpan;
    fn add(&mut self, record: &LogRecord<'_>) {
        if let Some(t) = record.time_us {
            self.add_time(t);
        }
    }
    fn fold_into(self, total: &mut TimeSpan) {
        total.merge(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_order_times_widen_the_span() {
        let mut span = TimeSpan::default();
        for t in [50, 10, 70, 30] {
            span.add(&LogRecord { time_us: Some(t), ..LogRecord::default() });
        }
        span.add(&LogRecord::default());
        let mut later = TimeSpan::default();
        later.add(&LogRecord { time_us: Some(5), ..LogRecord::default() });
        later.fold_into(&mut span);
        assert_eq!((span.first_us, span.last_us), (Some(5), Some(70)));
    }
}
