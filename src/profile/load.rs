//! Loading a profile: parse, then check everything `run` relies on, with an
//! error that names the file and the field.
//!
//! ```text
//! profile.json: endpoints[2].weight: -0.5 is negative; weights are shares of requests, 0 or more
//! ```
//! Weights are read as relative shares and normalised to sum to 1, so a
//! hand-written profile may say `2` and `1`.
//!
//! Whatever passes here runs in bounded memory: the file is at most
//! [`MAX_PROFILE_BYTES`], a bin at most [`MAX_BIN_S`] wide, counts sum
//! without overflow to at most [`MAX_TOTAL_REQUESTS`], weights are finite
//! and at most [`MAX_WEIGHT`], and sessions are cut at
//! [`MAX_SESSION_STEPS`] requests when they are drawn. Rates are checked
//! when a run is planned, after `--speed` and `--rate-scale`.

use super::wire::{Arrival, Profile, SegmentKind, Sessions, VERSION};
use crate::log::request_rule;
use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

/// A profile file is at most this large (derived profiles are a few hundred KiB).
pub const MAX_PROFILE_BYTES: u64 = 64 << 20;
/// An arrival bin is at most a day wide.
pub const MAX_BIN_S: u32 = 86_400;
/// The counts of a profile sum to at most this many requests.
pub const MAX_TOTAL_REQUESTS: u64 = 1 << 50;
/// A weight is a relative share: at most this.
pub const MAX_WEIGHT: f64 = 1e12;
/// A session holds at most this many requests (a flow, or the drawn length).
pub const MAX_SESSION_STEPS: usize = 10_000;

/// A profile that cannot be used, and where.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}: {field}: {message}")]
pub struct ProfileError {
    pub file: String,
    /// The JSON path of the field at fault (`endpoints[2].weight`), or `json` for syntax errors.
    pub field: String,
    pub message: String,
}

/// Reads and validates the profile at `path` (plain, or gzip: a profile of many endpoints fits a ConfigMap gzipped).
pub fn load(path: &Path) -> Result<Profile, ProfileError> {
    let file = path.display().to_string();
    let error = |field: &str, message: String| ProfileError { file: file.clone(), field: field.into(), message };
    let reader = std::fs::File::open(path).map_err(|e| error("file", format!("cannot read: {e}")))?;
    if reader.metadata().is_ok_and(|m| m.is_dir()) {
        return Err(error("file", "is a folder; give a profile's JSON file".into()));
    }
    let mut bytes = Vec::new();
    let mut reader = std::io::BufReader::new(reader);
    // A gzip profile (`profile.json.gz`) is read through gunzip, under the same bound on what it inflates to.
    let gzip = std::io::BufRead::fill_buf(&mut reader).is_ok_and(|head| head.starts_with(&[0x1f, 0x8b]));
    let source: Box<dyn Read> = if gzip { Box::new(flate2::read::MultiGzDecoder::new(reader)) } else { Box::new(reader) };
    source.take(MAX_PROFILE_BYTES + 1).read_to_end(&mut bytes).map_err(|e| error("file", format!("cannot read: {e}")))?;
    if bytes.len() as u64 > MAX_PROFILE_BYTES {
        return Err(error("file", format!("is over {} MiB; a profile is far smaller (is this the right file?)", MAX_PROFILE_BYTES >> 20)));
    }
    let text = String::from_utf8(bytes).map_err(|_| error("file", not_a_profile("is not UTF-8 text")))?;
    parse(&text, &file)
}

/// The message for a file that is not a profile at all, with what to do.
fn not_a_profile(what: &str) -> String {
    format!(
        "{what}: not a profile (JSON) nor a trace (CSV starting `offset_s,method,template,target`); \
         for an access log, run `replay derive LOG > profile.json` first"
    )
}

/// Parses and validates profile JSON; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Profile, ProfileError> {
    let error = |field: &str, message: String| ProfileError { file: file.to_owned(), field: field.to_owned(), message };
    let start = text.trim_start();
    if !start.starts_with('{') {
        let what = if start.is_empty() { "is empty" } else { "does not start with `{`" };
        return Err(error("file", not_a_profile(what)));
    }
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let mut profile: Profile = serde_path_to_error::deserialize(&mut deserializer).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let message = if inner.is_syntax() || inner.is_eof() { format!("{inner}") } else { strip_position(&inner.to_string()) };
        error(if path == "." || inner.is_syntax() || inner.is_eof() { "json" } else { &path }, message)
    })?;
    validate(&mut profile).map_err(|(field, message)| error(&field, message))?;
    Ok(profile)
}

