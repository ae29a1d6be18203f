//! Which stretches of the curve appeared, vanished or changed kind (steady,
//! bursty, ramp), once the new profile's segments are mapped onto the base's clock.

use super::curve::Alignment;
use crate::profile::Segment;
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SegmentChange {
    /// `appeared`, `vanished` or `changed`.
    pub what: &'static str,
    /// Where, in seconds of the base's timeline.
    pub start_s: f64,
    pub end_s: f64,
    /// The kind in the base and in the new profile (`-` where there is none).
    pub base: &'static str,
    pub new: &'static str,
}

fn overlap(a: (f64, f64), b: (f64, f64)) -> f64 {
    (a.1.min(b.1) - a.0.max(b.0)).max(0.0)
}

pub fn diff(base: &[Segment], new: &[Segment], align: Alignment) -> Vec<SegmentChange> {
    let mapped: Vec<((f64, f64), &'static str)> = new
        .iter()
        .map(|s| ((align.from_s + s.start_s as f64 * align.speed, align.from_s + s.end_s as f64 * align.speed), s.kind.name()))
        .collect();
    let mut out = Vec::new();
    for s in base {
        let span = (s.start_s as f64, s.end_s as f64);
        let best = mapped.iter().max_by(|a, b| overlap(span, a.0).total_cmp(&overlap(span, b.0))).filter(|m| overlap(span, m.0) > 0.0);
        match best {
            None => out.push(SegmentChange { what: "vanished", start_s: span.0, end_s: span.1, base: s.kind.name(), new: "-" }),
            Some((_, kind)) if *kind != s.kind.name() => {
                out.push(SegmentChange { what: "changed", start_s: span.0, end_s: span.1, base: s.kind.name(), new: kind })
            }
            Some(_) => {}
        }
    }
    for (span, kind) in &mapped {
        if !base.iter().any(|s| overlap((s.start_s as f64, s.end_s as f64), *span) > 0.0) {
            out.push(SegmentChange { what: "appeared", start_s: span.0, end_s: span.1, base: "-", new: kind });
        }
    }
    out
}
