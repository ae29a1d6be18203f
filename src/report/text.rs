//! The table printed when a run ends: one line per endpoint (requests,
//! failures, rate, p50/p90/p99/max), then totals, failures by class and
//! whether the generator kept up.

use super::json::Results;
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
    writeln!(
        out,
        "intended {} requests, sent {} in {:.1} s; held back by --max-rps: {}; schedule lag p99 {:.2} ms",
        t.intended, t.requests, r.duration_s, t.held_back, r.schedule_lag_ms.p99
    )?;
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
