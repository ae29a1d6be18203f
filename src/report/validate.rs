//! A results.json from elsewhere is untrusted input: before `report`, `merge`
//! or `compare` use one, every number is checked to be finite and in range,
//! the totals to add up, the periods to lie inside the run and the shard to
//! be one of its run's, and the parts that cost memory (endpoints, periods,
//! histograms) to be no more than a run writes. The error names the field by
//! its path (`periods[3].lag_max_ms: …`), as a profile's do.

use super::json::{Millis, Results, decode};

/// Endpoints a results file may hold: a run has at most the profile's (200 by default, a
/// trace's templates), each with a histogram to decode when merging.
pub const MAX_ENDPOINTS: usize = 10_000;
/// Periods a results file may hold: a run writes at most 720, a merge of shards about as many.
pub const MAX_PERIODS: usize = 2_000;
/// Histograms by name (`latency`, `service`, `lag`).
const MAX_HISTOGRAMS: usize = 16;
/// Shards of one run.
pub const MAX_SHARDS: u32 = 10_000;
/// Milliseconds any latency, lag or duration figure may be: about 31 years.
const MAX_MS: f64 = 1e12;
/// Counts past 2^53 cannot come from a run, and would wrap when merged.
const MAX_COUNT: u64 = 1 << 53;
/// A run's length, seconds: ten years.
const MAX_DURATION_S: f64 = 3.2e8;

fn bad(field: impl std::fmt::Display, why: impl std::fmt::Display) -> String {
    format!("{field}: {why}")
}

fn number(field: &str, value: f64, max: f64) -> Result<(), String> {
    if value.is_finite() && (0.0..=max).contains(&value) {
        Ok(())
    } else {
        Err(bad(field, format!("{value} is not a number from 0 to {max:e}")))
    }
}

fn millis(field: &str, m: &Millis) -> Result<(), String> {
    for (name, v) in [("p50", m.p50), ("p90", m.p90), ("p99", m.p99), ("max", m.max), ("mean", m.mean)] {
        number(&format!("{field}.{name}"), v, MAX_MS)?;
    }
    Ok(())
}

fn count(field: &str, value: u64) -> Result<(), String> {
    if value <= MAX_COUNT { Ok(()) } else { Err(bad(field, format!("{value} is more than any run counts (2^53)"))) }
}

fn at_most(field: &str, value: u64, limit: u64, of: &str) -> Result<(), String> {
    if value <= limit { Ok(()) } else { Err(bad(field, format!("{value} is more than {of} ({limit})"))) }
}

