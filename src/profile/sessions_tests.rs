//! Tests of `sessions.rs`: the user table, sweeps and the sessions they close.

use super::*;
use crate::profile::sketch::QuantileSketch;

const S: i64 = 1_000_000;

#[test]
fn lengths_and_durations_counted_by_value_are_the_sketches_of_each_session() {
    // 600 users over 10 hours, each one session of 1 to 40 requests a second apart (so
    // durations of 0 and more), closed by sweeps as the clock moves on, and the rest by
    // the finish; one user comes back after a gap, a session closed from `add`.
    let mut t = SessionTracker::new(1800);
    let (mut length, mut duration) = (QuantileSketch::default(), QuantileSketch::default());
    for user in 0..600u64 {
        let requests = [1, 1, 1, 2, 15, 16, 17, 40][user as usize % 8];
        let start = user as i64 * 60;
        for i in 0..requests {
            t.add(user + 1, (start + i) * S, 0);
        }
        length.add(requests as f64);
        duration.add(((requests - 1) * 1000) as f64);
    }
    t.add(1, 40_000 * S, 0);
    length.add(1.0);
    duration.add(0.0);
    t.finish();
    assert_eq!(t.count, 601);
    assert_eq!((&t.length, &t.duration_ms), (&length, &duration));
    assert_eq!(t.closed.lengths.iter().sum::<u64>(), 0, "all flushed");
    assert!(t.closed.durations.is_empty() && t.closed.think.is_empty(), "all flushed");
}

#[test]
fn a_crafted_log_gives_known_sessions_and_flows() {
    let mut t = SessionTracker::new(1800);
    // User 1: login, home, profile; then 40 minutes idle and a new session.
    for (time, endpoint) in [(0, 7), (5, 1), (12, 2), (2412, 1)] {
        t.add(1, time * S + 1, endpoint);
    }
    // User 2: the same opening flow, with one line logged out of order.
    for (time, endpoint) in [(100, 7), (110, 1), (108, 2)] {
        t.add(2, time * S + 1, endpoint);
    }
    t.finish();
    assert_eq!(t.count, 3);
    assert_eq!(t.flows.get(&([7, 1, 2, 7, 7], 3)), Some(&2));
    assert_eq!(std::mem::size_of::<user_table::Slot>(), 32);
    assert_eq!(t.flows.get(&([1, 1, 1, 1, 1], 1)), Some(&1));
    // Think times 5, 7 and 10 seconds; the late line adds none.
    assert_eq!(t.think_ms.count(), 3);
    assert!((t.think_ms.quantile(0.5).unwrap() - 7000.0).abs() < 150.0);
    assert_eq!(t.length.quantile(0.99).map(f64::round), Some(3.0));
}

#[test]
fn whole_second_times_keep_the_mean_think_time() {
    // True gaps of 0.5 to 1 s (mean 0.75 s), logged as whole seconds: 0 or 1 apart.
    let mut t = SessionTracker::new(1800);
    let mut now_us: i64 = 123_456;
    for i in 0..4000i64 {
        now_us += 500_000 + (i * 7919 % 500) * 1000;
        t.add(1, now_us / S * S, 1);
    }
    t.finish();
    assert!(!t.subsecond);
    let quantile = |p: f64| t.think_ms.quantile(p).unwrap() / 1000.0;
    let mean: f64 = (1..1000).map(|p| quantile(f64::from(p) / 1000.0)).sum::<f64>() / 999.0;
    // Spread over the two seconds around each logged gap: the mean within a tenth of a second
    // (a logged 0 can only be spread upwards), where leaving out the zeros gave 1 s.
    assert!((mean - 0.75).abs() < 0.1, "{mean}");
    assert!(quantile(0.99) < 2.0, "{}", quantile(0.99));
}

