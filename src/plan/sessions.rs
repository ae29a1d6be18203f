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
use rand_chacha::rand_core::SeedableRng;
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
    /// Users started so far: user k takes row k of the values given per user.
    users: u64,
}

/// The value at quantile `u` of a distribution known by its quantiles: linear
/// between those the profile holds, from its `min` (0 when it has none) to
/// its `max` (p99 × 1.5 when it has none).
pub fn draw(q: &Quantiles, u: f64) -> f64 {
    let known = [
        (0.0, Some(q.min.unwrap_or(0.0))),
        (0.10, q.p10),
        (0.25, q.p25),
        (0.50, Some(q.p50)),
        (0.90, Some(q.p90)),
        (0.99, Some(q.p99)),
        (1.0, Some(q.max.unwrap_or(q.p99 * 1.5))),
    ];
    let mut below = (0.0, q.min.unwrap_or(0.0));
    for (at, value) in known.into_iter().skip(1) {
        let Some(value) = value else { continue };
        // Quantiles never fall; a hand-written profile's that do are read as flat.
        let value = value.max(below.1);
        if u <= at {
            return below.1 + (value - below.1) * (u - below.0) / (at - below.0);
        }
        below = (at, value);
    }
    below.1
}

impl SessionPlan {
    /// The session curve: the profile's, or its request curve divided by the mean session length.
    fn starts(profile: &Profile) -> Arrival {
        let sessions = profile.sessions.as_ref();
        let mean_length = Self::mean_length(profile);
        match sessions.and_then(|s| s.arrival.clone()) {
            Some(arrival) => arrival,
            None => {
                // Rounded cumulatively, so the users add up to the requests over the session length
                // however many bins the curve has.
                let (mut wanted, mut started) = (0.0f64, 0u64);
                let counts = profile
                    .arrival
                    .counts
                    .iter()
                    .map(|&c| {
                        wanted += c as f64 / mean_length;
                        let now = (wanted.round() as u64).saturating_sub(started);
                        started += now;
                        now
                    })
                    .collect();
                Arrival { bin_s: profile.arrival.bin_s, counts }
            }
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
            maker: RequestMaker::for_sessions(profile, &settings.vars, config.seed, settings.strict_vars)?,
            flows,
            login,
            think_s: settings.think.map(|t| t.quantiles()).or_else(|| sessions.and_then(|s| s.think_time_s)),
            length: sessions.and_then(|s| s.length),
            speed: config.speed,
            rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0x05e5),
            users: 0,
        })
    }

    fn uniform(&mut self) -> f64 {
        crate::schedule::uniform(&mut self.rng)
    }

    fn session(&mut self, profile_s: u64) -> SessionSpec {
        let mut steps: Vec<RequestSpec> = Vec::new();
        let user = Some(self.users);
        self.users += 1;
        if let Some(login) = self.login {
            steps.push(self.maker.request_as(login, user));
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
                    steps.push(self.maker.request_as(index, user));
                }
            }
        }
        let u = self.uniform();
        let length = self.length.map_or(steps.len().max(1), |q| draw(&q, u).round().clamp(1.0, MAX_SESSION_STEPS as f64) as usize);
        steps.truncate(MAX_SESSION_STEPS);
        while steps.len() < length {
            // The login opens the session; the rest of it is drawn without it.
            let mut spec = self.maker.next_as(profile_s, user);
            for _ in 0..16 {
                if Some(spec.endpoint) != self.login {
                    break;
                }
                spec = self.maker.next_as(profile_s, user);
            }
            steps.push(spec);
        }
        let think_ns = (1..steps.len())
            .map(|_| {
                let u = self.uniform();
                let seconds = self.think_s.map_or(1.0, |q| draw(&q, u));
                (seconds / self.speed * 1e9) as u64
            })
            .collect();
        SessionSpec { login: self.login.is_some() && !steps.is_empty(), steps, think_ns }
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
    // A user's requests are spread over its session, not sent when it arrives.
    let think_s = mean_of(settings.think.map(|t| t.quantiles()).or_else(|| profile.sessions.as_ref().and_then(|s| s.think_time_s)), 1.0);
    let (at_once, busiest) = super::estimate::in_flight(&starts, &config, (per_user - 1.0).max(0.0) * think_s, per_user);
    estimate.users_at_once = Some(at_once);
    estimate.peak_rps = busiest;
    if !config.looped {
        // Users still walking when the schedule ends have later steps that never come due.
        estimate.requests = due_requests(&starts, &config, per_user, think_s);
    }
    Ok(estimate)
}

/// The requests of one pass whose time comes before the window's end: a user arriving
/// `left` seconds before it sends its first and one more per think time, up to `per_user`.
fn due_requests(starts: &Arrival, config: &ScheduleConfig, per_user: f64, think_s: f64) -> f64 {
    let bin_s = f64::from(starts.bin_s.max(1));
    let bins = &starts.counts[crate::schedule::window_bins(starts, config.window)];
    let end_s = bins.len() as f64 * bin_s;
    bins.iter()
        .enumerate()
        .map(|(i, &c)| {
            let left = end_s - (i as f64 + 0.5) * bin_s;
            let due = if think_s > 0.0 { 1.0 + (left / think_s).floor() } else { per_user };
            c as f64 * config.rate_scale * due.min(per_user)
        })
        .sum()
}

