//! `summary.md`: the run in a few lines and two tables, fit for a pull
//! request comment; appended to `$GITHUB_STEP_SUMMARY` when that is set.

use super::json::Results;
use crate::units::{count, human_duration, thousands};
use crate::untrusted::markdown_code;
use std::io::{self, Write};

/// Our own words in a table cell: `|` would end it; controls are shown escaped.
fn cell(text: &str) -> String {
    crate::untrusted::terminal(text).replace('|', "\\|").replace('\n', " ")
}

pub fn write_summary(r: &Results, out: &mut dyn Write) -> Result<(), String> {
    summary(r, out).map_err(|e| e.to_string())
}

fn summary(r: &Results, out: &mut dyn Write) -> io::Result<()> {
    let verdict = r.verdict.clone().unwrap_or_default();
    let mark = if verdict.passed { "passed" } else { "FAILED" };
    writeln!(out, "### replay: {mark} against {}", cell(&r.target))?;
    writeln!(out)?;
    let t = &r.totals;
    writeln!(
        out,
        "{} intended, {} sent, {} not sent, {} failed, in {}; latency p50 {:.1} ms, p99 {:.1} ms (from the intended send time).",
        count(t.intended, "request"),
        thousands(t.requests),
        thousands(t.not_sent),
        thousands(t.failures),
        human_duration(r.duration_s),
        r.latency_ms.p50,
        r.latency_ms.p99
    )?;
    for reason in &verdict.reasons {
        writeln!(out, "\n**Failed:** {}", cell(reason))?;
    }
    if !verdict.thresholds.is_empty() {
        writeln!(out, "\n| threshold | measured | want | |")?;
        writeln!(out, "|---|---|---|---|")?;
        for j in &verdict.thresholds {
            let icon = if j.passed { "pass" } else { "**FAIL**" };
            writeln!(out, "| {} | {} | {} | {icon} |", markdown_code(&j.threshold), cell(&j.measured_text), cell(&j.condition))?;
        }
    }
    writeln!(
        out,
        "\n| endpoint | requests | failed | p50 ms | p99 ms | production p99 ms | statuses | production statuses | mismatches |"
    )?;
    writeln!(out, "|---|---:|---:|---:|---:|---:|---|---|---:|")?;
    let mut endpoints: Vec<_> = r.endpoints.iter().collect();
    endpoints.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| (&a.method, &a.path).cmp(&(&b.method, &b.path))));
    for e in endpoints.iter().take(20) {
        let production = e.production_latency_ms.map_or("-".to_owned(), |q| format!("{:.1}", q.p99));
        writeln!(
            out,
            "| {} | {} | {} | {:.1} | {:.1} | {production} | {} | {} | {} |",
            markdown_code(&format!("{} {}", e.method, e.path)),
            thousands(e.requests),
            thousands(e.failures),
            e.latency_ms.p50,
            e.latency_ms.p99,
            crate::profile::status_classes::counts_text(&e.class_counts()),
            e.production_shares().map_or("-".to_owned(), |s| crate::profile::status_classes::shares_text(&s)),
            if e.production_statuses.is_empty() { "-".to_owned() } else { thousands(e.status_mismatches) }
        )?;
    }
    if endpoints.len() > 20 {
        writeln!(out, "\n{} more in report.html.", count(endpoints.len() as u64 - 20, "endpoint"))?;
    }
    Ok(())
}
