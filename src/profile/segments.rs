//! Cutting the arrival curve into steady, bursty and ramp segments.
//!
//! Method:
//! 1. Bursts first: a bin is a burst when it stands more than six noise
//!    deviations above the rolling median of its 31 neighbours. Burst bins are
//!    replaced by that median for the next step, so a spike does not cut the
//!    curve.
//! 2. Change points: binary segmentation with a piecewise-linear model.
//!    A stretch is split where the residual sum of squares of two line fits,
//!    in units of the noise variance, beats one fit by more than a
//!    BIC-like penalty of `4 ln n`. Lines, not levels, so a steady climb
//!    stays one piece. The noise variance is estimated from the median
//!    absolute first difference (Poisson counts give about the mean;
//!    over-dispersed real traffic gives more, and fewer cuts).
//! 3. Each piece is `bursty` if it holds a burst bin (baseline and peak rate),
//!    else `ramp` if its line explains significantly more than a level and
//!    climbs or falls by at least 20% (rate at start and end), else `steady`.
//!
//! Everything here is a pure function of the counts, table-tested on curves
//! whose answer is known.

use super::wire::{Segment, SegmentKind};

const MEDIAN_WINDOW: usize = 31;
const BURST_SIGMAS: f64 = 6.0;
/// The shortest piece: five bins, or a fortieth of the curve.
fn min_piece(n: usize) -> usize {
    (n / 40).max(5)
}

/// Weighted sums over a range that give a line fit's residuals in O(1).
/// Each bin is weighted by the inverse of its count (its Poisson variance),
/// so busy and quiet stretches weigh alike.
struct Prefix {
    /// Plain sums of counts, for means.
    sy: Vec<f64>,
    w: Vec<f64>,
    wx: Vec<f64>,
    wy: Vec<f64>,
    wxx: Vec<f64>,
    wxy: Vec<f64>,
    wyy: Vec<f64>,
}

impl Prefix {
    fn new(y: &[f64]) -> Self {
        let n = y.len();
        let zeros = || vec![0.0; n + 1];
        let mut p = Prefix { sy: zeros(), w: zeros(), wx: zeros(), wy: zeros(), wxx: zeros(), wxy: zeros(), wyy: zeros() };
        for (i, &v) in y.iter().enumerate() {
            let (x, w) = (i as f64, 1.0 / v.max(1.0));
            p.sy[i + 1] = p.sy[i] + v;
            p.w[i + 1] = p.w[i] + w;
            p.wx[i + 1] = p.wx[i] + w * x;
            p.wy[i + 1] = p.wy[i] + w * v;
            p.wxx[i + 1] = p.wxx[i] + w * x * x;
            p.wxy[i + 1] = p.wxy[i] + w * x * v;
            p.wyy[i + 1] = p.wyy[i] + w * v * v;
        }
        p
    }

    fn mean(&self, a: usize, b: usize) -> f64 {
        (self.sy[b] - self.sy[a]) / (b - a) as f64
    }

    /// The cost of one line over `a..b`: its weighted residuals over the
    /// curve's dispersion (1 for Poisson counts, more for over-dispersed traffic).
    fn cost(&self, a: usize, b: usize, dispersion: f64) -> f64 {
        self.fit(a, b).1 / dispersion
    }

