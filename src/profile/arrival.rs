//! The arrival curve: requests counted per time bin, out-of-order input
//! welcome, memory bounded whatever the span.
//!
//! Counts are kept at the finest resolution that fits [`MAX_BINS`] bins (1 s
//! first, coarser as the span grows); when the profile is finished a bin
//! width is chosen so the whole span fits in a few thousand bins, or
//! `--bin` sets it.

use super::wire::Arrival;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// Bins by index, neighbours kept in neighbouring buckets (see [`BinHasher`]).
type Bins = HashMap<i64, u64, BuildHasherDefault<BinHasher>>;

/// Hashes a bin index so that the table's bucket is read from its low bits as they are, and
/// its tag (the top seven bits) from a mix of them. Counts come mostly in order of time (a
/// chunk's seconds, the sessions a sweep closes), and a mixing hash sent each to a bucket
/// far from the last: a cache miss a count, a day's table being 86,400 bins.
#[derive(Default)]
struct BinHasher(u64);

impl Hasher for BinHasher {
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }
    fn write_i64(&mut self, n: i64) {
        self.0 = n as u64;
    }
    fn finish(&self) -> u64 {
        const TAG: u64 = 0xfe00_0000_0000_0000;
        self.0.wrapping_mul(0x9e37_79b9_7f4a_7c15) & TAG | self.0 & !TAG
    }
}

/// Internal resolutions, seconds; each divides the next.
const RESOLUTIONS: [i64; 7] = [1, 10, 60, 600, 3600, 21600, 86400];
const MAX_BINS: usize = 200_000;
/// Bin widths a finished curve may have, seconds.
const NICE_BINS: [i64; 17] = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200, 86400];
/// A finished curve has at most this many bins unless `--bin` asks for more.
pub const TARGET_BINS: i64 = 3600;

/// A time read from a file is at most this many seconds from 1970 (35,000 years), so microseconds fit an i64.
pub const MAX_SECOND: i64 = 1 << 40;

/// An arrival counter as a partial profile keeps it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrivalState {
    pub resolution_s: i64,
    /// (second / resolution_s, count), rising.
    pub bins: Vec<(i64, u64)>,
}

#[derive(Debug, Clone, Default)]
pub struct ArrivalCounter {
    level: usize,
    /// bin index (time / resolution) → count. A hash map: a count is added per
    /// session and per second of log, and a day's 86,400 bins in a tree cost a
    /// search of cache misses each; whatever reads the bins sorts or scans them.
    bins: Bins,
}

impl ArrivalCounter {
    pub fn resolution(&self) -> i64 {
        RESOLUTIONS[self.level]
    }

    pub fn add(&mut self, sec: i64, n: u64) {
        *self.bins.entry(sec.div_euclid(self.resolution())).or_default() += n;
        while self.bins.len() > MAX_BINS && self.level + 1 < RESOLUTIONS.len() {
            self.coarsen();
        }
    }

    fn coarsen(&mut self) {
        let factor = RESOLUTIONS[self.level + 1] / RESOLUTIONS[self.level];
        let mut coarse = Bins::default();
        for (bin, n) in std::mem::take(&mut self.bins) {
            *coarse.entry(bin.div_euclid(factor)).or_default() += n;
        }
        self.bins = coarse;
        self.level += 1;
    }

    /// The counts as a partial profile keeps them.
    pub fn to_state(&self) -> ArrivalState {
        let mut bins: Vec<(i64, u64)> = self.bins.iter().map(|(&b, &n)| (b, n)).collect();
        bins.sort_unstable();
        ArrivalState { resolution_s: self.resolution(), bins }
    }

    /// Counts read from a partial profile, checked: a known resolution, bins in rising order
    /// within [`MAX_SECOND`], each counted, at most [`MAX_BINS`].
    pub fn from_state(state: &ArrivalState) -> Result<Self, String> {
        let level = RESOLUTIONS
            .iter()
            .position(|&r| r == state.resolution_s)
            .ok_or_else(|| format!("resolution_s: {} is not one of {RESOLUTIONS:?}", state.resolution_s))?;
        if state.bins.len() > MAX_BINS {
            return Err(format!("bins: {} bins (at most {MAX_BINS})", state.bins.len()));
        }
        for (i, &(bin, n)) in state.bins.iter().enumerate() {
            let in_range = bin.checked_mul(state.resolution_s).is_some_and(|s| s.unsigned_abs() <= MAX_SECOND as u64);
            if !in_range || n == 0 || i > 0 && state.bins[i - 1].0 >= bin {
                return Err(format!("bins[{i}]: bins rise, within {MAX_SECOND} s of 1970, each counted above 0"));
            }
        }
        Ok(ArrivalCounter { level, bins: state.bins.iter().copied().collect() })
    }

    /// Adds another counter's counts, at the coarser of the two resolutions (as one counter
    /// fed both inputs would have ended: the finest that fits [`MAX_BINS`]).
    pub fn absorb(&mut self, other: &ArrivalCounter) {
        while self.level < other.level {
            self.coarsen();
        }
        for (&bin, &n) in &other.bins {
            self.add(bin * other.resolution(), n);
        }
    }

