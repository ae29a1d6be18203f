//! What a run will send and when: the vocabulary every source of work shares,
//! the sources themselves, and the limits that hold for all of them.
//!
//! A source turns a profile or a trace into [`Planned`] work in time order:
//! - `profile.rs`: independent requests on the profile's arrival curve (`schedule.rs` + `request.rs`);
//! - `sessions.rs`: virtual users (`--sessions`), each a [`SessionSpec`];
//! - `trace.rs`: a derived trace, row by row.
//!
//! Every source is built through [`build`] from one [`PlanSettings`], so the
//! window, speed, duration, rate scale and the end of the run are applied in one
//! place; `limits.rs` holds what the loop enforces at send time for every
//! source alike (`--max-rps`, `--max-requests`, the end of sending), and
//! `estimate.rs` answers `replay plan` from the bins without materialising a request.
//! A [`Shard`] (`--shard K/N`) keeps one generator's part of any source's plan.
//! `batching.rs` groups due work into the loop's wakes.

pub mod estimate;
mod mix;
mod picker;
pub mod profile;
pub mod request;
pub mod sessions;
pub mod settings;
pub mod synthetic;
pub mod trace;
pub mod vars;

pub use request::{RequestMaker, Vars};
pub use settings::{MAX_UNSCALED_TIMELINE_S, Pace, PlanError, PlanSettings};

use crate::profile::{Profile, Quantiles};
use std::fmt;

/// An endpoint as the run names it: method and path template (`GET /users/{id}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EndpointKey {
    pub method: String,
    pub path: String,
}

impl EndpointKey {
    pub fn new(method: &str, path: &str) -> Self {
        EndpointKey { method: method.to_owned(), path: path.to_owned() }
    }
}

impl fmt::Display for EndpointKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// One endpoint of a run: its name and, where the profile holds it, production's latency.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry {
    pub key: EndpointKey,
    pub production_latency_ms: Option<Quantiles>,
    /// Production's share of each status class (1xx … 5xx), where the profile holds statuses.
    pub production_status: Option<[f64; 5]>,
}

impl CatalogEntry {
    /// An endpoint with nothing known of production.
    pub fn named(key: EndpointKey) -> Self {
        CatalogEntry { key, production_latency_ms: None, production_status: None }
    }
}

/// The endpoints a run's requests point into (by index), for reports.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Catalog {
    pub endpoints: Vec<CatalogEntry>,
}

impl Catalog {
    pub fn of_profile(profile: &Profile) -> Self {
        Catalog {
            endpoints: profile
                .endpoints
                .iter()
                .map(|e| CatalogEntry {
                    key: EndpointKey::new(&e.method, &e.path),
                    production_latency_ms: e.latency_ms,
                    production_status: crate::client::status_classes::production_shares(&e.status),
                })
                .collect(),
        }
    }

    /// `GET /users/{id}` for endpoint `index` (`endpoint #N` past the end).
    pub fn name(&self, index: usize) -> String {
        self.endpoints.get(index).map_or_else(|| format!("endpoint #{index}"), |e| e.key.to_string())
    }
}

/// One request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    /// The request's number in the run, from 0.
    pub seq: u64,
    /// Index into the run's [`Catalog`].
    pub endpoint: usize,
    pub method: hyper::Method,
    /// Path and query, ready for the request line. It may hold values from
    /// `--var`: never print it; name the endpoint instead.
    pub target: String,
    /// (content type, body)
    pub body: Option<(String, String)>,
    /// Whether a placeholder in it was filled with a synthetic value (no `--var` gave one).
    pub synthetic: bool,
}

/// One virtual user's requests and the waits between them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionSpec {
    pub steps: Vec<RequestSpec>,
    /// The first step is the session's login: a 4xx, or a redirect to a login page, fails it.
    pub login: bool,
    /// Think time after each step but the last, nanoseconds of run time.
    pub think_ns: Vec<u64>,
}

/// What is due: one request, or a virtual user's whole session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Work {
    Request(RequestSpec),
    Session(SessionSpec),
}

impl Work {
    /// How many requests this work stands for.
    pub fn requests(&self) -> u64 {
        match self {
            Work::Request(_) => 1,
            Work::Session(s) => s.steps.len() as u64,
        }
    }
}

/// Work and when it is due (nanoseconds after the run's start).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planned {
    pub at_ns: u64,
    pub work: Work,
}

/// A source's work in time order.
pub type Plan = Box<dyn Iterator<Item = Planned> + Send>;

/// A run, planned: its work, its endpoints, and how long it is meant to take.
pub struct PlannedRun {
    pub plan: Plan,
    pub catalog: Catalog,
    /// When the schedule ends, nanoseconds after the start; `None` for a `--loop` without `--duration`.
    pub end_ns: Option<u64>,
    /// `requests` or `virtual users`, for messages.
    pub unit: &'static str,
    /// Endpoints left out of the mix because a placeholder on them has no value (see `request.rs`).
    pub left_out: Vec<String>,
    /// Placeholders filled with synthetic values, with the share of requests they are on (see `request.rs`).
    pub synthetic: Vec<String>,
    /// How many times faster than production the timeline plays.
    pub speed: f64,
    /// The requests the run is expected to intend (infinite for an endless loop), for watching thresholds.
    pub expected_requests: f64,
    /// The profile's segments on the run's clock, for charts.
    pub segments: Vec<RunSegment>,
}

/// A stretch of the profile's curve (steady, bursty, ramp), in seconds of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunSegment {
    pub kind: &'static str,
    pub start_s: f64,
    pub end_s: f64,
}

