//! `--sessions`: virtual users instead of independent requests.
//!
//! Users arrive on the profile's session curve (`sessions.arrival`, or the
//! request curve divided by the mean session length when a profile has
//! none), through the same one-clock schedule, speed and rate scale. Each
//! walks a flow drawn by its share: the profile's login (a once-per-session
//! endpoint) first, as Locust's `on_start`, then the flow's steps, then
//! endpoints drawn by weight up to a session length drawn from the profile's
//! quantiles; between requests it waits a think time drawn likewise, divided
//! by `--speed`. Each user keeps its own cookie jar. A user waits for each
//! response before thinking (a closed loop per user), so each step's
//! intended time is the previous response plus the think time.

use super::estimate::{Estimate, peak_rps};
use super::request::RequestMaker;
use super::settings::check_rate;
use super::{Catalog, PlanError, PlanSettings, Planned, PlannedRun, RequestSpec, SessionSpec, Work, until};
use crate::profile::{Arrival, Profile, Quantiles};
use crate::schedule::{Schedule, ScheduleConfig};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::collections::HashMap;

pub use crate::profile::load::MAX_SESSION_STEPS;

pub struct SessionPlan {
    starts: Schedule,
    maker: RequestMaker,
    flows: Vec<(Vec<usize>, f64)>,
    login: Option<usize>,
    think_s: Option<Quantiles>,
    length: Option<Quantiles>,
    speed: f64,
    rng: ChaCha8Rng,
}

/// A value drawn from p50/p90/p99 quantiles (piecewise uniform between them).
fn draw(q: &Quantiles, u: f64, v: f64) -> f64 {
    let (lo, hi) = match u {
        u if u < 0.5 => (0.0, q.p50),
        u if u < 0.9 => (q.p50, q.p90),
        u if u < 0.99 => (q.p90, q.p99),
        _ => (q.p99, q.p99 * 1.5),
    };
    lo + (hi - lo) * v
}

impl SessionPlan {
    /// The session curve: the profile's, or its request curve divided by the mean session length.
    fn starts(profile: &Profile) -> Arrival {
        let sessions = profile.sessions.as_ref();
        let mean_length = Self::mean_length(profile);
        match sessions.and_then(|s| s.arrival.clone()) {
            Some(arrival) => arrival,
            None => Arrival {
                bin_s: profile.arrival.bin_s,
                counts: profile.arrival.counts.iter().map(|&c| (c as f64 / mean_length).round() as u64).collect(),
            },
        }
    }

    /// Requests per session on average, as the profile tells it.
    fn mean_length(profile: &Profile) -> f64 {
        let sessions = profile.sessions.as_ref();
        let flows = sessions.map_or(0, |s| s.flows.len());
        sessions
            .and_then(|s| s.length.map(|l| l.p50))
            .or_else(|| {
                (flows > 0).then(|| sessions.map_or(1.0, |s| s.flows.iter().map(|f| f.steps.len() as f64).sum::<f64>()) / flows as f64)
            })
            .unwrap_or(1.0)
            .clamp(1.0, MAX_SESSION_STEPS as f64)
    }

