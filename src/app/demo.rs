//! `replay demo`: an example server on loopback, a profile derived from the
//! demo log, replayed for a few seconds.

use super::run::{prepare_out, replay, runtime};
use crate::Exit;
use crate::client::ClientConfig;
use crate::plan::{Pace, PlanSettings, Source, build};
use crate::run::RunConfig;
use std::time::Duration;

/// The demo's log, made by fixtures/make_demo_log.py.
const DEMO_LOG: &str = include_str!("../../fixtures/demo/access.log");

pub fn demo_command(duration_s: u64) -> anyhow::Result<Exit> {
    let dir = std::env::temp_dir().join(format!("replay-demo-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let log = dir.join("access.log");
    std::fs::write(&log, DEMO_LOG)?;
    let derived = crate::derive::derive(&crate::derive::DeriveConfig::new(vec![log.display().to_string()]))?;
    let profile = derived.profile;
    let runtime = runtime()?;
    let (addr, received, stop) = runtime.block_on(crate::demo::start())?;
    let span_s = profile.arrival.counts.len() as f64 * f64::from(profile.arrival.bin_s);
    println!(
        "demo: example server on http://{addr}; replaying {} ({} requests over {}) in {}",
        log.display(),
        profile.arrival.counts.iter().sum::<u64>(),
        crate::units::human_duration(span_s),
        crate::units::human_duration(duration_s as f64)
    );
    let host: hyper::Uri = format!("http://{addr}").parse()?;
    let settings = PlanSettings { pace: Pace::Duration(Duration::from_secs(duration_s.max(1))), ..PlanSettings::default() };
    let planned = build(Source::Profile(&profile), &settings)?;
    let config = RunConfig { progress_every: Duration::from_secs(2), ..RunConfig::new(ClientConfig::new(host.clone())) };
    let out = prepare_out(Some(&dir.join("results")), true)?;
    let facts = crate::report::json::PlanFacts {
        source: log.display().to_string(),
        unit: planned.unit.to_owned(),
        speed: planned.speed,
        rate_scale: 1.0,
        window: None,
        seed: settings.seed,
        length_s: planned.end_ns.map(|ns| ns as f64 / 1e9),
        max_rps: None,
        max_requests: None,
        connections: config.client.connections,
        timeout_ms: config.client.timeout.as_millis() as u64,
        segments: planned
            .segments
            .iter()
            .map(|s| crate::report::json::SegmentFacts { kind: s.kind.to_owned(), start_s: s.start_s, end_s: s.end_s })
            .collect(),
    };
    let gate = super::run::Gate { thresholds: vec![], abort_on_fail: false };
    let (results, exit) = replay(&runtime, planned, config, &host.to_string(), &out, facts, gate)?;
    let _ = stop.send(());
    let got = received.lock().map(|r| r.clone()).unwrap_or_default();
    println!("demo: the server received {}", got.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", "));
    println!("demo: {} of {} intended requests sent, {} failed", results.totals.requests, results.totals.intended, results.totals.failures);
    Ok(exit)
}
