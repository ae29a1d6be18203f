//! How the arrival curve changed: total, mean, peak and 95th-percentile
//! rates, and the shape's correlation once the two timelines are aligned.
//! A profile derived from staging's log of a replay is mapped back onto
//! production's clock with the run's speed and window (`--replayed-at`):
//! its seconds times the speed, from the window's start, its rates divided by the speed.

use crate::profile::Arrival;
use serde::Serialize;

/// How a profile's timeline maps onto the base's: `t_base = from + t × speed`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Alignment {
    pub speed: f64,
    pub from_s: f64,
}

impl Default for Alignment {
    fn default() -> Self {
        Alignment { speed: 1.0, from_s: 0.0 }
    }
}

impl Alignment {
    /// For two daily profiles (each a day or more of a log): `new` laid over `base` by time of day,
    /// so 09:00 meets 09:00 whatever day each began on; none when either lacks its first time.
    pub fn by_time_of_day(base: &crate::profile::Profile, new: &crate::profile::Profile) -> Option<Alignment> {
        let first = |p: &crate::profile::Profile| -> Option<(i64, f64)> {
            let t = crate::log::fields::iso_time_field(p.source.as_ref()?.first.as_deref()?.as_bytes())?;
            let span = p.arrival.counts.len() as f64 * f64::from(p.arrival.bin_s.max(1));
            Some((t.div_euclid(1_000_000), span))
        };
        let ((a, a_span), (b, b_span)) = (first(base)?, first(new)?);
        if a_span < 86_400.0 || b_span < 86_400.0 {
            return None;
        }
        let offset = (b.rem_euclid(86_400) - a.rem_euclid(86_400)) as f64;
        Some(Alignment { speed: 1.0, from_s: offset })
    }

    /// `60` or `60,2h..3h`: the speed a replay ran at, and the window of the base it replayed.
    pub fn parse(text: &str) -> Result<Alignment, String> {
        let (speed, window) = match text.split_once(',') {
            Some((speed, window)) => (speed, Some(window)),
            None => (text, None),
        };
        let speed: f64 = speed
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s > 0.0)
            .ok_or_else(|| format!("`{text}`: give the replay's speed and, after a comma, its window, e.g. 60 or 60,2h..3h"))?;
        let from_s = match window {
            Some(w) => {
                let from = w.split_once("..").map_or(w, |(from, _)| from);
                crate::units::parse_duration(from.trim()).map_err(|e| format!("`{text}`: {e}"))?.as_secs_f64()
            }
            None => 0.0,
        };
        Ok(Alignment { speed, from_s })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Rates {
    pub total: u64,
    pub mean_rps: f64,
    pub peak_rps: f64,
    pub p95_rps: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CurveDiff {
    pub base: Rates,
    pub new: Rates,
    /// Pearson's correlation of the two curves over the span they share, in common bins, at the best
    /// alignment within one of the new curve's bins; none when they share under three.
    pub correlation: Option<f64>,
}

/// Requests a second in each bin, on the base's clock: (start_s, rate).
fn rates(curve: &Arrival, align: Alignment) -> Vec<(f64, f64)> {
    let bin_s = f64::from(curve.bin_s.max(1));
    curve.counts.iter().enumerate().map(|(i, &c)| (align.from_s + i as f64 * bin_s * align.speed, c as f64 / bin_s / align.speed)).collect()
}

fn summary(curve: &Arrival, align: Alignment) -> Rates {
    let mut r: Vec<f64> = rates(curve, align).into_iter().map(|(_, r)| r).collect();
    let total: u64 = curve.counts.iter().sum();
    let span_s = curve.counts.len() as f64 * f64::from(curve.bin_s.max(1)) * align.speed;
    r.sort_by(f64::total_cmp);
    let p95 = r.get(((r.len() as f64 * 0.95).ceil() as usize).saturating_sub(1)).copied().unwrap_or(0.0);
    Rates {
        total,
        mean_rps: if span_s > 0.0 { total as f64 / span_s } else { 0.0 },
        peak_rps: r.last().copied().unwrap_or(0.0),
        p95_rps: p95,
    }
}

/// The curve's requests in bins of `width` seconds of the base's clock from `start`, `bins` of them.
fn resample(curve: &Arrival, align: Alignment, start: f64, width: f64, bins: usize) -> Vec<f64> {
    let mut out = vec![0.0; bins];
    let bin_s = f64::from(curve.bin_s.max(1)) * align.speed;
    for (i, &c) in curve.counts.iter().enumerate() {
        // A bin's requests go where its middle falls.
        let middle = align.from_s + (i as f64 + 0.5) * bin_s;
        let at = ((middle - start) / width).floor();
        if at >= 0.0 && (at as usize) < bins {
            out[at as usize] += c as f64;
        }
    }
    out
}

fn pearson(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let (mut cov, mut va, mut vb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        cov += (x - ma) * (y - mb);
        va += (x - ma).powi(2);
        vb += (y - mb).powi(2);
    }
    (va > 0.0 && vb > 0.0).then(|| cov / (va * vb).sqrt())
}

pub fn diff(base: &Arrival, new: &Arrival, align: Alignment) -> CurveDiff {
    let base_span = base.counts.len() as f64 * f64::from(base.bin_s.max(1));
    let (new_from, new_to) = (align.from_s, align.from_s + new.counts.len() as f64 * f64::from(new.bin_s.max(1)) * align.speed);
    // The new curve's first and last bins are partial when its clock is coarser than the replay's
    // (a run starts and ends inside a logged second): the span compared leaves them out.
    let new_bin_s = f64::from(new.bin_s.max(1)) * align.speed;
    let partial = if align.speed > 1.0 { new_bin_s } else { 0.0 };
    let (start, end) = ((new_from + partial).max(0.0), (new_to - partial).min(base_span));
    // Common bins: the coarser of the two, so each holds whole bins of both; for a replay's log,
    // two of its bins, so a burst sent a little late on a busy generator stays in one.
    let replayed = if align.speed > 1.0 { 2.0 } else { 1.0 };
    let width = f64::from(base.bin_s.max(1)).max(f64::from(new.bin_s.max(1)) * align.speed * replayed);
    let bins = ((end - start) / width).floor().max(0.0) as usize;
    // A log's clock is whole seconds at best: a replayed curve may sit up to one of its bins off the
    // base's. The alignment is the best within that bin, in steps of the base's bins.
    let step = f64::from(base.bin_s.max(1));
    let reach = (f64::from(new.bin_s.max(1)) * align.speed / step).ceil() as i64;
    let correlation = if bins >= 3 {
        let reference = resample(base, Alignment::default(), start, width, bins);
        (-reach..=reach)
            .filter_map(|k| {
                let shifted = Alignment { from_s: align.from_s + k as f64 * step, ..align };
                pearson(&reference, &resample(new, shifted, start, width, bins))
            })
            .fold(None, |best: Option<f64>, c| Some(best.map_or(c, |b| b.max(c))))
    } else {
        None
    };
    CurveDiff { base: summary(base, Alignment::default()), new: summary(new, align), correlation }
}
