//! Judging a run's results against its thresholds, from the histograms
//! results.json carries, so a saved run is judged exactly as the live one
//! (`replay report`). With no threshold, the default verdict still fails a
//! run that sent nothing or where every request failed; a run whose
//! generator could not keep its schedule fails either way, with that reason.

use super::measure::{Traffic, measure, periods_per_window};
use super::threshold::{Metric, Threshold};
use crate::report::json::{Judged, Results, Verdict, decode};
use hdrhistogram::Histogram;

/// Checks that every endpoint a threshold names is one of `endpoints` (`METHOD /path`).
pub fn check_endpoints(thresholds: &[Threshold], endpoints: &[String]) -> Result<(), String> {
    for t in thresholds {
        let Some(name) = &t.endpoint else { continue };
        if t.window.is_some() {
            return Err(format!("threshold `{t}`: windows are judged over the whole run's traffic; leave out the endpoint or the window"));
        }
        if !endpoints.contains(name) {
            let mut known: Vec<&str> = endpoints.iter().map(String::as_str).collect();
            known.sort_unstable();
            known.truncate(20);
            return Err(format!("threshold `{t}`: no endpoint `{name}` in this run; its endpoints: {}", known.join(", ")));
        }
    }
    Ok(())
}

/// A latency histogram judging needs: the run's, an endpoint's or a period's (by index in the results).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Latency {
    Overall,
    Endpoint(usize),
    Period(usize),
}

/// Judges `results` against `thresholds` (already checked against its endpoints), from the histograms it carries.
pub fn judge(results: &Results, thresholds: &[Threshold]) -> Result<Verdict, String> {
    judge_by(results, thresholds, |which| match which {
        Latency::Overall => decode(results.histograms.get("latency").ok_or("results.json has no latency histogram")?),
        Latency::Endpoint(i) => decode(&results.endpoints[i].histogram),
        Latency::Period(i) => decode(&results.periods[i].histogram),
    })
}

/// [`judge`], with each histogram from `latency` (a live run has them in its tally, not encoded).
pub fn judge_by(
    results: &Results,
    thresholds: &[Threshold],
    latency: impl Fn(Latency) -> Result<Histogram<u64>, String>,
) -> Result<Verdict, String> {
    let needs_overall = thresholds.iter().any(|t| t.endpoint.is_none() && t.window.is_none());
    let overall = if needs_overall { latency(Latency::Overall)? } else { crate::run::summary::new_histogram() };
    let mut judged = Vec::new();
    for t in thresholds {
        let class = |failures: &std::collections::BTreeMap<String, u64>| match t.metric {
            Metric::Errors(Some(class)) => failures.get(class).copied().unwrap_or(0),
            _ => 0,
        };
        let (measured, window_start_s) = match (&t.endpoint, t.window) {
            (Some(name), _) => {
                let e = results.endpoints.iter().enumerate().find(|(_, e)| format!("{} {}", e.method, e.path) == *name);
                match e {
                    None => (None, None),
                    Some((i, e)) => {
                        let latency = latency(Latency::Endpoint(i))?;
                        let traffic = Traffic {
                            intended: e.requests,
                            requests: e.requests,
                            failures: e.failures,
                            class_failures: class(&e.failures_by_class),
                            mismatches: e.status_mismatches,
                            seconds: results.duration_s,
                            latency: &latency,
                        };
                        (measure(t, &traffic), None)
                    }
                }
            }
            (None, None) => {
                let traffic = Traffic {
                    intended: results.totals.intended,
                    requests: results.totals.requests,
                    failures: results.totals.failures,
                    class_failures: class(&results.failures),
                    mismatches: results.totals.status_mismatches,
                    seconds: results.duration_s,
                    latency: &overall,
                };
                (measure(t, &traffic), None)
            }
            (None, Some(window)) => worst_window(results, t, window, &latency)?,
        };
        let passed = measured.is_some_and(|m| t.op.holds(m, t.limit));
        let measured_text = match measured {
            Some(m) => t.show(m),
            None => match &t.endpoint {
                Some(name) => format!("no requests to {name} were sent"),
                None => "nothing to measure: no requests were sent".to_owned(),
            },
        };
        judged.push(Judged { threshold: t.text.clone(), passed, measured, measured_text, condition: t.condition(), window_start_s });
    }
    let mut reasons = Vec::new();
    let t = &results.totals;
    if t.requests == 0 {
        reasons.push(format!("no request was sent (of {} intended)", t.intended));
    } else if t.failures == t.requests {
        let classes: Vec<String> = results.failures.iter().map(|(k, v)| format!("{k} {v}")).collect();
        reasons.push(format!("every request failed ({})", classes.join(", ")));
    } else if thresholds.is_empty() {
        reasons.extend(super::default_rule::reasons(results));
    }
    if !results.trustworthy {
        let why = results.warnings.first().cloned().unwrap_or_else(|| "the generator fell behind its schedule".to_owned());
        reasons.push(format!("the run under-delivered its schedule, so its figures understate the load: {why}"));
    }
    let passed = reasons.is_empty() && judged.iter().all(|j| j.passed);
    Ok(Verdict { passed, thresholds: judged, reasons })
}

/// The worst value over consecutive windows of about `window_s` seconds, cut from the run's periods.
fn worst_window(
    results: &Results,
    t: &Threshold,
    window: std::time::Duration,
    period_latency: &impl Fn(Latency) -> Result<Histogram<u64>, String>,
) -> Result<(Option<f64>, Option<u64>), String> {
    let period_s = results.period_s.max(1) as f64;
    let per_window = periods_per_window(window, results.period_s);
    let mut worst: Option<(f64, u64)> = None;
    for (n, chunk) in results.periods.chunks(per_window).enumerate() {
        let mut latency = crate::run::summary::new_histogram();
        for i in 0..chunk.len() {
            latency
                .add(period_latency(Latency::Period(n * per_window + i))?)
                .map_err(|_| "a period's histogram does not fit the run's bounds".to_owned())?;
        }
        let traffic = Traffic {
            intended: chunk.iter().map(|p| p.intended.max(p.requests)).sum(),
            requests: chunk.iter().map(|p| p.requests).sum(),
            failures: chunk.iter().map(|p| p.failures).sum(),
            class_failures: match t.metric {
                Metric::Errors(Some(class)) => chunk.iter().map(|p| p.failures_by_class.get(class).copied().unwrap_or(0)).sum(),
                _ => 0,
            },
            mismatches: 0,
            seconds: chunk.len() as f64 * period_s,
            latency: &latency,
        };
        let Some(value) = measure(t, &traffic) else { continue };
        let worse = match worst {
            None => true,
            Some((w, _)) => {
                if t.is_ceiling() {
                    value > w
                } else {
                    value < w
                }
            }
        };
        if worse {
            worst = Some((value, chunk[0].start_s));
        }
    }
    Ok((worst.map(|(v, _)| v), worst.map(|(_, s)| s)))
}
