//! `replay merge`: several runs' results as one, exactly: counts add, HDR
//! histograms add (so percentiles are those of all requests together, within
//! histogram precision), rates are over the union of the time spans, and
//! periods line up on the wall clock.

use super::json::{EndpointResult, Millis, PeriodResult, PlanFacts, Results, ShardFacts, decode, encode};
use crate::run::summary::new_histogram;
use hdrhistogram::Histogram;
use std::collections::BTreeMap;

fn add_counts(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
    for (k, v) in from {
        let n = into.entry(k.clone()).or_default();
        *n = n.saturating_add(*v);
    }
}

/// Adds a serialised histogram into `into`, kept serialised: a merge holds one decoded histogram at a
/// time, so its memory is the inputs' text, not a decoded histogram per endpoint and period. The
/// first one added sets the precision (periods keep fewer digits).
fn add_histogram(into: &mut Option<String>, text: &str, what: &str) -> Result<(), String> {
    let h = decode(text).map_err(|e| format!("{what}: {e}"))?;
    *into = Some(match into.take() {
        Some(sum) => {
            let mut sum = decode(&sum).map_err(|e| format!("{what}: {e}"))?;
            sum.add(h).map_err(|_| format!("{what}: the histogram does not fit the run's bounds"))?;
            encode(&sum)
        }
        None => text.to_owned(),
    });
    Ok(())
}

/// A merged histogram, or an empty one.
fn finished(h: Option<String>) -> Histogram<u64> {
    h.and_then(|text| decode(&text).ok()).unwrap_or_else(new_histogram)
}

fn started_s(r: &Results) -> Result<f64, String> {
    chrono::DateTime::parse_from_rfc3339(&r.started)
        .map(|t| t.timestamp_millis() as f64 / 1000.0)
        .map_err(|_| format!("`started` is `{}`, not an RFC 3339 time", r.started))
}

/// Shards must be of one run (one `run_id`); whole runs must be different runs, never one given twice.
/// Files from before run ids (an empty `run_id`) are not checked.
fn same_run(runs: &[Results], sharded: bool) -> Result<(), String> {
    let ids: Vec<(usize, &str)> = runs.iter().enumerate().map(|(i, r)| (i, r.run_id.as_str())).filter(|(_, id)| !id.is_empty()).collect();
    if sharded {
        if let (Some(&(first, id)), Some(&(i, other))) = (ids.first(), ids.iter().find(|(_, other)| other != &ids[0].1)) {
            return Err(format!(
                "input {} is from run {other}, input {} from run {id}: not shards of one run (a rerun of a failed shard passes --run-id {id})",
                i + 1,
                first + 1
            ));
        }
        return Ok(());
    }
    for (k, &(i, id)) in ids.iter().enumerate() {
        if let Some(&(j, _)) = ids[..k].iter().find(|(_, other)| *other == id) {
            return Err(format!("inputs {} and {} are the same run ({id}): merge it once", j + 1, i + 1));
        }
    }
    Ok(())
}

/// The plan fields that must agree for runs to be one run's parts.
fn same_plan(a: &Results, b: &Results) -> Result<(), String> {
    let (Some(pa), Some(pb)) = (&a.plan, &b.plan) else { return Ok(()) };
    let fields = [
        ("source", pa.source == pb.source),
        ("unit", pa.unit == pb.unit),
        ("speed", pa.speed == pb.speed),
        ("rate_scale", pa.rate_scale == pb.rate_scale),
    ];
    match fields.iter().find(|(_, same)| !same) {
        Some((field, _)) => Err(format!("the runs' plans differ in plan.{field}: they are not parts of one run")),
        None => Ok(()),
    }
}