    pub fn new(profile: &Profile, config: &ScheduleConfig, settings: &PlanSettings) -> Result<Self, String> {
        let sessions = profile.sessions.as_ref();
        let names: HashMap<(&str, &str), usize> =
            profile.endpoints.iter().enumerate().map(|(i, e)| ((e.method.as_str(), e.path.as_str()), i)).collect();
        let login = profile.endpoints.iter().position(|e| e.once_per_session);
        let flows: Vec<(Vec<usize>, f64)> = sessions
            .map(|s| {
                s.flows
                    .iter()
                    .filter_map(|f| {
                        let steps = f.steps.iter().map(|step| step.split_once(' ').and_then(|(m, p)| names.get(&(m, p)).copied()));
                        Some((steps.collect::<Option<Vec<_>>>()?, f.share))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let starts = Self::starts(profile);
        if starts.counts.iter().all(|&c| c == 0) {
            return Err("the profile's session curve is empty: no user would arrive; run without --sessions".into());
        }
        Ok(SessionPlan {
            starts: Schedule::new(&starts, config.clone()),
            maker: RequestMaker::new(profile, &settings.vars, config.seed, settings.strict_vars)?,
            flows,
            login,
            think_s: sessions.and_then(|s| s.think_time_s),
            length: sessions.and_then(|s| s.length),
            speed: config.speed,
            rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0x05e5),
        })
    }

    fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn session(&mut self, profile_s: u64) -> SessionSpec {
        let mut steps: Vec<RequestSpec> = Vec::new();
        if let Some(login) = self.login {
            steps.push(self.maker.request(login));
        }
        let total: f64 = self.flows.iter().map(|(_, share)| share).sum();
        if total > 0.0 {
            let mut u = self.uniform() * total;
            let flow = self.flows.iter().find(|(_, share)| {
                u -= share;
                u < 0.0
            });
            let indices = flow.or(self.flows.last()).map(|(f, _)| f.clone()).unwrap_or_default();
            for index in indices {
                if Some(index) != self.login {
                    steps.push(self.maker.request(index));
                }
            }
        }
        let (u, v) = (self.uniform(), self.uniform());
        let length = self.length.map_or(steps.len().max(1), |q| draw(&q, u, v).round().clamp(1.0, MAX_SESSION_STEPS as f64) as usize);
        steps.truncate(MAX_SESSION_STEPS);
        while steps.len() < length {
            // The login opens the session; the rest of it is drawn without it.
            let mut spec = self.maker.next(profile_s);
            for _ in 0..16 {
                if Some(spec.endpoint) != self.login {
                    break;
                }
                spec = self.maker.next(profile_s);
            }
            steps.push(spec);
        }
        let think_ns = (1..steps.len())
            .map(|_| {
                let (u, v) = (self.uniform(), self.uniform());
                let seconds = self.think_s.map_or(1.0, |q| draw(&q, u, v));
                (seconds / self.speed * 1e9) as u64
            })
            .collect();
        SessionSpec { steps, think_ns }
    }
}

/// The users of a profile (`--sessions`).
pub fn plan(profile: &Profile, settings: &PlanSettings) -> Result<PlannedRun, PlanError> {
    let (config, timeline) = schedule(profile, settings)?;
    let plan = SessionPlan::new(profile, &config, settings).map_err(PlanError)?;
    let left_out = plan.maker.left_out().to_vec();
    let synthetic = plan.maker.synthetic().to_vec();
    Ok(PlannedRun {
        plan: until(plan, timeline.end_ns),
        catalog: Catalog::of_profile(profile),
        end_ns: timeline.end_ns,
        unit: "virtual users",
        left_out,
        synthetic,
        speed: config.speed,
        segments: super::run_segments(profile, settings.window, config.speed),
        expected_requests: estimate(profile, settings)
            .map_or(f64::INFINITY, |e| if e.duration_s.is_some() { e.requests } else { f64::INFINITY }),
    })
}

fn schedule(profile: &Profile, settings: &PlanSettings) -> Result<(ScheduleConfig, super::settings::Timeline), PlanError> {
    let timeline = settings.timeline(super::profile::window_s(profile, settings.window)? as f64)?;
    let config = settings.schedule(timeline.speed);
    let starts = SessionPlan::starts(profile);
    check_rate(peak_rps(&starts, &config) * SessionPlan::mean_length(profile), "requests a second")?;
    Ok((config, timeline))
}

/// `replay plan --sessions`: users from the session curve, requests from the mean session length.
pub fn estimate(profile: &Profile, settings: &PlanSettings) -> Result<Estimate, PlanError> {
    let (config, timeline) = schedule(profile, settings)?;
    let starts = SessionPlan::starts(profile);
    let per_user = SessionPlan::mean_length(profile);
    let mut estimate = Estimate::of_curve(&starts, &config, timeline.end_ns.map(|ns| ns as f64 / 1e9), per_user);
    estimate.users = Some(estimate.requests / per_user);
    Ok(estimate)
}

impl Iterator for SessionPlan {
    type Item = Planned;
    fn next(&mut self) -> Option<Planned> {
        let due = self.starts.next()?;
        Some(Planned { at_ns: due.at_ns, work: Work::Session(self.session(due.profile_s)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Vars;
    use crate::profile::load::parse;

    #[test]
    fn users_log_in_first_then_walk_their_flow() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/steady.json")).unwrap();
        let profile = parse(&text, "steady.json").unwrap();
        let vars: Vars = [("username", "u"), ("password", "p")].iter().map(|(k, v)| (k.to_string(), vec![v.to_string()])).collect();
        let config = ScheduleConfig { speed: 10.0, ..ScheduleConfig::default() };
        let settings = PlanSettings { vars, ..PlanSettings::default() };
        let sessions: Vec<SessionSpec> = SessionPlan::new(&profile, &config, &settings)
            .unwrap()
            .map(|p| match p.work {
                Work::Session(s) => s,
                Work::Request(_) => panic!("a session plan plans sessions"),
            })
            .collect();
        // 12,000 requests over 3-step sessions: about 4,000 users.
        assert!((3900..4100).contains(&sessions.len()), "{}", sessions.len());
        for s in &sessions {
            let path: Vec<&str> = s.steps.iter().map(|r| r.target.as_str()).collect();
            assert_eq!(&path[..3], ["/login", "/", "/profile"]);
            assert_eq!(s.think_ns.len(), s.steps.len() - 1);
            // Think times of up to ~9 s (p99 6 s, x1.5), played 10x faster.
            assert!(s.think_ns.iter().all(|&t| t <= 900_000_000), "{:?}", s.think_ns);
        }
    }
}
