//! `replay diff BASE NEW`: how traffic changed between two profiles, and,
//! with staging's own log derived, whether staging received what a replay
//! meant to send (`--replayed-at SPEED[,WINDOW]` maps its clock onto the base's).
//!
//! - `mix.rs`: the endpoint mix, each change judged against the sample sizes;
//! - `curve.rs`: the arrival curve's rates and shape, aligned;
//! - `endpoints.rs`: production latency and status classes per endpoint;
//! - `sessions.rs`: logins, session lengths, think times and flows;
//! - `segments.rs`: stretches of the curve that appeared, vanished or changed kind;
//! - `gate.rs`: the `--fail-on` conditions and their defaults.

pub mod curve;
pub mod endpoints;
pub mod gate;
pub mod mix;
pub mod segments;
pub mod sessions;

use crate::profile::Profile;
use serde::Serialize;
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Diff {
    pub mix: mix::MixDiff,
    pub curve: curve::CurveDiff,
    pub endpoints: Vec<endpoints::EndpointChange>,
    /// How far the status classes over all requests moved (total variation distance), where both hold statuses.
    pub status_distance: Option<f64>,
    /// Segments that appeared, vanished or changed kind.
    pub segments: Vec<segments::SegmentChange>,
    /// Sessions, where both profiles have them.
    pub sessions: Option<sessions::SessionsDiff>,
    /// What one profile has and the other does not, so was not compared.
    pub left_out: Vec<String>,
    pub judged: Vec<gate::Judged>,
}

impl Diff {
    pub fn passed(&self) -> bool {
        self.judged.iter().all(|j| j.holds)
    }
}

/// Compares `new` against `base`, and judges `conditions` on the result.
pub fn diff(base: &Profile, new: &Profile, align: curve::Alignment, conditions: &[gate::Condition]) -> Diff {
    let mut left_out = Vec::new();
    let has_latency = |p: &Profile| p.endpoints.iter().any(|e| e.latency_ms.is_some());
    if has_latency(base) != has_latency(new) {
        left_out.push("production latency: only one profile records it".to_owned());
    }
    let has_counts = |p: &Profile| p.endpoints.iter().any(|e| e.count > 0);
    if !has_counts(base) || !has_counts(new) {
        left_out.push("sample sizes: a hand-written profile's shares are taken as exact".to_owned());
    }
    let mut d = Diff {
        mix: mix::diff(base, new),
        curve: curve::diff(&base.arrival, &new.arrival, align),
        endpoints: endpoints::diff(base, new),
        status_distance: endpoints::status_distance(base, new),
        sessions: sessions::diff(base, new, align.speed),
        segments: segments::diff(&base.segments, &new.segments, align),
        left_out,
        judged: Vec::new(),
    };
    d.judged = conditions.iter().map(|c| c.judge(&d)).collect();
    d
}