/// serde_json's `… at line 3 column 14` is redundant once the field is named.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

type Invalid = (String, String);

/// Counts whose sum fits: no overflow, at most [`MAX_TOTAL_REQUESTS`].
fn check_counts(counts: &[u64], field: &str) -> Result<(), Invalid> {
    let mut total: u64 = 0;
    for (i, &c) in counts.iter().enumerate() {
        total = match total.checked_add(c) {
            Some(t) if t <= MAX_TOTAL_REQUESTS => t,
            _ => {
                return Err((
                    format!("{field}[{i}]"),
                    format!("{c} brings the total past {MAX_TOTAL_REQUESTS} requests; counts are requests per bin"),
                ));
            }
        };
    }
    Ok(())
}

/// Checks every field and normalises the weights; the error names the first bad field by its path.
fn validate(profile: &mut Profile) -> Result<(), Invalid> {
    if profile.version != VERSION {
        return Err(("version".into(), format!("{} is not supported; this replay reads version {VERSION}", profile.version)));
    }
    let names = endpoints(profile)?;
    normalise_weights(profile)?;
    arrival(&profile.arrival)?;
    span(profile)?;
    if let Some(sessions) = &profile.sessions {
        self::sessions(sessions, &profile.arrival, &names)?;
    }
    segments(profile, &names)
}

fn bad<T>(field: String, message: String) -> Result<T, Invalid> {
    Err((field, message))
}

/// Each endpoint's weight, method, target and shapes; returns their names (`GET /a`).
fn endpoints(profile: &Profile) -> Result<HashSet<String>, Invalid> {
    if profile.endpoints.is_empty() {
        return bad("endpoints".into(), "empty; a profile needs at least one endpoint".into());
    }
    let mut names = HashSet::new();
    for (i, e) in profile.endpoints.iter().enumerate() {
        if !e.weight.is_finite() || !(0.0..=MAX_WEIGHT).contains(&e.weight) {
            return bad(
                format!("endpoints[{i}].weight"),
                format!("{} is not a share of requests; weights are relative shares from 0 to {MAX_WEIGHT:e}, e.g. 2 and 1", e.weight),
            );
        }
        if !request_rule::is_token(e.method.as_bytes()) {
            return bad(
                format!("endpoints[{i}].method"),
                format!("`{}` is not an HTTP method (letters, digits and !#$%&'*+-.^_`|~ only, e.g. GET)", e.method.escape_debug()),
            );
        }
        if !(request_rule::is_target_for(e.method.as_bytes(), e.path.as_bytes()) || e.tail && e.path == "*") {
            return bad(
                format!("endpoints[{i}].path"),
                format!(
                    "`{}` is not a request target: a path starting with /, `*` for OPTIONS, or host:port for CONNECT",
                    e.path.escape_debug()
                ),
            );
        }
        for (name, shapes) in &e.shapes {
            for (k, shape) in shapes.iter().enumerate() {
                if let Err(why) = super::value_shape::Shape::parse(shape) {
                    return bad(format!("endpoints[{i}].shapes.{name}[{k}]"), why);
                }
            }
        }
        names.insert(format!("{} {}", e.method, e.path));
    }
    Ok(names)
}

/// Weights as shares that sum to 1. A login found in the logs keeps its share (a plain run
/// draws it by weight); a hand-written one has 0.
fn normalise_weights(profile: &mut Profile) -> Result<(), Invalid> {
    if profile.endpoints.iter().filter(|e| !e.once_per_session).all(|e| e.weight <= 0.0) {
        return bad("endpoints".into(), "all weights are zero; give at least one endpoint a weight above 0".into());
    }
    let total: f64 = profile.endpoints.iter().map(|e| e.weight).sum();
    for e in profile.endpoints.iter_mut() {
        e.weight /= total;
    }
    Ok(())
}

fn arrival(arrival: &Arrival) -> Result<(), Invalid> {
    if arrival.bin_s == 0 || arrival.bin_s > MAX_BIN_S {
        return bad("arrival.bin_s".into(), format!("{}; bins must be from 1 second to a day ({MAX_BIN_S} s) wide", arrival.bin_s));
    }
    if arrival.counts.is_empty() {
        return bad("arrival.counts".into(), "empty; the curve needs at least one bin".into());
    }
    check_counts(&arrival.counts, "arrival.counts")
}

