//! `replay plan`'s figures, computed from the bins: how many requests a run
//! will send and at what peak rate, without drawing a single request, so a
//! plan of any size costs the same.

use crate::profile::Arrival;
use crate::schedule::ScheduleConfig;

/// The bins `[first, end)` a window covers.
fn bins(curve: &Arrival, window: Option<(u64, u64)>) -> std::ops::Range<usize> {
    let bin_s = u64::from(curve.bin_s.max(1));
    let len = curve.counts.len();
    match window {
        None => 0..len,
        Some((from, to)) => ((from / bin_s) as usize).min(len)..(to.div_ceil(bin_s) as usize).min(len),
    }
}

/// The highest rate of any bin in the window, per second of run time.
pub fn peak_rps(curve: &Arrival, config: &ScheduleConfig) -> f64 {
    let most = curve.counts[bins(curve, config.window)].iter().copied().max().unwrap_or(0);
    most as f64 * config.rate_scale * config.speed / f64::from(curve.bin_s.max(1))
}

/// The requests one pass over the window sends, on average.
pub fn pass_requests(curve: &Arrival, config: &ScheduleConfig) -> f64 {
    curve.counts[bins(curve, config.window)].iter().map(|&c| c as f64).sum::<f64>() * config.rate_scale
}

/// What a run will do, as `replay plan` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Estimate {
    /// The run's length in seconds; `None` for a loop without an end.
    pub duration_s: Option<f64>,
    /// Requests it will send (expected, before `--max-requests`); per pass for an endless loop.
    pub requests: f64,
    /// Virtual users it will start, with `--sessions`.
    pub users: Option<f64>,
    /// The busiest second (or bin) of run time, requests per second.
    pub peak_rps: f64,
    /// How many times faster than production.
    pub speed: f64,
}

impl Estimate {
    /// The estimate of a curve played with `config` for `duration_s`, each arrival standing for `per_arrival` requests.
    pub fn of_curve(curve: &Arrival, config: &ScheduleConfig, duration_s: Option<f64>, per_arrival: f64) -> Self {
        let pass = pass_requests(curve, config);
        let window_s = bins(curve, config.window).len() as f64 * f64::from(curve.bin_s.max(1));
        let pass_s = window_s / config.speed;
        let passes = match duration_s {
            Some(d) if pass_s > 0.0 => d / pass_s,
            _ => 1.0,
        };
        Estimate {
            duration_s,
            requests: pass * passes.min(if config.looped { f64::MAX } else { 1.0 }) * per_arrival,
            users: None,
            peak_rps: peak_rps(curve, config) * per_arrival,
            speed: config.speed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn figures_come_from_the_bins() {
        let curve = Arrival { bin_s: 60, counts: vec![600, 1200, 600] };
        let config = ScheduleConfig { speed: 60.0, ..ScheduleConfig::default() };
        assert_eq!(peak_rps(&curve, &config), 1200.0);
        let e = Estimate::of_curve(&curve, &config, Some(3.0), 1.0);
        assert_eq!((e.requests, e.peak_rps), (2400.0, 1200.0));
        let window = ScheduleConfig { window: Some((60, 120)), rate_scale: 0.5, ..config.clone() };
        assert_eq!(pass_requests(&curve, &window), 600.0);
        // A bin four billion seconds wide is one number, not a vector of seconds.
        let wide = Arrival { bin_s: u32::MAX, counts: vec![1] };
        assert!(peak_rps(&wide, &ScheduleConfig::default()) < 1e-9);
    }
}
