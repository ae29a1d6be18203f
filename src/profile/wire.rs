//! The profile's JSON wire format, version 1: what `derive` writes, what
//! people review in pull requests, what `run` reads. Every field is
//! documented with an example in docs/profile.md; unknown fields are
//! rejected when a profile is loaded.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The profile schema version this build writes and reads.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub version: u32,
    /// Where a derived profile came from; hand-written profiles have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    pub endpoints: Vec<Endpoint>,
    pub arrival: Arrival,
    #[serde(default)]
    pub segments: Vec<Segment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Sessions>,
    /// Thresholds every run of this profile is judged by (`p99<300ms`, `errors<1%`), beside any `--threshold`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub thresholds: Vec<String>,
}

/// The logs read and what was made of their lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub files: Vec<String>,
    /// The format name (`combined`, `nginx`, `w3c`…); formats joined by `+` when inputs differ.
    pub format: String,
    /// Physical lines read.
    pub lines: u64,
    /// Lines parsed as HTTP requests.
    pub records: u64,
    /// Lines a server logged for connections that never sent an HTTP request
    /// (a TLS handshake on a plain-HTTP port, an SSH banner, a bare `-`): never replayed.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_requests: u64,
    /// Header, comment, blank and other non-request lines.
    pub skipped: u64,
    /// Lines that should have been requests but did not parse.
    pub rejected: u64,
    /// Requests left out of the profile: by --since/--until/--exclude/--host-filter,
    /// or without a time or a request line to replay.
    #[serde(default)]
    pub excluded: u64,
    /// The earliest and latest request time, RFC 3339 UTC (input need not be sorted).
    pub first: Option<String>,
    pub last: Option<String>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One method and path template.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    pub method: String,
    /// A path template: `/users/{id}`; `{name}` parts are filled from `params` or `--var`.
    pub path: String,
    /// This endpoint's share of requests; the weights of a profile sum to 1.
    pub weight: f64,
    /// Requests seen in the logs (0 in hand-written profiles).
    #[serde(default)]
    pub count: u64,
    /// Sampled real values for each sampled `{name}` in the path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, Vec<String>>,
    /// For redacted values (`{token}`, `{email}`, a secret query key's): the shapes
    /// of the real ones (`{hex:8}-{hex:4}`), from which `run` makes synthetic
    /// values when no `--var` gives one. Never a value.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub shapes: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub query: Vec<QueryKey>,
    /// Share of each status code.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub status: BTreeMap<String, f64>,
    /// Response size quantiles, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<Quantiles>,
    /// Production latency quantiles, milliseconds, where the log records durations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<Quantiles>,
    /// A request body to send (hand-written profiles: a login form).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Body>,
    /// Sent once at the start of each session (a login), not drawn by weight.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub once_per_session: bool,
    /// The folded long tail: its concrete paths are in `examples`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tail: bool,
    /// Concrete paths (secrets redacted) for the tail entry.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

