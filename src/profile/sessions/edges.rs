//! Sessions across partial derives: what a partial keeps of its sessions, and
//! how a merge joins a user's session that two partials each saw half of.
//!
//! A partial derive reads one stretch of time (an hour's rotated file, say).
//! Its sessions fall in three kinds:
//! - *whole*: they start more than a gap after the stretch's first request
//!   and ended (idle past the gap) before its last: no other stretch can
//!   hold more of them, so they are closed into the counts and sketches;
//! - *heads*: they start within a gap of the first request, so an earlier
//!   stretch may hold their beginning;
//! - *tails*: still open at the end, so a later stretch may hold their rest.
//!
//! Heads and tails are kept as *edges*: the open session itself (user hash,
//! start, last request, request count, opening flow). A merge gathers every
//! partial's edges, sorts each user's by start and joins two when the second
//! starts within the gap of the first's last request, adding the think time
//! between them, exactly as one derive reading both stretches would have.
//! Then an edge is closed once the stretches merged so far cover the gap
//! before its start and the gap after its last request (nothing unseen could
//! join it), so merging in any grouping gives the same sessions. What is left
//! at the end closes as a single derive closes its open sessions.
//!
//! This keeps sessions whole when partials split the log by time, as rotated
//! files do. Partials that overlap in time (two servers' logs of the same
//! hour) join only at their edges: a user whose requests alternate between
//! the two servers within one stretch gets a session in each. Derive such
//! files together in one partial, or split them by time.

use super::super::arrival::{ArrivalCounter, ArrivalState, MAX_SECOND};
use super::super::sketch::QuantileSketch;
use super::{FLOW_LEN, FlowKey, MAX_ACTIVE, MAX_FLOWS, Open, SessionTracker, triangular};
use serde::{Deserialize, Serialize};

/// Edges kept between merges, at most; past it the longest idle close early (as [`MAX_ACTIVE`] bounds a derive).
pub const MAX_EDGES: usize = 2 * MAX_ACTIVE;
/// Two stretches whose times are this close count as one when deciding what is covered
/// (rotated files: one ends at 23:59:59.8, the next starts at 00:00:00.1).
const TOUCHING_US: i64 = 1_000_000;

/// The session tracker as a partial profile keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionState {
    /// Sessions closed (edges not included).
    pub count: u64,
    pub length: QuantileSketch,
    pub duration_ms: QuantileSketch,
    pub think_ms: QuantileSketch,
    /// Opening flows, by the partial's template index, and how many sessions opened so.
    pub flows: Vec<(Vec<u32>, u64)>,
    pub other_flows: u64,
    /// Of `other_flows`, sessions of more than one request.
    pub other_multi: u64,
    pub starts: ArrivalState,
    pub subsecond: bool,
    pub edges: Vec<EdgeState>,
}

/// An open session at a partial's edge.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeState {
    /// The user's seeded hash (never the address or name).
    pub user: u64,
    pub start_us: i64,
    /// The latest request, milliseconds after the start's millisecond.
    pub last_ms: u32,
    pub requests: u16,
    /// The first endpoints, by the partial's template index (one per request, up to five).
    pub flow: Vec<u32>,
}

