//! Tables of crafted profile pairs with known answers: a shifted mix, small samples,
//! a new endpoint, a doubled peak, a slower endpoint, a replay mapped back, segments, days.

use super::curve::Alignment;
use super::gate::{Condition, DEFAULTS};
use super::*;
use crate::profile::{Arrival, Endpoint, Quantiles, VERSION};

/// A profile with endpoints `(name, count, p99 ms)` and a curve.
fn profile(endpoints: &[(&str, u64, Option<f64>)], counts: Vec<u64>, bin_s: u32) -> Profile {
    let total: u64 = endpoints.iter().map(|e| e.1).sum();
    Profile {
        version: VERSION,
        source: None,
        endpoints: endpoints
            .iter()
            .map(|(name, count, p99)| {
                let (method, path) = name.split_once(' ').unwrap();
                Endpoint {
                    count: *count,
                    latency_ms: p99.map(|p| Quantiles::new(p / 3.0, p / 1.5, p)),
                    ..Endpoint::new(method, path, *count as f64 / total as f64)
                }
            })
            .collect(),
        arrival: Arrival { bin_s, counts },
        segments: vec![],
        sessions: None,
        thresholds: vec![],
    }
}

fn defaults() -> Vec<Condition> {
    DEFAULTS.iter().map(|c| Condition::parse(c).unwrap()).collect()
}

fn curve(n: usize, f: impl Fn(usize) -> u64) -> Vec<u64> {
    (0..n).map(f).collect()
}

#[test]
fn crafted_pairs_give_their_known_answers() {
    let day = curve(60, |i| 1000 + (i as u64 % 12) * 100);
    let base =
        profile(&[("GET /", 60_000, Some(30.0)), ("GET /search", 30_000, Some(90.0)), ("POST /cart", 10_000, None)], day.clone(), 60);
    // The same traffic: within every condition.
    let same = diff(&base, &base, Alignment::default(), &defaults());
    assert!(same.passed() && same.mix.distance < 1e-9 && same.curve.correlation.unwrap() > 0.999, "{same:?}");
    // A shifted mix: / loses ten points to /search.
    let shifted =
        profile(&[("GET /", 50_000, Some(30.0)), ("GET /search", 40_000, Some(90.0)), ("POST /cart", 10_000, None)], day.clone(), 60);
    let d = diff(&base, &shifted, Alignment::default(), &defaults());
    assert!((d.mix.distance - 0.1).abs() < 1e-9 && d.mix.beyond_noise() && !d.passed(), "{:?}", d.judged);
    assert_eq!(d.mix.shares[0].endpoint, "GET /");
    // The same shift on a hundred requests is within noise: not flagged.
    let small_base = profile(&[("GET /", 60, None), ("GET /search", 30, None), ("POST /cart", 10, None)], day.clone(), 60);
    let small_new = profile(&[("GET /", 50, None), ("GET /search", 40, None), ("POST /cart", 10, None)], day.clone(), 60);
    let d = diff(&small_base, &small_new, Alignment::default(), &defaults());
    assert!(!d.mix.beyond_noise() && d.passed(), "{:?} {:?}", d.mix, d.judged);
    // A new endpoint at 12% of requests.
    let grown = profile(
        &[("GET /", 60_000, Some(30.0)), ("GET /search", 30_000, Some(90.0)), ("POST /cart", 10_000, None), ("GET /api/v2", 13_636, None)],
        day.clone(),
        60,
    );
    let d = diff(&base, &grown, Alignment::default(), &defaults());
    let new = d.mix.shares.iter().find(|s| s.endpoint == "GET /api/v2").unwrap();
    assert!(new.base == 0.0 && (new.new - 0.12).abs() < 0.001 && new.beyond_noise);
    // A doubled peak: one bin twice as busy.
    let mut peaked = day.clone();
    peaked[30] *= 2;
    let d = diff(
        &base,
        &profile(&[("GET /", 60_000, Some(30.0)), ("GET /search", 30_000, Some(90.0)), ("POST /cart", 10_000, None)], peaked, 60),
        Alignment::default(),
        &defaults(),
    );
    let peak = d.judged.iter().find(|j| j.condition == "peak<+50%").unwrap();
    assert!(!peak.holds && peak.measured.starts_with("+"), "{peak:?}");
    // A slower endpoint, judged by an endpoint condition.
    let slower =
        profile(&[("GET /", 60_000, Some(30.0)), ("GET /search", 30_000, Some(180.0)), ("POST /cart", 10_000, None)], day.clone(), 60);
    let d = diff(&base, &slower, Alignment::default(), &[Condition::parse("GET /search: p99<+25%").unwrap()]);
    assert!(!d.passed() && d.judged[0].measured.starts_with("+100.0%"), "{:?}", d.judged);
}

