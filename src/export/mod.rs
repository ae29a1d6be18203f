//! `replay export`: a profile for teams that keep another load tool in CI.
//! `locust.rs` writes a runnable locustfile, `k6.rs` a k6 script. Each
//! export says at its top which replay and profile made it, and what it
//! cannot carry.

pub mod k6;
pub mod locust;

/// The tools a profile exports to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Locust,
    K6,
}

/// `profile` (read from `source`) as `tool`'s test, at `speed`.
pub fn export(profile: &Profile, source: &str, tool: Tool, speed: f64) -> Result<String, String> {
    Ok(match tool {
        Tool::Locust => locust::locustfile(profile, &Exported::new(profile, source, speed, locust::TICK_S, false)?),
        Tool::K6 => k6::script(profile, &Exported::new(profile, source, speed, k6::TICK_S, true)?),
    })
}

use crate::profile::{Profile, Quantiles};

/// What every export is made from, besides the profile.
pub struct Exported {
    /// The profile's path, as given.
    pub source: String,
    /// How many times faster than production the export plays the curve.
    pub speed: f64,
    /// The arrival curve at that speed: (end of the stretch, seconds into the test; requests a second).
    pub stages: Vec<(f64, f64)>,
    /// What the target tool cannot do that replay does, in words.
    pub cannot_carry: Vec<String>,
}

/// The most stages an export writes: past it, neighbouring bins merge.
const MAX_STAGES: usize = 2_000;

impl Exported {
    /// The export of `profile` at `speed`, its stages at least `min_stage_s` of test time
    /// (a tool's own tick: Locust reshapes once a second); `open_model` when the tool
    /// starts requests on a schedule (k6's arrival rates) rather than users that wait for answers.
    pub fn new(profile: &Profile, source: &str, speed: f64, min_stage_s: f64, open_model: bool) -> Result<Self, String> {
        if !(speed.is_finite() && speed > 0.0) {
            return Err(format!("--speed {speed}: give a factor above 0, e.g. 60"));
        }
        let bin_s = f64::from(profile.arrival.bin_s.max(1));
        let counts = &profile.arrival.counts;
        let per_stage = counts.len().div_ceil(MAX_STAGES).max((min_stage_s * speed / bin_s).ceil() as usize).max(1);
        let mut stages: Vec<(f64, f64)> = Vec::new();
        for (i, chunk) in counts.chunks(per_stage).enumerate() {
            let end_s = ((i * per_stage + chunk.len()) as f64 * bin_s) / speed;
            let rps = chunk.iter().sum::<u64>() as f64 / (chunk.len() as f64 * bin_s) * speed;
            match stages.last_mut() {
                Some(last) if (last.1 - rps).abs() < 1e-9 => last.0 = end_s,
                _ => stages.push((end_s, rps)),
            }
        }
        let mut cannot_carry =
            vec!["latency measured from each request's intended send time (the tool measures from when it sent)".to_owned()];
        cannot_carry.push(if open_model {
            "requests late for want of a free VU: k6 drops them (its dropped_iterations) instead of sending them late".to_owned()
        } else {
            "an open model: users wait for answers, so a slow target lowers the rate it receives".to_owned()
        });
        if profile.segments.iter().any(|s| s.weights.is_some()) {
            cannot_carry.push("segments' own endpoint mixes (every stretch draws from the whole mix)".to_owned());
        }
        if profile.sessions.as_ref().is_some_and(|s| !s.flows.is_empty()) {
            cannot_carry.push("sessions' opening flows beyond the login (tasks are drawn by weight)".to_owned());
        }
        Ok(Exported { source: source.to_owned(), speed, stages, cannot_carry })
    }
}

/// An endpoint's sampled values, `{"id": ["7", "8"]}`: a Python dict and a JavaScript object alike.
pub fn samples_literal(e: &crate::profile::Endpoint) -> String {
    let pairs: Vec<String> = e
        .params
        .iter()
        .map(|(k, v)| format!("{}: [{}]", python_str(k), v.iter().map(|s| python_str(s)).collect::<Vec<_>>().join(", ")))
        .collect();
    format!("{{{}}}", pairs.join(", "))
}

/// An endpoint's query keys, each `(key, share, [samples], placeholder)` between `open` and `close`
/// (a Python tuple or a JavaScript array), with `none` where a key has no placeholder.
pub fn query_literal(e: &crate::profile::Endpoint, (open, close, none): (&str, &str, &str)) -> String {
    let keys: Vec<String> = e
        .query
        .iter()
        .map(|q| {
            let values = q.samples.iter().map(|s| python_str(s)).collect::<Vec<_>>().join(", ");
            let placeholder = q.placeholder.as_deref().map_or(none.to_owned(), |p| python_str(p.trim_matches(['{', '}'])));
            format!("{open}{}, {:.6}, [{values}], {placeholder}{close}", python_str(&q.key), q.share)
        })
        .collect();
    keys.join(", ")
}

/// `text` as a Python (and JavaScript) string literal.
pub fn python_str(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A distribution's known quantiles as `[(q, seconds), …]`, seconds divided by `speed`.
pub fn think_points(q: &Quantiles, speed: f64) -> String {
    let points = [
        (0.0, Some(q.min.unwrap_or(0.0))),
        (0.1, q.p10),
        (0.25, q.p25),
        (0.5, Some(q.p50)),
        (0.9, Some(q.p90)),
        (0.99, Some(q.p99)),
        (1.0, Some(q.max.unwrap_or(q.p99 * 1.5))),
    ];
    let mut below = 0.0f64;
    let text: Vec<String> = points
        .iter()
        .filter_map(|(at, v)| {
            let v = (*v)?.max(below);
            below = v;
            Some(format!("({at}, {:.6})", v / speed))
        })
        .collect();
    format!("[{}]", text.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::{Arrival, Endpoint, VERSION};

    fn profile(counts: Vec<u64>, bin_s: u32) -> Profile {
        Profile {
            version: VERSION,
            source: None,
            endpoints: vec![Endpoint::new("GET", "/", 1.0)],
            arrival: Arrival { bin_s, counts },
            segments: vec![],
            sessions: None,
            thresholds: vec![],
        }
    }

    #[test]
    fn stages_add_up_to_the_curve_at_the_speed_and_last_a_tick_at_least() {
        // (counts, bin_s, speed, tick) → the stages' requests add up to the curve's.
        let table: [(Vec<u64>, u32, f64, f64); 4] = [
            (vec![60, 60, 120, 0, 30], 60, 1.0, 1.0),
            (vec![60, 60, 120, 0, 30], 60, 60.0, 1.0),
            ((0..600).map(|i| i % 7).collect(), 1, 60.0, 1.0),
            ((0..100_000).map(|i| i % 3).collect(), 1, 1.0, 1.0),
        ];
        for (counts, bin_s, speed, tick) in table {
            let total: u64 = counts.iter().sum();
            let e = Exported::new(&profile(counts, bin_s), "p.json", speed, tick, false).unwrap();
            let mut start = 0.0;
            let mut sent = 0.0;
            for &(end, rps) in &e.stages {
                assert!(end - start >= tick - 1e-9 || end == e.stages.last().unwrap().0, "{:?}", e.stages);
                sent += (end - start) * rps;
                start = end;
            }
            assert!((sent - total as f64).abs() < 1e-6 * total.max(1) as f64, "{sent} of {total}");
            assert!(e.stages.len() <= MAX_STAGES);
        }
        assert!(Exported::new(&profile(vec![1], 1), "p.json", f64::NAN, 1.0, false).is_err());
    }
}
