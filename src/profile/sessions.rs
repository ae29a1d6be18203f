//! Sessions: requests grouped per user, split by an idle gap, summarised as
//! lengths, durations, think times and the most common opening flows.
//!
//! A user is the log's user field when it has one, else client address and
//! user agent together; either way only a seeded 64-bit hash is kept, never
//! the address or name. Sessions are tracked in input order; the input may be
//! out of order by minutes, far less than the idle gap (30 minutes by
//! default), so a late request joins its session and only its think time is
//! lost. Memory is bounded: sessions idle past the gap are closed as the
//! log's clock moves on, and past [`MAX_ACTIVE`] open sessions the longest
//! idle are closed early.

use super::arrival::ArrivalCounter;
use super::bin_tally::BinTally;
use super::sketch::QuantileSketch;
use rustc_hash::FxHashMap;

mod due;
mod edges;
mod user_table;
use due::DueLists;
pub use edges::{EdgeState, SessionState, join_stretches};
use user_table::UserTable;

pub const FLOW_LEN: usize = 5;
const MAX_ACTIVE: usize = 200_000;
const MAX_FLOWS: usize = 50_000;
/// Idle sessions are swept out each time the log's clock moves this share of the gap.
const SWEEP_FRACTION: i64 = 4;
/// Past this many keys in the due lists (stale ones included), they are listed anew from the table.
const MAX_DUE: usize = 2 * MAX_ACTIVE;
/// The due lists' stretches are this share of the time between sweeps: a sweep keeps the keys
/// of the sessions in its horizon's stretch that are not idle yet, half that stretch on average.
const STRETCHES_A_SWEEP: i64 = 4;
/// A sweep asks for the slot of the key this many ahead of the one it probes.
const PROBE_AHEAD: usize = 16;

/// An open session, packed into 24 bytes so a slot with its key is 32.
#[derive(Debug, Clone, Copy, Default)]
struct Open {
    start_us: i64,
    /// The latest request, milliseconds after `start_us`'s millisecond.
    last_ms: u32,
    requests: u16,
    /// The first endpoints, by id (fewer than 65 536 templates are kept).
    flow: [u16; FLOW_LEN],
}

impl Open {
    /// The latest request's time, to its millisecond (so the same whichever request began the session).
    fn last_us(&self) -> i64 {
        self.last_us_from(self.start_us.div_euclid(1000))
    }

    /// [`last_us`](Self::last_us), given the start's millisecond (`start_us` divided down).
    fn last_us_from(&self, start_ms: i64) -> i64 {
        (start_ms + i64::from(self.last_ms)) * 1000
    }

    /// Whether [`last_us`](Self::last_us) is before `horizon`, mostly without its division:
    /// `start_us` rounded down to its millisecond lies within 999 µs below it, so the latest
    /// request lies within 999 µs below `start_us + last_ms` milliseconds.
    #[inline(always)] // once a slot a sweep
    fn last_before(&self, horizon: i64) -> bool {
        let upper = self.start_us.saturating_add(i64::from(self.last_ms) * 1000);
        if upper < horizon {
            true
        } else if upper - 999 >= horizon {
            false
        } else {
            self.last_us() < horizon
        }
    }

    /// Milliseconds from the start's millisecond to `last_us`'s.
    fn ms_to(&self, last_us: i64) -> u32 {
        u32::try_from(last_us.div_euclid(1000) - self.start_us.div_euclid(1000)).unwrap_or(u32::MAX)
    }
    fn flow_len(&self) -> u8 {
        self.requests.min(FLOW_LEN as u16) as u8
    }
}

/// The lengths (a few requests) most sessions have, counted by value as sessions close,
/// and their durations and think times counted by bin: added to the sketches once a sweep,
/// a settle or the finish is done. On a log of one-request sessions a sketch add a session
/// was the dearest part of closing one, and on any log the think time's was the dearest of
/// a request's. Counts add alike in any order, so the sketches are the same.
#[derive(Debug, Default)]
struct Closed {
    /// Sessions closed by their number of requests, below [`SMALL_LENGTH`].
    lengths: [u64; SMALL_LENGTH],
    /// Durations of the sessions closed, for `duration_ms`.
    durations: BinTally,
    /// Think times, for `think_ms`.
    think: BinTally,
}