#[test]
fn removing_in_place_keeps_every_other_entry_findable() {
    // 500 keys in 1024 slots, homed on 40 slots at the table's end: one probe run that wraps around.
    let mut table = UserTable::default();
    let keys: Vec<u64> = (0..500u64).map(|i| 1000 + i % 40 + 1024 * (i / 40)).collect();
    for (i, &key) in keys.iter().enumerate() {
        table.insert(key, Open { start_us: i as i64, ..Open::default() });
    }
    let mut removed = Vec::new();
    for (i, &key) in keys.iter().enumerate().filter(|(i, _)| i % 3 == 0) {
        let at = table.locate(key).and_then(Result::ok).expect("present");
        let (stored, open) = table.take_at(at);
        assert_eq!((stored, open.start_us), (key, i as i64));
        removed.push(key);
    }
    assert_eq!((table.slots.len(), table.len()), (1024, keys.len() - removed.len()));
    assert_eq!(table.iter().count(), table.len());
    for (i, &key) in keys.iter().enumerate() {
        let found = table.locate(key).and_then(Result::ok).map(|at| table.slots[at].open.start_us);
        assert_eq!(found, (i % 3 != 0).then_some(i as i64), "key {key}");
    }
}

#[test]
fn sweeps_close_exactly_the_idle_sessions_from_the_due_lists() {
    use rand_chacha::rand_core::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    // A 10-minute gap (sweeps every 2.5 minutes), 3,000 users over 8 hours of log time: a
    // clock that mostly moves on by under a second, lines up to 3 minutes out of order (some
    // before their session's start, some replacing a session a gap old), users coming back
    // at any distance, and two jumps of the clock by hours.
    let gap = 600 * S;
    let mut t = SessionTracker::new(600);
    let mut clock = 1_700_000_000 * S;
    let mut sweeps = 0;
    for line in 0..60_000u32 {
        clock += match line {
            20_000 | 40_000 => 3 * 3600 * S,
            _ => (rng.next_u64() % 900_000) as i64,
        };
        let late = match rng.next_u32() % 10 {
            0 => (rng.next_u64() % (180 * S as u64)) as i64,
            1 => gap + 1 + (rng.next_u64() % (60 * S as u64)) as i64,
            _ => 0,
        };
        let user = 1 + u64::from(rng.next_u32() % 3000);
        let before = t.last_sweep_us;
        t.add(user, clock - late, 1);
        // The user just added is listed at its session's home.
        let at = t.open.locate(user).and_then(Result::ok).expect("open");
        assert!(t.due.lists(user, t.open.slots[at].open.last_us()), "line {line}: user {user} not listed at its home");
        if t.last_sweep_us != before {
            sweeps += 1;
            // After a sweep: nothing open is idle past the horizon, every open session is
            // listed at its home, and no list lies below the floor.
            let horizon = t.last_sweep_us - gap;
            for (key, open) in t.open.iter() {
                assert!(open.last_us() >= horizon, "line {line}: {key} idle since {} left open", open.last_us());
                assert!(t.due.lists(key, open.last_us()), "line {line}: {key} not listed at its home");
            }
            let (lowest, floor) = t.due.lowest_and_floor();
            assert!(lowest.is_none_or(|lowest| lowest >= floor), "{lowest:?} below {floor}");
        }
    }
    assert!(sweeps > 100, "{sweeps} sweeps");
    assert!(t.due.len() < 3 * 3000, "{} keys listed for at most 3,000 sessions", t.due.len());
    let open = t.open.len() as u64;
    t.finish();
    assert!(t.count > open + 3000, "{} sessions", t.count);
    assert_eq!((t.due.len(), t.open.len()), (0, 0));
}

#[test]
fn the_sweeps_idle_test_is_the_latest_requests_time_compared() {
    use rand_chacha::rand_core::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    // Starts at every microsecond of a millisecond, either side of 0; latest requests 0 ms
    // and more after; horizons at every microsecond within a millisecond and a bit of it.
    for _ in 0..8 {
        let base_ms = (rng.next_u64() % 4_000_000) as i64 - 2_000_000;
        let last_ms = (rng.next_u32() % 5_000_000) * (rng.next_u32() % 2);
        for sub_us in 0..1000 {
            let open = Open { start_us: base_ms * 1000 + sub_us, last_ms, ..Open::default() };
            for offset in -1002..=1002 {
                let horizon = open.last_us() + offset;
                assert_eq!(open.last_before(horizon), open.last_us() < horizon, "{open:?} against {horizon}");
            }
        }
    }
}

