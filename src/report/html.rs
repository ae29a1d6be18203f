//! `report.html`: one self-contained page a person would rather look at
//! than read: the verdict and its thresholds, intended against achieved rate
//! over the run with the profile's segments shaded, latency percentiles over
//! time, the endpoints with production's latency beside staging's, failures
//! by class with an example each, requests not sent and why, and the
//! schedule lag. Charts are inline SVG; the page needs no script and no
//! network, and opens from disk.

use super::json::{Results, decode};
use super::junit::xml_escape as esc;
use super::svg::{Band, Series, line_chart};
use crate::units::{count, human_duration, thousands};
use std::fmt::Write;

const STYLE: &str = "
body { font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 24px auto; max-width: 900px; color: #1d2330; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid #dde2ea; padding-bottom: 4px; }
.verdict { display: inline-block; padding: 2px 10px; border-radius: 4px; font-weight: 600; color: #fff; }
.pass { background: #1f7a3d; } .fail { background: #b3261e; }
.muted { color: #5b6577; } table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: 4px 8px; border-bottom: 1px solid #eef1f5; } th:first-child, td:first-child { text-align: left; }
th { font-weight: 600; background: #f6f8fb; } td.bad { color: #b3261e; font-weight: 600; }
.classes { display: flex; width: 9em; height: 0.8em; background: #eee; margin: 2px 0; }
.classes span { display: block; height: 100%; }
.c1xx { background: #9aa0a6; } .c2xx { background: #2e7d32; } .c3xx { background: #1565c0; } .c4xx { background: #ef6c00; } .c5xx { background: #b3261e; }
.chart { width: 100%; height: auto; margin: 8px 0; } .chart-title { font-weight: 600; font-size: 13px; fill: #1d2330; }
.grid { stroke: #e6e9ef; } .tick, .legend, .band-label { font-size: 11px; fill: #5b6577; }
.band { fill: #4a6fa5; opacity: 0.07; } .band-bursty { fill: #d9822b; opacity: 0.12; } .band-ramp { fill: #6b4ea5; opacity: 0.10; }
code { background: #f2f4f8; padding: 1px 4px; border-radius: 3px; } td:first-child code { white-space: nowrap; }
";

/// Writes the page for `r` to `out`.
pub fn write_html(r: &Results, out: &mut dyn std::io::Write) -> Result<(), String> {
    out.write_all(page(r)?.as_bytes()).map_err(|e| e.to_string())
}

/// The page for `r`.
pub fn page(r: &Results) -> Result<String, String> {
    let mut page = String::with_capacity(64 * 1024);
    let verdict = r.verdict.clone().unwrap_or_default();
    let _ = write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>replay: {}</title><style>{STYLE}</style></head><body>",
        esc(&r.target)
    );
    let (class, word) = if verdict.passed { ("pass", "PASSED") } else { ("fail", "FAILED") };
    let t = &r.totals;
    let _ = write!(
        page,
        "<h1>replay against {} <span class=\"verdict {class}\" id=\"verdict\">{word}</span></h1>\
         <p class=\"muted\">Started {} · ran {} · {} intended, {} sent, {} not sent, {} failed, {} sent again{}</p>",
        esc(&r.target),
        esc(&r.started),
        human_duration(r.duration_s),
        count(t.intended, "request"),
        thousands(t.requests),
        thousands(t.not_sent),
        thousands(t.failures),
        thousands(t.retried),
        if r.interrupted { " · <strong>interrupted: partial results</strong>" } else { "" }
    );
    if let Some(plan) = &r.plan {
        let _ = write!(
            page,
            "<p class=\"muted\">Plan: <code>{}</code>, {}, speed ×{}, rate scale ×{}{}{}</p>",
            esc(&plan.source),
            esc(&plan.unit),
            plan.speed,
            plan.rate_scale,
            plan.max_rps.map_or(String::new(), |c| format!(", --max-rps {c}")),
            plan.length_s.map_or(", no end".to_owned(), |s| format!(", {} long", human_duration(s)))
        );
    }
    for reason in &verdict.reasons {
        let _ = write!(page, "<p><span class=\"verdict fail\">failed</span> {}</p>", esc(reason));
    }
    if !verdict.thresholds.is_empty() {
        page.push_str("<h2>Thresholds</h2><table id=\"thresholds\"><tr><th>threshold</th><th>measured</th><th>want</th><th></th></tr>");
        for j in &verdict.thresholds {
            let (class, word) = if j.passed { ("", "pass") } else { (" class=\"bad\"", "FAIL") };
            let _ = write!(
                page,
                "<tr><td><code>{}</code></td><td{class}>{}</td><td>{}</td><td{class}>{word}</td></tr>",
                esc(&j.threshold),
                esc(&j.measured_text),
                esc(&j.condition)
            );
        }
        page.push_str("</table>");
    }
    charts(r, &mut page)?;
    endpoints(r, &mut page);
    failures(r, &mut page);
    for w in &r.warnings {
        let _ = write!(page, "<p class=\"muted\">warning: {}</p>", esc(w));
    }
    page.push_str("<p class=\"muted\">Latency is measured from each request's intended send time, so a slow target or a busy generator shows as latency instead of hiding. Schedule lag is how late a request left against its intended time.</p></body></html>\n");
    Ok(page)
}

fn charts(r: &Results, page: &mut String) -> Result<(), String> {
    let period_s = r.period_s.max(1) as f64;
    let x_max = r.duration_s.max(r.periods.len() as f64 * period_s).max(1.0);
    let mid = |start: u64| start as f64 + period_s / 2.0;
    let bands: Vec<Band> = r.plan.iter().flat_map(|p| p.segments.iter().map(|s| (s.start_s, s.end_s, s.kind.clone()))).collect();
    let rate = |f: fn(&super::json::PeriodResult) -> u64| r.periods.iter().map(|p| (mid(p.start_s), f(p) as f64 / period_s)).collect();
    page.push_str("<h2>Rate</h2>");
    page.push_str(&line_chart(
        "intended and achieved requests a second",
        "requests a second",
        x_max,
        &[
            Series { name: "intended", color: "#8a94a6", points: rate(|p| p.intended.max(p.requests)) },
            Series { name: "achieved", color: "#2f6fdb", points: rate(|p| p.requests) },
            Series { name: "failed", color: "#b3261e", points: rate(|p| p.failures) },
        ],
        &bands,
    ));
    let mut quantiles: [Vec<(f64, f64)>; 3] = Default::default();
    for p in r.periods.iter().filter(|p| p.requests > 0) {
        let h = decode(&p.histogram)?;
        for (i, q) in [0.5, 0.9, 0.99].into_iter().enumerate() {
            quantiles[i].push((mid(p.start_s), h.value_at_quantile(q) as f64 / 1000.0));
        }
    }
    let [p50, p90, p99] = quantiles;
    page.push_str("<h2>Latency</h2>");
    page.push_str(&line_chart(
        "latency from the intended send time",
        "ms",
        x_max,
        &[
            Series { name: "p50", color: "#2f6fdb", points: p50 },
            Series { name: "p90", color: "#d9822b", points: p90 },
            Series { name: "p99", color: "#b3261e", points: p99 },
        ],
        &bands,
    ));
    let lag: Vec<(f64, f64)> = r.periods.iter().filter(|p| p.requests > 0).map(|p| (mid(p.start_s), p.lag_max_ms)).collect();
    let l = r.schedule_lag_ms;
    let _ = write!(
        page,
        "<h2>Schedule lag</h2><p class=\"muted\">p50 {:.2} ms · p99 {:.2} ms · max {:.2} ms: how late requests left against their intended time.</p>",
        l.p50, l.p99, l.max
    );
    page.push_str(&line_chart(
        "worst schedule lag in each period",
        "ms",
        x_max,
        &[Series { name: "lag max", color: "#6b4ea5", points: lag }],
        &bands,
    ));
    Ok(())
}

fn endpoints(r: &Results, page: &mut String) {
    page.push_str(
        "<h2>Endpoints</h2><table id=\"endpoints\"><tr><th>endpoint</th><th>requests</th><th>failed</th><th>rps</th>\
         <th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>max ms</th><th>production p50 ms</th><th>production p99 ms</th>\
         <th>statuses (staging, production)</th><th>status mismatches</th></tr>",
    );
    let mut rows: Vec<_> = r.endpoints.iter().collect();
    rows.sort_by(|a, b| b.requests.cmp(&a.requests).then_with(|| (&a.method, &a.path).cmp(&(&b.method, &b.path))));
    for e in rows {
        let l = e.latency_ms;
        let production =
            |f: fn(&crate::profile::Quantiles) -> f64| e.production_latency_ms.as_ref().map_or("-".to_owned(), |q| format!("{:.1}", f(q)));
        // Staging slower than production at p99 stands out.
        let slower = e.production_latency_ms.is_some_and(|q| l.p99 > q.p99 * 1.5);
        let _ = write!(
            page,
            "<tr><td><code>{} {}</code></td><td>{}</td><td{}>{}</td><td>{:.1}</td><td>{:.1}</td><td>{:.1}</td><td{}>{:.1}</td><td>{:.1}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td{}>{}</td></tr>",
            esc(&e.method),
            esc(&e.path),
            thousands(e.requests),
            if e.failures > 0 { " class=\"bad\"" } else { "" },
            thousands(e.failures),
            e.rps,
            l.p50,
            l.p90,
            if slower { " class=\"bad\"" } else { "" },
            l.p99,
            l.max,
            production(|q| q.p50),
            production(|q| q.p99),
            statuses(e),
            if e.status_mismatches > 0 { " class=\"bad\"" } else { "" },
            if e.production_statuses.is_empty() { "-".to_owned() } else { thousands(e.status_mismatches) }
        );
    }
    page.push_str("</table>");
}

/// Staging's status classes over production's, as two stacked bars with their shares in words.
fn statuses(e: &crate::report::json::EndpointResult) -> String {
    use crate::profile::status_classes::{CLASS_NAMES, counts_text, shares_text};
    let counts = e.class_counts();
    let total: u64 = counts.iter().sum();
    let bar = |shares: [f64; 5], who: &str, text: &str| {
        let mut bar = format!("<div class=\"classes\" title=\"{who}: {}\">", esc(text));
        for (share, name) in shares.iter().zip(CLASS_NAMES).filter(|(s, _)| **s > 0.0) {
            let _ = write!(bar, "<span class=\"c{name}\" style=\"width: {:.1}%\"></span>", share * 100.0);
        }
        bar.push_str("</div>");
        bar
    };
    let staging = counts.map(|c| c as f64 / total.max(1) as f64);
    let mut cell = bar(staging, "staging", &counts_text(&counts));
    let _ = write!(cell, "<small>{}</small>", esc(&counts_text(&counts)));
    if let Some(production) = e.production_shares() {
        cell.push_str(&bar(production, "production", &shares_text(&production)));
        let _ = write!(cell, "<small class=\"muted\">production: {}</small>", esc(&shares_text(&production)));
    }
    cell
}

fn failures(r: &Results, page: &mut String) {
    if !r.failures.is_empty() {
        page.push_str("<h2>Failures</h2><table id=\"failures\"><tr><th>class</th><th>requests</th><th>for example</th></tr>");
        for (class, n) in &r.failures {
            let example = r.failure_examples.get(class).map_or("", String::as_str);
            let _ = write!(page, "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", esc(class), thousands(*n), esc(example));
        }
        page.push_str("</table>");
    }
    if !r.not_sent.is_empty() || !r.left_out.is_empty() {
        page.push_str("<h2>Not sent</h2><table id=\"not-sent\"><tr><th>reason</th><th>requests</th></tr>");
        for (reason, n) in &r.not_sent {
            let _ = write!(page, "<tr><td>{}</td><td>{}</td></tr>", esc(&reason.replace('_', " ")), thousands(*n));
        }
        page.push_str("</table>");
        for left in &r.left_out {
            let _ = write!(page, "<p class=\"muted\">left out: {}</p>", esc(left));
        }
    }
}
