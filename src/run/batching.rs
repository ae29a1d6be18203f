//! When the replay loop wakes: requests due close together go out on one wake.
//!
//! Every wake of a sleeping process costs a context switch and a trip
//! through the kernel, which at a few thousand requests a second is most of
//! the generator's CPU. So the loop looks ahead: the requests due within the
//! batch window of the first one waiting go out together, at the due time of
//! the last of them. No request leaves before its intended time; the first
//! of a batch leaves at most one window late (its latency, measured from the
//! intended time, shows it, and so does the schedule lag). A request alone
//! in its window leaves exactly on time, so a slow schedule pays nothing.
//! A batch holds [`MAX_BATCH`] requests at most.
//!
//! A burst costs the target a wake too: a server that has caught up sleeps,
//! and the first request of the next burst wakes it, which on one machine
//! (or a virtual one) is an interrupt sent from the generator's core. At
//! high rates that wake, not the request, was the larger cost: see
//! [`MAX_BATCH`].

use crate::plan::Planned;
use std::collections::VecDeque;

/// A batch ends at this many requests even inside the window, so that at
/// high rates its first request waits no longer than the loop's own pace
/// needs. Measured with nginx on loopback (`bench/run.sh`, one core each, 5 s
/// runs): at 8, at 140,000 rps nginx's core took 0.06 wake interrupts a
/// request from the generator's and the generator's core paid 6.2-6.3 µs a
/// request; at 32, 0.03 and 4.7-4.8 µs, and 4.9-5.1 µs against 7.2 at
/// 100,000 rps. The price is the batch's span in the schedule lag: p99 0.19
/// → 0.49 ms at 100,000 rps, within the window's bound. 64 saved a little
/// more CPU, but its longer batches put lag p99 near 1 ms at 100,000-160,000
/// rps.
pub const MAX_BATCH: usize = 32;

/// A plan with the look-ahead the batch window needs.
pub struct Batches<P: Iterator<Item = Planned>> {
    plan: P,
    /// Requests taken from the plan, not yet handed out: the batch, and the next batch's,
    /// looked at to foresee its wake.
    ahead: VecDeque<Planned>,
    /// How many of `ahead` are the batch [`Batches::wake_ns`] last named, not yet handed out.
    batch: usize,
    window_ns: u64,
}

impl<P: Iterator<Item = Planned>> Batches<P> {
    /// `window_ns` 0 wakes for every due time.
    pub fn new(plan: P, window_ns: u64) -> Self {
        Batches { plan, ahead: VecDeque::new(), batch: 0, window_ns }
    }

    /// When to wake next (nanoseconds after the start): the due time of the
    /// last request within the window of the first waiting; `None` when the plan is done.
    pub fn wake_ns(&mut self) -> Option<u64> {
        let (wake, batch) = self.wake_from(0)?;
        self.batch = batch;
        Some(wake)
    }

    /// The wake after the one at `wake_ns`, as it will be if that wake takes just what is
    /// due by then: the timer for it can be armed while this one's is pending (`timer.rs`).
    /// `None` when the plan ends with this batch. It looks one batch further into the plan,
    /// [`MAX_BATCH`] requests at most.
    pub fn wake_after_ns(&mut self, wake_ns: u64) -> Option<u64> {
        // The batch waking at `wake_ns` is the first `batch` requests, all due by then.
        debug_assert!(self.ahead.iter().take(self.batch).all(|p| p.at_ns <= wake_ns));
        self.wake_from(self.batch).map(|(wake, _)| wake)
    }

    /// The wake of the batch that starts at `ahead[first]`: the due time of the last request
    /// within its window, of [`MAX_BATCH`] at most; and how many requests it holds.
    fn wake_from(&mut self, first: usize) -> Option<(u64, usize)> {
        while self.ahead.len() <= first {
            self.ahead.push_back(self.plan.next()?);
        }
        let until = self.ahead[first].at_ns.saturating_add(self.window_ns);
        let end = first + MAX_BATCH;
        while self.ahead.len() < end && self.ahead.back().is_some_and(|last| last.at_ns <= until) {
            match self.plan.next() {
                Some(next) => self.ahead.push_back(next),
                None => break,
            }
        }
        let held = self.ahead.range(first..end.min(self.ahead.len())).take_while(|p| p.at_ns <= until).count();
        Some((self.ahead[first + held - 1].at_ns, held))
    }

    /// Everything not yet handed out, in time order.
    pub fn drain(self) -> impl Iterator<Item = Planned> {
        self.ahead.into_iter().chain(self.plan)
    }