impl SessionState {
    /// Checks a state read from a file against its partial: `templates` kept, `requests` counted.
    pub fn check(&self, templates: usize, requests: u64) -> Result<(), String> {
        let count = self.count;
        if count > requests {
            return Err(format!("count: {count} sessions of {requests} requests"));
        }
        self.length.check(count).map_err(|e| format!("length.{e}"))?;
        self.duration_ms.check(count).map_err(|e| format!("duration_ms.{e}"))?;
        self.think_ms.check(requests).map_err(|e| format!("think_ms.{e}"))?;
        let starts = ArrivalCounter::from_state(&self.starts).map_err(|e| format!("starts.{e}"))?;
        if starts.total() != count {
            return Err(format!("starts: {} session starts for {count} sessions", starts.total()));
        }
        if self.flows.len() > MAX_FLOWS {
            return Err(format!("flows: {} flows (at most {MAX_FLOWS})", self.flows.len()));
        }
        if self.other_multi > self.other_flows {
            return Err(format!("other_multi: {} of {} sessions whose flow found no room", self.other_multi, self.other_flows));
        }
        let mut flowed: u64 = self.other_flows;
        for (i, (steps, n)) in self.flows.iter().enumerate() {
            if steps.is_empty() || steps.len() > FLOW_LEN || steps.iter().any(|&t| t as usize >= templates) || *n == 0 {
                return Err(format!("flows[{i}]: 1 to {FLOW_LEN} steps naming the partial's templates, counted above 0"));
            }
            flowed = flowed.saturating_add(*n);
        }
        if flowed > count {
            return Err(format!("flows: {flowed} flows for {count} sessions"));
        }
        if self.edges.len() > MAX_EDGES {
            return Err(format!("edges: {} open sessions (at most {MAX_EDGES})", self.edges.len()));
        }
        let mut in_edges: u64 = 0;
        for (i, e) in self.edges.iter().enumerate() {
            let steps = usize::from(e.requests).min(FLOW_LEN);
            if e.requests == 0 || e.flow.len() != steps || e.flow.iter().any(|&t| t as usize >= templates) {
                return Err(format!("edges[{i}]: a session of 1 or more requests, one step each up to {FLOW_LEN}"));
            }
            if e.start_us.unsigned_abs() > (MAX_SECOND * 1_000_000) as u64 {
                return Err(format!("edges[{i}].start_us: {} is past the times a log holds", e.start_us));
            }
            in_edges = in_edges.saturating_add(u64::from(e.requests));
        }
        if in_edges > requests {
            return Err(format!("edges: {in_edges} requests in open sessions of {requests}"));
        }
        Ok(())
    }
}

/// Whether `from..=to` lies inside one of the (sorted, joined) stretches of `coverage`.
fn covered(coverage: &[(i64, i64)], from: i64, to: i64) -> bool {
    coverage.iter().any(|&(first, last)| first <= from && to <= last)
}

/// Stretches of time sorted and joined where they overlap or touch.
pub fn join_stretches(mut stretches: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    stretches.sort_unstable();
    let mut joined: Vec<(i64, i64)> = Vec::with_capacity(stretches.len());
    for (first, last) in stretches {
        match joined.last_mut() {
            Some(previous) if first <= previous.1.saturating_add(TOUCHING_US) => previous.1 = previous.1.max(last),
            _ => joined.push((first, last)),
        }
    }
    joined
}

impl SessionTracker {
    /// A partial derive: sessions that start within a gap of the first request are kept as edges.
    pub fn keep_heads(&mut self) {
        self.keep_heads = true;
    }

    /// The state for a partial profile: every open session becomes an edge, then the edges
    /// are settled against `coverage` (see [`SessionTracker::settle`]).
    pub fn to_state(&mut self, coverage: &[(i64, i64)]) -> SessionState {
        let open = self.open.drain();
        self.due.clear();
        self.edges.extend(open);
        self.keep_heads = false;
        self.settle(coverage);
        let steps = |flow: &[u16; FLOW_LEN], len: u8| flow.iter().take(usize::from(len)).map(|&t| u32::from(t)).collect::<Vec<u32>>();
        let mut flows: Vec<(Vec<u32>, u64)> = self.flows.iter().map(|((flow, len), &n)| (steps(flow, *len), n)).collect();
        flows.sort_unstable();
        let mut edges: Vec<EdgeState> = self
            .edges
            .iter()
            .map(|&(user, s)| EdgeState {
                user,
                start_us: s.start_us,
                last_ms: s.last_ms,
                requests: s.requests,
                flow: steps(&s.flow, s.flow_len()),
            })
            .collect();
        edges.sort_unstable_by_key(|e| (e.start_us, e.user, e.last_ms));
        SessionState {
            count: self.count,
            length: self.length.clone(),
            duration_ms: self.duration_ms.clone(),
            think_ms: self.think_ms.clone(),
            flows,
            other_flows: self.other_flows,
            other_multi: self.other_multi,
            starts: self.starts.to_state(),
            subsecond: self.subsecond,
            edges,
        }
    }

