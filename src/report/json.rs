//! `results.json`: a run's results, versioned, with every histogram
//! serialised (HDR V2, deflated, base64) so two runs or shards merge exactly.
//!
//! ```json
//! {"version": 2, "target": "http://127.0.0.1:8080", "started": "2026-11-28T10:00:00Z", "duration_s": 10.0,
//!  "trustworthy": true, "totals": {"intended": 5000, "requests": 4990, "not_sent": 10, "failures": 3, "held_back": 0, "retried": 0},
//!  "not_sent": {"no_free_connection": 10},
//!  "failures": {"http_5xx": 3}, "status": {"200": 4997, "503": 3},
//!  "latency_ms": {"p50": 1.2, "p90": 2.0, "p99": 4.1, "max": 12.0, "mean": 1.3}, ...}
//! ```

use crate::plan::Catalog;
use crate::run::Summary;
use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2DeflateSerializer};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// 2: totals gained `not_sent` (with reasons in `not_sent`) and `retried`; failure examples name the endpoint template.
/// 3: per-endpoint and per-period failures by class, per-period intended and lag, the plan and the verdict.
pub const RESULTS_VERSION: u32 = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Requests whose time came (or that belong to a started session): `requests + not_sent`.
    pub intended: u64,
    pub requests: u64,
    #[serde(default)]
    pub not_sent: u64,
    pub failures: u64,
    pub held_back: u64,
    #[serde(default)]
    pub retried: u64,
    /// Requests that carried a synthetic value for a placeholder no `--var` filled (which: `synthetic`).
    #[serde(default)]
    pub synthetic: u64,
    /// Responses whose status class production rarely answered on their endpoint (a 302 where it answered 200).
    #[serde(default)]
    pub status_mismatches: u64,
    /// Virtual users started (`--sessions`).
    #[serde(default)]
    pub users: u64,
    /// Later steps of virtual users that never came due (the run ended or was stopped first):
    /// planned, never intended, so apart from `intended` and `not_sent`.
    #[serde(default)]
    pub steps_cut_off: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Millis {
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
    pub mean: f64,
}