/// Shards of one run must all be there, once each, with one plan: a merge never guesses.
fn whole_set_of_shards(runs: &[Results]) -> Result<bool, String> {
    let shards: Vec<Option<ShardFacts>> = runs.iter().map(|r| r.plan.as_ref().and_then(|p| p.shard)).collect();
    let Some(first) = shards.iter().flatten().next().copied() else { return Ok(false) };
    let mut seen: Vec<Option<usize>> = vec![None; first.count as usize];
    for (i, shard) in shards.iter().enumerate() {
        let Some(shard) = shard else {
            return Err(format!("input {} is a whole run, not a shard: merge the shards of one run alone", i + 1));
        };
        if shard.count != first.count {
            return Err(format!(
                "input {} is shard {}/{}, input 1 of {}: they are not shards of one run",
                i + 1,
                shard.index,
                shard.count,
                first.count
            ));
        }
        if let Some(before) = seen[shard.index as usize].replace(i) {
            return Err(format!("shard {}/{} is there twice (inputs {} and {}): keep one", shard.index, shard.count, before + 1, i + 1));
        }
        let (a, b) = (runs[0].plan.as_ref(), runs[i].plan.as_ref());
        if let (Some(a), Some(b)) = (a, b)
            && (a.seed != b.seed || a.window != b.window || a.length_s != b.length_s)
        {
            return Err(format!("input {} was planned with another seed, window or length than input 1: not shards of one run", i + 1));
        }
    }
    let missing: Vec<String> = seen.iter().enumerate().filter(|(_, s)| s.is_none()).map(|(k, _)| format!("{k}/{}", first.count)).collect();
    if !missing.is_empty() {
        return Err(format!(
            "shard{} {} missing: rerun {} with the same flags (and a new --start-at), then merge all {}",
            if missing.len() > 1 { "s" } else { "" },
            missing.join(", "),
            if missing.len() > 1 { "them" } else { "it" },
            first.count
        ));
    }
    Ok(true)
}

/// Merges `runs` (at least one); the error names what does not fit.
pub fn merge(runs: &[Results]) -> Result<Results, String> {
    let first = runs.first().ok_or("nothing to merge")?;
    for (i, r) in runs.iter().enumerate().skip(1) {
        if r.version != first.version {
            return Err(format!("input {}: results version {} against {}", i + 1, r.version, first.version));
        }
        same_plan(first, r).map_err(|e| format!("input {}: {e}", i + 1))?;
    }
    let sharded = whole_set_of_shards(runs)?;
    same_run(runs, sharded)?;
    let starts: Vec<f64> = runs.iter().map(started_s).collect::<Result<_, _>>()?;
    // The shards of one run keep one clock from their common start; a shard rerun later (with the run's
    // --run-id) lines up with the others instead of stretching the run.
    let starts: Vec<f64> = if sharded { vec![starts.iter().copied().fold(f64::INFINITY, f64::min); starts.len()] } else { starts };
    let start = starts.iter().copied().fold(f64::INFINITY, f64::min);
    let end = runs.iter().zip(&starts).map(|(r, s)| s + r.duration_s).fold(f64::NEG_INFINITY, f64::max);
    let duration_s = ((end - start) * 1000.0).round() / 1000.0;
    let mut out = first.clone();
    out.started = runs[starts.iter().position(|s| *s == start).unwrap_or(0)].started.clone();
    out.duration_s = duration_s;
    out.verdict = None;
    if sharded && let Some(plan) = &mut out.plan {
        // All shards together are the whole run, with the whole run's limits.
        plan.shard = None;
        let sum = |f: fn(&PlanFacts) -> Option<u64>| runs.iter().map(|r| r.plan.as_ref().and_then(f)).sum::<Option<u64>>();
        plan.max_requests = sum(|p| p.max_requests);
        plan.max_rps = sum(|p| p.max_rps.map(u64::from)).map(|n| n.min(u64::from(u32::MAX)) as u32);
        plan.connections = runs.iter().filter_map(|r| r.plan.as_ref()).map(|p| p.connections).sum();
    }
    let mut histograms: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut endpoints: BTreeMap<(String, String), (EndpointResult, Option<String>)> = BTreeMap::new();
    let period_s = runs.iter().map(|r| r.period_s.max(1)).max().unwrap_or(1);
    let mut periods: BTreeMap<u64, (PeriodResult, Option<String>)> = BTreeMap::new();
    for (i, (r, s)) in runs.iter().zip(&starts).enumerate() {
        let what = |part: &str| format!("input {}: {part}", i + 1);
        if i > 0 {
            add_run(&mut out, r);
        }
        for (name, text) in &r.histograms {
            add_histogram(histograms.entry(name.clone()).or_default(), text, &what(&format!("histograms.{name}")))?;
        }
        for e in &r.endpoints {
            add_endpoint(&mut endpoints, e, &what)?;
        }
        let offset = s - start;
        for p in &r.periods {
            add_period(&mut periods, p, offset, period_s, &what)?;
        }
    }
    let histograms: BTreeMap<String, Histogram<u64>> = histograms.into_iter().map(|(k, h)| (k, finished(h))).collect();
    let get = |name: &str| histograms.get(name).cloned().unwrap_or_else(new_histogram);
    out.latency_ms = Millis::of(&get("latency"));
    out.service_ms = Millis::of(&get("service"));
    out.schedule_lag_ms = Millis::of(&get("lag"));
    out.histograms = histograms.iter().map(|(k, h)| (k.clone(), encode(h))).collect();
    out.endpoints = endpoints
        .into_values()
        .map(|(mut e, h)| {
            let h = finished(h);
            e.rps = if duration_s > 0.0 { (e.requests as f64 / duration_s * 1000.0).round() / 1000.0 } else { 0.0 };
            e.latency_ms = Millis::of(&h);
            e.histogram = encode(&h);
            e
        })
        .collect();
    out.period_s = period_s;
    out.periods = periods
        .into_values()
        .map(|(mut p, h)| {
            let h = finished(h);
            p.latency_ms = Millis::of(&h);
            p.histogram = encode(&h);
            p
        })
        .collect();
    Ok(out)
}

