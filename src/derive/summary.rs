//! The human summary `replay derive` prints on stderr: per input, its format
//! and what became of its lines (the first rejects with line numbers and
//! reasons); then the time span, the top endpoints, a sparkline of the
//! arrival curve, the segments found and the sessions.

use super::{Derived, FileReport};
use crate::log::NotRequest;
use crate::profile::{Arrival, Profile, SegmentKind};
use crate::units::{count, human_duration};
use std::io::{self, Write};

const TOP_ENDPOINTS: usize = 8;
const SPARK_WIDTH: usize = 60;

pub fn write_summary(derived: &Derived, out: &mut dyn Write) -> io::Result<()> {
    write_file_lines(&derived.files, out)?;
    write_profile_summary(&derived.profile, &derived.left_out, out)?;
    if let Some(gap) = long_gap(&derived.profile) {
        writeln!(out, "replay: warning: {gap}")?;
    }
    if derived.sample_level > 0 {
        let budget = crate::profile::deriver::slot_budget(derived.sample_level);
        writeln!(
            out,
            "replay: note: the log's sampled values ran past {} in memory (long values on many distinct paths), \
             so each parameter, query key and tail keeps values of at most {} together; values that do not fit are \
             not replayed, and a placeholder left with none needs --var",
            crate::units::human_bytes(crate::profile::deriver::SAMPLE_BUDGET as u64),
            crate::units::human_bytes(budget as u64)
        )?;
    }
    if let Some((rows, late)) = derived.trace {
        writeln!(out, "replay: trace: {rows} rows ({late} later than the reorder window, written out of order)")?;
    }
    Ok(())
}

