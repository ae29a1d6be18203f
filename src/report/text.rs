//! The table printed when a run ends: one line per endpoint, busiest first
//! (requests, failures, rate, p50/p90/p99/max, and production's p50/p99
//! beside staging's where the profile holds them, then the status classes
//! staging answered beside production's and the responses that differ from
//! them), then totals, failures by class, what was not sent and why, and the verdict.

use super::json::Results;
use crate::profile::status_classes::{counts_text, shares_text};
use crate::units::{count, human_duration, thousands};
use std::io::{self, Write};

/// The endpoint column's width.
const NAME: usize = 44;
/// The statuses column's width (`2xx 97%, 3xx 2.5%` fits).
const STATUSES: usize = 20;

/// `name` in fewer than `width` characters, shortened in the middle: the distinguishing tail of a path stays.
pub fn shorten(name: &str, width: usize) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= width || width < 8 {
        return name.to_owned();
    }
    let head: String = chars[..width / 2 - 1].iter().collect();
    let tail: String = chars[chars.len() - (width - width / 2 - 2)..].iter().collect();
    format!("{head}..{tail}")
}

/// Names that fit the column, shortened in the middle (the distinguishing
/// tail of a path stays), and never two alike: a clash gets its row number.
fn column_names(names: &[String]) -> Vec<String> {
    let short: Vec<String> = names.iter().map(|n| shorten(n, NAME)).collect();
    short
        .iter()
        .enumerate()
        .map(|(i, s)| {
            if short.iter().filter(|other| *other == s).count() > 1 {
                let tag = format!(" #{}", i + 1);
                let keep: String = s.chars().take(NAME - tag.chars().count()).collect();
                format!("{keep}{tag}")
            } else {
                s.clone()
            }
        })
        .collect()
}

