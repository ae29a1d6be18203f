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
use super::sketch::QuantileSketch;
use rustc_hash::FxHashMap;

pub const FLOW_LEN: usize = 5;
const MAX_ACTIVE: usize = 200_000;
const MAX_FLOWS: usize = 50_000;
const SWEEP_EVERY: u32 = 65_536;

#[derive(Debug, Clone, Copy)]
struct Open {
    start_us: i64,
    last_us: i64,
    requests: u32,
    flow: [u32; FLOW_LEN],
    flow_len: u8,
}

/// A flow: the first endpoints of a session, by endpoint id.
pub type FlowKey = ([u32; FLOW_LEN], u8);

#[derive(Debug, Default)]
pub struct SessionTracker {
    gap_us: i64,
    open: FxHashMap<u64, Open>,
    watermark_us: i64,
    since_sweep: u32,
    pub count: u64,
    pub length: QuantileSketch,
    pub duration_s: QuantileSketch,
    /// Think times in milliseconds (the sketch keeps values of 1 and more apart).
    pub think_ms: QuantileSketch,
    pub flows: FxHashMap<FlowKey, u64>,
    /// Sessions whose flow found no room in `flows`.
    pub other_flows: u64,
    pub starts: ArrivalCounter,
}

impl SessionTracker {
    pub fn new(gap_s: u64) -> Self {
        SessionTracker { gap_us: gap_s as i64 * 1_000_000, ..SessionTracker::default() }
    }

    /// One request by user `key` at `time_us` to endpoint `endpoint`.
    pub fn add(&mut self, key: u64, time_us: i64, endpoint: u32) {
        self.watermark_us = self.watermark_us.max(time_us);
        let gap = self.gap_us;
        let closed = match self.open.get_mut(&key) {
            Some(s) if time_us - s.last_us <= gap && s.start_us - time_us <= gap => {
                if time_us > s.last_us {
                    self.think_ms.add((time_us - s.last_us) as f64 / 1000.0);
                    s.last_us = time_us;
                }
                s.start_us = s.start_us.min(time_us);
                s.requests += 1;
                if usize::from(s.flow_len) < FLOW_LEN {
                    s.flow[usize::from(s.flow_len)] = endpoint;
                    s.flow_len += 1;
                }
                None
            }
            _ => self.open.insert(key, Open { start_us: time_us, last_us: time_us, requests: 1, flow: [endpoint; FLOW_LEN], flow_len: 1 }),
        };
        if let Some(done) = closed {
            self.close(done);
        }
        self.since_sweep += 1;
        if self.since_sweep >= SWEEP_EVERY || self.open.len() > MAX_ACTIVE {
            self.sweep();
        }
    }

    /// Closes sessions idle past the gap; if still too many, the longest idle.
    fn sweep(&mut self) {
        self.since_sweep = 0;
        let horizon = self.watermark_us - self.gap_us;
        let mut idle: Vec<(u64, Open)> = Vec::new();
        self.open.retain(|&key, s| {
            let keep = s.last_us >= horizon;
            if !keep {
                idle.push((key, *s));
            }
            keep
        });
        if self.open.len() > MAX_ACTIVE {
            let mut by_age: Vec<(i64, u64)> = self.open.iter().map(|(&k, s)| (s.last_us, k)).collect();
            by_age.sort_unstable();
            for &(_, key) in &by_age[..self.open.len() - MAX_ACTIVE / 2] {
                if let Some(s) = self.open.remove(&key) {
                    idle.push((key, s));
                }
            }
        }
        // Close in a fixed order so the flow table fills the same way every run.
        idle.sort_unstable_by_key(|&(key, s)| (s.start_us, key));
        for (_, s) in idle {
            self.close(s);
        }
    }

    fn close(&mut self, s: Open) {
        self.count += 1;
        self.length.add(f64::from(s.requests));
        self.duration_s.add((s.last_us - s.start_us) as f64 / 1e6);
        self.starts.add(s.start_us.div_euclid(1_000_000), 1);
        let key = (s.flow, s.flow_len);
        if let Some(n) = self.flows.get_mut(&key) {
            *n += 1;
        } else if self.flows.len() < MAX_FLOWS {
            self.flows.insert(key, 1);
        } else {
            self.other_flows += 1;
        }
    }

    /// Closes every open session.
    pub fn finish(&mut self) {
        let mut open: Vec<(u64, Open)> = self.open.drain().collect();
        open.sort_unstable_by_key(|&(key, s)| (s.start_us, key));
        for (_, s) in open {
            self.close(s);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    #[test]
    fn a_crafted_log_gives_known_sessions_and_flows() {
        let mut t = SessionTracker::new(1800);
        // User 1: login, home, profile; then 40 minutes idle and a new session.
        for (time, endpoint) in [(0, 7), (5, 1), (12, 2), (2412, 1)] {
            t.add(1, time * S, endpoint);
        }
        // User 2: the same opening flow, with one line logged out of order.
        for (time, endpoint) in [(100, 7), (110, 1), (108, 2)] {
            t.add(2, time * S, endpoint);
        }
        t.finish();
        assert_eq!(t.count, 3);
        assert_eq!(t.flows.get(&([7, 1, 2, 7, 7], 3)), Some(&2));
        assert_eq!(t.flows.get(&([1, 1, 1, 1, 1], 1)), Some(&1));
        // Think times 5, 7 and 10 seconds; the late line adds none.
        assert_eq!(t.think_ms.count(), 3);
        assert!((t.think_ms.quantile(0.5).unwrap() - 7000.0).abs() < 150.0);
        assert_eq!(t.length.quantile(0.99).map(f64::round), Some(3.0));
    }

    #[test]
    fn memory_stays_bounded_with_many_users() {
        let mut t = SessionTracker::new(1800);
        for user in 0..(MAX_ACTIVE as u64 + 10_000) {
            t.add(user, 0, 1);
        }
        assert!(t.open.len() <= MAX_ACTIVE);
        t.finish();
        assert_eq!(t.count, MAX_ACTIVE as u64 + 10_000);
    }
}