impl Endpoint {
    /// An endpoint with only its method, path and weight.
    pub fn new(method: &str, path: &str, weight: f64) -> Self {
        Endpoint {
            method: method.to_owned(),
            path: path.to_owned(),
            weight,
            count: 0,
            params: BTreeMap::new(),
            shapes: BTreeMap::new(),
            query: Vec::new(),
            status: BTreeMap::new(),
            bytes: None,
            latency_ms: None,
            body: None,
            once_per_session: false,
            tail: false,
            examples: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryKey {
    pub key: String,
    /// Share of this endpoint's requests that carry the key.
    pub share: f64,
    /// Sampled real values (never for secrets).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub samples: Vec<String>,
    /// For secret or personal values: the placeholder `run` fills from `--var`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placeholder: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Quantiles {
    /// The low end and the highest, for what sessions draw from (think times,
    /// lengths, durations): a draw follows the whole distribution, not a line from zero.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p10: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p25: Option<f64>,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
}

impl Quantiles {
    /// p50, p90 and p99 alone.
    pub fn new(p50: f64, p90: f64, p99: f64) -> Self {
        Quantiles { p50, p90, p99, min: None, p10: None, p25: None, max: None }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Body {
    pub content_type: String,
    pub text: String,
}

/// Requests over time: `counts[i]` requests in `[i * bin_s, (i + 1) * bin_s)` seconds from the start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arrival {
    pub bin_s: u32,
    pub counts: Vec<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SegmentKind {
    Steady,
    Bursty,
    Ramp,
}

impl SegmentKind {
    /// `steady`, `bursty` or `ramp`, as the profile writes it.
    pub fn name(self) -> &'static str {
        match self {
            SegmentKind::Steady => "steady",
            SegmentKind::Bursty => "bursty",
            SegmentKind::Ramp => "ramp",
        }
    }
}

/// A stretch of the arrival curve and its shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Segment {
    pub kind: SegmentKind,
    pub start_s: u64,
    pub end_s: u64,
    /// steady: the mean rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rps: Option<f64>,
    /// ramp: the fitted rate at the start and the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rps_from: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rps_to: Option<f64>,
    /// bursty: the rate outside bursts and the highest bin's rate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline_rps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_rps: Option<f64>,
    /// The segment's own endpoint mix (`"GET /users/{id}": 0.5`), where it differs materially from the whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<BTreeMap<String, f64>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sessions {
    /// What identifies a user: `user`, or `client+agent` (hashed, never written).
    pub key: String,
    /// Idle time that ends a session, seconds.
    pub gap_s: u64,
    pub count: u64,
    /// Sessions started per bin, on the same bins as the profile's arrival.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrival: Option<Arrival>,
    /// Requests per session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<Quantiles>,
    /// First to last request, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<Quantiles>,
    /// Between one request and the next in a session, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub think_time_s: Option<Quantiles>,
    /// The log's clock, when whole seconds (1): think times under two seconds could not be
    /// measured, and whole-second gaps were spread over the two seconds around them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_resolution_s: Option<u32>,
    /// The most frequent opening sequences of endpoints.
    #[serde(default)]
    pub flows: Vec<Flow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Flow {
    /// `METHOD /template` of each step, in order.
    pub steps: Vec<String>,
    #[serde(default)]
    pub count: u64,
    /// Share of sessions that open with this flow.
    pub share: f64,
}

/// The profile as people review it: indented JSON, with arrays of numbers
/// (the curves) kept on one line each.
pub fn to_pretty_json(profile: &Profile) -> String {
    let pretty = serde_json::to_string_pretty(profile).expect("a profile always serialises");
    let mut out = String::with_capacity(pretty.len());
    let mut lines = pretty.lines().peekable();
    while let Some(line) = lines.next() {
        if line.ends_with('[') {
            let mut numbers: Vec<&str> = Vec::new();
            let mut look = lines.clone();
            let closing = loop {
                match look.next() {
                    Some(l) if l.trim().trim_end_matches(',').parse::<f64>().is_ok() => numbers.push(l.trim().trim_end_matches(',')),
                    Some(l) if l.trim_start().starts_with(']') => break Some(l.trim_start()),
                    _ => break None,
                }
            };
            if let Some(closing) = closing.filter(|_| !numbers.is_empty()) {
                out.push_str(line);
                out.push_str(&numbers.join(", "));
                out.push_str(closing);
                out.push('\n');
                for _ in 0..=numbers.len() {
                    lines.next();
                }
                continue;
            }
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curves_stay_on_one_line_and_the_json_round_trips() {
        let profile = Profile {
            version: VERSION,
            source: None,
            endpoints: vec![],
            arrival: Arrival { bin_s: 60, counts: vec![1, 2, 3] },
            segments: vec![],
            sessions: None,
            thresholds: vec!["p99<300ms".into()],
        };
        let text = to_pretty_json(&profile);
        assert!(text.contains("\"counts\": [1, 2, 3]\n"), "{text}");
        assert_eq!(serde_json::from_str::<Profile>(&text).unwrap(), profile);
        let empty = Profile { arrival: Arrival { bin_s: 1, counts: vec![] }, ..profile };
        assert_eq!(serde_json::from_str::<Profile>(&to_pretty_json(&empty)).unwrap(), empty);
    }
}