/// Checks `r` as described in the module doc.
pub fn validate(r: &Results) -> Result<(), String> {
    number("duration_s", r.duration_s, MAX_DURATION_S)?;
    if chrono::DateTime::parse_from_rfc3339(&r.started).is_err() {
        return Err(bad("started", format!("`{}` is not an RFC 3339 time", r.started.escape_debug())));
    }
    let t = &r.totals;
    for (name, value) in [
        ("intended", t.intended),
        ("requests", t.requests),
        ("not_sent", t.not_sent),
        ("failures", t.failures),
        ("held_back", t.held_back),
        ("retried", t.retried),
        ("synthetic", t.synthetic),
        ("status_mismatches", t.status_mismatches),
        ("users", t.users),
        ("steps_cut_off", t.steps_cut_off),
    ] {
        count(&format!("totals.{name}"), value)?;
    }
    if t.intended != t.requests + t.not_sent {
        return Err(bad("totals.intended", format!("{} is not requests + not_sent ({} + {})", t.intended, t.requests, t.not_sent)));
    }
    for (name, value) in [
        ("failures", t.failures),
        ("held_back", t.held_back),
        ("retried", t.retried),
        ("synthetic", t.synthetic),
        ("status_mismatches", t.status_mismatches),
    ] {
        at_most(&format!("totals.{name}"), value, t.requests, "the requests sent")?;
    }
    let sum = |counts: &std::collections::BTreeMap<String, u64>| counts.values().fold(0u64, |a, &n| a.saturating_add(n));
    at_most("not_sent", sum(&r.not_sent), t.not_sent, "totals.not_sent")?;
    at_most("failures", sum(&r.failures), t.failures.max(t.requests), "the requests sent")?;
    at_most("status", sum(&r.status), t.requests, "the requests sent")?;
    millis("latency_ms", &r.latency_ms)?;
    millis("service_ms", &r.service_ms)?;
    millis("schedule_lag_ms", &r.schedule_lag_ms)?;
    if r.endpoints.len() > MAX_ENDPOINTS {
        return Err(bad("endpoints", format!("{} endpoints; a run has at most {MAX_ENDPOINTS}", r.endpoints.len())));
    }
    for (i, e) in r.endpoints.iter().enumerate() {
        let field = |name: &str| format!("endpoints[{i}].{name}");
        at_most(&field("requests"), e.requests, t.requests, "the run's requests")?;
        at_most(&field("intended"), e.intended, t.intended, "the run's intended requests")?;
        at_most(&field("failures"), e.failures, e.requests, "the endpoint's requests")?;
        count(&field("bytes"), e.bytes)?;
        at_most(&field("status_mismatches"), e.status_mismatches, e.requests, "the endpoint's requests")?;
        at_most(&field("statuses"), sum(&e.statuses), e.requests, "the endpoint's requests")?;
        for (class, share) in &e.production_statuses {
            number(&field(&format!("production_statuses.{class}")), *share, 1.0)?;
        }
        number(&field("rps"), e.rps, 1e9)?;
        millis(&field("latency_ms"), &e.latency_ms)?;
        if let Some(q) = e.production_latency_ms {
            for (name, v) in [("p50", q.p50), ("p90", q.p90), ("p99", q.p99)] {
                number(&field(&format!("production_latency_ms.{name}")), v, MAX_MS)?;
            }
        }
    }
    if r.periods.len() > MAX_PERIODS {
        return Err(bad("periods", format!("{} periods; a run writes at most {MAX_PERIODS}", r.periods.len())));
    }
    if !r.periods.is_empty() && r.period_s == 0 {
        return Err(bad("period_s", "0; periods need a width of a second or more"));
    }
    at_most("period_s", r.period_s, MAX_DURATION_S as u64, "ten years in seconds")?;
    // Periods begin inside the run (a merge's may start up to a period before its last second).
    let last_start = (r.duration_s.ceil() as u64).saturating_add(r.period_s);
    for (i, p) in r.periods.iter().enumerate() {
        let field = |name: &str| format!("periods[{i}].{name}");
        at_most(&field("start_s"), p.start_s, last_start, "the run's length in seconds plus a period")?;
        at_most(&field("requests"), p.requests, t.requests, "the run's requests")?;
        at_most(&field("failures"), p.failures, p.requests, "the period's requests")?;
        at_most(&field("intended"), p.intended, t.intended, "the run's intended requests")?;
        number(&field("lag_max_ms"), p.lag_max_ms, MAX_MS)?;
        millis(&field("latency_ms"), &p.latency_ms)?;
    }
    if r.histograms.len() > MAX_HISTOGRAMS {
        return Err(bad("histograms", format!("{} histograms; a run writes 3", r.histograms.len())));
    }
    // Every histogram decodes within its bounds (one at a time: memory stays that of one).
    let histogram = |field: String, text: &str| decode(text).map(drop).map_err(|e| bad(field, e));
    for (name, text) in &r.histograms {
        histogram(format!("histograms.{name}"), text)?;
    }
    for (i, e) in r.endpoints.iter().enumerate() {
        histogram(format!("endpoints[{i}].histogram"), &e.histogram)?;
    }
    for (i, p) in r.periods.iter().enumerate() {
        histogram(format!("periods[{i}].histogram"), &p.histogram)?;
    }
    if let Some(plan) = &r.plan {
        number("plan.speed", plan.speed, 1e12)?;
        number("plan.rate_scale", plan.rate_scale, 1e12)?;
        if let Some(length) = plan.length_s {
            number("plan.length_s", length, MAX_DURATION_S * 1e6)?;
        }
        for (i, s) in plan.segments.iter().enumerate() {
            number(&format!("plan.segments[{i}].start_s"), s.start_s, MAX_DURATION_S * 1e6)?;
            number(&format!("plan.segments[{i}].end_s"), s.end_s, MAX_DURATION_S * 1e6)?;
        }
        if let Some(shard) = plan.shard {
            if shard.count == 0 || shard.count > MAX_SHARDS {
                return Err(bad("plan.shard.count", format!("{}; a run splits into 1 to {MAX_SHARDS} shards", shard.count)));
            }
            if shard.index >= shard.count {
                return Err(bad(
                    "plan.shard.index",
                    format!("{} is not below the count {} (shards count from 0)", shard.index, shard.count),
                ));
            }
        }
    }
    Ok(())
}