/// Adds the totals, counts, examples and notes of `r` (a run after the first) to `out`.
fn add_run(out: &mut Results, r: &Results) {
    let t = &mut out.totals;
    t.intended = t.intended.saturating_add(r.totals.intended);
    t.requests = t.requests.saturating_add(r.totals.requests);
    t.not_sent = t.not_sent.saturating_add(r.totals.not_sent);
    t.failures = t.failures.saturating_add(r.totals.failures);
    t.held_back = t.held_back.saturating_add(r.totals.held_back);
    t.retried = t.retried.saturating_add(r.totals.retried);
    t.synthetic = t.synthetic.saturating_add(r.totals.synthetic);
    t.status_mismatches = t.status_mismatches.saturating_add(r.totals.status_mismatches);
    t.users = t.users.saturating_add(r.totals.users);
    t.steps_cut_off = t.steps_cut_off.saturating_add(r.totals.steps_cut_off);
    add_counts(&mut out.not_sent, &r.not_sent);
    add_counts(&mut out.failures, &r.failures);
    add_counts(&mut out.status, &r.status);
    for (k, v) in &r.failure_examples {
        out.failure_examples.entry(k.clone()).or_insert_with(|| v.clone());
    }
    out.trustworthy &= r.trustworthy;
    out.interrupted |= r.interrupted;
    for w in r.warnings.iter().chain(&r.left_out) {
        if !out.warnings.contains(w) && !out.left_out.contains(w) {
            out.warnings.push(w.clone());
        }
    }
    for s in &r.synthetic {
        if !out.synthetic.contains(s) {
            out.synthetic.push(s.clone());
        }
    }
}

/// Adds an endpoint's counts and histogram to the one of its name.
fn add_endpoint(
    endpoints: &mut BTreeMap<(String, String), (EndpointResult, Option<String>)>,
    e: &EndpointResult,
    what: &impl Fn(&str) -> String,
) -> Result<(), String> {
    let (merged, h) = endpoints.entry((e.method.clone(), e.path.clone())).or_insert_with(|| {
        (
            EndpointResult {
                intended: 0,
                requests: 0,
                failures: 0,
                bytes: 0,
                failures_by_class: BTreeMap::new(),
                statuses: BTreeMap::new(),
                status_mismatches: 0,
                ..e.clone()
            },
            None,
        )
    });
    merged.intended = merged.intended.saturating_add(e.intended);
    merged.requests = merged.requests.saturating_add(e.requests);
    merged.failures = merged.failures.saturating_add(e.failures);
    merged.bytes = merged.bytes.saturating_add(e.bytes);
    merged.status_mismatches = merged.status_mismatches.saturating_add(e.status_mismatches);
    add_counts(&mut merged.failures_by_class, &e.failures_by_class);
    add_counts(&mut merged.statuses, &e.statuses);
    add_histogram(h, &e.histogram, &what(&format!("endpoint {} {}", e.method, e.path)))?;
    Ok(())
}