/// The curve covers the span the source's first and last requests say, within two bins.
fn span(profile: &Profile) -> Result<(), Invalid> {
    let arrival = &profile.arrival;
    let span_s = arrival.counts.len() as u64 * u64::from(arrival.bin_s);
    if let Some(source) = &profile.source
        && let (Some(first), Some(last)) = (&source.first, &source.last)
    {
        let time = |t: &str| crate::log::fields::iso_time_field(t.as_bytes());
        if let (Some(first), Some(last)) = (time(first), time(last)) {
            let covered = (last - first) / 1_000_000;
            if covered as u64 >= span_s + 2 * u64::from(arrival.bin_s) || (span_s as i64 - covered) > 2 * i64::from(arrival.bin_s) {
                return bad(
                    "arrival.counts".into(),
                    format!(
                        "{} bins of {} s cover {span_s} s, but source.first..source.last spans {covered} s",
                        arrival.counts.len(),
                        arrival.bin_s
                    ),
                );
            }
        }
    }
    Ok(())
}

fn sessions(sessions: &Sessions, arrival: &Arrival, names: &HashSet<String>) -> Result<(), Invalid> {
    if let Some(curve) = &sessions.arrival {
        if curve.bin_s != arrival.bin_s || curve.counts.len() != arrival.counts.len() {
            return bad("sessions.arrival".into(), "must have the same bins as arrival (bin_s and number of counts)".into());
        }
        check_counts(&curve.counts, "sessions.arrival.counts")?;
    }
    // Lengths past MAX_SESSION_STEPS are cut when sessions are drawn; these only need to be numbers.
    let quantiles = [("length", sessions.length), ("duration_s", sessions.duration_s), ("think_time_s", sessions.think_time_s)];
    for (name, q) in quantiles {
        let Some(q) = q else { continue };
        let values = [
            ("min", q.min),
            ("p10", q.p10),
            ("p25", q.p25),
            ("p50", Some(q.p50)),
            ("p90", Some(q.p90)),
            ("p99", Some(q.p99)),
            ("max", q.max),
        ];
        for (which, v) in values.into_iter().filter_map(|(which, v)| Some((which, v?))) {
            if !v.is_finite() || v < 0.0 {
                return bad(format!("sessions.{name}.{which}"), format!("{v} is not a number of 0 or more"));
            }
        }
    }
    for (i, flow) in sessions.flows.iter().enumerate() {
        if !flow.share.is_finite() || !(0.0..=MAX_WEIGHT).contains(&flow.share) {
            return bad(format!("sessions.flows[{i}].share"), format!("{} is not a share from 0 to {MAX_WEIGHT:e}", flow.share));
        }
        if flow.steps.len() > MAX_SESSION_STEPS {
            return bad(
                format!("sessions.flows[{i}].steps"),
                format!("{} steps; a flow has at most {}", flow.steps.len(), MAX_SESSION_STEPS),
            );
        }
        if let Some(step) = flow.steps.iter().find(|step| !names.contains(*step)) {
            return bad(format!("sessions.flows[{i}].steps"), format!("`{step}` is not one of the profile's endpoints"));
        }
    }
    Ok(())
}

