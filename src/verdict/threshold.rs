//! The threshold grammar: what `--threshold` and a profile's `thresholds`
//! say, parsed once into a [`Threshold`].
//!
//! ```text
//! [ENDPOINT ':'] METRIC ['[' WINDOW ']'] OP VALUE
//!
//! p99<300ms                      latency: p50 p90 p95 p99 p99.9 max mean, in us, ms or s
//! errors<1%                      failed requests, as a share of those sent
//! http_5xx<0.1%                  one failure class: connect timeout reset tls http_4xx http_5xx login_failed other
//! not_sent<1%                    intended requests that were not sent
//! status_mismatch<1%             responses in a status class production rarely answered there
//! rps>=0.99*intended             delivery: requests sent against those intended (or rps>=100)
//! GET /users/{id}: p99<250ms     one endpoint, by its template
//! p99[1m]<400ms                  every window of a minute of the run, not only the whole
//! ```

use std::fmt;
use std::time::Duration;

/// What a threshold measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Metric {
    /// Latency from the intended send time at a quantile (0.5 … 0.999), in microseconds.
    Quantile(f64),
    Max,
    Mean,
    /// Failed requests over requests sent; `Some(class)` for one failure class.
    Errors(Option<&'static str>),
    /// Intended requests not sent, over those intended.
    NotSent,
    /// Responses whose status class production rarely answered on their endpoint, over requests sent.
    StatusMismatch,
    /// Requests sent per second, or (with `of_intended`) as a share of those intended.
    Rps,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Op {
    pub fn holds(self, measured: f64, limit: f64) -> bool {
        match self {
            Op::Less => measured < limit,
            Op::LessOrEqual => measured <= limit,
            Op::Greater => measured > limit,
            Op::GreaterOrEqual => measured >= limit,
        }
    }

    fn text(self) -> &'static str {
        match self {
            Op::Less => "<",
            Op::LessOrEqual => "<=",
            Op::Greater => ">",
            Op::GreaterOrEqual => ">=",
        }
    }
}

/// The failure classes a threshold may name, as results.json names them.
fn classes() -> impl Iterator<Item = &'static str> {
    crate::client::Failure::ALL.into_iter().map(crate::client::Failure::name)
}

/// One parsed threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// As written, for reports.
    pub text: String,
    /// `GET /users/{id}`, or `None` for the whole run.
    pub endpoint: Option<String>,
    pub metric: Metric,
    /// Judged over every window this long, as well as it can be cut from the run's periods.
    pub window: Option<Duration>,
    pub op: Op,
    /// Microseconds for latency, a fraction (0.01 for 1%) for rates, requests a second or a share of intended for rps.
    pub limit: f64,
    /// `rps>=0.99*intended`: the limit is a share of the intended requests.
    pub of_intended: bool,
}

/// What `--threshold` takes, for error messages.
pub const FORMS: &str =
    "e.g. 'p99<300ms', 'errors<1%', 'http_5xx<0.1%', 'rps>=0.99*intended', 'GET /users/{id}: p99<250ms', 'p99[1m]<400ms'";

fn metric(name: &str) -> Option<Metric> {
    let quantile = |q: f64| Some(Metric::Quantile(q));
    match name {
        "p50" | "median" => quantile(0.5),
        "p90" => quantile(0.9),
        "p95" => quantile(0.95),
        "p99" => quantile(0.99),
        "p99.9" => quantile(0.999),
        "max" => Some(Metric::Max),
        "mean" | "avg" => Some(Metric::Mean),
        "errors" => Some(Metric::Errors(None)),
        "not_sent" => Some(Metric::NotSent),
        "status_mismatch" | "status_mismatches" => Some(Metric::StatusMismatch),
        "rps" => Some(Metric::Rps),
        class => classes().find(|c| *c == class).map(|c| Metric::Errors(Some(c))),
    }
}

/// The longest latency a run measures (its histograms' range: an hour), microseconds.
const MAX_LATENCY_US: f64 = 3_600_000_000.0;

/// `300ms`, `1.5s`, `250us` as microseconds.
fn latency_us(value: &str) -> Option<f64> {
    let (number, scale) = if let Some(n) = value.strip_suffix("ms") {
        (n, 1e3)
    } else if let Some(n) = value.strip_suffix("us").or_else(|| value.strip_suffix("µs")) {
        (n, 1.0)
    } else if let Some(n) = value.strip_suffix('s') {
        (n, 1e6)
    } else {
        return None;
    };
    number.trim().parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).map(|v| v * scale)
}

