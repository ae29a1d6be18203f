//! A chunk's endpoint mix: requests per (minute, template), counted from the
//! chunk's events once its last line is in, on the worker's thread.
//!
//! Counting a line at a time meant a hash-map update per request. The events
//! hold the same (time, template) pairs, and a chunk's lines mostly come in
//! time order, so a dense count per template over each run of one minute,
//! flushed when the minute changes, does the same work with an array
//! increment a request. Out-of-order lines only make more, shorter runs; the
//! flushed counts are sorted and their repeats added, so the answer is the
//! same whatever the order.

use super::{Event, MIX_RESOLUTION_S};

/// Requests per (minute, template) among `events`, sorted, each pair once;
/// `templates` bounds the template ids.
pub(super) fn mix_of(events: &[Event], templates: usize) -> Vec<((i64, u32), u64)> {
    let mut counts = vec![0u32; templates];
    let mut touched: Vec<u32> = Vec::new();
    let mut mix: Vec<((i64, u32), u64)> = Vec::new();
    let mut run_minute = None;
    // The microseconds of the run's minute: a time inside them needs no division.
    let mut run_us = 0..0;
    const MINUTE_US: i64 = MIX_RESOLUTION_S * 1_000_000;
    for event in events {
        if !run_us.contains(&event.time_us) {
            let minute = event.time_us.div_euclid(1_000_000).div_euclid(MIX_RESOLUTION_S);
            if let Some(done) = run_minute {
                flush(done, &mut counts, &mut touched, &mut mix);
            }
            run_minute = Some(minute);
            let start = minute.saturating_mul(MINUTE_US);
            run_us = start..start.saturating_add(MINUTE_US);
        }
        let Some(count) = counts.get_mut(event.template as usize) else { continue };
        if *count == 0 {
            touched.push(event.template);
        }
        *count += 1;
    }
    if let Some(done) = run_minute {
        flush(done, &mut counts, &mut touched, &mut mix);
    }
    mix.sort_unstable_by_key(|&(key, _)| key);
    // A minute that came back after another gave a second run: its counts join the first's.
    mix.dedup_by(|later, earlier| {
        let same = later.0 == earlier.0;
        if same {
            earlier.1 += later.1;
        }
        same
    });
    mix
}

/// Moves one minute's counts into `mix`, leaving `counts` all zero again.
fn flush(minute: i64, counts: &mut [u32], touched: &mut Vec<u32>, mix: &mut Vec<((i64, u32), u64)>) {
    for template in touched.drain(..) {
        let count = std::mem::take(&mut counts[template as usize]);
        mix.push(((minute, template), u64::from(count)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// The run-wise count equals a plain count per (minute, template), in order or shuffled.
    #[test]
    fn counts_every_minute_and_template_whatever_the_order() {
        let minute_us = MIX_RESOLUTION_S * 1_000_000;
        // In order, a minute coming back, times before 1970 (floor, not truncation), the edges of a
        // minute, and the first and last minutes of the clock (whose ends saturate).
        let times = [
            0,
            1,
            minute_us - 1,
            minute_us,
            minute_us + 5,
            3,
            -1,
            -minute_us,
            -minute_us - 1,
            2 * minute_us,
            minute_us,
            i64::MAX,
            i64::MAX - 1,
            i64::MIN,
            i64::MIN + 1,
            0,
        ];
        let events: Vec<Event> =
            times.iter().enumerate().map(|(i, &time_us)| Event { time_us, template: (i % 3) as u32, user: 0 }).collect();
        let mut want: BTreeMap<(i64, u32), u64> = BTreeMap::new();
        for e in &events {
            *want.entry((e.time_us.div_euclid(minute_us), e.template)).or_default() += 1;
        }
        let want: Vec<_> = want.into_iter().collect();
        assert_eq!(mix_of(&events, 3), want);
        let mut reversed = events.clone();
        reversed.reverse();
        assert_eq!(mix_of(&reversed, 3), want);
        assert_eq!(mix_of(&[], 3), Vec::new());
        // An id past the table (none should be) is left out, not a panic.
        assert_eq!(mix_of(&[Event { time_us: 0, template: 7, user: 0 }], 3), Vec::new());
    }
}