    /// (weighted residuals of a level, of a line, slope, intercept) over `a..b`.
    fn fit(&self, a: usize, b: usize) -> (f64, f64, f64, f64) {
        let d = |v: &Vec<f64>| v[b] - v[a];
        let (w, wx, wy, wxx, wxy, wyy) = (d(&self.w), d(&self.wx), d(&self.wy), d(&self.wxx), d(&self.wxy), d(&self.wyy));
        let level = (wyy - wy * wy / w).max(0.0);
        let vxx = wxx - wx * wx / w;
        if vxx <= 1e-12 {
            return (level, level, 0.0, wy / w);
        }
        let slope = (wxy - wx * wy / w) / vxx;
        let line = (level - slope * slope * vxx).max(0.0);
        (level, line, slope, (wy - slope * wx) / w)
    }
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Noise variance per bin from the median absolute first difference.
fn noise_variance(y: &[f64]) -> f64 {
    if y.len() < 3 {
        return 1.0;
    }
    let mut diffs: Vec<f64> = y.windows(2).map(|w| (w[1] - w[0]).abs()).collect();
    let mad = median(&mut diffs) / 0.6745;
    (mad * mad / 2.0).max(1.0)
}

/// How much noisier than Poisson the curve is (1 for Poisson counts).
fn dispersion(y: &[f64]) -> f64 {
    let mut sorted = y.to_vec();
    let typical = median(&mut sorted).max(1.0);
    (noise_variance(y) / typical).max(1.0)
}

/// Rolling medians and which bins are bursts.
fn bursts(counts: &[f64], sigma: f64) -> (Vec<f64>, Vec<bool>) {
    let n = counts.len();
    let half = MEDIAN_WINDOW.min(n) / 2;
    let mut medians = Vec::with_capacity(n);
    let mut window = Vec::with_capacity(MEDIAN_WINDOW);
    for i in 0..n {
        let (lo, hi) = (i.saturating_sub(half), (i + half + 1).min(n));
        window.clear();
        window.extend_from_slice(&counts[lo..hi]);
        medians.push(median(&mut window));
    }
    let burst = counts.iter().zip(&medians).map(|(&c, &m)| c > m + BURST_SIGMAS * sigma.max(m.sqrt()) + 3.0).collect();
    (medians, burst)
}

fn split(prefix: &Prefix, (a, b): (usize, usize), min: usize, variance: f64, penalty: f64, cuts: &mut Vec<usize>) {
    if b - a < 2 * min {
        return;
    }
    let whole = prefix.cost(a, b, variance);
    let best = (a + min..=b - min)
        .map(|k| (k, whole - prefix.cost(a, k, variance) - prefix.cost(k, b, variance)))
        .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)));
    if let Some((k, gain)) = best
        && gain > penalty
    {
        split(prefix, (a, k), min, variance, penalty, cuts);
        cuts.push(k);
        split(prefix, (k, b), min, variance, penalty, cuts);
    }
}

