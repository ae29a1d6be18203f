//! `--fail-on`: the conditions a diff is judged by, in the threshold grammar
//! where it fits. A change counts only when it is beyond what the sample
//! sizes explain (see `mix.rs`).
//!
//! ```text
//! mix<0.05                  the mixes' total variation distance (beyond noise)
//! peak<+20%  mean<+20%  p95<+20%  total<+20%    the new rate against the base's: growth under 20%
//! peak>-20%                 a drop under 20%
//! correlation>0.9           the curves' shape, aligned
//! statuses<0.05             how far the status classes over all requests moved (a redirect where there was a page)
//! GET /search: p99<+25%     one endpoint's production latency (p50 or p99)
//! ```

use super::Diff;

/// The conditions used when none is given.
pub const DEFAULTS: [&str; 5] = ["mix<0.05", "peak<+50%", "peak>-50%", "correlation>0.8", "statuses<0.05"];

#[derive(Debug, Clone, PartialEq)]
enum Measure {
    Mix,
    Rate(&'static str),
    Correlation,
    Statuses,
    Latency(String, &'static str),
}

/// One parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Condition {
    pub text: String,
    measure: Measure,
    below: bool,
    limit: f64,
}

/// A condition judged: what was measured, and whether it holds.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Judged {
    pub condition: String,
    pub measured: String,
    pub holds: bool,
}

const FORMS: &str = "e.g. 'mix<0.05', 'peak<+20%', 'mean>-20%', 'correlation>0.9', 'GET /search: p99<+25%'";

impl Condition {
    pub fn parse(text: &str) -> Result<Condition, String> {
        let bad = |why: &str| format!("--fail-on `{text}`: {why}; {FORMS}");
        let (endpoint, rule) = match text.rsplit_once(": ") {
            Some((e, r)) => (Some(e.trim().to_owned()), r.trim()),
            None => (None, text.trim()),
        };
        let at = rule.find(['<', '>']).ok_or_else(|| bad("no comparison (< or >)"))?;
        let (name, value) = (rule[..at].trim(), rule[at + 1..].trim());
        let below = rule.as_bytes()[at] == b'<';
        let percent = |v: &str| -> Result<f64, String> {
            let n = v.strip_suffix('%').ok_or_else(|| bad("a change is a percentage, +20% or -20%"))?;
            n.trim().parse::<f64>().ok().filter(|n| n.is_finite()).map(|n| n / 100.0).ok_or_else(|| bad("not a percentage"))
        };
        let number = |v: &str| v.parse::<f64>().ok().filter(|n| n.is_finite()).ok_or_else(|| bad("not a number"));
        let (measure, limit) = match (endpoint, name) {
            (Some(e), "p50" | "p99") => (Measure::Latency(e, if name == "p50" { "p50" } else { "p99" }), percent(value)?),
            (Some(_), _) => return Err(bad("an endpoint's condition is on its p50 or p99")),
            (None, "mix") => (Measure::Mix, number(value)?),
            (None, "correlation") => (Measure::Correlation, number(value)?),
            (None, "statuses") => (Measure::Statuses, number(value)?),
            (None, "peak") => (Measure::Rate("peak"), percent(value)?),
            (None, "mean") => (Measure::Rate("mean"), percent(value)?),
            (None, "p95") => (Measure::Rate("p95"), percent(value)?),
            (None, "total") => (Measure::Rate("total"), percent(value)?),
            (None, other) => return Err(bad(&format!("`{other}` is not a measure"))),
        };
        Ok(Condition { text: text.trim().to_owned(), measure, below, limit })
    }

    /// Judges the condition on `d`; what cannot be measured (no latency in a profile) holds, saying so.
    pub fn judge(&self, d: &Diff) -> Judged {
        let holds = |v: f64| if self.below { v < self.limit } else { v > self.limit };
        let change = |base: f64, new: f64| {
            if base > 0.0 {
                new / base - 1.0
            } else if new > 0.0 {
                f64::INFINITY
            } else {
                0.0
            }
        };
        let (measured, ok) = match &self.measure {
            Measure::Mix => {
                let v = d.mix.distance;
                // A distance within noise is no change, whatever its size.
                (format!("{v:.4}{}", if d.mix.beyond_noise() { "" } else { " (within noise)" }), holds(v) || !d.mix.beyond_noise())
            }
            Measure::Correlation => match d.curve.correlation {
                Some(v) => (format!("{v:.3}"), holds(v)),
                None => ("not measurable: the curves share under three bins".to_owned(), true),
            },
            Measure::Statuses => match d.status_distance {
                Some(v) => (format!("{v:.4}"), holds(v)),
                None => ("not measurable: a profile holds no statuses".to_owned(), true),
            },
            Measure::Rate(which) => {
                let (a, b) = (&d.curve.base, &d.curve.new);
                let (x, y) = match *which {
                    "peak" => (a.peak_rps, b.peak_rps),
                    "mean" => (a.mean_rps, b.mean_rps),
                    "p95" => (a.p95_rps, b.p95_rps),
                    _ => (a.total as f64, b.total as f64),
                };
                let v = change(x, y);
                (format!("{:+.1}%", v * 100.0), holds(v))
            }
            Measure::Latency(endpoint, which) => {
                let row = d.endpoints.iter().find(|e| &e.endpoint == endpoint);
                let pair = row.and_then(|r| if *which == "p50" { r.p50_ms } else { r.p99_ms });
                match pair {
                    Some((x, y)) => {
                        let v = change(x, y);
                        (format!("{:+.1}% ({x:.1} → {y:.1} ms)", v * 100.0), holds(v))
                    }
                    None => (format!("not measurable: {endpoint} has no production latency in both"), true),
                }
            }
        };
        Judged { condition: self.text.clone(), measured, holds: ok }
    }
}
