//! The human summary `replay derive` prints on stderr: per input, its format
//! and what became of its lines (the first rejects with line numbers and
//! reasons); then the time span, the top endpoints, a sparkline of the
//! arrival curve, the segments found and the sessions.

use super::Derived;
use crate::profile::{Arrival, Profile, SegmentKind};
use std::io::{self, Write};

const TOP_ENDPOINTS: usize = 8;
const SPARK_WIDTH: usize = 60;

pub fn write_summary(derived: &Derived, out: &mut dyn Write) -> io::Result<()> {
    for file in &derived.files {
        let format = file.format.as_ref().map_or("empty", |f| f.name());
        writeln!(
            out,
            "replay: {}: {format}, {} lines: {} requests, {} skipped, {} rejected",
            file.name, file.lines, file.records, file.skipped, file.rejected
        )?;
        for reject in &file.rejects {
            writeln!(out, "  {}:{}: rejected: {}", file.name, reject.line, reject.error)?;
            if !reject.excerpt.is_empty() {
                writeln!(out, "    {}", reject.excerpt.escape_debug())?;
            }
        }
        if file.rejected > file.rejects.len() as u64 {
            writeln!(out, "  ... and {} more rejected lines", file.rejected - file.rejects.len() as u64)?;
        }
        if let Some(error) = &file.read_error {
            writeln!(
                out,
                "replay: warning: {}: input ended early after line {}: {error}; the lines before it are kept",
                file.name, file.lines
            )?;
        }
        if file.lines == 0 {
            writeln!(out, "replay: warning: {} is empty", file.name)?;
        }
    }
    write_profile_summary(&derived.profile, &derived.left_out, out)?;
    if let Some((rows, late)) = derived.trace {
        writeln!(out, "replay: trace: {rows} rows ({late} later than the reorder window, written out of order)")?;
    }
    Ok(())
}

fn write_profile_summary(profile: &Profile, left_out: &crate::profile::deriver::LeftOut, out: &mut dyn Write) -> io::Result<()> {
    if let Some(source) = &profile.source
        && let (Some(first), Some(last)) = (&source.first, &source.last)
    {
        let kept = source.records - source.excluded;
        let left = if left_out.total() == 0 { "none left out".to_owned() } else { format!("left out: {}", left_out.describe()) };
        writeln!(out, "replay: {} from {first} to {last} ({left})", crate::units::count(kept, "request"))?;
    }
    writeln!(out, "replay: {}; top:", crate::units::count(profile.endpoints.len() as u64, "endpoint"))?;
    for e in profile.endpoints.iter().take(TOP_ENDPOINTS) {
        writeln!(out, "  {:>6.2}%  {} {}", e.weight * 100.0, e.method, e.path)?;
    }
    let arrival = &profile.arrival;
    writeln!(out, "replay: arrival, {} bins of {} s: {}", arrival.counts.len(), arrival.bin_s, sparkline(arrival))?;
    for s in &profile.segments {
        let rates = match s.kind {
            SegmentKind::Steady => format!("{} rps", s.rps.unwrap_or(0.0)),
            SegmentKind::Ramp => format!("{} -> {} rps", s.rps_from.unwrap_or(0.0), s.rps_to.unwrap_or(0.0)),
            SegmentKind::Bursty => format!("{} rps, peaks of {} rps", s.baseline_rps.unwrap_or(0.0), s.peak_rps.unwrap_or(0.0)),
        };
        let own_mix = if s.weights.is_some() { ", own endpoint mix" } else { "" };
        let (from, to) = (crate::units::human_duration(s.start_s as f64), crate::units::human_duration(s.end_s as f64));
        writeln!(out, "  {} {from} to {to}: {rates}{own_mix}", s.kind.name())?;
    }
    if let Some(sessions) = &profile.sessions {
        let median = |q: &Option<crate::profile::Quantiles>| q.map_or(0.0, |q| q.p50);
        writeln!(
            out,
            "replay: {} sessions; median {} requests over {} s, think time {} s",
            sessions.count,
            median(&sessions.length),
            median(&sessions.duration_s),
            median(&sessions.think_time_s)
        )?;
    }
    Ok(())
}

/// The curve in at most [`SPARK_WIDTH`] block characters.
pub fn sparkline(arrival: &Arrival) -> String {
    const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let counts = &arrival.counts;
    if counts.is_empty() {
        return String::new();
    }
    let per = counts.len().div_ceil(SPARK_WIDTH);
    let sums: Vec<u64> = counts.chunks(per).map(|c| c.iter().sum()).collect();
    let max = sums.iter().copied().max().unwrap_or(0).max(1);
    sums.iter().map(|&s| BARS[((s * 7 + max / 2) / max) as usize]).collect()
}