    /// The first and last bins counted, if any.
    pub fn first_and_last(&self) -> Option<(i64, i64)> {
        self.bins.keys().min().copied().zip(self.bins.keys().max().copied())
    }

    /// The bin a second falls in.
    pub fn bin_of(&self, sec: i64) -> i64 {
        sec.div_euclid(self.resolution())
    }

    /// Every count, summed (saturating).
    pub fn total(&self) -> u64 {
        self.bins.values().fold(0u64, |sum, &n| sum.saturating_add(n))
    }

    /// The first second counted (rounded down to the resolution), if any.
    pub fn start(&self) -> Option<i64> {
        self.bins.keys().min().map(|bin| bin * self.resolution())
    }

    /// The bin width for the whole span: `requested` when it is a multiple of
    /// the resolution kept, else the smallest nice width giving at most [`TARGET_BINS`] bins.
    pub fn bin_width(&self, requested: Option<u32>) -> i64 {
        let res = self.resolution();
        if let Some(bin) = requested.map(i64::from).filter(|b| *b > 0) {
            return if bin % res == 0 { bin } else { (bin / res + 1) * res };
        }
        let span = self.first_and_last().map_or(1, |(first, last)| (last - first + 1) * res);
        NICE_BINS.iter().copied().find(|&bin| bin % res == 0 && (span + bin - 1) / bin <= TARGET_BINS).unwrap_or(*NICE_BINS.last().unwrap())
    }

    /// Counts in bins of `bin_s` seconds from `start` (which the resolution must divide).
    pub fn curve(&self, start: i64, bin_s: i64, len: usize) -> Vec<u64> {
        let mut counts = vec![0u64; len];
        for (&bin, &n) in &self.bins {
            let index = (bin * self.resolution() - start).div_euclid(bin_s);
            if let Some(slot) = usize::try_from(index).ok().and_then(|i| counts.get_mut(i)) {
                *slot += n;
            }
        }
        counts
    }

    /// The finished curve from the first counted second.
    pub fn finish(&self, requested_bin: Option<u32>) -> (Arrival, i64) {
        let Some(start) = self.start() else {
            return (Arrival { bin_s: 1, counts: Vec::new() }, 0);
        };
        let bin_s = self.bin_width(requested_bin);
        let last = self.bins.keys().max().map_or(start, |bin| bin * self.resolution());
        let len = ((last - start) / bin_s + 1) as usize;
        (Arrival { bin_s: bin_s as u32, counts: self.curve(start, bin_s, len) }, start)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbouring_bins_hash_to_neighbouring_buckets_with_tags_spread() {
        use std::hash::BuildHasher;
        let build = BuildHasherDefault::<BinHasher>::default();
        let hashes: Vec<u64> = (-2048i64..2048).map(|bin| build.hash_one(bin)).collect();
        // The bucket is read from the low bits: the bin's own, so neighbours sit side by side.
        for (pair, bin) in hashes.windows(2).zip(-2048i64..) {
            assert_eq!(pair[1] & 0xffff, (pair[0] & 0xffff).wrapping_add(1) & 0xffff, "bin {bin}");
        }
        // The tag (top seven bits) tells bins apart within a bucket group: most of its 128 values are used.
        let tags: std::collections::BTreeSet<u64> = hashes.iter().map(|h| h >> 57).collect();
        assert!(tags.len() > 100, "{} tags", tags.len());
    }

    #[test]
    fn out_of_order_lines_land_in_their_bin() {
        let mut counter = ArrivalCounter::default();
        for sec in [100, 103, 101, 100, 99, 104] {
            counter.add(sec, 1);
        }
        let (arrival, start) = counter.finish(None);
        assert_eq!((start, arrival.bin_s), (99, 1));
        assert_eq!(arrival.counts, [1, 2, 1, 0, 1, 1]);
        let (arrival, _) = counter.finish(Some(2));
        assert_eq!(arrival.counts, [3, 1, 2]);
    }

    #[test]
    fn a_day_fits_in_a_few_thousand_bins_and_memory_stays_bounded() {
        let mut day = ArrivalCounter::default();
        for sec in (0..86_400).step_by(7) {
            day.add(sec, 1);
        }
        let (arrival, _) = day.finish(None);
        assert_eq!(arrival.bin_s, 30);
        assert_eq!(arrival.counts.len(), 2880);
        assert_eq!(arrival.counts.iter().sum::<u64>(), (0..86_400).step_by(7).count() as u64);

        let mut years = ArrivalCounter::default();
        for sec in (0..3 * 365 * 86_400i64).step_by(37) {
            years.add(sec, 1);
        }
        assert!(years.bins.len() <= MAX_BINS && years.resolution() > 1);
        let (arrival, _) = years.finish(None);
        assert!(arrival.counts.len() as i64 <= TARGET_BINS, "{}", arrival.counts.len());
    }
}