/// Session lengths counted by value (longer ones go to the sketch at once).
const SMALL_LENGTH: usize = 16;

/// A flow: the first endpoints of a session, by endpoint id, and how many there are.
pub type FlowKey = ([u16; FLOW_LEN], u8);

#[derive(Debug, Default)]
pub struct SessionTracker {
    gap_us: i64,
    /// The log time between sweeps: the gap's [`SWEEP_FRACTION`]th part.
    sweep_every_us: i64,
    open: UserTable,
    /// The open sessions' keys by the stretch of their latest request, for the sweeps (`due.rs`).
    due: DueLists,
    /// Room for the keys a sweep probes, kept between sweeps.
    due_keys: Vec<u64>,
    watermark_us: i64,
    last_sweep_us: i64,
    pub count: u64,
    pub length: QuantileSketch,
    /// First to last request, milliseconds.
    pub duration_ms: QuantileSketch,
    /// Think times in milliseconds (the sketch keeps values of 1 and more apart).
    pub think_ms: QuantileSketch,
    pub flows: FxHashMap<FlowKey, u64>,
    /// Sessions whose flow found no room in `flows`.
    pub other_flows: u64,
    /// Of those, sessions of more than one request (flows are ranked among these).
    pub other_multi: u64,
    pub starts: ArrivalCounter,
    /// A request time with a fraction of a second was seen: the log's clock is finer than whole seconds.
    pub subsecond: bool,
    /// Sessions at the edges of a partial derive's stretch of time, kept open for a merge to join
    /// with their other halves (`edges.rs`); closed by [`SessionTracker::finish`].
    edges: Vec<(u64, Open)>,
    /// Room for the sessions a sweep finds idle, kept between sweeps.
    idle: Vec<(u64, Open)>,
    /// Lengths and durations of sessions closed since the last flush, as most sessions have
    /// them (see [`Closed`]).
    closed: Closed,
    /// A partial derive: sessions starting within a gap of the first request are kept as edges when they close.
    keep_heads: bool,
    first_us: i64,
}

/// A draw from the triangular distribution on (-1, 1), from a hash: how far a
/// gap between two whole-second times may be from the true one, when each
/// time was cut down to its second at a uniform point within it.
fn triangular(hash: u64) -> f64 {
    let u = (hash >> 40) as f64 / (1u64 << 24) as f64;
    let v = (hash & 0xff_ffff) as f64 / (1u64 << 24) as f64;
    u - v
}

impl SessionTracker {
    pub fn new(gap_s: u64) -> Self {
        let gap_us = gap_s as i64 * 1_000_000;
        let sweep_every_us = gap_us / SWEEP_FRACTION;
        SessionTracker {
            gap_us,
            sweep_every_us,
            due: DueLists::new(sweep_every_us / STRETCHES_A_SWEEP),
            first_us: i64::MAX,
            ..SessionTracker::default()
        }
    }

    /// Asks the cache for `key`'s slot ahead of [`SessionTracker::add`].
    pub fn prefetch(&self, key: u64) {
        self.open.prefetch(key);
    }

