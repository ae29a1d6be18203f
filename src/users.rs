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

use crate::profile::{Arrival, Profile, Quantiles};
use crate::request::{RequestMaker, RequestSpec, Vars};
use crate::run::{Planned, Work};
use crate::schedule::{Schedule, ScheduleConfig};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::collections::HashMap;

/// One virtual user's requests and the waits between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSpec {
    pub steps: Vec<RequestSpec>,
    /// Think time after each step but the last, nanoseconds of run time.
    pub think_ns: Vec<u64>,
}

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
    pub fn new(profile: &Profile, config: &ScheduleConfig, vars: Vars) -> Result<Self, String> {
        let sessions = profile.sessions.as_ref();
        let names: HashMap<String, usize> =
            profile.endpoints.iter().enumerate().map(|(i, e)| (format!("{} {}", e.method, e.path), i)).collect();
        let login = profile.endpoints.iter().position(|e| e.once_per_session);
        let flows: Vec<(Vec<usize>, f64)> = sessions
            .map(|s| {
                s.flows
                    .iter()
                    .filter_map(|f| Some((f.steps.iter().map(|step| names.get(step).copied()).collect::<Option<Vec<_>>>()?, f.share)))
                    .collect()
            })
            .unwrap_or_default();
        let mean_length = sessions
            .and_then(|s| s.length.map(|l| l.p50))
            .or_else(|| (!flows.is_empty()).then(|| flows.iter().map(|(f, _)| f.len() as f64).sum::<f64>() / flows.len() as f64))
            .unwrap_or(1.0)
            .max(1.0);
        let starts = match sessions.and_then(|s| s.arrival.clone()) {
            Some(arrival) => arrival,
            None => Arrival {
                bin_s: profile.arrival.bin_s,
                counts: profile.arrival.counts.iter().map(|&c| (c as f64 / mean_length).round() as u64).collect(),
            },
        };
        if starts.counts.iter().all(|&c| c == 0) {
            return Err("the profile's session curve is empty: no user would arrive; run without --sessions".into());
        }
        let session_profile = Profile { arrival: starts, ..profile.clone() };
        Ok(SessionPlan {
            starts: Schedule::new(&session_profile, config.clone()),
            maker: RequestMaker::new(profile, vars, config.seed)?,
            flows,
            login,
            think_s: sessions.and_then(|s| s.think_time_s),
            length: sessions.and_then(|s| s.length),
            speed: config.speed,
            rng: ChaCha8Rng::seed_from_u64(config.seed ^ 0x05e5),
        })
    }

    pub fn pass_ns(&self) -> u64 {
        self.starts.pass_ns()
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
        let length = self.length.map_or(steps.len().max(1), |q| draw(&q, u, v).round().max(1.0) as usize);
        while steps.len() < length {
            steps.push(self.maker.next(profile_s));
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
    use crate::profile::load::parse;

    #[test]
    fn users_log_in_first_then_walk_their_flow() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/profiles/steady.json")).unwrap();
        let profile = parse(&text, "steady.json").unwrap();
        let vars: Vars = [("username", "u"), ("password", "p")].iter().map(|(k, v)| (k.to_string(), vec![v.to_string()])).collect();
        let config = ScheduleConfig { speed: 10.0, ..ScheduleConfig::default() };
        let sessions: Vec<SessionSpec> = SessionPlan::new(&profile, &config, vars)
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
