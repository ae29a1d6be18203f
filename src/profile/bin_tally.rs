//! Counts by sketch bin, for the sketches one derive feeds on every request or
//! session (think times, session durations): a value costs its bin and an add
//! to an array, not a search of the sketch's sorted bins, and the counts join
//! the sketch when it is flushed. Counts add alike in any order, so the sketch
//! is the one adding each value would make.

use super::sketch::QuantileSketch;

/// Bins counted here, from 0: values up to about 2.6 million (43 minutes in
/// milliseconds, past the default session gap of 30). A value of a higher bin (a think
/// time under a longer `--session-gap`, a long session) goes to the sketch at once.
const TALLIED: usize = 1024;

/// Values by bin, waiting for [`BinTally::flush_into`].
#[derive(Debug)]
pub struct BinTally {
    /// Values by bin.
    counts: Box<[u64; TALLIED]>,
    /// Whether any count is waiting.
    waiting: bool,
}

impl Default for BinTally {
    fn default() -> Self {
        BinTally { counts: Box::new([0; TALLIED]), waiting: false }
    }
}

impl BinTally {
    /// Counts `value` for `sketch`: here if its bin is low enough, else in `sketch` at once.
    #[inline(always)] // once a request
    pub fn add(&mut self, sketch: &mut QuantileSketch, value: f64) {
        self.add_in_bin(sketch, QuantileSketch::bin_of(value));
    }

    /// [`add`](Self::add) of a whole number (a duration in milliseconds).
    #[inline(always)] // once a session
    pub fn add_whole(&mut self, sketch: &mut QuantileSketch, value: u64) {
        self.add_in_bin(sketch, QuantileSketch::bin_of_whole(value));
    }

    #[inline(always)]
    fn add_in_bin(&mut self, sketch: &mut QuantileSketch, bin: i32) {
        match usize::try_from(bin).ok().and_then(|bin| self.counts.get_mut(bin)) {
            Some(n) => {
                *n += 1;
                self.waiting = true;
            }
            None => sketch.add_bin(bin, 1),
        }
    }

    /// Adds the waiting counts to `sketch`, and forgets them.
    pub fn flush_into(&mut self, sketch: &mut QuantileSketch) {
        if !std::mem::replace(&mut self.waiting, false) {
            return;
        }
        for (bin, n) in self.counts.iter_mut().enumerate() {
            if *n > 0 {
                sketch.add_bin(bin as i32, std::mem::take(n));
            }
        }
    }
}

#[cfg(test)]
impl BinTally {
    /// Whether no count is waiting.
    pub fn is_empty(&self) -> bool {
        !self.waiting
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::{Rng, SeedableRng};

    /// Values of every size (zeros, below 1, NaN, past the tallied bins), flushed now and
    /// then: the sketch is the one adding each value makes.
    #[test]
    fn a_flushed_tally_is_the_sketch_of_its_values() {
        let (mut tally, mut fed, mut direct) = (BinTally::default(), QuantileSketch::default(), QuantileSketch::default());
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x9e37_79b9_7f4a_7c15);
        for i in 0..50_000u64 {
            let state = rng.next_u64();
            let value = match i % 7 {
                0 => 0.0,
                1 => f64::NAN,
                2 => (state >> 40) as f64 / 1e4,
                3 => (state >> 20) as f64,
                4 => 1800.0 * 1000.0 + (state >> 50) as f64,
                _ => (state >> 44) as f64,
            };
            if i % 3 == 0 && value >= 0.0 {
                tally.add_whole(&mut fed, value as u64);
                direct.add((value as u64) as f64);
            } else {
                tally.add(&mut fed, value);
                direct.add(value);
            }
            if i % 9_999 == 0 {
                tally.flush_into(&mut fed);
                assert!(tally.is_empty());
            }
        }
        assert!(!tally.is_empty());
        tally.flush_into(&mut fed);
        assert_eq!(fed, direct);
        assert_eq!(fed.count(), 50_000);
    }
}