#[test]
fn a_replayed_profile_maps_back_onto_productions_clock() {
    // Production: an hour in minute bins. Staging's log of a replay at 60x: a minute in second bins.
    let hour = curve(60, |i| 600 + (i as u64 * 37 % 11) * 60);
    let base = profile(&[("GET /", 1000, None)], hour.clone(), 60);
    let staging = profile(&[("GET /", 1000, None)], hour.clone(), 1);
    let d = diff(&base, &staging, Alignment::parse("60").unwrap(), &defaults());
    assert!(d.curve.correlation.unwrap() > 0.999, "{:?}", d.curve);
    assert!((d.curve.new.mean_rps - d.curve.base.mean_rps).abs() < 1e-9, "rates divided by the speed: {:?}", d.curve);
    // Unaligned, the same staging curve is sixty times the rate: the peak condition fails.
    let d = diff(&base, &staging, Alignment::default(), &defaults());
    assert!(!d.passed());
    // A window: the replay of the second half only lines up with that half.
    let half = profile(&[("GET /", 1000, None)], hour[30..].to_vec(), 1);
    let d = diff(&base, &half, Alignment::parse("60,30m..60m").unwrap(), &defaults());
    assert!(d.curve.correlation.unwrap() > 0.999, "{:?}", d.curve);
}

#[test]
fn conditions_parse_or_say_the_form() {
    for good in ["mix<0.05", "peak<+20%", "mean>-20%", "p95<+30%", "total>-10%", "correlation>0.9", "GET /search: p99<+25%"] {
        assert!(Condition::parse(good).is_ok(), "{good}");
    }
    for (bad, why) in
        [("mix=0.05", "no comparison"), ("peak<20", "percentage"), ("speed<2", "not a measure"), ("GET /x: mix<0.1", "p50 or p99")]
    {
        let err = Condition::parse(bad).unwrap_err();
        assert!(err.contains(why) && err.contains("e.g. 'mix<0.05'"), "{bad}: {err}");
    }
    assert!(Alignment::parse("0").is_err() && Alignment::parse("60,soon").is_err());
    assert_eq!(Alignment::parse("60,2h..3h").unwrap(), Alignment { speed: 60.0, from_s: 7200.0 });
}

#[test]
fn a_replay_logged_in_whole_seconds_lines_up_with_its_bursts() {
    // Production: 20 rps with two 10 s bursts of 200. Staging's log of it at 30x, in whole seconds,
    // starting and ending inside a second (its first and last bins partial).
    let mut base = vec![20u64; 600];
    for i in (150..160).chain(450..460) {
        base[i] = 200;
    }
    let staging = vec![225u64, 602, 597, 598, 601, 2400, 601, 599, 600, 600, 601, 597, 600, 605, 596, 2403, 603, 595, 599, 600, 378];
    let d =
        super::curve::diff(&Arrival { bin_s: 1, counts: base }, &Arrival { bin_s: 1, counts: staging }, Alignment::parse("30").unwrap());
    assert!(d.correlation.unwrap() > 0.999, "{:?}", d.correlation);
}

#[test]
fn segments_appear_vanish_or_change_kind_on_the_aligned_clock() {
    use crate::profile::{Segment, SegmentKind};
    let seg = |kind, start_s, end_s| Segment {
        kind,
        start_s,
        end_s,
        rps: Some(1.0),
        rps_from: Some(1.0),
        rps_to: Some(2.0),
        baseline_rps: Some(1.0),
        peak_rps: Some(5.0),
        weights: None,
    };
    let base = [seg(SegmentKind::Steady, 0, 600), seg(SegmentKind::Bursty, 600, 1200)];
    // Replayed at 60x: the new profile's seconds are minutes of the base's.
    let new = [seg(SegmentKind::Steady, 0, 10), seg(SegmentKind::Ramp, 10, 20), seg(SegmentKind::Steady, 30, 40)];
    let changes = super::segments::diff(&base, &new, Alignment { speed: 60.0, from_s: 0.0 });
    let what: Vec<(&str, &str, &str)> = changes.iter().map(|c| (c.what, c.base, c.new)).collect();
    assert_eq!(what, [("changed", "bursty", "ramp"), ("appeared", "-", "steady")]);
}

#[test]
fn daily_profiles_line_up_by_time_of_day() {
    let day = |first: &str| Profile {
        source: Some(crate::profile::Source {
            files: vec![],
            format: "combined".into(),
            lines: 0,
            records: 0,
            not_requests: 0,
            skipped: 0,
            rejected: 0,
            excluded: 0,
            first: Some(first.into()),
            last: None,
        }),
        ..profile(&[("GET /", 1, None)], vec![1; 24], 3600)
    };
    let a = Alignment::by_time_of_day(&day("2026-11-01T06:00:00Z"), &day("2026-11-08T09:00:00Z")).unwrap();
    assert_eq!(a, Alignment { speed: 1.0, from_s: 3.0 * 3600.0 });
    // Less than a day: no daily alignment.
    let short = Profile { arrival: Arrival { bin_s: 60, counts: vec![1; 10] }, ..day("2026-11-01T06:00:00Z") };
    assert_eq!(Alignment::by_time_of_day(&short, &day("2026-11-08T09:00:00Z")), None);
}