/// The mean of a distribution known by its quantiles, as [`draw`] draws it; `otherwise` without one.
pub fn mean_of(q: Option<Quantiles>, otherwise: f64) -> f64 {
    const STEPS: u32 = 1000;
    q.map_or(otherwise, |q| (0..STEPS).map(|i| draw(&q, (f64::from(i) + 0.5) / f64::from(STEPS))).sum::<f64>() / f64::from(STEPS))
}

impl Iterator for SessionPlan {
    type Item = Planned;
    fn next(&mut self) -> Option<Planned> {
        let due = self.starts.next()?;
        // A user's number is its shard key: it goes whole to one shard.
        let shard_key = self.users;
        Some(Planned { at_ns: due.at_ns, shard_key, work: Work::Session(self.session(due.profile_s)) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Vars;
    use crate::profile::load::parse;

    #[test]
    fn users_log_in_with_their_own_row_then_repeat_their_tasks() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/steady.json")).unwrap();
        let profile = parse(&text, "steady.json").unwrap();
        let rows = |values: &[&str]| values.iter().map(|v| v.to_string()).collect::<Vec<_>>();
        let vars: Vars = [("username".to_owned(), rows(&["ann", "bob", "cy"])), ("password".to_owned(), rows(&["pa", "pb", "pc"]))]
            .into_iter()
            .collect();
        let config = ScheduleConfig { speed: 10.0, ..ScheduleConfig::default() };
        let settings = PlanSettings { vars, ..PlanSettings::default() };
        let sessions: Vec<SessionSpec> = SessionPlan::new(&profile, &config, &settings)
            .unwrap()
            .map(|p| match p.work {
                Work::Session(s) => s,
                Work::Request(_) => panic!("a session plan plans sessions"),
            })
            .collect();
        // 12,000 requests over sessions of a login and 20 tasks: 571 users.
        assert_eq!(sessions.len(), 571);
        let (mut home, mut profile_page) = (0, 0);
        for (k, s) in sessions.iter().enumerate() {
            assert!(s.login && s.steps[0].target == "/login" && s.steps.len() == 21);
            // User k logs in with row k: a name and its password together, never a random pairing.
            let (user, password) = [("ann", "pa"), ("bob", "pb"), ("cy", "pc")][k % 3];
            assert_eq!(s.steps[0].body.as_ref().unwrap().1, format!("username={user}&password={password}"));
            assert!(s.steps[1..].iter().all(|r| r.target != "/login"), "one login per user");
            home += s.steps.iter().filter(|r| r.target == "/").count();
            profile_page += s.steps.iter().filter(|r| r.target == "/profile").count();
            // A constant think time of 3 s, played 10x faster.
            assert!(s.think_ns.iter().all(|&t| t == 300_000_000), "{:?}", s.think_ns);
        }
        let ratio = home as f64 / profile_page as f64;
        assert!((ratio - 2.0).abs() < 0.02, "the tasks 2:1: {home} to {profile_page}");
    }

    #[test]
    fn draws_follow_the_whole_distribution_from_its_minimum() {
        // Think times of 0.5 to 1 s, as a derived profile keeps them.
        let q = Quantiles { min: Some(0.5), p10: Some(0.55), p25: Some(0.625), max: Some(1.0), ..Quantiles::new(0.75, 0.95, 0.995) };
        let draws: Vec<f64> = (0..1000).map(|i| draw(&q, (f64::from(i) + 0.5) / 1000.0)).collect();
        assert!(draws.iter().all(|d| (0.5..=1.0).contains(d)), "never under the minimum nor over the maximum");
        assert!((draws[100] - 0.55).abs() < 0.01 && (draws[500] - 0.75).abs() < 0.01);
        assert!((mean_of(Some(q), 0.0) - 0.75).abs() < 0.01);
        // Without a minimum (an older or hand-written profile), from zero as before.
        let old = Quantiles::new(3.0, 4.5, 6.0);
        assert_eq!(draw(&old, 0.0), 0.0);
        assert!((draw(&old, 1.0) - 9.0).abs() < 1e-9);
        // Quantiles that fall are read as flat, never drawn backwards.
        let falling = Quantiles { min: Some(5.0), ..Quantiles::new(1.0, 2.0, 3.0) };
        assert!((0..=10).all(|i| draw(&falling, f64::from(i) / 10.0) >= 5.0));
    }

    #[test]
    fn every_shipped_profile_logs_each_user_in_once_then_mixes_its_tasks_two_to_one() {
        for name in ["steady", "bursty", "ramp", "daily"] {
            let path = format!("{}/profiles/{name}.json", env!("CARGO_MANIFEST_DIR"));
            let profile = parse(&std::fs::read_to_string(&path).unwrap(), &path).unwrap();
            let config = ScheduleConfig { speed: 10.0, ..ScheduleConfig::default() };
            let (mut logins, mut home, mut profile_page, mut users) = (0, 0, 0, 0);
            for planned in SessionPlan::new(&profile, &config, &PlanSettings::default()).unwrap().take(2000) {
                let Work::Session(s) = planned.work else { panic!("{name}: a session plan plans sessions") };
                users += 1;
                assert_eq!(s.steps[0].target, "/login", "{name}: the login first");
                logins += s.steps.iter().filter(|r| r.target == "/login").count();
                home += s.steps.iter().filter(|r| r.target == "/").count();
                profile_page += s.steps.iter().filter(|r| r.target == "/profile").count();
            }
            assert_eq!(logins, users, "{name}: one login per user");
            let ratio = home as f64 / profile_page as f64;
            assert!((ratio - 2.0).abs() < 0.1, "{name}: {home} to {profile_page}");
        }
    }
}