impl Millis {
    pub fn of(h: &Histogram<u64>) -> Millis {
        let ms = |us: u64| us as f64 / 1000.0;
        if h.is_empty() {
            return Millis { p50: 0.0, p90: 0.0, p99: 0.0, max: 0.0, mean: 0.0 };
        }
        Millis {
            p50: ms(h.value_at_quantile(0.5)),
            p90: ms(h.value_at_quantile(0.9)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
            mean: (h.mean() / 1000.0 * 1000.0).round() / 1000.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointResult {
    pub method: String,
    pub path: String,
    /// Requests to this endpoint whose time came, sent or not (absent in older files).
    #[serde(default)]
    pub intended: u64,
    pub requests: u64,
    pub failures: u64,
    pub rps: f64,
    pub latency_ms: Millis,
    /// Production's latency for this endpoint, from the profile, to put staging beside it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub production_latency_ms: Option<crate::profile::Quantiles>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failures_by_class: BTreeMap<String, u64>,
    /// Responses by status class (`2xx`, `3xx`…).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub statuses: BTreeMap<String, u64>,
    /// Production's share of each status class, from the profile.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub production_statuses: BTreeMap<String, f64>,
    /// Responses in a class production answered here less than 1% of the time.
    #[serde(default)]
    pub status_mismatches: u64,
    /// Response body bytes received.
    #[serde(default)]
    pub bytes: u64,
    pub histogram: String,
}

impl EndpointResult {
    /// Responses by class, 1xx … 5xx.
    pub fn class_counts(&self) -> [u64; 5] {
        let mut counts = [0; 5];
        for (i, name) in crate::profile::status_classes::CLASS_NAMES.iter().enumerate() {
            counts[i] = self.statuses.get(*name).copied().unwrap_or(0);
        }
        counts
    }

    /// Production's share of each class, 1xx … 5xx, when the profile held statuses.
    pub fn production_shares(&self) -> Option<[f64; 5]> {
        if self.production_statuses.is_empty() {
            return None;
        }
        let mut shares = [0.0; 5];
        for (i, name) in crate::profile::status_classes::CLASS_NAMES.iter().enumerate() {
            shares[i] = self.production_statuses.get(*name).copied().unwrap_or(0.0);
        }
        Some(shares)
    }
}

/// Latency over one stretch of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PeriodResult {
    pub start_s: u64,
    /// Requests due in the period, sent or not.
    #[serde(default)]
    pub intended: u64,
    pub requests: u64,
    pub failures: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failures_by_class: BTreeMap<String, u64>,
    /// The worst schedule lag of a request due in the period.
    #[serde(default)]
    pub lag_max_ms: f64,
    /// The most virtual users in flight at once in the period.
    #[serde(default)]
    pub users: u64,
    pub latency_ms: Millis,
    pub histogram: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub version: u32,
    /// The run's identity: every shard of one run has the same (see `--run-id`); empty in older files.
    #[serde(default)]
    pub run_id: String,
    pub target: String,
    pub started: String,
    pub duration_s: f64,
    /// The generator kept up with the schedule (see `warnings` when not).
    pub trustworthy: bool,
    pub interrupted: bool,
    pub warnings: Vec<String>,
    pub totals: Totals,
    /// Intended requests not sent, by reason (`interrupted`, `duration_bound`, `max_requests`, `no_free_connection`, `max_rps_cap`).
    #[serde(default)]
    pub not_sent: BTreeMap<String, u64>,
    /// Endpoints left out of the mix for want of a placeholder value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub left_out: Vec<String>,
    /// Placeholders filled with synthetic values: `{token} on 98.0% of requests`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub synthetic: Vec<String>,
    pub failures: BTreeMap<String, u64>,
    /// The first failure of each class, in words.
    #[serde(default)]
    pub failure_examples: BTreeMap<String, String>,
    pub status: BTreeMap<String, u64>,
    pub latency_ms: Millis,
    pub service_ms: Millis,
    pub schedule_lag_ms: Millis,
    pub endpoints: Vec<EndpointResult>,
    /// Latency by period of the run (`period_s` wide), by when requests were due.
    #[serde(default)]
    pub period_s: u64,
    #[serde(default)]
    pub periods: Vec<PeriodResult>,
    /// Serialised histograms (µs): `latency`, `service`, `lag`.
    pub histograms: BTreeMap<String, String>,
    /// What was planned: the source, the pace and the limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanFacts>,
    /// Every threshold's verdict, and the run's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
}

/// What a run was planned to do, for reports and for merging shards.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanFacts {
    /// The profile or trace, as given.
    pub source: String,
    /// `requests` or `virtual users`.
    pub unit: String,
    pub speed: f64,
    pub rate_scale: f64,
    /// Profile seconds `[from, to)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<(u64, u64)>,
    pub seed: u64,
    /// The planned length, seconds; none for an endless loop.
    pub length_s: Option<f64>,
    pub max_rps: Option<u32>,
    pub max_requests: Option<u64>,
    pub connections: usize,
    pub timeout_ms: u64,
    /// The profile's segments on the run's clock (seconds into the run), for charts.
    #[serde(default)]
    pub segments: Vec<SegmentFacts>,
    /// `--shard K/N`: which part of the run these results are; none for a whole run (or a merge of all shards).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardFacts>,
}

/// A shard's place in its run: `index` of `count`, from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardFacts {
    pub index: u32,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SegmentFacts {
    pub kind: String,
    pub start_s: f64,
    pub end_s: f64,
}

/// The default verdict in a line, for `plan` and the end of a run
/// (judged in `verdict/default_rule.rs`).
pub const DEFAULT_VERDICT: &str = "no thresholds given: the run fails if nothing is sent, every request fails, the generator under-delivers, \
a session's login fails, or errors or status mismatches pass production's own by 5 points (docs/ci.md)";

/// One threshold's verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judged {
    pub threshold: String,
    pub passed: bool,
    /// The value measured (the worst window's, for a windowed threshold), in the threshold's units.
    pub measured: Option<f64>,
    /// `412.0 ms`, or why nothing could be measured.
    pub measured_text: String,
    /// `< 300.0 ms`.
    pub condition: String,
    /// For a windowed threshold: where the worst window starts, seconds into the run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_start_s: Option<u64>,
}

/// The run's verdict: every threshold's, and the reasons it fails beyond them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Verdict {
    pub passed: bool,
    pub thresholds: Vec<Judged>,
    /// Why the run fails apart from its thresholds (nothing sent, every request failed, the generator fell behind).
    pub reasons: Vec<String>,
}