    /// One request by user `key` at `time_us` to endpoint `endpoint`.
    pub fn add(&mut self, key: u64, time_us: i64, endpoint: u32) {
        self.watermark_us = self.watermark_us.max(time_us);
        self.first_us = self.first_us.min(time_us);
        self.subsecond |= time_us % 1_000_000 != 0;
        let subsecond = self.subsecond;
        let gap = self.gap_us;
        let endpoint = u16::try_from(endpoint).unwrap_or(u16::MAX);
        let new = Open { start_us: time_us, last_ms: 0, requests: 1, flow: [endpoint; FLOW_LEN] };
        let at = match self.open.locate(key) {
            Some(Ok(at)) => at,
            empty => {
                self.open.insert_new(key, empty.and_then(Result::err), new);
                self.due.opened(key, time_us);
                return self.after_add();
            }
        };
        let s = &mut self.open.slots[at].open;
        // The start's millisecond, divided out once: the latest request's time and the new
        // one's distance from the start both use it.
        let start_ms = s.start_us.div_euclid(1000);
        let last_us = s.last_us_from(start_ms);
        let closed = match s {
            s if time_us - last_us <= gap && s.start_us - time_us <= gap => {
                if subsecond {
                    if time_us > last_us {
                        self.closed.think.add(&mut self.think_ms, (time_us - last_us) as f64 / 1000.0);
                    }
                } else if time_us >= last_us {
                    // Whole-second times: a gap of d seconds was anything from d - 1 to d + 1. It is
                    // spread so (a gap of 0 included), which keeps the mean of the true gaps.
                    let jitter = triangular(super::sketch::seeded_hash(key, &time_us.to_le_bytes()));
                    self.closed.think.add(&mut self.think_ms, ((time_us - last_us) as f64 / 1e6 + jitter).abs() * 1000.0);
                }
                if time_us < s.start_us {
                    // Out of order, before the session's start: it starts here now.
                    s.start_us = time_us;
                    s.last_ms = s.ms_to(last_us.max(time_us));
                } else if time_us > last_us {
                    // The usual next request: the start stands (`ms_to` without its division).
                    s.last_ms = u32::try_from(time_us.div_euclid(1000) - start_ms).unwrap_or(u32::MAX);
                    self.due.moved(key, last_us, time_us);
                }
                if usize::from(s.flow_len()) < FLOW_LEN {
                    s.flow[usize::from(s.flow_len())] = endpoint;
                }
                s.requests = s.requests.saturating_add(1);
                None
            }
            s => {
                self.due.opened(key, time_us);
                Some(std::mem::replace(s, new))
            }
        };
        if let Some(done) = closed {
            self.close(key, done);
        }
        self.after_add();
    }

    /// Sweeps when the log's clock has moved on far enough, or too many sessions are open.
    #[inline(always)] // once a request
    fn after_add(&mut self) {
        if self.watermark_us - self.last_sweep_us > self.sweep_every_us || self.open.len() > MAX_ACTIVE || self.due.len() > MAX_DUE {
            self.sweep();
        }
    }

    /// Closes sessions idle past the gap; if still too many, the longest idle.
    fn sweep(&mut self) {
        self.last_sweep_us = self.watermark_us;
        let horizon = self.watermark_us - self.gap_us;
        // The list of idle sessions keeps its room from sweep to sweep (a sweep closes
        // thousands; grown from empty each time, it was copied a dozen times).
        let mut idle = std::mem::take(&mut self.idle);
        self.take_idle(horizon, &mut idle);
        let evict = self.open.len() > MAX_ACTIVE;
        if evict {
            let mut all = self.open.drain();
            all.sort_unstable_by_key(|&(key, s)| (s.last_us(), key));
            idle.extend(all.drain(..all.len() - MAX_ACTIVE / 2));
            for (key, s) in all {
                self.open.insert(key, s);
            }
        }
        if evict || self.due.len() > MAX_DUE / 2 {
            // The evicted sessions' keys, or stale keys piled up, go.
            self.due.rebuild(self.open.iter().map(|(key, s)| (key, s.last_us())));
        }
        // Close in a fixed order so the flow table fills the same way every run. Nothing else
        // closing does depends on the order: when the table has room for every flow, any order will do.
        if self.keep_heads || self.flows_may_fill(&idle) {
            idle.sort_unstable_by_key(|&(key, s)| (s.start_us, key));
        }
        for (key, s) in idle.drain(..) {
            self.close(key, s);
        }
        // Kept up to a sweep of 64 Ki sessions (2 MiB); a bigger one's room goes.
        if idle.capacity() <= 1 << 16 {
            self.idle = idle;
        }
        self.flush_closed();
    }

