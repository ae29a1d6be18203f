//! Loading a profile: parse, then check everything `run` relies on, with an
//! error that names the file and the field.
//!
//! ```text
//! profile.json: endpoints[2].weight: -0.5 is negative; weights are shares of requests, 0 or more
//! ```
//! Weights are read as relative shares and normalised to sum to 1, so a
//! hand-written profile may say `2` and `1`.

use super::wire::{Profile, SegmentKind, VERSION};
use std::collections::HashSet;
use std::path::Path;

/// A profile that cannot be used, and where.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}: {field}: {message}")]
pub struct ProfileError {
    pub file: String,
    /// The JSON path of the field at fault (`endpoints[2].weight`), or `json` for syntax errors.
    pub field: String,
    pub message: String,
}

/// Reads and validates the profile at `path`.
pub fn load(path: &Path) -> Result<Profile, ProfileError> {
    let file = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|e| ProfileError {
        file: file.clone(),
        field: "file".into(),
        message: format!("cannot read: {e}"),
    })?;
    parse(&text, &file)
}

/// Parses and validates profile JSON; `file` names it in errors.
pub fn parse(text: &str, file: &str) -> Result<Profile, ProfileError> {
    let error = |field: &str, message: String| ProfileError { file: file.to_owned(), field: field.to_owned(), message };
    let mut profile: Profile = serde_json::from_str(text).map_err(|e| error("json", e.to_string()))?;
    validate(&mut profile).map_err(|(field, message)| error(&field, message))?;
    Ok(profile)
}

type Invalid = (String, String);

fn validate(profile: &mut Profile) -> Result<(), Invalid> {
    let bad = |field: String, message: String| Err((field, message));
    if profile.version != VERSION {
        return bad("version".into(), format!("{} is not supported; this replay reads version {VERSION}", profile.version));
    }
    if profile.endpoints.is_empty() {
        return bad("endpoints".into(), "empty; a profile needs at least one endpoint".into());
    }
    let mut names = HashSet::new();
    for (i, e) in profile.endpoints.iter().enumerate() {
        if !e.weight.is_finite() || e.weight < 0.0 {
            return bad(
                format!("endpoints[{i}].weight"),
                format!("{} is negative or not a number; weights are shares of requests, 0 or more", e.weight),
            );
        }
        if e.method.is_empty() || !(e.path.starts_with('/') || e.tail && e.path == "*") {
            return bad(format!("endpoints[{i}].path"), format!("`{} {}` is not a method and a path starting with /", e.method, e.path));
        }
        names.insert(format!("{} {}", e.method, e.path));
    }
    let total: f64 = profile.endpoints.iter().filter(|e| !e.once_per_session).map(|e| e.weight).sum();
    if total <= 0.0 {
        return bad("endpoints".into(), "all weights are zero; give at least one endpoint a weight above 0".into());
    }
    for e in profile.endpoints.iter_mut().filter(|e| !e.once_per_session) {
        e.weight /= total;
    }
    let arrival = &profile.arrival;
    if arrival.bin_s == 0 {
        return bad("arrival.bin_s".into(), "0; bins must be at least 1 second wide".into());
    }
    if arrival.counts.is_empty() {
        return bad("arrival.counts".into(), "empty; the curve needs at least one bin".into());
    }
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
                None => return bad(field(name), format!("missing; a {:?} segment needs it", s.kind).to_lowercase()),
                Some(v) if !v.is_finite() || *v < 0.0 => return bad(field(name), format!("{v} is not a rate of 0 or more")),
                Some(_) => {}
            }
        }
        for name in s.weights.iter().flat_map(|w| w.keys()) {
            if !names.contains(name) {
                return bad(field("weights"), format!("`{name}` is not one of the profile's endpoints"));
            }
        }
    }
    if let Some(sessions) = &profile.sessions {
        for (i, flow) in sessions.flows.iter().enumerate() {
            if let Some(step) = flow.steps.iter().find(|step| !names.contains(*step)) {
                return bad(format!("sessions.flows[{i}].steps"), format!("`{step}` is not one of the profile's endpoints"));
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
            ("\"weight\": 2", "\"weigth\": 2", "json", "unknown field `weigth`"),
            ("\"weight\": 2", "\"weight\": -2", "endpoints[0].weight", "negative"),
            (
                "\"weight\": 2}, {\"method\": \"GET\", \"path\": \"/profile\", \"weight\": 1}",
                "\"weight\": 0}",
                "endpoints",
                "all weights are zero",
            ),
            ("\"bin_s\": 60", "\"bin_s\": 0", "arrival.bin_s", "at least 1 second"),
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
