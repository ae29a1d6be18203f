//! When each request is due: pure, no I/O, table-tested.
//!
//! One clock: request `i` is due at `t0 + offset_i`, where the offset comes
//! from its bin's index and its place inside the bin, never from the
//! previous request's time, so a replay cannot drift (GoReplay's chained
//! sleeps drift by minutes over hours).
//!
//! Time scale and rate scale are separate. `speed` plays the timeline that
//! many times faster (a bin of `bin_s` seconds lasts `bin_s / speed`), so
//! rates rise and the shape is kept; `rate_scale` sends that many times the
//! requests on the same timeline: `count * rate_scale` per bin, the fraction
//! drawn with the seed so totals come out right on average. Within a bin,
//! arrivals are Poisson (the bin's requests at uniformly random instants,
//! sorted) or evenly spaced. A burst stays inside its bin at every scale.

use crate::profile::Arrival;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrivals {
    Poisson,
    Uniform,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleConfig {
    /// How many times faster than production the timeline plays.
    pub speed: f64,
    /// How many times production's requests to send.
    pub rate_scale: f64,
    /// The part of the profile to play, seconds from its start: `[from, to)`.
    pub window: Option<(u64, u64)>,
    pub arrivals: Arrivals,
    pub seed: u64,
    /// Start again at the window's start when it ends (soak tests); bounded by the caller.
    pub looped: bool,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        ScheduleConfig {
            speed: 1.0,
            rate_scale: 1.0,
            window: None,
            arrivals: Arrivals::Poisson,
            seed: crate::profile::DEFAULT_SEED,
            looped: false,
        }
    }
}

/// One request that is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// Nanoseconds after the run's start.
    pub at_ns: u64,
    /// The profile time it stands for, seconds from the profile's start.
    pub profile_s: u64,
}

/// The requests of a profile, in time order, lazily.
pub struct Schedule {
    counts: Vec<u64>,
    bin_s: u64,
    first_bin: usize,
    end_bin: usize,
    config: ScheduleConfig,
    rng: ChaCha8Rng,
    bin: usize,
    lap: u64,
    /// The current bin: its start and width (ns), requests left, and the last arrival's place in it (0..1).
    bin_start_ns: f64,
    bin_ns: f64,
    left: u64,
    total: u64,
    place: f64,
    current_bin: usize,
}

/// The bins of `curve` that a window of profile seconds `[from, to)` covers
/// (every bin without one): the one place a window becomes bins.
pub fn window_bins(curve: &Arrival, window: Option<(u64, u64)>) -> std::ops::Range<usize> {
    let (bin_s, len) = (u64::from(curve.bin_s.max(1)), curve.counts.len());
    match window {
        None => 0..len,
        Some((from, to)) => {
            let end = (to.div_ceil(bin_s) as usize).min(len);
            ((from / bin_s) as usize).min(end)..end
        }
    }
}