    /// Moves the sessions whose latest request is before `horizon` from the table to `idle`.
    /// Only the keys the due lists give are probed (not every slot): a sweep's cost follows
    /// the sessions that may have ended, not the table's size.
    fn take_idle(&mut self, horizon: i64, idle: &mut Vec<(u64, Open)>) {
        let mut due = std::mem::take(&mut self.due_keys);
        self.due.take_due(horizon, &mut due);
        let floor_end = self.due.floor_end_us();
        for (i, &key) in due.iter().enumerate() {
            if let Some(&ahead) = due.get(i + PROBE_AHEAD) {
                self.open.prefetch_run(ahead);
            }
            let Some(Ok(at)) = self.open.locate(key) else { continue };
            let s = &self.open.slots[at].open;
            if s.last_before(horizon) {
                idle.push(self.open.take_at(at));
            } else if s.last_before(floor_end) {
                self.due.keep(key);
            }
        }
        due.clear();
        // Kept up to 64 Ki keys (512 KiB); a bigger sweep's room goes.
        if due.capacity() <= 1 << 16 {
            self.due_keys = due;
        }
    }

    /// Adds the lengths and durations counted by value to their sketches. Whatever reads the
    /// sketches runs after a sweep, a settle or the finish, each of which ends with this.
    fn flush_closed(&mut self) {
        let lengths = std::mem::take(&mut self.closed.lengths);
        for (requests, &n) in lengths.iter().enumerate() {
            self.length.add_count(requests as f64, n);
        }
        self.closed.durations.flush_into(&mut self.duration_ms);
        self.closed.think.flush_into(&mut self.think_ms);
    }

    /// Whether closing `sessions` could fill the flow table, so that which flows find room
    /// depends on the order they close in. Each session whose flow the table lacks is counted as
    /// a new flow (an upper bound: two of them may share one).
    fn flows_may_fill(&self, sessions: &[(u64, Open)]) -> bool {
        if self.flows.len() + sessions.len() <= MAX_FLOWS {
            return false;
        }
        let mut new = 0;
        for (_, s) in sessions {
            if !self.flows.contains_key(&(s.flow, s.flow_len())) {
                new += 1;
                if self.flows.len() + new > MAX_FLOWS {
                    return true;
                }
            }
        }
        false
    }

    fn close(&mut self, key: u64, s: Open) {
        if self.keep_heads && s.start_us < self.first_us.saturating_add(self.gap_us) && self.edges.len() < MAX_ACTIVE {
            self.edges.push((key, s));
            return;
        }
        self.count += 1;
        match self.closed.lengths.get_mut(usize::from(s.requests)) {
            Some(n) => *n += 1,
            None => self.length.add(f64::from(s.requests)),
        }
        self.closed.durations.add_whole(&mut self.duration_ms, u64::from(s.last_ms));
        self.starts.add(s.start_us.div_euclid(1_000_000), 1);
        let key = (s.flow, s.flow_len());
        if let Some(n) = self.flows.get_mut(&key) {
            *n += 1;
        } else if self.flows.len() < MAX_FLOWS {
            self.flows.insert(key, 1);
        } else {
            self.other_flows += 1;
            self.other_multi += u64::from(s.requests > 1);
        }
    }

    /// Renames endpoint ids after the template table compacted: `index_of[old]` is the new id.
    pub fn renumber(&mut self, index_of: &[usize]) {
        let renumber = |id: u16| index_of.get(usize::from(id)).map_or(id, |&new| u16::try_from(new).unwrap_or(u16::MAX));
        for slot in self.open.slots.iter_mut().filter(|s| s.key != 0) {
            slot.open.flow = slot.open.flow.map(renumber);
        }
        for (_, edge) in &mut self.edges {
            edge.flow = edge.flow.map(renumber);
        }
        let mut flows: FxHashMap<FlowKey, u64> = FxHashMap::default();
        for ((steps, len), n) in self.flows.drain() {
            *flows.entry((steps.map(renumber), len)).or_default() += n;
        }
        self.flows = flows;
    }

    /// Closes every open session, edges kept for a merge included.
    pub fn finish(&mut self) {
        self.keep_heads = false;
        let mut open: Vec<(u64, Open)> = self.open.drain();
        self.due.clear();
        open.append(&mut self.edges);
        // In a fixed order only when it matters, as in a sweep: the sessions left open at the
        // end of a log of many users took more to sort than to close.
        if self.flows_may_fill(&open) {
            open.sort_unstable_by_key(|&(key, s)| (s.start_us, key));
        }
        for (key, s) in open {
            self.close(key, s);
        }
        self.flush_closed();
    }
}

#[cfg(test)]
#[path = "sessions_tests.rs"]
mod tests;
