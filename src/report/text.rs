//! The table printed when a run ends: one line per endpoint (requests,
//! failures, rate, p50/p90/p99/max), then totals, failures by class and
//! whether the generator kept up.

use super::json::Results;
use crate::units::{count, human_duration, thousands};
use std::io::{self, Write};

pub fn write_table(r: &Results, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<44} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "endpoint", "requests", "failed", "rps", "p50 ms", "p90 ms", "p99 ms", "max ms"
    )?;
    for e in &r.endpoints {
        let mut name = format!("{} {}", e.method, e.path);
        if name.len() > 44 {
            name.truncate(41);
            name.push_str("...");
        }
        let l = e.latency_ms;
        writeln!(
            out,
            "{name:<44} {:>9} {:>8} {:>9.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
            e.requests, e.failures, e.rps, l.p50, l.p90, l.p99, l.max
        )?;
    }
    let t = &r.totals;
    let l = r.latency_ms;
    let rps = if r.duration_s > 0.0 { t.requests as f64 / r.duration_s } else { 0.0 };
    writeln!(
        out,
        "{:<44} {:>9} {:>8} {:>9.1} {:>9.2} {:>9.2} {:>9.2} {:>9.2}",
        "all", t.requests, t.failures, rps, l.p50, l.p90, l.p99, l.max
    )?;
    let not_sent = if t.not_sent == 0 {
        String::new()
    } else {
        let reasons: Vec<String> = r.not_sent.iter().map(|(k, v)| format!("{} {}", k.replace('_', " "), thousands(*v))).collect();
        format!(", not sent {} ({})", thousands(t.not_sent), reasons.join(", "))
    };
    writeln!(
        out,
        "intended {}: sent {}{not_sent} in {}; schedule lag p99 {:.2} ms",
        count(t.intended, "request"),
        thousands(t.requests),
        human_duration(r.duration_s),
        r.schedule_lag_ms.p99
    )?;
    if t.held_back > 0 {
        writeln!(out, "held back by --max-rps: {} (sent late, which their latency shows)", count(t.held_back, "request"))?;
    }
    if t.retried > 0 {
        writeln!(
            out,
            "retried on a new connection: {} (the target closed or refused the stream before processing it)",
            count(t.retried, "request")
        )?;
    }
    for endpoint in &r.left_out {
        writeln!(out, "left out: {endpoint}")?;
    }
    if !r.failures.is_empty() {
        let classes: Vec<String> = r.failures.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(out, "failures: {}", classes.join(", "))?;
        for (class, example) in &r.failure_examples {
            writeln!(out, "  {class}, e.g.: {example}")?;
        }
    }
    for warning in &r.warnings {
        writeln!(out, "warning: {warning}")?;
    }
    if r.interrupted {
        writeln!(out, "interrupted: these are partial results")?;
    }
    Ok(())
}

/// The verdict: each threshold with what was measured, and the reasons a run fails beyond them.
pub fn write_verdict(r: &Results, out: &mut dyn Write) -> io::Result<()> {
    let Some(v) = &r.verdict else { return Ok(()) };
    for j in &v.thresholds {
        let mark = if j.passed { "pass" } else { "FAIL" };
        let window =
            j.window_start_s.filter(|_| !j.passed).map_or(String::new(), |s| format!(" (worst window from {})", human_duration(s as f64)));
        writeln!(out, "threshold {mark}: {}: measured {}, want {}{window}", j.threshold, j.measured_text, j.condition)?;
    }
    for reason in &v.reasons {
        writeln!(out, "failed: {reason}")?;
    }
    let how = if v.passed { "PASSED" } else { "FAILED" };
    let judged = if v.thresholds.is_empty() {
        "no thresholds given: the run fails only if nothing was sent, every request failed, or the generator under-delivered".to_owned()
    } else {
        format!("{} of {} passed", v.thresholds.iter().filter(|j| j.passed).count(), count(v.thresholds.len() as u64, "threshold"))
    };
    writeln!(out, "verdict: {how} ({judged})")
}