/// Adds a period, `offset` seconds after the merged run's start, to the merged period it falls in.
fn add_period(
    periods: &mut BTreeMap<u64, (PeriodResult, Option<String>)>,
    p: &PeriodResult,
    offset: f64,
    period_s: u64,
    what: &impl Fn(&str) -> String,
) -> Result<(), String> {
    let index = ((offset + p.start_s as f64) / period_s as f64).floor() as u64;
    let (merged, h) = periods.entry(index).or_insert_with(|| {
        let empty = PeriodResult {
            start_s: index * period_s,
            intended: 0,
            requests: 0,
            failures: 0,
            failures_by_class: BTreeMap::new(),
            lag_max_ms: 0.0,
            users: 0,
            latency_ms: p.latency_ms,
            histogram: String::new(),
        };
        (empty, None)
    });
    merged.intended = merged.intended.saturating_add(p.intended);
    // Shards' users are apart: in flight together, they add up.
    merged.users = merged.users.saturating_add(p.users);
    merged.requests = merged.requests.saturating_add(p.requests);
    merged.failures = merged.failures.saturating_add(p.failures);
    merged.lag_max_ms = merged.lag_max_ms.max(p.lag_max_ms);
    add_counts(&mut merged.failures_by_class, &p.failures_by_class);
    add_histogram(h, &p.histogram, &what("a period"))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{Failure, Outcome};
    use crate::plan::{Catalog, CatalogEntry, EndpointKey};
    use crate::report::json::{RunFacts, results};
    use crate::run::Summary;

    fn outcome(i: u64) -> Outcome {
        let intended_ns = i * 7_000_000;
        let failure = (i % 13 == 0).then_some(Failure::Http5xx);
        Outcome {
            endpoint: (i % 3) as usize,
            intended_ns,
            sent_ns: intended_ns + 50_000,
            done_ns: intended_ns + 1_000_000 + (i * 7919 % 90_000_000),
            status: Some(if failure.is_some() { 503 } else { 200 }),
            failure,
            detail: failure.map(|_| "HTTP 503".into()),
            retried: false,
            synthetic: false,
            to_login: false,
            bytes: 100,
        }
    }

    fn summary_of(outcomes: impl Iterator<Item = Outcome>) -> Summary {
        let mut s = Summary::with_periods(3, 2);
        for o in outcomes {
            s.intend(o.intended_ns);
            s.add(&o);
        }
        s
    }

    #[test]
    fn two_halves_merge_into_the_whole_exactly() {
        let catalog = Catalog { endpoints: ["/a", "/b", "/c"].iter().map(|p| CatalogEntry::named(EndpointKey::new("GET", p))).collect() };
        let facts = |duration_s: f64| RunFacts {
            // Two whole runs with no shard facts: each its own id.
            run_id: if duration_s < 21.0 { "r2" } else { "r1" },
            target: "http://127.0.0.1:9/",
            started: "2026-12-01T10:00:00Z",
            duration_s,
            interrupted: false,
            catalog: &catalog,
            left_out: &[],
            synthetic: &[],
            plan: None,
        };
        let whole = results(&summary_of((0..3000).map(outcome)), &facts(21.0));
        // Two shards of the same run: even and odd requests, started together.
        let even = results(&summary_of((0..3000).filter(|i| i % 2 == 0).map(outcome)), &facts(21.0));
        let odd = results(&summary_of((0..3000).filter(|i| i % 2 == 1).map(outcome)), &facts(20.9));
        let merged = merge(&[even, odd]).unwrap();
        assert_eq!(merged.totals, whole.totals);
        assert_eq!((&merged.failures, &merged.status), (&whole.failures, &whole.status));
        assert_eq!(decode(&merged.histograms["latency"]).unwrap(), decode(&whole.histograms["latency"]).unwrap());
        assert_eq!(merged.latency_ms, whole.latency_ms);
        for (m, w) in merged.endpoints.iter().zip(&whole.endpoints) {
            assert_eq!((&m.path, m.requests, m.failures, m.bytes, m.latency_ms), (&w.path, w.requests, w.failures, w.bytes, w.latency_ms));
        }
        assert_eq!(merged.periods.len(), whole.periods.len());
        for (m, w) in merged.periods.iter().zip(&whole.periods) {
            assert_eq!(
                (m.start_s, m.intended, m.requests, m.failures, m.latency_ms),
                (w.start_s, w.intended, w.requests, w.failures, w.latency_ms)
            );
        }
        assert_eq!(merged.duration_s, 21.0);
        // Another plan, or another version, is refused.
        let mut other = whole.clone();
        other.version = 2;
        assert!(merge(&[whole.clone(), other]).unwrap_err().contains("version"));
    }
}
