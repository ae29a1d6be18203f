//! A profile's independent requests: its arrival curve scheduled on one
//! clock (`schedule.rs`), each due time given a request (`request.rs`).

use super::estimate::peak_rps;
use super::request::RequestMaker;
use super::settings::check_rate;
use super::{Catalog, PlanError, PlanSettings, Planned, PlannedRun, Work, until};
use crate::profile::Profile;
use crate::schedule::Schedule;

/// The requests of a profile, lazily.
pub struct ProfilePlan {
    schedule: Schedule,
    maker: RequestMaker,
}

impl Iterator for ProfilePlan {
    type Item = Planned;
    fn next(&mut self) -> Option<Planned> {
        let due = self.schedule.next()?;
        let spec = self.maker.next(due.profile_s);
        Some(Planned { at_ns: due.at_ns, shard_key: spec.seq, work: Work::Request(spec) })
    }
}

/// The window's length in profile seconds, after checking it overlaps the curve.
pub fn window_s(profile: &Profile, window: Option<(u64, u64)>) -> Result<u64, PlanError> {
    let span_s = profile.arrival.counts.len() as u64 * u64::from(profile.arrival.bin_s);
    match window {
        None => Ok(span_s),
        Some((from, _)) if from >= span_s => Err(PlanError(format!(
            "--window starts at {} but the profile ends at {}; e.g. --window 0..{}",
            crate::units::human_duration(from as f64),
            crate::units::human_duration(span_s as f64),
            crate::units::duration_flag(span_s)
        ))),
        Some((from, to)) => Ok(to.min(span_s) - from),
    }
}

pub fn plan(profile: &Profile, settings: &PlanSettings) -> Result<PlannedRun, PlanError> {
    let timeline = settings.timeline(window_s(profile, settings.window)? as f64)?;
    let config = settings.schedule(timeline.speed);
    check_rate(peak_rps(&profile.arrival, &config), "requests a second")?;
    let maker = RequestMaker::new(profile, &settings.vars, settings.seed, settings.strict_vars).map_err(PlanError)?;
    let left_out = maker.left_out().to_vec();
    let synthetic = maker.synthetic().to_vec();
    let plan = ProfilePlan { schedule: Schedule::new(&profile.arrival, config), maker };
    Ok(PlannedRun {
        plan: until(plan, timeline.end_ns),
        catalog: Catalog::of_profile(profile),
        end_ns: timeline.end_ns,
        unit: "requests",
        left_out,
        synthetic,
        speed: timeline.speed,
        segments: super::run_segments(profile, settings.window, timeline.speed),
        expected_requests: match timeline.end_ns {
            Some(_) => super::estimate::pass_requests(&profile.arrival, &settings.schedule(timeline.speed)),
            None => f64::INFINITY,
        },
    })
}

/// `replay plan`'s figures for a profile's requests.
pub fn estimate(profile: &Profile, settings: &PlanSettings) -> Result<super::estimate::Estimate, PlanError> {
    let timeline = settings.timeline(window_s(profile, settings.window)? as f64)?;
    let config = settings.schedule(timeline.speed);
    check_rate(peak_rps(&profile.arrival, &config), "requests a second")?;
    Ok(super::estimate::Estimate::of_curve(&profile.arrival, &config, timeline.end_ns.map(|ns| ns as f64 / 1e9), 1.0))
}