    /// Adds a checked partial's sessions; `ids` maps its template indices to this tracker's.
    /// Its edges wait for [`SessionTracker::settle`].
    pub fn absorb(&mut self, state: &SessionState, ids: &[u32]) -> Result<(), String> {
        let starts = ArrivalCounter::from_state(&state.starts)?;
        let id = |t: u32| ids.get(t as usize).map_or(u16::MAX, |&g| u16::try_from(g).unwrap_or(u16::MAX));
        let flow_of = |steps: &[u32]| {
            let mut flow = [steps.first().map_or(u16::MAX, |&t| id(t)); FLOW_LEN];
            for (slot, &t) in flow.iter_mut().zip(steps) {
                *slot = id(t);
            }
            flow
        };
        self.count = self.count.saturating_add(state.count);
        self.length.merge(&state.length);
        self.duration_ms.merge(&state.duration_ms);
        self.think_ms.merge(&state.think_ms);
        self.starts.absorb(&starts);
        self.subsecond |= state.subsecond;
        self.other_flows = self.other_flows.saturating_add(state.other_flows);
        self.other_multi = self.other_multi.saturating_add(state.other_multi);
        for (steps, n) in &state.flows {
            let key: FlowKey = (flow_of(steps), steps.len().min(FLOW_LEN) as u8);
            if let Some(count) = self.flows.get_mut(&key) {
                *count = count.saturating_add(*n);
            } else if self.flows.len() < MAX_FLOWS {
                self.flows.insert(key, *n);
            } else {
                self.other_flows = self.other_flows.saturating_add(*n);
                if steps.len() > 1 {
                    self.other_multi = self.other_multi.saturating_add(*n);
                }
            }
        }
        for e in &state.edges {
            let open = Open { start_us: e.start_us, last_ms: e.last_ms, requests: e.requests, flow: flow_of(&e.flow) };
            self.edges.push((e.user, open));
        }
        Ok(())
    }

    /// Joins each user's edges that are one session (the second starting within the gap
    /// of the first's last request), then closes those no stretch outside `coverage`
    /// could extend. Past [`MAX_EDGES`], the longest idle close too.
    pub fn settle(&mut self, coverage: &[(i64, i64)]) {
        let mut edges = std::mem::take(&mut self.edges);
        edges.sort_unstable_by_key(|&(user, s)| (user, s.start_us, s.last_us()));
        let mut joined: Vec<(u64, Open)> = Vec::with_capacity(edges.len());
        for (user, next) in edges {
            match joined.last_mut() {
                Some((previous_user, session)) if *previous_user == user && next.start_us - session.last_us() <= self.gap_us => {
                    let think = self.think_between(user, session.last_us(), next.start_us);
                    if let Some(ms) = think {
                        self.think_ms.add(ms);
                    }
                    join(session, &next);
                }
                _ => joined.push((user, next)),
            }
        }
        let gap = self.gap_us;
        type Edges = Vec<(u64, Open)>;
        let (mut closing, mut kept): (Edges, Edges) = joined.into_iter().partition(|(_, s)| {
            covered(coverage, s.start_us.saturating_sub(gap), s.start_us) && covered(coverage, s.last_us(), s.last_us().saturating_add(gap))
        });
        if kept.len() > MAX_EDGES {
            kept.sort_unstable_by_key(|&(user, s)| (s.last_us(), user));
            closing.extend(kept.drain(..kept.len() - MAX_EDGES / 2));
        }
        self.edges = kept;
        closing.sort_unstable_by_key(|&(user, s)| (s.start_us, user));
        for (user, s) in closing {
            self.close(user, s);
        }
        self.flush_closed();
    }

    /// The think time a request at `next_us` adds after one at `last_us`, in milliseconds,
    /// as [`SessionTracker::add`] measures it.
    fn think_between(&self, user: u64, last_us: i64, next_us: i64) -> Option<f64> {
        if self.subsecond {
            (next_us > last_us).then(|| (next_us - last_us) as f64 / 1000.0)
        } else {
            (next_us >= last_us).then(|| {
                let jitter = triangular(super::super::sketch::seeded_hash(user, &next_us.to_le_bytes()));
                ((next_us - last_us) as f64 / 1e6 + jitter).abs() * 1000.0
            })
        }
    }
}

/// `next`, a later part of the same user's session, joined onto `session`.
fn join(session: &mut Open, next: &Open) {
    let base = usize::from(session.flow_len());
    for (i, &step) in next.flow.iter().take(usize::from(next.flow_len())).enumerate() {
        if let Some(slot) = session.flow.get_mut(base + i) {
            *slot = step;
        }
    }
    let last_us = session.last_us().max(next.last_us());
    session.start_us = session.start_us.min(next.start_us);
    session.last_ms = session.ms_to(last_us);
    session.requests = session.requests.saturating_add(next.requests);
}