#[test]
fn memory_stays_bounded_with_many_users() {
    let mut t = SessionTracker::new(1800);
    for user in 0..(MAX_ACTIVE as u64 + 10_000) {
        t.add(user, 0, 1);
    }
    assert!(t.open.len() <= MAX_ACTIVE);
    // The evicted sessions' keys left the due lists with them.
    assert_eq!(t.due.len(), t.open.len());
    t.finish();
    assert_eq!(t.count, MAX_ACTIVE as u64 + 10_000);
}

#[test]
fn flows_counted_in_runs_are_the_flows_of_every_session() {
    use rand_chacha::rand_core::{Rng, SeedableRng};
    // 3,000 users a minute apart, each one visit of one request (closed by the sweeps as the
    // clock moves on, the last ones at the end), their endpoints in runs of one to a dozen; the
    // endpoint ids renumbered halfway, as a compaction does.
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
    let index_of = [4, 3, 2, 1, 0];
    let mut t = SessionTracker::new(1800);
    let mut want: FxHashMap<FlowKey, u64> = FxHashMap::default();
    let mut endpoint = 0u32;
    for user in 0..3000u64 {
        if rng.next_u32() % 6 == 0 {
            endpoint = rng.next_u32() % 5;
        }
        t.add(user + 1, user as i64 * 60 * S, endpoint);
        // Sessions open at the renumbering, and those closed before, are counted by their new ids.
        let id = if user < 1500 { index_of[endpoint as usize] } else { endpoint as usize };
        *want.entry(([id as u16; FLOW_LEN], 1)).or_default() += 1;
        if user == 1499 {
            t.renumber(&index_of);
        }
    }
    t.finish();
    assert_eq!(t.count, 3000);
    assert_eq!(t.flows, want);
    assert_eq!(t.flows.values().sum::<u64>(), 3000);
}

#[test]
fn a_renumbering_counts_the_flows_closed_since_the_last_sweep_by_their_new_ids() {
    // 100 users a second apart, each back 30 minutes and a second later: each return closes the
    // first visit itself (the clock moves a second a return, too little for a sweep), and then
    // the endpoint ids are renumbered (1 becomes 7, 2 becomes 8).
    let mut t = SessionTracker::new(1800);
    for user in 0..100 {
        t.add(user + 1, user as i64 * S, 1);
    }
    for user in 0..100 {
        t.add(user + 1, (user as i64 + 1801) * S, 2);
    }
    t.renumber(&[0, 7, 8]);
    t.finish();
    assert_eq!(t.flows.get(&([7; FLOW_LEN], 1)), Some(&100));
    assert_eq!(t.flows.get(&([8; FLOW_LEN], 1)), Some(&100));
    assert_eq!(t.flows.len(), 2);
}

#[test]
fn closing_order_is_fixed_only_where_the_flow_table_could_fill() {
    let sessions = |flows: std::ops::Range<u16>| -> Vec<(u64, Open)> {
        flows.map(|f| (u64::from(f) + 1, Open { requests: 1, flow: [f; FLOW_LEN], ..Open::default() })).collect()
    };
    let max = MAX_FLOWS as u16;
    let mut t = SessionTracker::new(1800);
    assert!(!t.flows_may_fill(&sessions(0..max)), "as many new flows as the table takes");
    assert!(t.flows_may_fill(&sessions(0..max + 1)), "one new flow more than it takes");
    // Flows the table has already take no room.
    t.flows.insert(([7; FLOW_LEN], 1), 1);
    let mut known = sessions(7..8);
    known.extend(std::iter::repeat_n(known[0], MAX_FLOWS + 10));
    assert!(!t.flows_may_fill(&known), "every session of a flow the table has");
    for f in 0..max - 5 {
        t.flows.insert(([f; FLOW_LEN], 1), 1);
    }
    let mut five_new = sessions(max - 5..max);
    five_new.extend(sessions(0..max - 5));
    assert!(!t.flows_may_fill(&five_new), "five new flows fill the table's last five places");
    five_new.extend(sessions(max..max + 1));
    assert!(t.flows_may_fill(&five_new), "a sixth finds none");
}