/// A uniform draw in [0, 1) from `rng`: the one way every seeded draw is made.
pub fn uniform(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

impl Schedule {
    pub fn new(curve: &Arrival, config: ScheduleConfig) -> Self {
        let bin_s = u64::from(curve.bin_s.max(1));
        let std::ops::Range { start: first_bin, end: end_bin } = window_bins(curve, config.window);
        let rng = ChaCha8Rng::seed_from_u64(config.seed);
        Schedule {
            counts: curve.counts.clone(),
            bin_s,
            first_bin,
            end_bin,
            config,
            rng,
            bin: first_bin,
            lap: 0,
            bin_start_ns: 0.0,
            bin_ns: 0.0,
            left: 0,
            total: 0,
            place: 0.0,
            current_bin: first_bin,
        }
    }

    /// The window's length in profile seconds.
    pub fn window_s(&self) -> u64 {
        (self.end_bin.saturating_sub(self.first_bin)) as u64 * self.bin_s
    }

    /// How long one pass takes in real time, nanoseconds.
    pub fn pass_ns(&self) -> u64 {
        (self.window_s() as f64 * 1e9 / self.config.speed) as u64
    }

    fn uniform(&mut self) -> f64 {
        uniform(&mut self.rng)
    }

    /// Moves to the next non-empty bin; false when done.
    fn fill(&mut self) -> bool {
        loop {
            if self.bin >= self.end_bin {
                if !self.config.looped || self.end_bin <= self.first_bin {
                    return false;
                }
                self.bin = self.first_bin;
                self.lap += 1;
            }
            let bin = self.bin;
            self.bin += 1;
            let expected = self.counts[bin] as f64 * self.config.rate_scale;
            let mut n = expected.floor() as u64;
            if self.uniform() < expected - expected.floor() {
                n += 1;
            }
            if n == 0 {
                continue;
            }
            self.bin_ns = self.bin_s as f64 * 1e9 / self.config.speed;
            self.bin_start_ns = self.lap as f64 * self.pass_ns() as f64 + (bin - self.first_bin) as f64 * self.bin_ns;
            (self.left, self.total, self.place) = (n, n, 0.0);
            self.current_bin = bin;
            return true;
        }
    }

    /// The next arrival's place in the bin (0..1), in order, in constant memory.
    ///
    /// Poisson: the bin's `n` arrivals are `n` uniform instants, sorted; the
    /// next of the `k` still to come is the minimum of `k` uniforms on
    /// `(place, 1)`, which is `1 - (1 - place) * V^(1/k)` for a uniform `V`
    /// (the order statistics of uniforms, drawn one at a time).
    fn next_place(&mut self) -> f64 {
        let k = self.left;
        match self.config.arrivals {
            Arrivals::Poisson => {
                let v = self.uniform();
                self.place = 1.0 - (1.0 - self.place) * v.powf(1.0 / k as f64);
            }
            Arrivals::Uniform => self.place = ((self.total - k) as f64 + 0.5) / self.total as f64,
        }
        self.left -= 1;
        self.place
    }
}

impl Iterator for Schedule {
    type Item = Due;

    fn next(&mut self) -> Option<Due> {
        if self.left == 0 && !self.fill() {
            return None;
        }
        let place = self.next_place();
        let at_ns = (self.bin_start_ns + place * self.bin_ns) as u64;
        Some(Due { at_ns, profile_s: self.current_bin as u64 * self.bin_s })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(counts: Vec<u64>, bin_s: u32, config: ScheduleConfig) -> Vec<Due> {
        Schedule::new(&Arrival { bin_s, counts }, config).collect()
    }

    #[test]
    fn counts_and_bins_at_speed_and_scale() {
        // (counts, bin_s, speed, rate_scale, window, want total, want last due before (ns))
        type Row = (Vec<u64>, u32, f64, f64, Option<(u64, u64)>, usize, u64);
        let table: [Row; 6] = [
            (vec![10, 20, 30], 1, 1.0, 1.0, None, 60, 3_000_000_000),
            (vec![10, 20, 30], 1, 10.0, 1.0, None, 60, 300_000_000),
            (vec![10, 20, 30], 1, 1.0, 2.0, None, 120, 3_000_000_000),
            (vec![600; 60], 60, 60.0, 1.0, None, 36_000, 60_000_000_000),
            (vec![100; 10], 60, 1.0, 1.0, Some((120, 300)), 300, 180_000_000_000),
            (vec![0, 0, 5], 10, 1.0, 1.0, None, 5, 30_000_000_000),
        ];
        for (counts, bin_s, speed, rate_scale, window, total, before) in table {
            let config = ScheduleConfig { speed, rate_scale, window, ..ScheduleConfig::default() };
            let dues = run(counts.clone(), bin_s, config);
            assert_eq!(dues.len(), total, "{counts:?} x{speed} k{rate_scale}");
            assert!(dues.windows(2).all(|w| w[0].at_ns <= w[1].at_ns), "in time order");
            assert!(dues.last().unwrap().at_ns < before, "{counts:?}: {:?}", dues.last());
        }
    }

    #[test]
    fn each_bin_keeps_its_requests_at_any_speed() {
        let counts = vec![5, 0, 50, 5];
        for speed in [1.0, 7.0, 3600.0] {
            let bin_ns = 1e9 / speed;
            let dues = run(counts.clone(), 1, ScheduleConfig { speed, ..ScheduleConfig::default() });
            for (bin, &count) in counts.iter().enumerate() {
                let inside = dues.iter().filter(|d| (d.at_ns as f64 / bin_ns) as usize == bin).count();
                assert_eq!(inside as u64, count, "bin {bin} at x{speed}");
            }
        }
    }

    #[test]
    fn no_drift_over_a_simulated_hour() {
        // 3600 one-second bins of 1,000 requests, evenly spaced: the last is due half a millisecond before the hour.
        let config = ScheduleConfig { arrivals: Arrivals::Uniform, ..ScheduleConfig::default() };
        let dues = run(vec![1000; 3600], 1, config);
        assert_eq!(dues.len(), 3_600_000);
        assert_eq!(dues.last().unwrap().at_ns, 3_600_000_000_000 - 500_000);
        assert_eq!(dues[1_800_000].at_ns, 1_800_000_000_000 + 500_000);
    }

    #[test]
    fn a_huge_bin_is_drawn_in_constant_memory_in_order() {
        // Ten billion requests in one bin: the first thousand come at once, in order, inside the bin.
        let dues: Vec<Due> =
            Schedule::new(&Arrival { bin_s: 3600, counts: vec![10_000_000_000] }, ScheduleConfig::default()).take(1000).collect();
        assert!(dues.windows(2).all(|w| w[0].at_ns <= w[1].at_ns));
        assert!(dues[999].at_ns < 1_000_000_000, "a thousand of ten billion over an hour come in the first second: {:?}", dues[999]);
    }

    #[test]
    fn poisson_arrivals_spread_evenly_over_the_bin() {
        let dues = run(vec![100_000], 10, ScheduleConfig::default());
        for decile in 0..10u64 {
            let inside = dues.iter().filter(|d| d.at_ns / 1_000_000_000 == decile).count();
            assert!((9_500..10_500).contains(&inside), "second {decile}: {inside}");
        }
    }

    #[test]
    fn fractional_scales_keep_the_total_on_average() {
        let dues = run(vec![3; 10_000], 1, ScheduleConfig { rate_scale: 0.1, ..ScheduleConfig::default() });
        assert!((2850..3150).contains(&dues.len()), "{}", dues.len());
    }

    #[test]
    fn seeds_reproduce_and_differ() {
        let a = run(vec![50; 20], 1, ScheduleConfig::default());
        let b = run(vec![50; 20], 1, ScheduleConfig::default());
        let c = run(vec![50; 20], 1, ScheduleConfig { seed: 8, ..ScheduleConfig::default() });
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn loops_repeat_the_window() {
        let config = ScheduleConfig { looped: true, window: Some((1, 3)), ..ScheduleConfig::default() };
        let dues: Vec<Due> = Schedule::new(&Arrival { bin_s: 1, counts: vec![100, 5, 5, 100] }, config).take(25).collect();
        assert_eq!(dues.len(), 25);
        assert_eq!(dues[10].profile_s, 1, "the second lap starts at the window's start");
        assert!(dues[10].at_ns >= 2_000_000_000 && dues[10].at_ns < 3_000_000_000);
    }
}
