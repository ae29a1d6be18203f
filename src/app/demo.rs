//! `replay demo`: the main job end to end on this machine: an example log
//! derived into a profile (its summary shown), an example server on
//! loopback, the profile replayed for a few seconds, and every report kept
//! in a folder it names, then the commands to try on one's own logs.

use super::run::{plan_facts, prepare_out, replay, runtime};
use crate::Exit;
use crate::client::ClientConfig;
use crate::plan::{Pace, PlanSettings, Requests, build};
use crate::run::RunConfig;
use anyhow::Context;
use std::time::Duration;

/// The demo's log, made by fixtures/make_demo_log.py.
const DEMO_LOG: &str = include_str!("../../fixtures/demo/access.log");

/// `./replay-demo/`, or a folder under the system's temporary one where the current folder is not writable.
fn demo_dir() -> std::path::PathBuf {
    let here = std::path::PathBuf::from("replay-demo");
    if std::fs::create_dir_all(&here).is_ok() && std::fs::write(here.join(".replay-write-check"), b"").is_ok() {
        let _ = std::fs::remove_file(here.join(".replay-write-check"));
        return here;
    }
    std::env::temp_dir().join(format!("replay-demo-{}", std::process::id()))
}

pub fn demo_command(duration_s: u64, http2: bool, ui: Option<crate::ui::UiOptions>) -> anyhow::Result<Exit> {
    let dir = demo_dir();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let log = dir.join("access.log");
    std::fs::write(&log, DEMO_LOG)?;
    println!("demo: 1. derive a profile from an example access log ({})", log.display());
    let derived = crate::derive::derive(&crate::derive::DeriveConfig::new(vec![log.display().to_string()]))?;
    crate::derive::write_summary(&derived, &mut std::io::stdout().lock())?;
    let profile = derived.profile;
    let profile_path = dir.join("profile.json");
    std::fs::write(&profile_path, crate::profile::to_pretty_json(&profile))?;
    println!("demo: the profile is {}", profile_path.display());
    let runtime = runtime()?;
    let (addr, received, stop) = runtime.block_on(crate::demo::start())?;
    let span_s = profile.arrival.counts.len() as f64 * f64::from(profile.arrival.bin_s);
    println!(
        "demo: 2. replay it against an example server on http://{addr}: {} ({} requests over {}) in {}{}",
        profile_path.display(),
        profile.arrival.counts.iter().sum::<u64>(),
        crate::units::human_duration(span_s),
        crate::units::human_duration(duration_s as f64),
        if http2 { ", over HTTP/2 (h2c)" } else { "" }
    );
    let host: hyper::Uri = format!("http://{addr}").parse()?;
    // The example server takes any login; a login found in the log needs values all the same.
    let vars = [("username", "demo"), ("password", "pw-demo")].into_iter().map(|(k, v)| (k.to_owned(), vec![v.to_owned()])).collect();
    let settings = PlanSettings { pace: Pace::Duration(Duration::from_secs(duration_s.max(1))), vars, ..PlanSettings::default() };
    let planned = build(&Requests(&profile), &settings)?;
    let client = ClientConfig { http2, ..ClientConfig::new(host.clone()) };
    // The example server shares this process: its CPU would count as the generator's, and a
    // spinning loop would take time from it (`--no-spin`'s case).
    let config = RunConfig { progress_every: Duration::from_secs(2), spin: false, ..RunConfig::new(client) };
    let out = prepare_out(Some(&dir.join("results")), true)?;
    let facts = plan_facts(&log.display().to_string(), &settings, &config, &planned);
    let judging = super::run::Judging { run_id: super::run::default_run_id(&facts, None), ..super::run::Judging::default() };
    let (server, watching) = match ui {
        Some(options) => {
            let (server, watching) = super::ui::watch_one(&options, Some(&profile), &facts, &profile_path)?;
            (Some(server), Some(watching))
        }
        None => (None, None),
    };
    let (results, exit) = replay(&runtime, planned, config, &host.to_string(), &out, facts, judging, watching)?;
    drop(server);
    let _ = stop.send(());
    let got = received.lock().map(|r| r.clone()).unwrap_or_default();
    println!("demo: the server received {}", got.iter().map(|(k, v)| format!("{k}: {v}")).collect::<Vec<_>>().join(", "));
    let n = crate::units::thousands;
    println!(
        "demo: {} of {} intended requests sent, {} failed",
        n(results.totals.requests),
        n(results.totals.intended),
        n(results.totals.failures)
    );
    println!("demo: latency is measured from each request's intended send time, so a slow target shows as latency instead of hiding;");
    println!(
        "demo: schedule lag is how late requests left against that time ({:.2} ms at p99 here): small lag means the load was delivered.",
        results.schedule_lag_ms.p99
    );
    println!("demo: 3. the reports are in {}: {} (open report.html in a browser)", out.display(), crate::report::other_files());
    println!("demo: next, on your own logs:");
    println!("  replay derive /var/log/nginx/access.log > profile.json");
    println!("  replay plan profile.json --host https://staging.example.com --speed 60");
    println!("  replay run profile.json --host https://staging.example.com --speed 60 --threshold 'p99<300ms' --threshold 'errors<1%'");
    Ok(exit)
}