/// The terminal's (and a pull request's) view: the verdict, the conditions, then the changes by size.
pub fn write_text(d: &Diff, markdown: bool, out: &mut String) {
    let cell = |t: &str| {
        if markdown {
            crate::untrusted::markdown_code(t)
        } else {
            crate::untrusted::terminal(&crate::report::text::shorten(t, 50)).into_owned()
        }
    };
    let verdict = if d.passed() { "within" } else { "BEYOND" };
    let _ = writeln!(
        out,
        "{}diff: {verdict} the conditions; mix distance {:.4} ({}), correlation {}",
        if markdown { "### replay " } else { "" },
        d.mix.distance,
        if d.mix.beyond_noise() { "beyond noise" } else { "within noise" },
        d.curve.correlation.map_or("-".to_owned(), |c| format!("{c:.3}"))
    );
    if markdown {
        out.push_str("\n| condition | measured | |\n|---|---|---|\n");
    }
    for j in &d.judged {
        let mark = if j.holds { "ok" } else { "FAIL" };
        if markdown {
            let _ = writeln!(out, "| {} | {} | {mark} |", cell(&j.condition), j.measured);
        } else {
            let _ = writeln!(out, "  {mark:<4} {}: {}", j.condition, j.measured);
        }
    }
    let (a, b) = (&d.curve.base, &d.curve.new);
    let _ = writeln!(
        out,
        "{}rates: total {} → {}, mean {:.3} → {:.3} rps, p95 {:.3} → {:.3} rps, peak {:.3} → {:.3} rps",
        if markdown { "\n" } else { "" },
        a.total,
        b.total,
        a.mean_rps,
        b.mean_rps,
        a.p95_rps,
        b.p95_rps,
        a.peak_rps,
        b.peak_rps
    );
    if markdown {
        out.push_str("\n| endpoint | base share | new share | change | |\n|---|---:|---:|---:|---|\n");
    } else {
        let _ = writeln!(out, "{:<50} {:>10} {:>10} {:>8}", "endpoint", "base", "new", "change");
    }
    for s in d.mix.shares.iter().take(20) {
        let note = match (s.base > 0.0, s.new > 0.0) {
            (false, true) => "new",
            (true, false) => "gone",
            _ if s.beyond_noise => "beyond noise",
            _ => "",
        };
        if markdown {
            let _ = writeln!(
                out,
                "| {} | {:.2}% | {:.2}% | {:+.2} | {note} |",
                cell(&s.endpoint),
                s.base * 100.0,
                s.new * 100.0,
                (s.new - s.base) * 100.0
            );
        } else {
            let _ = writeln!(
                out,
                "{:<50} {:>9.2}% {:>9.2}% {:>+8.2}  {note}",
                cell(&s.endpoint),
                s.base * 100.0,
                s.new * 100.0,
                (s.new - s.base) * 100.0
            );
        }
    }
    for e in &d.endpoints {
        if let Some((x, y)) = e.p99_ms.filter(|(x, y)| (y - x).abs() > 0.1 * x.max(1.0)) {
            let _ = writeln!(out, "latency: {} p99 {x:.1} → {y:.1} ms ({} and {} requests)", cell(&e.endpoint), e.base_count, e.new_count);
        }
        if let Some((x, y)) = &e.statuses {
            let _ = writeln!(out, "statuses: {}: {x} → {y}", cell(&e.endpoint));
        }
    }
    for s in &d.segments {
        let at = |t: f64| crate::units::human_duration(t);
        let _ = writeln!(out, "segment {}: {} to {}: {} → {}", s.what, at(s.start_s), at(s.end_s), s.base, s.new);
    }
    if let Some(s) = &d.sessions {
        let share = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{:.0}%", v * 100.0));
        let _ = writeln!(out, "sessions: opening with the login {} → {}", share(s.login_share.0), share(s.login_share.1));
        if let Some(((a50, a90), (b50, b90))) = s.length {
            let _ = writeln!(out, "sessions: length p50 {a50:.0} → {b50:.0}, p90 {a90:.0} → {b90:.0} requests");
        }
        if let Some(((a50, a90), (b50, b90))) = s.think_s {
            let _ = writeln!(out, "sessions: think time p50 {a50:.1} → {b50:.1} s, p90 {a90:.1} → {b90:.1} s");
        }
        for (flow, x, y) in &s.flows {
            let _ = writeln!(out, "sessions: flow {}: {:.0}% → {:.0}%", cell(flow), x * 100.0, y * 100.0);
        }
    }
    for l in &d.left_out {
        let _ = writeln!(out, "not compared: {l}");
    }
}

/// `junit.xml` of the conditions: one testcase each, for CI pages.
pub fn write_junit(d: &Diff) -> String {
    use crate::report::junit::xml_escape;
    let failures = d.judged.iter().filter(|j| !j.holds).count();
    let mut x = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"replay diff\" tests=\"{0}\" failures=\"{failures}\">\n  <testsuite name=\"replay diff\" tests=\"{0}\" failures=\"{failures}\">\n",
        d.judged.len()
    );
    for j in &d.judged {
        let _ = write!(x, "    <testcase classname=\"conditions\" name=\"{}\"", xml_escape(&j.condition));
        if j.holds {
            x.push_str("/>\n");
        } else {
            let _ = writeln!(x, "><failure message=\"measured {}\"/></testcase>", xml_escape(&j.measured));
        }
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

#[cfg(test)]
mod tests;
