//! The settings every source is planned with, and the checks that keep a run
//! within what can run: a timeline that fits the time asked for, and a rate
//! under the ceiling.

use super::request::Vars;
use crate::schedule::{Arrivals, ScheduleConfig};
use crate::units::{human_duration, human_rate};
use std::time::Duration;

pub use crate::profile::DEFAULT_SEED;

/// A timeline longer than this (seconds) needs `--speed` or `--duration`:
/// nobody means to replay three days in real time by accident.
pub const MAX_UNSCALED_TIMELINE_S: f64 = 600.0;

/// The highest rate a run may be planned at, requests per second (after
/// `--speed` and `--rate-scale`); well past what one generator sends.
pub const MAX_RATE_RPS: f64 = 1_000_000.0;

/// How the timeline maps onto real time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pace {
    /// `--speed F`: F times faster than production.
    Speed(f64),
    /// `--duration D`: the window fitted into D, and the run ends at D.
    Duration(Duration),
    /// Neither: real time, for timelines of at most ten minutes.
    Unset,
}

/// A plan that cannot be made, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PlanError(pub String);

#[derive(Debug, Clone)]
pub struct PlanSettings {
    pub pace: Pace,
    /// The part of the timeline to play, profile seconds `[from, to)`.
    pub window: Option<(u64, u64)>,
    pub rate_scale: f64,
    pub arrivals: Arrivals,
    pub seed: u64,
    pub looped: bool,
    pub vars: Vars,
    /// Refuse to run when any placeholder has no value, instead of leaving its endpoints out.
    pub strict_vars: bool,
    /// `--shard K/N`: send only this shard's part of the schedule.
    pub shard: Option<super::Shard>,
    /// `--think`: virtual users' think time instead of the profile's.
    pub think: Option<crate::profile::think::Think>,
}

impl Default for PlanSettings {
    fn default() -> Self {
        PlanSettings {
            pace: Pace::Unset,
            window: None,
            rate_scale: 1.0,
            arrivals: Arrivals::Poisson,
            seed: DEFAULT_SEED,
            looped: false,
            vars: Vars::new(),
            strict_vars: false,
            shard: None,
            think: None,
        }
    }
}

/// The timeline resolved against a window of `window_s` profile seconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeline {
    pub speed: f64,
    /// When the run's schedule ends (ns after the start); `None` loops without end.
    pub end_ns: Option<u64>,
}

impl PlanSettings {
    /// The speed and the end of a window `window_s` profile seconds long.
    pub fn timeline(&self, window_s: f64) -> Result<Timeline, PlanError> {
        let ns = |s: f64| (s * 1e9).min(u64::MAX as f64 / 2.0) as u64;
        match self.pace {
            Pace::Speed(speed) => Ok(Timeline { speed, end_ns: (!self.looped).then(|| ns(window_s / speed)) }),
            Pace::Duration(d) => Ok(Timeline { speed: window_s / d.as_secs_f64().max(1e-9), end_ns: Some(ns(d.as_secs_f64())) }),
            Pace::Unset if window_s > MAX_UNSCALED_TIMELINE_S => Err(PlanError(format!(
                "the timeline is {} long and would replay in real time; pass --speed 60 to play an hour in a minute, \
                 --duration 10m to fit it into ten minutes, or --speed 1 to replay it in real time",
                human_duration(window_s)
            ))),
            Pace::Unset => Ok(Timeline { speed: 1.0, end_ns: (!self.looped).then(|| ns(window_s)) }),
        }
    }

    /// The schedule's settings at `speed`.
    pub fn schedule(&self, speed: f64) -> ScheduleConfig {
        ScheduleConfig {
            speed,
            rate_scale: self.rate_scale,
            window: self.window,
            arrivals: self.arrivals,
            seed: self.seed,
            looped: self.looped,
        }
    }
}

/// Refuses a plan whose peak rate passes [`MAX_RATE_RPS`].
pub fn check_rate(peak_rps: f64, what: &str) -> Result<(), PlanError> {
    if peak_rps.is_finite() && peak_rps <= MAX_RATE_RPS {
        return Ok(());
    }
    Err(PlanError(format!(
        "the plan peaks at {} {what}, past the ceiling of {}; lower --rate-scale or --speed",
        human_rate(peak_rps),
        human_rate(MAX_RATE_RPS)
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_timeline_needs_a_pace_and_a_duration_ends_the_run() {
        let unset = PlanSettings::default();
        let err = unset.timeline(298_920.0).unwrap_err().0;
        assert!(err.contains("3 d 11 h") && err.contains("--speed 1"), "{err}");
        assert_eq!(unset.timeline(600.0).unwrap(), Timeline { speed: 1.0, end_ns: Some(600_000_000_000) });
        let fitted = PlanSettings { pace: Pace::Duration(Duration::from_secs(8)), ..PlanSettings::default() };
        assert_eq!(fitted.timeline(80.0).unwrap(), Timeline { speed: 10.0, end_ns: Some(8_000_000_000) });
        let looped = PlanSettings { pace: Pace::Speed(2.0), looped: true, ..PlanSettings::default() };
        assert_eq!(looped.timeline(80.0).unwrap().end_ns, None);
        assert!(check_rate(2e6, "requests").unwrap_err().0.contains("past the ceiling"));
        assert!(check_rate(f64::INFINITY, "requests").is_err());
        assert!(check_rate(5000.0, "requests").is_ok());
    }
}
