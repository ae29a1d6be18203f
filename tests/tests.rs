//! The one integration-test binary (one link step keeps builds fast).
//!
//! - `browser`: report.html in headless Chromium (ignored, saying so, where it is not installed).
//! - `cdp`: a small DevTools client that drives headless Chromium for `ui`.
//! - `ui`: the live web view in Chromium: a watched run, `replay ui`'s Start and Stop, tokens and hosts.
//! - `chain`: every real log and a honeypot's derived, planned with no values, every request built.
//! - `util`: paths, running the built `replay`, golden-file comparison.
//! - `deploy`: the Kubernetes manifests rendered and schema-checked, the shards' script and run.sh against a stand-in kubectl, the Dockerfile.
//! - `cli`: help, version, exit codes and error messages for bad usage and bad input.
//! - `faults`: a fault-injecting target: every fault counted, every request accounted for, the run on time.
//! - `fidelity`: a log with a known truth derived and replayed; the target receives its total and mix.
//! - `layout`: no two top-level modules import each other.
//! - `gate`: thresholds, exit codes, every report a run writes, --abort-on-fail, report, merge, compare.
//! - `extension_limit`, `extension_writer`: a stand-in limit and a stand-in report, each in one file, registered in one line.
//! - `export`: an exported locustfile run in Locust against the example app (ignored, saying so, where Locust is not installed).
//! - `diff`: `replay diff` from the command line: exit codes, JSON and Markdown.
//! - `derive`: the project's fixtures against their golden records and profiles; gzip, stdin.
//! - `partials`: `derive --partial` and `--merge`: real and generated logs split and merged back byte for byte, sessions across files, hostile partials.
//! - `profile`: what derive makes of logs: privacy, sessions, determinism, filters, real logs.
//! - `real_logs`: the public logs in ../shared/real-logs, per MANIFEST.tsv.
//! - `results_files`: hostile or broken results.json files refused by report, merge and compare, naming the field.
//! - `run`: replays against loopback targets: counts, mix, failures, the cap, signals, plan, demo.
//! - `safety`: planted secrets in every output, the results folder, hostile profiles under a memory limit, traces with --vars.
//! - `sessions`: the Locust scenario made real: a derived login that logs in, a failed one that fails, statuses against production's, think times.
//! - `run_loop`: the loop under paused time with a stand-in transport: the cap, the end, the accounting.

mod browser;
mod cdp;
mod chain;
mod cli;
mod deploy;
mod derive;
mod diff;
mod export;
mod extension_limit;
mod extension_writer;
mod faults;
mod fidelity;
mod gate;
mod layout;
mod partials;
mod profile;
mod real_logs;
mod results_files;
mod run;
mod run_loop;
mod safety;
mod sample_budget;
mod sessions;
mod shards;
mod ui;
mod util;