/// A histogram as base64 of its deflated HDR V2 encoding.
pub fn encode(h: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2DeflateSerializer::new().serialize(h, &mut bytes).expect("writing to memory does not fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The HDR V2 cookies (the plain encoding, and the deflated one around it).
const V2_COOKIE: u32 = 0x1c84_9303 | 0x10;
const V2_DEFLATED_COOKIE: u32 = 0x1c84_9304 | 0x10;
/// A V2 header: cookie, payload length, normalizing offset, digits, lowest, highest, ratio.
const V2_HEADER: usize = 40;
/// Inflated bytes a histogram may take: a run's (3 digits up to an hour) encodes in under 1 MiB.
const MAX_INFLATED: u64 = 4 << 20;
/// The highest value a run's histograms track (an hour, in microseconds): see `summary::new_histogram`.
const MAX_TRACKED: u64 = 3_600_000_000;

/// A histogram from [`encode`]'s text. A results file is untrusted: the encoding's declared
/// lengths and bounds are checked before anything is allocated by them, and inflating stops at
/// [`MAX_INFLATED`] bytes, so no file can make this take more memory than that.
pub fn decode(text: &str) -> Result<Histogram<u64>, String> {
    use std::io::Read;
    let bytes = base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| format!("not base64: {e}"))?;
    let be32 = |b: &[u8], at: usize| b.get(at..at + 4).map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]));
    let be64 = |b: &[u8], at: usize| b.get(at..at + 8).map(|s| u64::from_be_bytes(s.try_into().unwrap_or([0; 8])));
    let plain = match be32(&bytes, 0) {
        Some(V2_DEFLATED_COOKIE) => {
            let (declared, held) = (be32(&bytes, 4).unwrap_or(0) as usize, bytes.len().saturating_sub(8));
            if bytes.len() < 8 || declared > held {
                return Err(format!("its header declares {declared} compressed bytes but it holds {held}"));
            }
            let mut plain = Vec::new();
            flate2::read::ZlibDecoder::new(&bytes[8..8 + declared])
                .take(MAX_INFLATED + 1)
                .read_to_end(&mut plain)
                .map_err(|_| "not an HDR histogram (its deflated payload is broken)".to_owned())?;
            if plain.len() as u64 > MAX_INFLATED {
                return Err(format!("it inflates past {} MiB; a run's histogram takes less than 1", MAX_INFLATED >> 20));
            }
            plain
        }
        Some(V2_COOKIE) => bytes,
        _ => return Err("not an HDR histogram (V2, deflated, base64)".to_owned()),
    };
    if be32(&plain, 0) != Some(V2_COOKIE) || plain.len() < V2_HEADER {
        return Err("not an HDR histogram (V2, deflated, base64)".to_owned());
    }
    let declared = be32(&plain, 4).unwrap_or(0) as usize;
    if declared > plain.len() - V2_HEADER {
        return Err(format!("its header declares {declared} bytes of counts but it holds {}", plain.len() - V2_HEADER));
    }
    let (digits, highest) = (be32(&plain, 12).unwrap_or(0), be64(&plain, 24).unwrap_or(0));
    if digits > 5 || highest > MAX_TRACKED {
        return Err(format!(
            "its bounds ({digits} significant digits, values up to {highest}) are not a run's (3, up to {MAX_TRACKED} µs)"
        ));
    }
    Deserializer::new().deserialize(&mut plain.as_slice()).map_err(|_| "not an HDR histogram (V2, deflated, base64)".to_owned())
}

/// What the run was, besides its summary.
#[derive(Debug, Clone)]
pub struct RunFacts<'a> {
    pub run_id: &'a str,
    /// The target as it may be shown (no credentials).
    pub target: &'a str,
    /// RFC 3339 UTC.
    pub started: &'a str,
    pub duration_s: f64,
    pub interrupted: bool,
    pub catalog: &'a Catalog,
    pub left_out: &'a [String],
    pub synthetic: &'a [String],
    pub plan: Option<PlanFacts>,
}

/// Writes `results.json`: `r`, pretty-printed.
pub fn write_json(r: &Results, out: &mut dyn std::io::Write) -> Result<(), String> {
    serde_json::to_writer_pretty(&mut *out, r).map_err(|e| e.to_string())?;
    out.write_all(b"\n").map_err(|e| e.to_string())
}

