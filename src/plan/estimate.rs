//! `replay plan`'s figures, computed from the bins: how many requests a run
//! will send and at what peak rate, without drawing a single request, so a
//! plan of any size costs the same.

use crate::profile::Arrival;
use crate::schedule::ScheduleConfig;

use crate::schedule::window_bins as bins;

/// The highest rate of any bin in the window, per second of run time.
pub fn peak_rps(curve: &Arrival, config: &ScheduleConfig) -> f64 {
    let most = curve.counts[bins(curve, config.window)].iter().copied().max().unwrap_or(0);
    most as f64 * config.rate_scale * config.speed / f64::from(curve.bin_s.max(1))
}

/// The requests one pass over the window sends, on average.
pub fn pass_requests(curve: &Arrival, config: &ScheduleConfig) -> f64 {
    curve.counts[bins(curve, config.window)].iter().map(|&c| c as f64).sum::<f64>() * config.rate_scale
}

/// Sessions' load over the window: each user, arriving on `curve`, in flight
/// for `length_s` of profile time and sending `per_user` requests evenly over it.
/// Returns (the most users in flight at once, the busiest request rate), both at
/// the run's rate scale, the rate per second of run time.
pub fn in_flight(curve: &Arrival, config: &ScheduleConfig, length_s: f64, per_user: f64) -> (f64, f64) {
    let range = bins(curve, config.window);
    let counts = &curve.counts[range];
    let bin_s = f64::from(curve.bin_s.max(1));
    // Users started by profile time t into the window, linear within a bin.
    let mut cumulative = Vec::with_capacity(counts.len() + 1);
    cumulative.push(0.0);
    for &c in counts {
        cumulative.push(cumulative.last().copied().unwrap_or(0.0) + c as f64 * config.rate_scale);
    }
    let started_by = |t: f64| -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let at = t / bin_s;
        let i = (at.floor() as usize).min(counts.len());
        let below = cumulative[i];
        match cumulative.get(i + 1) {
            Some(above) => below + (above - below) * (at - i as f64),
            None => below,
        }
    };
    let length_s = length_s.max(0.0);
    let (mut most_users, mut busiest) = (0.0f64, 0.0f64);
    // Each bin's middle and the window's end, where the users still walking are most.
    let probes = (0..counts.len()).map(|i| (i as f64 + 0.5) * bin_s).chain(std::iter::once(counts.len() as f64 * bin_s));
    for t in probes {
        let (users, rate) = if length_s < bin_s {
            // Sessions shorter than a bin: their requests go in the bin they start in.
            let i = ((t / bin_s) as usize).min(counts.len().saturating_sub(1));
            let starts = counts.get(i).map_or(0.0, |&c| c as f64 * config.rate_scale);
            (starts * length_s / bin_s, starts * per_user / bin_s)
        } else {
            let users = started_by(t) - started_by(t - length_s);
            (users, users * per_user / length_s)
        };
        most_users = most_users.max(users);
        busiest = busiest.max(rate);
    }
    (most_users, busiest * config.speed)
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
    /// The most virtual users in flight at once, with `--sessions`.
    pub users_at_once: Option<f64>,
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
            users_at_once: None,
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

    #[test]
    fn users_in_flight_follow_littles_law() {
        // One user a second for ten minutes, each walking 60 s and sending 21 requests.
        let curve = Arrival { bin_s: 10, counts: vec![10; 60] };
        let config = ScheduleConfig { speed: 10.0, ..ScheduleConfig::default() };
        let (users, rps) = in_flight(&curve, &config, 60.0, 21.0);
        assert!((users - 60.0).abs() < 1e-9, "{users}");
        // 60 users sending 21 requests a minute: 21 rps of profile time, 210 at ten times the speed.
        assert!((rps - 210.0).abs() < 1e-6, "{rps}");
        // Sessions of one request: the arrival rate itself.
        let (_, rps) = in_flight(&curve, &config, 0.0, 1.0);
        assert!((rps - 10.0).abs() < 1e-9, "{rps}");
    }
}