/// Segments in order, inside the curve, with the rates their kind needs and mixes of known endpoints.
fn segments(profile: &Profile, names: &HashSet<String>) -> Result<(), Invalid> {
    let span_s = profile.arrival.counts.len() as u64 * u64::from(profile.arrival.bin_s);
    let mut previous_end = 0;
    for (i, s) in profile.segments.iter().enumerate() {
        let field = |name: &str| format!("segments[{i}].{name}");
        if s.start_s >= s.end_s {
            return bad(field("end_s"), format!("{} is not after start_s {}", s.end_s, s.start_s));
        }
        if s.end_s > span_s {
            return bad(field("end_s"), format!("{} is past the curve's end ({span_s} s)", s.end_s));
        }
        if s.start_s < previous_end {
            return bad(field("start_s"), format!("{} overlaps the segment before, which ends at {previous_end}", s.start_s));
        }
        previous_end = s.end_s;
        let needed: &[(&str, Option<f64>)] = match s.kind {
            SegmentKind::Steady => &[("rps", s.rps)],
            SegmentKind::Ramp => &[("rps_from", s.rps_from), ("rps_to", s.rps_to)],
            SegmentKind::Bursty => &[("baseline_rps", s.baseline_rps), ("peak_rps", s.peak_rps)],
        };
        for (name, value) in needed {
            match value {
                None => return bad(field(name), format!("missing; a {} segment needs it", s.kind.name())),
                Some(v) if !v.is_finite() || *v < 0.0 => return bad(field(name), format!("{v} is not a rate of 0 or more")),
                Some(_) => {}
            }
        }
        for (name, w) in s.weights.iter().flat_map(|w| w.iter()) {
            if !names.contains(name) {
                return bad(field("weights"), format!("`{name}` is not one of the profile's endpoints"));
            }
            if !w.is_finite() || !(0.0..=MAX_WEIGHT).contains(w) {
                return bad(format!("segments[{i}].weights.{name}"), format!("{w} is not a share from 0 to {MAX_WEIGHT:e}"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"version": 1,
        "endpoints": [{"method": "GET", "path": "/", "weight": 2}, {"method": "GET", "path": "/profile", "weight": 1}],
        "arrival": {"bin_s": 60, "counts": [600, 600]},
        "segments": [{"kind": "steady", "start_s": 0, "end_s": 120, "rps": 10}]}"#;

    fn error_of(edit: &str, with: &str) -> ProfileError {
        parse(&GOOD.replace(edit, with), "p.json").unwrap_err()
    }

    #[test]
    fn a_good_profile_loads_with_normalised_weights() {
        let profile = parse(GOOD, "p.json").unwrap();
        assert!((profile.endpoints[0].weight - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn each_fault_names_its_field() {
        let table = [
            ("\"version\": 1", "\"version\": 2", "version", "not supported"),
            ("\"weight\": 2", "\"weigth\": 2", "endpoints[0].weigth", "unknown field `weigth`"),
            ("\"weight\": 2", "\"weight\": -2", "endpoints[0].weight", "not a share"),
            (
                "\"weight\": 2}, {\"method\": \"GET\", \"path\": \"/profile\", \"weight\": 1}",
                "\"weight\": 0}",
                "endpoints",
                "all weights are zero",
            ),
            ("\"bin_s\": 60", "\"bin_s\": 0", "arrival.bin_s", "from 1 second to a day"),
            ("\"bin_s\": 60", "\"bin_s\": 4294967295", "arrival.bin_s", "from 1 second to a day"),
            ("[600, 600]", "[18446744073709551615, 600]", "arrival.counts[0]", "past"),
            ("[600, 600]", "[600, 18446744073709551000]", "arrival.counts[1]", "past"),
            ("\"weight\": 2", "\"weight\": 1e308", "endpoints[0].weight", "not a share"),
            ("\"end_s\": 120", "\"end_s\": 180", "segments[0].end_s", "past the curve's end (120 s)"),
            ("\"rps\": 10", "\"rps_from\": 10", "segments[0].rps", "missing"),
            ("\"path\": \"/profile\"", "\"path\": \"profile\"", "endpoints[1].path", "starting with /"),
        ];
        for (edit, with, field, message) in table {
            let err = error_of(edit, with);
            assert_eq!(err.field, field, "{with}: {err}");
            assert!(err.message.contains(message), "{with}: {err}");
            assert!(err.to_string().starts_with("p.json: "), "{err}");
        }
        let empty = parse(r#"{"version": 1, "endpoints": [], "arrival": {"bin_s": 1, "counts": [1]}}"#, "e.json").unwrap_err();
        let typed = error_of("\"weight\": 2", "\"weight\": \"heavy\"");
        assert_eq!(typed.field, "endpoints[0].weight", "{typed}");
        assert!(typed.message.contains("invalid type") && !typed.message.contains("line"), "{typed}");
        let log = parse("127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 2326", "access.log").unwrap_err();
        assert!(log.message.contains("replay derive"), "{log}");
        assert_eq!(empty.field, "endpoints");
        let span = parse(
            r#"{"version": 1, "source": {"files": [], "format": "combined", "lines": 1, "records": 1, "skipped": 0, "rejected": 0,
                "first": "2026-01-01T00:00:00Z", "last": "2026-01-01T01:00:00Z"},
                "endpoints": [{"method": "GET", "path": "/", "weight": 1}], "arrival": {"bin_s": 60, "counts": [1, 2]}}"#,
            "s.json",
        )
        .unwrap_err();
        assert_eq!(span.field, "arrival.counts");
    }
}