/// `{"2xx": …}` of the classes `keep` keeps.
fn by_class<T: Copy>(values: &[T; 5], keep: impl Fn(T) -> bool) -> BTreeMap<String, T> {
    crate::profile::status_classes::CLASS_NAMES
        .iter()
        .zip(values)
        .filter(|(_, v)| keep(**v))
        .map(|(name, v)| ((*name).to_owned(), *v))
        .collect()
}

/// results.json's content for `summary`, every histogram encoded.
pub fn results(summary: &Summary, facts: &RunFacts<'_>) -> Results {
    results_with(summary, facts, encode)
}

/// [`results`] with the histograms left empty: the figures of a run still going, once a second
/// (its histograms are in the tally, to judge by; see `verdict::judge_by`).
pub fn figures(summary: &Summary, facts: &RunFacts<'_>) -> Results {
    results_with(summary, facts, |_| String::new())
}

fn results_with(summary: &Summary, facts: &RunFacts<'_>, encode: fn(&Histogram<u64>) -> String) -> Results {
    let RunFacts { run_id, target, started, duration_s, interrupted, catalog, left_out, .. } = *facts;
    let classes = |by: &BTreeMap<crate::client::Failure, u64>| by.iter().map(|(f, n)| (f.name().to_owned(), *n)).collect();
    let mut warnings = Vec::new();
    let behind = summary.behind_windows();
    if !behind.is_empty() {
        warnings.push(format!(
            "the run under-delivered in {} of {} seconds (first at {}): more than 5% of their requests left over 50 ms late or were not sent, so results understate the load asked for",
            behind.len(),
            summary.windows.len(),
            crate::units::human_duration(behind[0] as f64)
        ));
    }
    if !left_out.is_empty() {
        warnings.push(format!("{} left out for want of a placeholder value", crate::units::count(left_out.len() as u64, "endpoint")));
    }
    if summary.lag.value_at_quantile(0.99) > crate::run::summary::LATE_US {
        warnings.push(format!("schedule lag p99 is {:.1} ms (over 50 ms)", summary.lag.value_at_quantile(0.99) as f64 / 1000.0));
    }
    let users = summary.users_by_second();
    let endpoints = summary
        .endpoints
        .iter()
        .zip(&catalog.endpoints)
        .filter(|(s, _)| s.requests > 0 || s.intended > 0)
        .map(|(s, e)| EndpointResult {
            method: e.key.method.clone(),
            path: e.key.path.clone(),
            intended: s.intended,
            requests: s.requests,
            failures: s.failures,
            rps: if duration_s > 0.0 { (s.requests as f64 / duration_s * 1000.0).round() / 1000.0 } else { 0.0 },
            latency_ms: Millis::of(&s.latency),
            production_latency_ms: e.production_latency_ms,
            failures_by_class: classes(&s.by_failure),
            statuses: by_class(&s.classes, |n| n > 0),
            production_statuses: e.production_status.map(|p| by_class(&p, |v| v > 0.0)).unwrap_or_default(),
            status_mismatches: s.mismatches,
            bytes: s.bytes,
            histogram: encode(&s.latency),
        })
        .collect();
    Results {
        version: RESULTS_VERSION,
        run_id: run_id.to_owned(),
        target: target.to_owned(),
        started: started.to_owned(),
        duration_s: (duration_s * 1000.0).round() / 1000.0,
        trustworthy: summary.trustworthy(),
        interrupted,
        warnings,
        totals: Totals {
            intended: summary.intended,
            requests: summary.requests,
            not_sent: summary.not_sent_total(),
            failures: summary.failures,
            held_back: summary.held_back,
            retried: summary.retried,
            synthetic: summary.synthetic,
            status_mismatches: summary.status_mismatches,
            users: summary.users_started,
            steps_cut_off: summary.cut_off,
        },
        not_sent: summary.not_sent.iter().map(|(r, n)| (r.name().to_owned(), *n)).collect(),
        left_out: left_out.to_vec(),
        synthetic: facts.synthetic.to_vec(),
        failures: summary.by_failure.iter().map(|(f, n)| (f.name().to_owned(), *n)).collect(),
        failure_examples: summary
            .failure_examples
            .iter()
            .map(|(f, (endpoint, detail))| {
                let example = if *endpoint == usize::MAX { detail.clone() } else { format!("{detail} from {}", catalog.name(*endpoint)) };
                (f.name().to_owned(), example)
            })
            .collect(),
        status: summary.by_status.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
        latency_ms: Millis::of(&summary.latency),
        service_ms: Millis::of(&summary.service),
        schedule_lag_ms: Millis::of(&summary.lag),
        endpoints,
        period_s: summary.period_s,
        periods: summary
            .periods
            .iter()
            .enumerate()
            .map(|(i, p)| PeriodResult {
                start_s: i as u64 * summary.period_s,
                intended: p.intended,
                requests: p.requests,
                failures: p.failures,
                failures_by_class: classes(&p.by_failure),
                lag_max_ms: p.lag_max_us as f64 / 1000.0,
                users: users.iter().skip(i * summary.period_s as usize).take(summary.period_s as usize).copied().max().unwrap_or(0),
                latency_ms: Millis::of(&p.latency),
                histogram: encode(&p.latency),
            })
            .collect(),
        histograms: [("latency", &summary.latency), ("service", &summary.service), ("lag", &summary.lag)]
            .into_iter()
            .map(|(name, h)| (name.to_owned(), encode(h)))
            .collect(),
        plan: facts.plan.clone(),
        verdict: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::summary::new_histogram;

    #[test]
    fn histograms_round_trip_and_merge_exactly() {
        let (mut a, mut b, mut both) = (new_histogram(), new_histogram(), new_histogram());
        for v in 1..5000u64 {
            let x = v * 37 % 100_000 + 1;
            if v % 2 == 0 {
                a.record(x).unwrap()
            } else {
                b.record(x).unwrap()
            }
            both.record(x).unwrap();
        }
        let mut merged = decode(&encode(&a)).unwrap();
        merged.add(decode(&encode(&b)).unwrap()).unwrap();
        assert_eq!(merged, both);
        assert!(decode("not base64!").is_err());
        // A header that claims 4 GiB of counts is refused before anything is allocated for them.
        let plain = |declared: u32, digits: u32, highest: u64| {
            let mut b = Vec::new();
            b.extend_from_slice(&V2_COOKIE.to_be_bytes());
            b.extend_from_slice(&declared.to_be_bytes());
            b.extend_from_slice(&0u32.to_be_bytes());
            b.extend_from_slice(&digits.to_be_bytes());
            b.extend_from_slice(&1u64.to_be_bytes());
            b.extend_from_slice(&highest.to_be_bytes());
            b.extend_from_slice(&1f64.to_be_bytes());
            b.extend_from_slice(&[0; 20]);
            base64::engine::general_purpose::STANDARD.encode(b)
        };
        let deflated = |declared: u32, body: &[u8]| {
            let mut b = Vec::new();
            b.extend_from_slice(&V2_DEFLATED_COOKIE.to_be_bytes());
            b.extend_from_slice(&declared.to_be_bytes());
            b.extend_from_slice(body);
            base64::engine::general_purpose::STANDARD.encode(b)
        };
        let short = base64::engine::general_purpose::STANDARD.encode(V2_DEFLATED_COOKIE.to_be_bytes());
        assert!(decode(&short).unwrap_err().contains("compressed bytes but it holds 0"));
        for (text, says) in [
            (plain(u32::MAX, 3, 3_600_000_000), "declares 4294967295 bytes of counts but it holds 20"),
            (plain(10, 3, u64::MAX), "are not a run's"),
            (plain(10, 200, 1000), "are not a run's"),
            (deflated(u32::MAX, b"xx"), "declares 4294967295 compressed bytes but it holds 2"),
            (deflated(2, b"xx"), "deflated payload is broken"),
        ] {
            let err = decode(&text).unwrap_err();
            assert!(err.contains(says), "{err}");
        }
        // A deflate bomb stops at the cap.
        let mut bomb = Vec::new();
        {
            use std::io::Write;
            let mut z = flate2::write::ZlibEncoder::new(&mut bomb, flate2::Compression::best());
            z.write_all(&V2_COOKIE.to_be_bytes()).unwrap();
            z.write_all(&vec![0u8; 64 << 20]).unwrap();
            z.finish().unwrap();
        }
        let err = decode(&deflated(bomb.len() as u32, &bomb)).unwrap_err();
        assert!(err.contains("inflates past 4 MiB"), "{err}");
    }
}