impl Threshold {
    pub fn parse(text: &str) -> Result<Threshold, String> {
        let text = text.trim();
        let bad = |why: &str| format!("threshold `{text}`: {why}; {FORMS}");
        // The endpoint is what stands before the last ':' after which a metric follows.
        let (endpoint, rule) = match text.rfind(':') {
            Some(at) if text[at + 1..].trim_start().starts_with(|c: char| c.is_ascii_alphabetic()) && text[..at].contains(' ') => {
                (Some(text[..at].trim().to_owned()), text[at + 1..].trim())
            }
            _ => (None, text),
        };
        if let Some(e) = &endpoint {
            let (method, path) = e.split_once(' ').unwrap_or((e, ""));
            if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) || !(path.starts_with('/') || path == "*") {
                return Err(bad(&format!("`{e}` is not an endpoint (METHOD /path, as the run's table names it)")));
            }
        }
        let op_at = rule.find(['<', '>']).ok_or_else(|| bad("no comparison (<, <=, > or >=)"))?;
        let (left, right) = rule.split_at(op_at);
        let (op, value) = match right.as_bytes() {
            [b'<', b'=', ..] => (Op::LessOrEqual, &right[2..]),
            [b'>', b'=', ..] => (Op::GreaterOrEqual, &right[2..]),
            [b'<', ..] => (Op::Less, &right[1..]),
            _ => (Op::Greater, &right[1..]),
        };
        let (name, window) = match left.trim().split_once('[') {
            Some((name, w)) => {
                let w = w.strip_suffix(']').ok_or_else(|| bad("a window is written [1m]"))?;
                let window =
                    crate::units::parse_duration(w).map_err(|_| bad(&format!("`{w}` is not a window; write e.g. [30s] or [1m]")))?;
                if window.is_zero() {
                    return Err(bad("a window must be longer than zero"));
                }
                (name.trim(), Some(window))
            }
            None => (left.trim(), None),
        };
        let metric = metric(name).ok_or_else(|| {
            bad(&format!(
                "`{name}` is not a metric: p50 p90 p95 p99 p99.9 max mean, errors, not_sent, status_mismatch, rps, or a class ({})",
                classes().collect::<Vec<_>>().join(" ")
            ))
        })?;
        if metric == Metric::StatusMismatch && window.is_some() {
            return Err(bad("status_mismatch is judged over the whole run (or one endpoint), not by window"));
        }
        let value = value.trim();
        let (limit, of_intended) = match metric {
            Metric::Quantile(_) | Metric::Max | Metric::Mean => {
                let us = latency_us(value).ok_or_else(|| bad(&format!("`{value}` is not a latency; give a unit: 300ms, 1.5s or 250us")))?;
                if us > MAX_LATENCY_US {
                    return Err(bad(&format!("`{value}` is past an hour, the longest latency a run measures")));
                }
                (us, false)
            }
            Metric::Errors(_) | Metric::NotSent | Metric::StatusMismatch => {
                let percent =
                    value.strip_suffix('%').ok_or_else(|| bad(&format!("`{value}` is not a rate; write a percentage such as 1%")))?;
                let v: f64 = percent
                    .trim()
                    .parse()
                    .ok()
                    .filter(|v: &f64| (0.0..=100.0).contains(v))
                    .ok_or_else(|| bad("a rate is from 0% to 100%"))?;
                // Below one request in ten million, a share rounds to none for any run this size: say so.
                if v > 0.0 && v < 1e-5 {
                    return Err(bad(&format!("`{value}` rounds to zero for any run under ten million requests; write <=0% to allow none")));
                }
                if v == 0.0 && op == Op::Less {
                    return Err(bad(&format!("`<{value}` can never pass; write <=0% to allow none")));
                }
                (v / 100.0, false)
            }
            Metric::Rps => match value.strip_suffix("*intended") {
                Some(share) => {
                    let v: f64 = share
                        .trim()
                        .parse()
                        .ok()
                        .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                        .ok_or_else(|| bad("write e.g. rps>=0.99*intended"))?;
                    (v, true)
                }
                None => (
                    value
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.is_finite() && *v >= 0.0)
                        .ok_or_else(|| bad(&format!("`{value}` is not a rate in requests a second")))?,
                    false,
                ),
            },
        };
        Ok(Threshold { text: text.to_owned(), endpoint, metric, window, op, limit, of_intended })
    }

    /// Whether lower is better (a ceiling), as for latency and errors; false for a floor such as `rps>=`.
    pub fn is_ceiling(&self) -> bool {
        matches!(self.op, Op::Less | Op::LessOrEqual)
    }

    /// A measured value in the threshold's own units (`412.0 ms`, `1.20%`, `98.5% of intended`).
    pub fn show(&self, value: f64) -> String {
        match self.metric {
            Metric::Quantile(_) | Metric::Max | Metric::Mean => format!("{:.1} ms", value / 1000.0),
            Metric::Errors(_) | Metric::NotSent | Metric::StatusMismatch => format!("{:.2}%", value * 100.0),
            Metric::Rps if self.of_intended => format!("{:.1}% of intended", value * 100.0),
            Metric::Rps => format!("{value:.1} rps"),
        }
    }

    /// The limit as a condition: `< 300.0 ms`.
    pub fn condition(&self) -> String {
        format!("{} {}", self.op.text(), self.show(self.limit))
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar_reads_every_form() {
        let t = Threshold::parse("p99<300ms").unwrap();
        assert_eq!((t.metric, t.op, t.limit, t.endpoint.clone(), t.window), (Metric::Quantile(0.99), Op::Less, 300_000.0, None, None));
        let t = Threshold::parse("errors<1%").unwrap();
        assert_eq!((t.metric, t.limit), (Metric::Errors(None), 0.01));
        let t = Threshold::parse("http_5xx <= 0.1%").unwrap();
        assert_eq!((t.metric, t.op), (Metric::Errors(Some("http_5xx")), Op::LessOrEqual));
        assert!((t.limit - 0.001).abs() < 1e-12);
        let t = Threshold::parse("rps>=0.99*intended").unwrap();
        assert_eq!((t.metric, t.op, t.limit, t.of_intended), (Metric::Rps, Op::GreaterOrEqual, 0.99, true));
        let t = Threshold::parse("rps>100").unwrap();
        assert_eq!((t.limit, t.of_intended), (100.0, false));
        let t = Threshold::parse("GET /users/{id}: p99<250ms").unwrap();
        assert_eq!((t.endpoint.as_deref(), t.limit), (Some("GET /users/{id}"), 250_000.0));
        let t = Threshold::parse("p99[1m]<400ms").unwrap();
        assert_eq!(t.window, Some(Duration::from_secs(60)));
        let t = Threshold::parse("GET /a:b: p99.9<1.5s").unwrap();
        assert_eq!((t.endpoint.as_deref(), t.metric, t.limit), (Some("GET /a:b"), Metric::Quantile(0.999), 1_500_000.0));
        assert_eq!(Threshold::parse("mean<250us").unwrap().limit, 250.0);
        assert_eq!(Threshold::parse("not_sent<0.5%").unwrap().metric, Metric::NotSent);
        assert_eq!(Threshold::parse("errors<=0%").unwrap().limit, 0.0);
        let t = Threshold::parse("status_mismatch<1%").unwrap();
        assert_eq!((t.metric, t.limit), (Metric::StatusMismatch, 0.01));
        assert_eq!(Threshold::parse("login_failed<=0%").unwrap().metric, Metric::Errors(Some("login_failed")));
    }

    #[test]
    fn bad_thresholds_say_what_is_wrong_and_the_expected_form() {
        let table = [
            ("p99<300", "give a unit"),
            ("p98<300ms", "`p98` is not a metric"),
            ("erors<1%", "`erors` is not a metric"),
            ("errors<1", "write a percentage"),
            ("errors<120%", "from 0% to 100%"),
            ("p99 300ms", "no comparison"),
            ("p99[0s]<1s", "longer than zero"),
            ("p99[soon]<1s", "is not a window"),
            ("get /x: p99<1s", "is not an endpoint"),
            ("rps>=lots", "requests a second"),
            ("p99<1e305s", "past an hour"),
            ("max<3601s", "past an hour"),
            ("errors<0.0000001%", "rounds to zero"),
            ("errors<0%", "can never pass"),
        ];
        for (text, why) in table {
            let err = Threshold::parse(text).unwrap_err();
            assert!(err.contains(why) && err.contains("e.g. 'p99<300ms'"), "{text}: {err}");
        }
    }
}
