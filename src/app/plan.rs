//! `replay plan`: what a run with the same flags would do, computed from
//! the bins (or one pass over a trace), without sending anything.

use super::source;
use crate::Exit;
use crate::cli::RunRequest;
use crate::client::display_url;
use crate::plan::{Pace, build};
use crate::units::{count, human_duration, human_rate, thousands};
use std::io::Write;

pub fn plan_command(mut request: RunRequest, out: &mut dyn Write) -> anyhow::Result<Exit> {
    let source = source::open(&mut request)?;
    let settings = &request.plan;
    let (estimate, catalog) = (source.estimate(settings)?, source.catalog());
    // Planning checks every placeholder and names the endpoints left out, as the run would; and the thresholds.
    let planned = build(source.as_ref(), settings)?;
    let thresholds = source::thresholds(source.as_ref(), &request, &catalog)?;
    let mut requests = estimate.requests;
    if let Some(max) = request.run.max_requests {
        requests = requests.min(max as f64);
    }
    writeln!(out, "plan: {} against {}", request.source.display(), display_url(&request.run.client.base))?;
    let pace = match settings.pace {
        Pace::Speed(s) => format!("speed x{}", trim(s)),
        Pace::Duration(d) => format!("fitted into {} (speed x{})", human_duration(d.as_secs_f64()), trim(estimate.speed)),
        Pace::Unset => "real time".to_owned(),
    };
    let window = settings.window.map_or("the whole timeline".to_owned(), |(from, to)| {
        format!("window {} to {}", human_duration(from as f64), human_duration(to as f64))
    });
    writeln!(out, "  {pace}, rate scale x{}, {window}", trim(settings.rate_scale))?;
    let length = match estimate.duration_s {
        Some(d) => human_duration(d),
        None => "no end (--loop): stop it with --max-requests, --duration or Ctrl-C".to_owned(),
    };
    let per_pass = if estimate.duration_s.is_none() { " per pass" } else { "" };
    writeln!(
        out,
        "  duration {length}, about {}{per_pass} over {}",
        count(requests.round() as u64, "request"),
        count(catalog.endpoints.len() as u64, "endpoint")
    )?;
    if let Some(users) = estimate.users {
        let at_once = estimate.users_at_once.map_or(String::new(), |n| format!(", up to {} at once", thousands(n.round() as u64)));
        writeln!(out, "  about {} virtual users{at_once}", thousands(users.round() as u64))?;
    } else if let Some(at_once) = source.users_at_once(settings) {
        writeln!(
            out,
            "  its sessions are about {} users walking at once (Little's law; --sessions replays them as users)",
            thousands(at_once.round() as u64)
        )?;
    }
    let mean = estimate.duration_s.filter(|d| *d > 0.0).map(|d| requests / d);
    let capped = request.run.max_rps.is_some_and(|cap| estimate.peak_rps > f64::from(cap));
    writeln!(
        out,
        "  {}peak {}{}",
        mean.map_or(String::new(), |m| format!("mean {}, ", human_rate(m))),
        human_rate(estimate.peak_rps),
        if capped { " (over --max-rps: the cap will hold requests back, and those it holds past the end are not sent)" } else { "" }
    )?;
    if let Some(shards) = request.shards {
        write_shares(out, shards, requests, estimate.peak_rps, estimate.users.is_some())?;
    }
    let latency_s = source.production_latency_s();
    if latency_s > 0.0 {
        writeln!(
            out,
            "  expected concurrency at peak: {:.1} requests in flight at production's median latency (--connections {})",
            estimate.peak_rps * latency_s,
            request.run.client.connections
        )?;
    }
    for endpoint in &planned.left_out {
        writeln!(out, "  left out: {}", crate::untrusted::terminal(endpoint))?;
    }
    for placeholder in &planned.synthetic {
        writeln!(out, "  synthetic values, in the shape of the logs' (no --var given): {placeholder}")?;
    }
    for t in &thresholds {
        writeln!(out, "  threshold: {t}")?;
    }
    if thresholds.is_empty() {
        writeln!(out, "  {}", crate::report::json::DEFAULT_VERDICT)?;
    }
    Ok(Exit::Ok)
}

/// What one generator core sends in an open-model run with its latency
/// measured honestly: `bench/run.sh` measures 20 to 40 µs of CPU a request on
/// loopback; this keeps a margin for TLS and slower machines.
pub const CORE_RPS: f64 = 20_000.0;

/// `plan --shards N`: each shard's share, and whether one core keeps up with it.
fn write_shares(out: &mut dyn Write, shards: u32, requests: f64, peak_rps: f64, users: bool) -> anyhow::Result<()> {
    let n = f64::from(shards);
    let (each, peak) = (requests / n, peak_rps / n);
    let unit = if users { "virtual user" } else { "request" };
    writeln!(
        out,
        "  {} shards (--shard 0/{shards} to {}/{shards}): each about {}, peak {} ({unit} k goes to shard k mod {shards}, so each shard's curve is the whole one's, scaled)",
        shards,
        shards - 1,
        count(each.round() as u64, "request"),
        human_rate(peak)
    )?;
    let needed = (peak_rps / CORE_RPS).ceil().max(1.0) as u32;
    if peak <= CORE_RPS {
        writeln!(out, "  one generator core keeps up with a shard's peak (a core sends about {})", human_rate(CORE_RPS))?;
    } else {
        writeln!(
            out,
            "  a shard's peak is more than one generator core sends (about {}): give each pod {} cores, or use --shards {needed} or more",
            human_rate(CORE_RPS),
            (peak / CORE_RPS).ceil() as u32
        )?;
    }
    Ok(())
}

/// `60`, `0.5`, `1.333`: a factor without trailing zeros.
fn trim(x: f64) -> String {
    let text = format!("{x:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}
