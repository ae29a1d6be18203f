//! `replay compare`: a run against a baseline, endpoint by endpoint (p50,
//! p99, error rate). A change is a regression only when it is beyond the
//! tolerance *and* beyond what the two runs' own spread says is noise:
//!
//! - latency: worse by more than `tolerance` of the baseline, by at least a
//!   floor (2 ms at p50, 5 ms at p99: an unchanged rerun on a busy 2-core CI
//!   runner moved p99 by 4 ms on loopback), by more than three times the
//!   larger run's spread (the standard deviation of the quantile across the
//!   run's periods), and with the current run's lower confidence bound above
//!   the baseline's upper one (each quantile's bound from its own sample
//!   size: `q ± 2·sqrt(q(1-q)/n)`);
//! - errors: the rate higher by more than `tolerance` of the baseline rate
//!   and 0.1 percentage points, and significant (two-proportion z > 2).

use super::json::{Results, decode};
use hdrhistogram::Histogram;

/// One metric of one endpoint, before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// `GET /users/{id}`, or `all`.
    pub endpoint: String,
    /// `p50`, `p99` or `errors`.
    pub metric: &'static str,
    /// Milliseconds for latency, a fraction for errors.
    pub baseline: f64,
    pub current: f64,
    pub regression: bool,
    /// Why it is or is not a regression, in words.
    pub why: String,
}

/// The quantile's value and its confidence bounds from the sample size, in microseconds.
fn bounds(h: &Histogram<u64>, q: f64) -> (f64, f64, f64) {
    let n = h.len().max(1) as f64;
    let d = 2.0 * (q * (1.0 - q) / n).sqrt();
    let at = |q: f64| h.value_at_quantile(q.clamp(0.0, 1.0)) as f64;
    (at(q - d), at(q), at(q + d))
}