    /// The next item of the whole plan due at or before `now_ns`, past the batch too.
    pub fn take_due(&mut self, now_ns: u64) -> Option<Planned> {
        if self.ahead.is_empty() {
            self.ahead.push_back(self.plan.next()?);
        }
        let due = self.pop_due(now_ns)?;
        self.batch = self.batch.saturating_sub(1);
        Some(due)
    }

    /// The next request of the batch [`Batches::wake_ns`] last named that is due at or before
    /// `now_ns`, if any.
    pub fn next_due(&mut self, now_ns: u64) -> Option<Planned> {
        if self.batch == 0 {
            return None;
        }
        let due = self.pop_due(now_ns)?;
        self.batch -= 1;
        Some(due)
    }

    /// The first request ahead, if it is due at or before `now_ns`.
    fn pop_due(&mut self, now_ns: u64) -> Option<Planned> {
        if self.ahead.front()?.at_ns <= now_ns { self.ahead.pop_front() } else { None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{RequestSpec, Work};

    fn plan(times: &[u64]) -> impl Iterator<Item = Planned> + '_ {
        times.iter().copied().enumerate().map(|(i, at_ns)| Planned {
            at_ns,
            shard_key: i as u64,
            work: Work::Request(RequestSpec {
                endpoint: 0,
                seq: i as u64,
                method: hyper::Method::GET,
                target: "/".into(),
                body: None,
                synthetic: false,
            }),
        })
    }

    /// (wake time, due times sent on that wake)
    type Wakes = Vec<(u64, Vec<u64>)>;

    /// The wakes until the plan is done. Each wake's guess at the next (`wake_after_ns`) is made
    /// first, as the loop makes it, and must prove right: the loop takes just what is due.
    fn wakes(times: &[u64], window_ns: u64) -> Wakes {
        let mut batches = Batches::new(plan(times), window_ns);
        let mut out = vec![];
        let mut guessed = None;
        while let Some(wake) = batches.wake_ns() {
            if let Some(guess) = guessed {
                assert_eq!(wake, guess, "the wake after the last was foreseen: times {times:?} window {window_ns}");
            }
            guessed = batches.wake_after_ns(wake);
            let mut sent = vec![];
            while let Some(p) = batches.next_due(wake) {
                sent.push(p.at_ns);
            }
            out.push((wake, sent));
        }
        assert_eq!(guessed, None, "no wake foreseen after the last");
        out
    }

    /// Thirty-four requests due at 0, then one at 10 and one at 20.
    const AT_ONCE: [u64; 36] = {
        let mut times = [0; 36];
        times[34] = 10;
        times[35] = 20;
        times
    };

    #[test]
    fn a_window_groups_requests_at_the_last_due_time_and_never_sends_early() {
        let cases: &[(&[u64], u64, Wakes)] = &[
            // No window: one wake per distinct due time.
            (&[0, 100, 100, 250], 0, vec![(0, vec![0]), (100, vec![100, 100]), (250, vec![250])]),
            // Window 200: 0, 100 and 200 go at 200; 500 alone, on time; 900 and 1000 at 1000.
            (&[0, 100, 200, 500, 900, 1000], 200, vec![(200, vec![0, 100, 200]), (500, vec![500]), (1000, vec![900, 1000])]),
            // The window counts from the first waiting request, not the last sent.
            (&[0, 150, 300, 450], 200, vec![(150, vec![0, 150]), (450, vec![300, 450])]),
            // A lone request is never delayed.
            (&[1_000_000], 500_000, vec![(1_000_000, vec![1_000_000])]),
            // Thirty-four at once, then two more within the window: batches of at most thirty-two.
            (&AT_ONCE, 100, vec![(0, vec![0; 32]), (20, vec![0, 0, 10, 20])]),
            (&[], 500, vec![]),
        ];
        for (times, window, expected) in cases {
            let got = wakes(times, *window);
            assert_eq!(&got, expected, "times {times:?} window {window}");
            for (wake, sent) in &got {
                assert!(sent.iter().all(|at| at <= wake && wake - at <= *window), "{sent:?} at {wake}");
            }
            assert_eq!(got.iter().map(|(_, s)| s.len()).sum::<usize>(), times.len());
        }
    }

    #[test]
    fn at_five_thousand_a_second_a_half_millisecond_window_wakes_a_third_as_often() {
        let times: Vec<u64> = (0..5000u64).map(|i| i * 200_000).collect();
        assert_eq!(wakes(&times, 0).len(), 5000);
        // 0.5 ms holds three requests 0.2 ms apart.
        assert_eq!(wakes(&times, 500_000).len(), 1667);
    }
}