/// Per input: its format and what became of its lines, the first rejects, a read error.
pub fn write_file_lines(files: &[FileReport], out: &mut dyn Write) -> io::Result<()> {
    for file in files {
        let format = file.format.as_ref().map_or("empty", |f| f.name());
        let not_requests: u64 = file.not_requests.iter().sum();
        let not_http = if not_requests > 0 { format!(", {not_requests} not HTTP requests") } else { String::new() };
        writeln!(
            out,
            "replay: {}: {format}, {} lines: {} requests{not_http}, {} skipped, {} rejected",
            file.name, file.lines, file.records, file.skipped, file.rejected
        )?;
        let mut format_in = file.format.as_ref();
        if let Some(crate::log::Format::Wrapped(wrapper, inner)) = format_in {
            writeln!(out, "  inside {}: each line unwrapped, then read as {}", wrapper.describe(), inner.name())?;
            format_in = Some(inner);
        }
        if let Some(crate::log::Format::Loose(layout)) = format_in {
            writeln!(out, "  read loosely: {}; pass --format for the rest", layout.describe())?;
        }
        // What the server logged for connections that never spoke HTTP: never replayed, worth knowing.
        let mut kinds: Vec<(u64, NotRequest)> =
            NotRequest::ALL.iter().map(|&k| (file.not_requests[k.index()], k)).filter(|(n, _)| *n > 0).collect();
        kinds.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (n, kind) in kinds {
            writeln!(out, "  not an HTTP request, left out: {}: {}", kind.describe(), crate::units::thousands(n))?;
        }
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
        writeln!(out, "  {:>6.2}%  {}", e.weight * 100.0, crate::untrusted::terminal(&format!("{} {}", e.method, e.path)))?;
    }
    let arrival = &profile.arrival;
    writeln!(
        out,
        "replay: arrival, {} of {}: {}",
        count(arrival.counts.len() as u64, "bin"),
        human_duration(f64::from(arrival.bin_s)),
        sparkline(arrival)
    )?;
    // Segments start at UTC times when the profile knows its first request's.
    let first_us = profile.source.as_ref().and_then(|s| s.first.as_deref()).and_then(|t| crate::log::fields::iso_time_field(t.as_bytes()));
    let at = |offset_s: u64| match first_us {
        Some(first) => chrono::DateTime::from_timestamp_micros(first - first.rem_euclid(1_000_000) + offset_s as i64 * 1_000_000)
            .map_or_else(|| human_duration(offset_s as f64), |t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        None => human_duration(offset_s as f64),
    };
    for s in &profile.segments {
        let rates = match s.kind {
            SegmentKind::Steady => rate(s.rps.unwrap_or(0.0)),
            SegmentKind::Ramp => format!("{} to {}", rate(s.rps_from.unwrap_or(0.0)), rate(s.rps_to.unwrap_or(0.0))),
            SegmentKind::Bursty => format!("{}, peaks of {}", rate(s.baseline_rps.unwrap_or(0.0)), rate(s.peak_rps.unwrap_or(0.0))),
        };
        let own_mix = if s.weights.is_some() { ", own endpoint mix" } else { "" };
        let length = human_duration((s.end_s - s.start_s) as f64);
        writeln!(out, "  {} from {} for {length}: {rates}{own_mix}", s.kind.name(), at(s.start_s))?;
    }
    if let Some(sessions) = &profile.sessions {
        let median = |q: &Option<crate::profile::Quantiles>| q.map_or(0.0, |q| q.p50);
        writeln!(
            out,
            "replay: {}; median {} over {}, think time {}",
            count(sessions.count, "session"),
            count(median(&sessions.length).round() as u64, "request"),
            human_duration(median(&sessions.duration_s)),
            human_duration(median(&sessions.think_time_s))
        )?;
        if sessions.time_resolution_s.is_some() {
            writeln!(
                out,
                "replay: the log's times are whole seconds, so think times under 2 s could not be measured: each gap was spread \
                 over the two seconds around it (a logged 0 over the second after), which keeps their mean; runs draw from that"
            )?;
        }
    }
    for login in profile.endpoints.iter().filter(|e| e.once_per_session) {
        let form = login.body.as_ref().map_or(String::new(), |b| format!(" with the form `{}`", b.text));
        let names: Vec<String> = login
            .body
            .iter()
            .flat_map(|b| crate::profile::template::placeholders(&b.text).map(str::to_owned).collect::<Vec<_>>())
            .collect();
        writeln!(
            out,
            "replay: {} {} opens the sessions: `run --sessions` logs each user in first{form}; logs keep no bodies, so give \
             each user's {} with --vars users.csv (a header naming them, one row per user)",
            login.method,
            crate::untrusted::terminal(&login.path),
            if names.is_empty() { "values".to_owned() } else { names.join(" and ") }
        )?;
    }
    Ok(())
}

/// The longest stretch of the curve with no request, when it is over an hour
/// and most of the timeline (a 2015 log and a 2019 log derived together):
/// the replay would send one spike, wait, and send another. Says where, and
/// what to do.
fn long_gap(profile: &Profile) -> Option<String> {
    let counts = &profile.arrival.counts;
    let bin_s = u64::from(profile.arrival.bin_s.max(1));
    let (mut best, mut run, mut best_end) = (0usize, 0usize, 0usize);
    for (i, &c) in counts.iter().enumerate() {
        run = if c == 0 { run + 1 } else { 0 };
        if run > best {
            (best, best_end) = (run, i + 1);
        }
    }
    let gap_s = best as u64 * bin_s;
    let span_s = counts.len() as u64 * bin_s;
    if gap_s < 3600 || gap_s * 2 < span_s {
        return None;
    }
    let first_us =
        profile.source.as_ref().and_then(|s| s.first.as_deref()).and_then(|t| crate::log::fields::iso_time_field(t.as_bytes()))?;
    let time = |offset_s: u64| {
        chrono::DateTime::from_timestamp_micros(first_us + offset_s as i64 * 1_000_000)
            .map_or_else(String::new, |t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
    };
    let (gap_from, gap_to) = (time((best_end - best) as u64 * bin_s), time(best_end as u64 * bin_s));
    Some(format!(
        "nothing was logged for {} ({gap_from} to {gap_to}), {:.0}% of the timeline: a replay sends what came before, waits, then what came after. \
         Derive each span on its own (--until {gap_from}, then --since {gap_to}), or replay a --window of one",
        human_duration(gap_s as f64),
        gap_s as f64 * 100.0 / span_s as f64
    ))
}

/// A rate with significant digits: `0.02 rps`, `1.5 rps`, `1,250 rps` (never `0 rps` for a trickle).
fn rate(rps: f64) -> String {
    if rps > 0.0 && rps < 0.1 {
        return format!("{rps:.2} rps");
    }
    if rps < 10.0 {
        return format!("{:.1} rps", rps);
    }
    crate::units::human_rate(rps)
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