/// The standard deviation of the quantile across a run's periods (with at least 20 requests each), microseconds.
fn spread(r: &Results, q: f64) -> Result<f64, String> {
    let mut values = Vec::new();
    for p in r.periods.iter().filter(|p| p.requests >= 20) {
        values.push(decode(&p.histogram)?.value_at_quantile(q) as f64);
    }
    if values.len() < 2 {
        return Ok(0.0);
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    Ok((values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (values.len() - 1) as f64).sqrt())
}

/// Latency changes under this (µs) are jitter, whatever the spread says: at p50, and at p99.
const FLOOR_P50_US: f64 = 2_000.0;
const FLOOR_P99_US: f64 = 5_000.0;

fn latency_change(
    endpoint: &str,
    metric: &'static str,
    q: f64,
    b: &Histogram<u64>,
    c: &Histogram<u64>,
    noise_us: f64,
    tolerance: f64,
) -> Change {
    let (_, base, b_hi) = bounds(b, q);
    let (c_lo, cur, _) = bounds(c, q);
    let delta = cur - base;
    let floor = if q >= 0.99 { FLOOR_P99_US } else { FLOOR_P50_US };
    let noise = 3.0 * noise_us;
    let (beyond_tolerance, beyond_floor, beyond_noise, beyond_bounds) =
        (delta > tolerance * base, delta >= floor, delta > noise, c_lo > b_hi);
    let regression = beyond_tolerance && beyond_floor && beyond_noise && beyond_bounds;
    let why = if regression {
        format!(
            "+{:.1} ms: beyond the tolerance, {:.0} ms, the runs' spread ({:.1} ms) and the quantiles' bounds",
            delta / 1000.0,
            floor / 1000.0,
            noise / 1000.0
        )
    } else if delta <= 0.0 {
        "no slower".to_owned()
    } else if !beyond_tolerance {
        "within the tolerance".to_owned()
    } else if !beyond_floor {
        format!("under {:.0} ms", floor / 1000.0)
    } else if !beyond_noise {
        format!("within the runs' own spread ({:.1} ms)", noise / 1000.0)
    } else {
        "within the quantiles' confidence bounds".to_owned()
    };
    Change { endpoint: endpoint.to_owned(), metric, baseline: base / 1000.0, current: cur / 1000.0, regression, why }
}

fn error_change(endpoint: &str, (bf, bn): (u64, u64), (cf, cn): (u64, u64), tolerance: f64) -> Change {
    let rate = |f: u64, n: u64| if n == 0 { 0.0 } else { f as f64 / n as f64 };
    let (b, c) = (rate(bf, bn), rate(cf, cn));
    let pooled = rate(bf + cf, bn + cn);
    let se = (pooled * (1.0 - pooled) * (1.0 / bn.max(1) as f64 + 1.0 / cn.max(1) as f64)).sqrt();
    let z = if se > 0.0 { (c - b) / se } else { 0.0 };
    let regression = c - b > (tolerance * b).max(0.001) && z > 2.0;
    let why = if regression {
        format!("+{:.2} points, significant (z {z:.1})", (c - b) * 100.0)
    } else if c <= b {
        "no more errors".to_owned()
    } else {
        format!("+{:.2} points, within the tolerance or the noise (z {z:.1})", (c - b) * 100.0)
    };
    Change { endpoint: endpoint.to_owned(), metric: "errors", baseline: b, current: c, regression, why }
}

/// Every endpoint both runs have (and `all`), for p50, p99 and errors.
pub fn compare(baseline: &Results, current: &Results, tolerance: f64) -> Result<Vec<Change>, String> {
    let noise = |q: f64| -> Result<f64, String> { Ok(spread(baseline, q)?.max(spread(current, q)?)) };
    let (noise50, noise99) = (noise(0.5)?, noise(0.99)?);
    let mut changes = Vec::new();
    let mut pair = |name: &str, b: &Histogram<u64>, c: &Histogram<u64>, errors: ((u64, u64), (u64, u64))| {
        changes.push(latency_change(name, "p50", 0.5, b, c, noise50, tolerance));
        changes.push(latency_change(name, "p99", 0.99, b, c, noise99, tolerance));
        changes.push(error_change(name, errors.0, errors.1, tolerance));
    };
    let overall =
        |r: &Results| r.histograms.get("latency").ok_or_else(|| "results.json has no latency histogram".to_owned()).and_then(|h| decode(h));
    pair(
        "all",
        &overall(baseline)?,
        &overall(current)?,
        ((baseline.totals.failures, baseline.totals.requests), (current.totals.failures, current.totals.requests)),
    );
    for c in &current.endpoints {
        let Some(b) = baseline.endpoints.iter().find(|b| b.method == c.method && b.path == c.path) else { continue };
        pair(
            &format!("{} {}", c.method, c.path),
            &decode(&b.histogram)?,
            &decode(&c.histogram)?,
            ((b.failures, b.requests), (c.failures, c.requests)),
        );
    }
    Ok(changes)
}

/// The changes as a Markdown table.
pub fn markdown(changes: &[Change], tolerance: f64) -> String {
    let regressions = changes.iter().filter(|c| c.regression).count();
    let mut out = format!(
        "### replay compare: {} (tolerance {:.0}%)\n\n| endpoint | metric | baseline | current | |\n|---|---|---:|---:|---|\n",
        if regressions == 0 { "no regression".to_owned() } else { crate::units::count(regressions as u64, "regression") },
        tolerance * 100.0
    );
    for c in changes {
        let show = |v: f64| if c.metric == "errors" { format!("{:.2}%", v * 100.0) } else { format!("{v:.2} ms") };
        let mark = if c.regression { "**REGRESSION**: " } else { "" };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {mark}{} |\n",
            crate::untrusted::markdown_code(&c.endpoint),
            c.metric,
            show(c.baseline),
            show(c.current),
            crate::untrusted::terminal(&c.why).replace('|', "\\|")
        ));
    }
    out
}

/// The changes as a self-contained HTML page.
pub fn html(changes: &[Change], tolerance: f64) -> String {
    use super::junit::xml_escape as esc;
    let regressions = changes.iter().filter(|c| c.regression).count();
    let mut rows = String::new();
    for c in changes {
        let show = |v: f64| if c.metric == "errors" { format!("{:.2}%", v * 100.0) } else { format!("{v:.2} ms") };
        let class = if c.regression { " class=\"bad\"" } else { "" };
        rows.push_str(&format!(
            "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td{class}>{}</td><td{class}>{}</td></tr>",
            esc(&c.endpoint),
            c.metric,
            show(c.baseline),
            show(c.current),
            esc(&c.why)
        ));
    }
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>replay compare</title><style>\
         body {{ font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 900px; }} table {{ border-collapse: collapse; width: 100%; }}\
         th, td {{ padding: 4px 8px; border-bottom: 1px solid #eef1f5; text-align: left; }} .bad {{ color: #b3261e; font-weight: 600; }}\
         </style></head><body><h1>replay compare: {} (tolerance {:.0}%)</h1><table id=\"changes\"><tr><th>endpoint</th><th>metric</th>\
         <th>baseline</th><th>current</th><th></th></tr>{rows}</table></body></html>\n",
        if regressions == 0 { "no regression".to_owned() } else { crate::units::count(regressions as u64, "regression") },
        tolerance * 100.0
    )
}