/// The profile's segments within `window`, on the run's clock at `speed`.
pub fn run_segments(profile: &Profile, window: Option<(u64, u64)>, speed: f64) -> Vec<RunSegment> {
    let (from, to) = window.unwrap_or((0, u64::MAX));
    profile
        .segments
        .iter()
        .filter(|s| s.end_s > from && s.start_s < to)
        .map(|s| RunSegment {
            kind: s.kind.name(),
            start_s: (s.start_s.max(from) - from) as f64 / speed,
            end_s: (s.end_s.min(to) - from) as f64 / speed,
        })
        .collect()
}

/// Where a run's work comes from.
pub enum Source<'a> {
    Profile(&'a Profile),
    Sessions(&'a Profile),
    Trace(&'a trace::TraceInfo),
}

/// Plans a run of `source` with `settings`; with a shard, only that shard's part of it.
pub fn build(source: Source<'_>, settings: &PlanSettings) -> Result<PlannedRun, PlanError> {
    let mut planned = match source {
        Source::Profile(profile) => profile::plan(profile, settings),
        Source::Sessions(profile) => sessions::plan(profile, settings),
        // A trace keeps each client's rows in one shard itself (it knows the clients).
        Source::Trace(info) => return trace::plan(info, settings),
    }?;
    if let Some(shard) = settings.shard {
        let whole = std::mem::replace(&mut planned.plan, Box::new(std::iter::empty()));
        planned.plan = Box::new(shard.part(whole));
        planned.expected_requests /= f64::from(shard.count);
    }
    Ok(planned)
}

/// One shard of a run split over several generators: `index` of `count`,
/// from 0 (as Kubernetes' `JOB_COMPLETION_INDEX`).
///
/// Every shard plans the whole seeded schedule and sends its part: request
/// `seq` goes to shard `seq % count`, so each shard's stream has the shape of
/// the whole at `1/count` of its rate (a shard of a burst is a burst), and the
/// shards together send the unsharded run request for request. A virtual
/// user's session is one piece of work and stays whole in one shard; so do a
/// trace's rows of one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// Shards beyond this many are surely a typo.
pub const MAX_SHARDS: u32 = 10_000;

impl Shard {
    /// `K/N`, K from 0 to N - 1.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let form = "give it as K/N with K from 0 to N - 1, e.g. --shard 0/8 (Kubernetes' $(JOB_COMPLETION_INDEX)/8)";
        let (k, n) = text.split_once('/').ok_or_else(|| format!("`{text}` is not a shard: {form}"))?;
        let (Ok(index), Ok(count)) = (k.trim().parse::<u32>(), n.trim().parse::<u32>()) else {
            return Err(format!("`{text}` is not a shard: {form}"));
        };
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("`{text}`: a run splits into 1 to {MAX_SHARDS} shards"));
        }
        if index >= count {
            return Err(format!("`{text}`: shards of {count} are numbered 0 to {}; {form}", count - 1));
        }
        Ok(Shard { index, count })
    }

    /// Whether work with this key (a request's seq, a session's number, a client's hash) is this shard's.
    pub fn owns(&self, key: u64) -> bool {
        key % u64::from(self.count) == u64::from(self.index)
    }

    /// This shard's part of `plan`: requests by their seq, sessions by their order.
    pub fn part(self, plan: Plan) -> impl Iterator<Item = Planned> + Send {
        plan.enumerate()
            .filter(move |(order, p)| match &p.work {
                Work::Request(spec) => self.owns(spec.seq),
                Work::Session(_) => self.owns(*order as u64),
            })
            .map(|(_, p)| p)
    }

    /// This shard's share of a limit over the whole run (`--max-requests`, `--max-rps`): the parts add up to it.
    pub fn share(&self, whole: u64) -> u64 {
        let (n, k) = (u64::from(self.count), u64::from(self.index));
        whole / n + u64::from(k < whole % n)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// Stops a plan at `end_ns`: work due then or later never comes due.
pub fn until(plan: impl Iterator<Item = Planned> + Send + 'static, end_ns: Option<u64>) -> Plan {
    match end_ns {
        Some(end) => Box::new(plan.take_while(move |p| p.at_ns < end)),
        None => Box::new(plan),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(seq: u64) -> Planned {
        Planned {
            at_ns: seq,
            work: Work::Request(RequestSpec {
                seq,
                endpoint: 0,
                method: hyper::Method::GET,
                target: "/".into(),
                body: None,
                synthetic: false,
            }),
        }
    }

    #[test]
    fn shards_parse_share_and_split_without_gaps_or_overlap() {
        assert_eq!(Shard::parse("3/8"), Ok(Shard { index: 3, count: 8 }));
        for bad in ["8/8", "1/0", "a/2", "2", "-1/4", "1/10001"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let shards: Vec<Shard> = (0..3).map(|index| Shard { index, count: 3 }).collect();
        assert_eq!(shards.iter().map(|s| s.share(100)).collect::<Vec<_>>(), [34, 33, 33]);
        let mut seen: Vec<u64> = Vec::new();
        for shard in &shards {
            let plan: Plan = Box::new((0..30).map(request));
            let mine: Vec<u64> = shard.part(plan).map(|p| p.at_ns).collect();
            assert_eq!(mine.len(), 10);
            seen.extend(mine);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..30).collect::<Vec<_>>());
        // Sessions go whole, by their order in the plan.
        let sessions: Plan = Box::new(
            (0..6).map(|i| Planned { at_ns: i, work: Work::Session(SessionSpec { steps: vec![], login: false, think_ns: vec![] }) }),
        );
        assert_eq!(Shard { index: 1, count: 2 }.part(sessions).map(|p| p.at_ns).collect::<Vec<_>>(), [1, 3, 5]);
    }
}