pub fn write_table(r: &Results, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "{:<NAME$} {:>9} {:>8} {:>9} {:>8} {:>8} {:>8} {:>8}   {:>9} {:>9}   {:>8}  {:<STATUSES$} {}",
        "endpoint",
        "requests",
        "failed",
        "rps",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "prod p50",
        "prod p99",
        "mismatch",
        "statuses",
        "prod statuses"
    )?;
    let mut rows: Vec<_> = r.endpoints.iter().collect();
    rows.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| (&a.method, &a.path).cmp(&(&b.method, &b.path))));
    let names = column_names(
        &rows.iter().map(|e| crate::untrusted::terminal(&format!("{} {}", e.method, e.path)).into_owned()).collect::<Vec<_>>(),
    );
    for (e, name) in rows.iter().zip(&names) {
        let l = e.latency_ms;
        let production =
            |f: fn(&crate::profile::Quantiles) -> f64| e.production_latency_ms.as_ref().map_or("-".to_owned(), |q| format!("{:.2}", f(q)));
        let pad = NAME.saturating_sub(name.chars().count());
        writeln!(
            out,
            "{name}{:pad$} {:>9} {:>8} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2}   {:>9} {:>9}   {:>8}  {:<STATUSES$} {}",
            "",
            e.requests,
            e.failures,
            e.rps,
            l.p50,
            l.p90,
            l.p99,
            l.max,
            production(|q| q.p50),
            production(|q| q.p99),
            if e.production_statuses.is_empty() { "-".to_owned() } else { e.status_mismatches.to_string() },
            counts_text(&e.class_counts()),
            e.production_shares().map_or("-".to_owned(), |s| shares_text(&s))
        )?;
    }
    let t = &r.totals;
    let l = r.latency_ms;
    let rps = if r.duration_s > 0.0 { t.requests as f64 / r.duration_s } else { 0.0 };
    let judged = r.endpoints.iter().any(|e| !e.production_statuses.is_empty());
    writeln!(
        out,
        "{:<NAME$} {:>9} {:>8} {:>9.1} {:>8.2} {:>8.2} {:>8.2} {:>8.2}   {:>9} {:>9}   {:>8}",
        "all",
        t.requests,
        t.failures,
        rps,
        l.p50,
        l.p90,
        l.p99,
        l.max,
        "",
        "",
        if judged { t.status_mismatches.to_string() } else { "-".to_owned() }
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
    if t.users > 0 {
        let most = r.periods.iter().map(|p| p.users).max().unwrap_or(0);
        let cut = if t.steps_cut_off > 0 {
            format!("; {} of users still walking at the end never came due (planned, not intended)", count(t.steps_cut_off, "later step"))
        } else {
            String::new()
        };
        writeln!(out, "virtual users: {} started, at most {} at once{cut}", thousands(t.users), thousands(most))?;
    }
    if t.held_back > 0 {
        writeln!(out, "held back by --max-rps: {} (sent late, which their latency shows)", count(t.held_back, "request"))?;
    }
    if t.status_mismatches > 0 {
        writeln!(
            out,
            "status mismatches: {} ({:.1}%) in a class production answered on their endpoint less than 1% of the time",
            count(t.status_mismatches, "response"),
            t.status_mismatches as f64 * 100.0 / t.requests.max(1) as f64
        )?;
    }
    if t.retried > 0 {
        writeln!(
            out,
            "retried on a new connection: {} (the target closed or refused the stream before processing it)",
            count(t.retried, "request")
        )?;
    }
    for endpoint in &r.left_out {
        writeln!(out, "left out: {}", crate::untrusted::terminal(endpoint))?;
    }
    if t.synthetic > 0 {
        writeln!(
            out,
            "synthetic values: {} carried one, for {} (the logs' values were redacted; --var gives real ones)",
            count(t.synthetic, "request"),
            r.synthetic.iter().map(|s| s.split(" on ").next().unwrap_or(s)).collect::<Vec<_>>().join(", ")
        )?;
    }
    if !r.failures.is_empty() {
        let classes: Vec<String> = r.failures.iter().map(|(k, v)| format!("{k} {v}")).collect();
        writeln!(out, "failures: {}", classes.join(", "))?;
        for (class, example) in &r.failure_examples {
            writeln!(out, "  {}, e.g.: {}", crate::untrusted::terminal(class), crate::untrusted::terminal(example))?;
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
        let (threshold, measured, condition) = (
            crate::untrusted::terminal(&j.threshold),
            crate::untrusted::terminal(&j.measured_text),
            crate::untrusted::terminal(&j.condition),
        );
        writeln!(out, "threshold {mark}: {threshold}: measured {measured}, want {condition}{window}")?;
    }
    for reason in &v.reasons {
        writeln!(out, "failed: {}", crate::untrusted::terminal(reason))?;
    }
    let how = if v.passed { "PASSED" } else { "FAILED" };
    let judged = if v.thresholds.is_empty() {
        super::json::DEFAULT_VERDICT.to_owned()
    } else {
        format!("{} of {} passed", v.thresholds.iter().filter(|j| j.passed).count(), count(v.thresholds.len() as u64, "threshold"))
    };
    writeln!(out, "verdict: {how} ({judged})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_names_keep_their_tails_and_never_clash() {
        let names: Vec<String> = [
            "GET /api/v2/organisations/{id}/projects/{id2}/members/active",
            "GET /api/v2/organisations/{id}/projects/{id2}/members/invited",
            "GET /ünïcödé/ünïcödé/ünïcödé/ünïcödé/ünïcödé/ünïcödé/x",
            "GET /short",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let short = column_names(&names);
        assert!(short.iter().all(|s| s.chars().count() <= NAME), "{short:?}");
        assert!(short[0].ends_with("members/active") && short[1].ends_with("members/invited"), "{short:?}");
        assert_eq!(short[3], "GET /short");
        let same: Vec<String> = vec![format!("GET /{}a", "x".repeat(60)), format!("GET /{}a", "x".repeat(61))];
        let short = column_names(&same);
        assert_ne!(short[0], short[1], "{short:?}");
    }
}