/// Greedy splitting can cut a line that, with its neighbour's bins, is one
/// line after all: undo the cut that costs least to undo, while one costs
/// less than the penalty.
fn merge_needless_cuts(prefix: &Prefix, cuts: &mut Vec<usize>, dispersion: f64, penalty: f64) {
    loop {
        let best = (1..cuts.len() - 1)
            .map(|i| {
                let (a, k, b) = (cuts[i - 1], cuts[i], cuts[i + 1]);
                (i, prefix.cost(a, b, dispersion) - prefix.cost(a, k, dispersion) - prefix.cost(k, b, dispersion))
            })
            .min_by(|x, y| x.1.total_cmp(&y.1));
        match best {
            Some((i, extra)) if extra < penalty => {
                cuts.remove(i);
            }
            _ => return,
        }
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// The segments of a curve of `counts` in bins of `bin_s` seconds.
pub fn segments(counts: &[u64], bin_s: u32) -> Vec<Segment> {
    let n = counts.len();
    if n == 0 {
        return Vec::new();
    }
    let raw: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    let sigma = noise_variance(&raw).sqrt();
    let (medians, burst) = bursts(&raw, sigma);
    let clipped: Vec<f64> = raw.iter().zip(&medians).zip(&burst).map(|((&c, &m), &b)| if b { m } else { c }).collect();
    let dispersion = dispersion(&clipped);
    let penalty = 4.0 * (n.max(2) as f64).ln();
    let prefix = Prefix::new(&clipped);
    let mut cuts = vec![0];
    split(&prefix, (0, n), min_piece(n), dispersion, penalty, &mut cuts);
    cuts.push(n);
    merge_needless_cuts(&prefix, &mut cuts, dispersion, penalty);
    let per_s = |c: f64| round3(c.max(0.0) / f64::from(bin_s));
    cuts.windows(2)
        .map(|w| {
            let (a, b) = (w[0], w[1]);
            let (level, line, slope, intercept) = prefix.fit(a, b);
            let mean = prefix.mean(a, b);
            let from = intercept + slope * a as f64;
            let to = intercept + slope * (b - 1) as f64;
            let mut segment = Segment {
                kind: SegmentKind::Steady,
                start_s: a as u64 * u64::from(bin_s),
                end_s: b as u64 * u64::from(bin_s),
                rps: None,
                rps_from: None,
                rps_to: None,
                baseline_rps: None,
                peak_rps: None,
                weights: None,
            };
            if burst[a..b].iter().any(|&x| x) {
                segment.kind = SegmentKind::Bursty;
                segment.baseline_rps = Some(per_s(mean));
                segment.peak_rps = Some(per_s(raw[a..b].iter().copied().fold(0.0, f64::max)));
            } else if (level - line) / dispersion > penalty && (to - from).abs() >= 0.2 * mean.max(1.0) {
                segment.kind = SegmentKind::Ramp;
                segment.rps_from = Some(per_s(from));
                segment.rps_to = Some(per_s(to));
            } else {
                segment.rps = Some(per_s(mean));
            }
            segment
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uniform(state: &mut u64) -> f64 {
        *state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        ((*state >> 11) as f64 + 0.5) / ((1u64 << 53) as f64)
    }

    /// A deterministic Poisson sample: Knuth's method, or the normal
    /// approximation for large means.
    fn poisson(mean: f64, state: &mut u64) -> u64 {
        if mean > 60.0 {
            let gauss = (-2.0 * uniform(state).ln()).sqrt() * (2.0 * std::f64::consts::PI * uniform(state)).cos();
            return (mean + mean.sqrt() * gauss).round().max(0.0) as u64;
        }
        let limit = (-mean).exp();
        let (mut k, mut p) = (0, 1.0);
        loop {
            p *= uniform(state);
            if p <= limit {
                return k;
            }
            k += 1;
        }
    }

    fn curve(len: usize, rate: impl Fn(usize) -> f64, seed: u64) -> Vec<u64> {
        let mut state = seed;
        (0..len).map(|i| poisson(rate(i), &mut state)).collect()
    }

    fn kinds(segments: &[Segment]) -> Vec<SegmentKind> {
        segments.iter().map(|s| s.kind).collect()
    }

    #[test]
    fn poisson_noise_on_a_flat_rate_is_steady() {
        for seed in 1..=5 {
            let s = segments(&curve(3600, |_| 40.0, seed), 1);
            assert_eq!(kinds(&s), [SegmentKind::Steady], "seed {seed}: {s:?}");
            assert!((s[0].rps.unwrap() - 40.0).abs() < 1.0);
            assert_eq!((s[0].start_s, s[0].end_s), (0, 3600));
        }
    }

    #[test]
    fn a_ten_second_spike_is_one_bursty_segment() {
        for seed in 1..=5 {
            let s = segments(&curve(1200, |i| if (600..610).contains(&i) { 400.0 } else { 40.0 }, seed), 1);
            assert_eq!(kinds(&s), [SegmentKind::Bursty], "seed {seed}: {s:?}");
            assert!((s[0].baseline_rps.unwrap() - 40.0).abs() < 2.0, "{s:?}");
            assert!(s[0].peak_rps.unwrap() > 350.0, "{s:?}");
        }
    }

    #[test]
    fn a_linear_climb_over_ten_minutes_is_one_ramp() {
        for seed in 1..=5 {
            let s = segments(&curve(600, |i| 10.0 + 90.0 * i as f64 / 600.0, seed), 1);
            assert_eq!(kinds(&s), [SegmentKind::Ramp], "seed {seed}: {s:?}");
            assert!((s[0].rps_from.unwrap() - 10.0).abs() < 3.0 && (s[0].rps_to.unwrap() - 100.0).abs() < 4.0, "{s:?}");
        }
    }

    #[test]
    fn steady_then_ramp_then_steady_is_cut_where_the_climb_starts_and_ends() {
        let rate = |i: usize| match i {
            0..600 => 20.0,
            600..1200 => 20.0 + 80.0 * (i - 600) as f64 / 600.0,
            _ => 100.0,
        };
        let s = segments(&curve(1800, rate, 3), 1);
        assert_eq!(kinds(&s), [SegmentKind::Steady, SegmentKind::Ramp, SegmentKind::Steady], "{s:?}");
        assert!((s[1].start_s as i64 - 600).abs() <= 30 && (s[1].end_s as i64 - 1200).abs() <= 30, "{s:?}");
        // Segments tile the curve.
        assert!(s.windows(2).all(|w| w[0].end_s == w[1].start_s) && s[0].start_s == 0 && s[2].end_s == 1800);
    }

    #[test]
    fn a_step_change_gives_two_steady_segments_in_bin_seconds() {
        let s = segments(&curve(200, |i| if i < 100 { 600.0 } else { 3000.0 }, 9), 30);
        assert_eq!(kinds(&s), [SegmentKind::Steady, SegmentKind::Steady], "{s:?}");
        assert_eq!(s[0].end_s, 3000);
        assert!((s[0].rps.unwrap() - 20.0).abs() < 1.0 && (s[1].rps.unwrap() - 100.0).abs() < 2.0, "{s:?}");
    }
}
