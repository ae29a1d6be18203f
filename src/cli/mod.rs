//! The command line: clap definitions only, and one step that turns them
//! into the typed configs the library takes. Nothing below this module sees clap.

mod derive;
mod duration;
mod run;
mod ui;

pub use derive::DeriveMode;
pub use duration::{parse_duration, parse_duration_s};
pub use run::RunRequest;
pub use ui::UiArgs;

use crate::derive::DeriveConfig;
use crate::log::{FORMAT_HELP, Format};
use crate::profile::deriver::DeriveSettings;
use crate::profile::synth::{Shape, SynthSpec};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

const FORMATS: &str = "\
Log formats (--format; detected from the first lines when left out):
  combined, common
      Apache and nginx defaults; vhost, X-Forwarded-For, trailing durations
  nginx:'<log_format>'
      e.g. nginx:'$remote_addr [$time_local] \"$request\" $status $request_time'
  apache:'<LogFormat>'
      e.g. apache:'%h %l %u %t \"%r\" %>s %b \"%{User-Agent}i\" %D'
  json
      Caddy, Envoy, Traefik, Cloudflare, Google Cloud LB, App Engine
  json:<mapping>
      any JSON, e.g. json:time=ts,method=verb,path=uri,status=code,duration=dur_ms
  alb, elb
      AWS Application and classic Elastic Load Balancer
  w3c
      IIS and CloudFront (W3C extended, with #Fields: lines)
  haproxy
      HAProxy HTTP logs, with or without a syslog prefix
  envoy
      Envoy's default text format

Examples:
  replay derive access.log > profile.json
  zcat logs/*.gz | replay derive - -o profile.json
  replay derive --partial access-01.log.gz -o part-01.json.gz     (on each machine)
  replay derive --merge part-*.json.gz -o profile.json             (then once)

Exit codes: 0 done, 2 bad usage or input.";

#[derive(Debug, Parser)]
#[command(
    name = "replay",
    version,
    about = "Turn production access logs into traffic profiles and replay them against staging",
    propagate_version = true
)]
struct Cli {
    #[command(subcommand)]
    command: CliCommand,
}

#[derive(Debug, Subcommand)]
enum CliCommand {
    /// Read access logs and write a traffic profile (JSON) to stdout or --output
    #[command(after_help = FORMATS)]
    Derive {
        #[command(flatten)]
        logs: LogArgs,
        #[command(flatten)]
        profile: ProfileArgs,
        #[command(flatten)]
        mode: derive::DeriveModeArgs,
        /// Write the profile here instead of stdout (a partial ending in .gz is gzipped)
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Make a profile from a shape, for a service with no logs yet
    #[command(after_help = PROFILE_EXAMPLES)]
    Profile {
        /// The curve's shape (users, when --users is given)
        #[arg(long, value_enum, required_unless_present = "users")]
        shape: Option<ShapeArg>,
        /// Requests per second (steady, bursty baseline)
        #[arg(long, value_name = "RPS", required_if_eq_any([("shape", "steady"), ("shape", "bursty")]))]
        rps: Option<f64>,
        /// Starting (ramp) or lowest (daily) requests per second
        #[arg(long, value_name = "RPS", required_if_eq_any([("shape", "ramp"), ("shape", "daily")]))]
        from: Option<f64>,
        /// Final (ramp) or highest (daily) requests per second
        #[arg(long, value_name = "RPS", required_if_eq_any([("shape", "ramp"), ("shape", "daily")]))]
        to: Option<f64>,
        /// Bursty: requests per second during a burst
        #[arg(long, value_name = "RPS", required_if_eq("shape", "bursty"))]
        peak: Option<f64>,
        /// Users: how many walk at once (Locust's users)
        #[arg(long, value_name = "N", required_if_eq("shape", "users"), value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
        users: Option<u32>,
        /// Users: how many start each second until all walk (Locust's spawn rate) [default: all at once]
        #[arg(long, value_name = "PER_SECOND", value_parser = parse_spawn_rate)]
        spawn_rate: Option<f64>,
        /// Bursty: time from one burst to the next
        #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_duration_s)]
        burst_every: u64,
        /// Bursty: how long a burst lasts
        #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration_s)]
        burst_length: u64,
        /// The profile's length [default: 10m, or 24h for daily]
        #[arg(long, value_name = "DURATION", value_parser = parse_duration_s)]
        over: Option<u64>,
        /// Bin width [default: 1s, or 1m for daily]
        #[arg(long, value_name = "DURATION", value_parser = parse_duration_s)]
        bin: Option<u64>,
        /// An endpoint and its relative weight: 'GET /users/{id}=3' (repeat for more)
        #[arg(long = "endpoint", value_name = "'METHOD /path[=WEIGHT]'", required = true, value_parser = crate::profile::synth::parse_endpoint)]
        endpoints: Vec<(String, f64)>,
        /// An endpoint sent once at the start of each session, with a login form: 'POST /login'
        #[arg(long, value_name = "'METHOD /path'")]
        login: Option<String>,
        /// Think time between a session's requests: one duration (Locust's constant) or a range, 5s..9s (Locust's between)
        #[arg(long, value_name = "DURATION[..DURATION]", default_value = "3s", value_parser = crate::profile::think::Think::parse)]
        think: crate::profile::think::Think,
        /// Requests a session makes after its login, drawn by weight, as a Locust user repeats its tasks
        #[arg(long, value_name = "N", default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        session_requests: u32,
        /// Write the profile here instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Replay a profile against a target, measure it, write the results
    #[command(after_help = run::RUN_EXAMPLES)]
    Run {
        #[command(flatten)]
        run: run::RunArgs,
        #[command(flatten)]
        ui: ui::UiFlags,
    },
    /// What `run` would do with these flags: duration, requests, peak rate; no traffic
    Plan {
        #[command(flatten)]
        run: run::RunArgs,
        /// Show each of N shards' share: requests, peak rate, whether one generator core keeps up
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=i64::from(crate::plan::MAX_SHARDS)))]
        shards: Option<u32>,
    },
    /// Replay a small derived profile against an embedded example server on loopback
    Demo {
        /// How long the replay lasts
        #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration_s)]
        duration: u64,
        /// Replay over HTTP/2 without TLS (h2c), as `run --http2` does
        #[arg(long)]
        http2: bool,
        #[command(flatten)]
        ui: ui::UiFlags,
    },
    /// Serve a web page to start, watch and stop replays of these profiles (Locust's port, 8089)
    #[command(after_help = ui::UI_EXAMPLES)]
    Ui {
        #[command(flatten)]
        args: ui::UiArgs,
    },
    /// Compare two profiles: how traffic changed, or (with staging's log derived) what staging received
    #[command(
        after_help = "Examples:\n  replay diff last-month.json profile.json\n  replay diff profile.json staging.json --replayed-at 60 --fail-on 'mix<0.01' --fail-on 'correlation>0.99'\n  replay diff base.json new.json --fail-on 'GET /search: p99<+25%' --md diff.md --json diff.json\n\nConditions (--fail-on, repeatable; with none: mix<0.05, peak<+50%, peak>-50%, correlation>0.8, statuses<0.05):\n  mix<0.05              the mixes' total variation distance, when beyond what the sample sizes explain\n  peak<+20%  mean>-20%  the new rate against the base's (also p95, total)\n  correlation>0.9       the curves' shape, aligned\n  statuses<0.05         how far the status classes over all requests moved\n  GET /x: p99<+25%      one endpoint's production latency (p50 or p99)\n\nExit codes: 0 within, 1 beyond, 2 bad input."
    )]
    Diff {
        /// The profile to compare against (production's, or the one replayed)
        #[arg(value_name = "BASE")]
        base: PathBuf,
        /// The profile to compare (a later day's, or staging's log of the replay derived)
        #[arg(value_name = "NEW")]
        new: PathBuf,
        /// NEW is staging's log of a replay at this speed (and window of BASE): SPEED or SPEED,FROM..TO
        #[arg(long, value_name = "SPEED[,FROM..TO]", value_parser = crate::diff::curve::Alignment::parse, conflicts_with = "run")]
        replayed_at: Option<crate::diff::curve::Alignment>,
        /// NEW is staging's log of the replay this results.json is of: its speed and window align the two
        #[arg(long, value_name = "RESULTS")]
        run: Option<PathBuf>,
        /// Also write the conditions as JUnit XML here
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// A condition the comparison must meet (repeatable)
        #[arg(long = "fail-on", value_name = "CONDITION", value_parser = crate::diff::gate::Condition::parse)]
        fail_on: Vec<crate::diff::gate::Condition>,
        /// Also write the comparison as JSON here
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Also write it as Markdown here (for a pull request comment)
        #[arg(long, value_name = "FILE")]
        md: Option<PathBuf>,
    },
    /// Write a profile as another tool's load test: a locustfile or a k6 script
    #[command(
        after_help = "Examples:\n  replay export --locust profile.json --speed 60 -o locustfile.py\n  locust -f locustfile.py --headless --host https://staging.example.com\n  replay export --k6 profile.json --speed 60 -o script.js\n  REPLAY_HOST=https://staging.example.com k6 run script.js"
    )]
    Export {
        /// The profile
        #[arg(value_name = "PROFILE")]
        profile: PathBuf,
        /// Write a locustfile (Locust's HttpUser, tasks by weight, a LoadTestShape following the curve)
        #[arg(long, required_unless_present = "k6", conflicts_with = "k6")]
        locust: bool,
        /// Write a k6 script (a ramping-arrival-rate scenario following the curve, thresholds in k6's syntax)
        #[arg(long)]
        k6: bool,
        /// How many times faster than production the curve plays
        #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
        speed: f64,
        /// Write it here instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Judge a saved run again and write its reports
    #[command(
        about = format!("Judge a saved run again and write its reports ({})", crate::report::other_files()),
        after_help = "Examples:\n  replay report replay-results/2026-12-01T10-00-00Z/results.json\n  replay report results.json --threshold 'p99<300ms' -o ci-report\n\nExit codes: 0 passed, 1 failed, 2 bad input."
    )]
    Report {
        /// A results.json
        #[arg(value_name = "RESULTS")]
        file: PathBuf,
        /// Judge by these instead of the run's own thresholds (repeat for more)
        #[arg(long = "threshold", value_name = "RULE", value_parser = run::parse_threshold)]
        thresholds: Vec<String>,
        /// Where the reports go [default: beside the results.json]
        #[arg(short, long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Merge several runs' results.json into one, exactly (histograms added, rates over the union of their time)
    #[command(
        after_help = "Example:\n  replay merge shard-*/results.json -o total.json && replay report total.json --threshold 'p99<300ms'\n\nExit codes: 0 done, 2 bad input (a corrupt file, another version, another plan)."
    )]
    Merge {
        /// Two or more results.json
        #[arg(required = true, num_args = 2.., value_name = "RESULTS")]
        files: Vec<PathBuf>,
        /// The merged results.json
        #[arg(short, long, value_name = "FILE")]
        output: PathBuf,
    },
    /// Compare a run with a baseline, endpoint by endpoint; exit 1 on a regression beyond tolerance and noise
    #[command(
        after_help = "Example:\n  replay compare baseline/results.json replay-results/latest/results.json --tolerance 10%\n\nExit codes: 0 no regression, 1 a regression, 2 bad input."
    )]
    Compare {
        /// The results.json to compare against
        #[arg(value_name = "BASELINE")]
        baseline: PathBuf,
        /// The results.json of the run to judge
        #[arg(value_name = "CURRENT")]
        current: PathBuf,
        /// How much worse counts (and only beyond the runs' own noise)
        #[arg(long, value_name = "PERCENT", default_value = "10%", value_parser = parse_percent)]
        tolerance: f64,
        /// Also write compare.md and compare.html here
        #[arg(short, long, value_name = "DIR")]
        out: Option<PathBuf>,
    },
    /// Check profiles: load and validate each, print a line about it
    Check {
        /// Profile files
        #[arg(required = true, value_name = "PROFILE")]
        files: Vec<PathBuf>,
    },
    /// Show how replay reads a log: one JSON record per line, rejects on stderr
    #[command(after_help = FORMATS)]
    Parse {
        #[command(flatten)]
        logs: LogArgs,
        /// Stop after this many records
        #[arg(short = 'n', long, value_name = "N")]
        limit: Option<u64>,
    },
}

#[derive(Debug, clap::Args)]
struct LogArgs {
    /// Access logs to read: plain or gzip; - reads stdin
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
    /// The log format (see below); detected when left out
    #[arg(short, long, value_name = "FORMAT", value_parser = parse_format)]
    format: Option<Format>,
    /// Stop at the first line that does not parse, instead of counting it
    #[arg(long)]
    strict: bool,
    /// Worker threads [default: the number of cores]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

const PROFILE_EXAMPLES: &str = "\
Examples:
  replay profile --shape steady --rps 50 --over 10m --endpoint 'GET /=2' --endpoint 'GET /profile=1' --login 'POST /login'
  replay profile --shape ramp --from 10 --to 500 --over 10m --endpoint 'GET /'
  replay profile --shape bursty --rps 20 --peak 200 --burst-every 5m --burst-length 10s --endpoint 'GET /'
  replay profile --shape daily --from 5 --to 120 --endpoint 'GET /' -o daily.json
  replay profile --users 20 --spawn-rate 2 --over 10m --endpoint 'GET /=2' --endpoint 'GET /profile=1' --login 'POST /login' --think 5s..9s";

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum ShapeArg {
    Steady,
    Ramp,
    Bursty,
    Daily,
    /// Concurrent users, as Locust sizes a test
    Users,
}

#[derive(Debug, clap::Args)]
struct ProfileArgs {
    /// Keep requests at or after this time (a date, 2026-11-01, or RFC 3339, 2026-11-01T00:00:00Z)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    since: Option<i64>,
    /// Keep requests before this time (a date or RFC 3339)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    until: Option<i64>,
    /// Leave out requests whose path matches this regex (e.g. '^/healthz')
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    exclude: Option<regex::bytes::Regex>,
    /// Keep only requests to this host (port ignored)
    #[arg(long, value_name = "HOST")]
    host_filter: Option<String>,
    /// Most endpoints in the profile; the rest fold into one tail entry
    #[arg(long, value_name = "N", default_value_t = crate::profile::deriver::DEFAULT_MAX_ENDPOINTS, value_parser = clap::value_parser!(u32).range(1..))]
    max_endpoints: u32,
    /// Idle time that ends a user's session (e.g. 30m, 90s, 1h)
    #[arg(long, value_name = "DURATION", default_value = crate::units::flag_default(crate::profile::deriver::DEFAULT_SESSION_GAP), value_parser = parse_duration_s)]
    session_gap: u64,
    /// Width of the arrival curve's bins (e.g. 1s, 1m); chosen from the span when left out
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_s)]
    bin: Option<u64>,
    /// Seed for sampling parameter values
    #[arg(long, value_name = "N", default_value_t = crate::plan::settings::DEFAULT_SEED)]
    seed: u64,
    /// Also write every request's time, template and redacted path here (CSV)
    #[arg(long, value_name = "FILE")]
    trace: Option<PathBuf>,
    /// The form a login found in the logs sends, with a placeholder per value
    /// (default 'username={username}&password={password}'; a form opening with `{` goes as JSON)
    #[arg(long, value_name = "TEMPLATE", value_parser = parse_login_form)]
    login_form: Option<String>,
}

fn parse_spawn_rate(value: &str) -> Result<f64, String> {
    value
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|r| r.is_finite() && *r > 0.0)
        .ok_or_else(|| format!("`{value}` is not a spawn rate; give users a second above 0, e.g. 2"))
}

fn parse_login_form(value: &str) -> Result<String, String> {
    crate::profile::login::check_form(value).map(|()| value.to_owned())
}

/// An RFC 3339 time, or a plain date (`2015-05-18`, its midnight UTC).
fn parse_time(value: &str) -> Result<i64, String> {
    let v = value.trim();
    if let Ok(date) = chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d") {
        return Ok(date.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp_micros()).unwrap_or(0));
    }
    crate::log::fields::iso_time_field(v.as_bytes())
        .ok_or_else(|| format!("`{value}` is not a time; use a date (2026-11-01) or RFC 3339 (2026-11-01T00:00:00Z)"))
}

fn parse_regex(value: &str) -> Result<regex::bytes::Regex, String> {
    regex::bytes::Regex::new(value).map_err(|e| format!("`{value}` is not a regex: {e}"))
}

/// `10%` (or `0.1`) as a fraction.
fn parse_percent(value: &str) -> Result<f64, String> {
    let v = value.trim();
    let fraction = match v.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
        None => v.parse::<f64>(),
    };
    fraction.ok().filter(|f| f.is_finite() && *f >= 0.0).ok_or_else(|| format!("`{value}` is not a tolerance; write e.g. 10%"))
}

fn parse_format(value: &str) -> Result<Format, String> {
    value.parse::<Format>().map_err(|e| format!("{}\n  {FORMAT_HELP}", e.reason))
}

/// A command, with its typed configuration.
#[derive(Debug)]
pub enum Command {
    Profile {
        spec: SynthSpec,
        output: Option<PathBuf>,
    },
    Run {
        request: RunRequest,
        ui: Option<crate::ui::UiOptions>,
    },
    Plan {
        request: RunRequest,
    },
    Demo {
        duration_s: u64,
        http2: bool,
        ui: Option<crate::ui::UiOptions>,
    },
    Ui {
        args: UiArgs,
    },
    Check {
        files: Vec<PathBuf>,
    },
    Export {
        profile: PathBuf,
        tool: crate::export::Tool,
        speed: f64,
        output: Option<PathBuf>,
    },
    Diff {
        base: PathBuf,
        new: PathBuf,
        align: Option<crate::diff::curve::Alignment>,
        run: Option<PathBuf>,
        conditions: Vec<crate::diff::gate::Condition>,
        json: Option<PathBuf>,
        md: Option<PathBuf>,
        junit: Option<PathBuf>,
    },
    Report {
        file: PathBuf,
        thresholds: Vec<String>,
        out: Option<PathBuf>,
    },
    Merge {
        files: Vec<PathBuf>,
        output: PathBuf,
    },
    Compare {
        baseline: PathBuf,
        current: PathBuf,
        tolerance: f64,
        out: Option<PathBuf>,
    },
    Derive {
        config: DeriveConfig,
        output: Option<PathBuf>,
        mode: DeriveMode,
    },
    Parse {
        config: DeriveConfig,
        limit: Option<u64>,
    },
}

/// Parses the process arguments; exits with code 2 and a usage message on bad usage.
pub fn parse() -> Command {
    match Cli::try_parse() {
        Ok(cli) => translate(cli),
        Err(e) => match redacted(&e) {
            Some(message) => {
                eprintln!("{message}");
                std::process::exit(2);
            }
            None => e.exit(),
        },
    }
}

/// Flags whose values may be secrets: their errors never repeat the value.
const SECRET_FLAGS: [&str; 4] = ["--header", "--var", "--host", "--ui-token"];

/// clap repeats a bad value in its message; for a flag that may hold a secret, the message without it.
fn redacted(e: &clap::Error) -> Option<String> {
    use clap::error::{ContextKind, ContextValue};
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else { return None };
    let flag = SECRET_FLAGS.iter().find(|f| arg.starts_with(*f))?;
    let why = std::error::Error::source(e).map_or_else(|| "a bad value".to_owned(), |s| s.to_string());
    Some(format!("error: invalid value for {flag}: {why}\n\nFor more information, try '--help'."))
}

/// Parses `args` (the first is the program name), for tests.
pub fn try_parse_from<I, T>(args: I) -> Result<Command, String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    Cli::try_parse_from(args).map(translate).map_err(|e| redacted(&e).unwrap_or_else(|| e.to_string()))
}

fn translate(cli: Cli) -> Command {
    match cli.command {
        CliCommand::Derive { logs, profile, mode, output } => {
            let mut config = logs.into_config();
            config.settings = DeriveSettings {
                since_us: profile.since,
                until_us: profile.until,
                exclude: profile.exclude,
                host_filter: profile.host_filter,
                max_endpoints: profile.max_endpoints as usize,
                session_gap_s: profile.session_gap,
                bin_s: profile.bin.map(|b| b.min(u64::from(u32::MAX)) as u32),
                seed: profile.seed,
                trace: false,
                login_form: profile.login_form,
            };
            config.trace = profile.trace;
            Command::Derive { config, output, mode: mode.mode() }
        }
        CliCommand::Profile {
            shape,
            rps,
            from,
            to,
            peak,
            users,
            spawn_rate,
            burst_every,
            burst_length,
            over,
            bin,
            endpoints,
            login,
            think,
            session_requests,
            output,
        } => {
            let value = |v: Option<f64>| v.unwrap_or(0.0);
            let shape = match shape.unwrap_or(ShapeArg::Users) {
                ShapeArg::Steady => Shape::Steady { rps: value(rps) },
                ShapeArg::Ramp => Shape::Ramp { from: value(from), to: value(to) },
                ShapeArg::Bursty => Shape::Bursty { rps: value(rps), peak: value(peak), every_s: burst_every, burst_s: burst_length },
                ShapeArg::Daily => Shape::Daily { from: value(from), to: value(to) },
                ShapeArg::Users => Shape::Users { users: users.unwrap_or(1), spawn_rate },
            };
            let daily = matches!(shape, Shape::Daily { .. });
            let spec = SynthSpec {
                shape,
                over_s: over.unwrap_or(if daily { 86_400 } else { 600 }),
                bin_s: bin.unwrap_or(if daily { 60 } else { 1 }).min(u64::from(u32::MAX)) as u32,
                endpoints,
                login,
                think,
                session_requests: session_requests as usize,
            };
            Command::Profile { spec, output }
        }
        CliCommand::Check { files } => Command::Check { files },
        CliCommand::Diff { base, new, replayed_at, run, junit, fail_on, json, md } => {
            let conditions = if fail_on.is_empty() {
                crate::diff::gate::DEFAULTS.iter().filter_map(|c| crate::diff::gate::Condition::parse(c).ok()).collect()
            } else {
                fail_on
            };
            Command::Diff { base, new, align: replayed_at, run, conditions, json, md, junit }
        }
        CliCommand::Export { profile, locust, k6: _, speed, output } => {
            let tool = if locust { crate::export::Tool::Locust } else { crate::export::Tool::K6 };
            Command::Export { profile, tool, speed, output }
        }
        CliCommand::Report { file, thresholds, out } => Command::Report { file, thresholds, out },
        CliCommand::Merge { files, output } => Command::Merge { files, output },
        CliCommand::Compare { baseline, current, tolerance, out } => Command::Compare { baseline, current, tolerance, out },
        CliCommand::Run { run, ui } => Command::Run { request: run.into_request(), ui: ui.options() },
        CliCommand::Plan { run, shards } => Command::Plan { request: run::RunRequest { shards, ..run.into_request() } },
        CliCommand::Demo { duration, http2, ui } => Command::Demo { duration_s: duration, http2, ui: ui.options() },
        CliCommand::Ui { args } => Command::Ui { args },
        CliCommand::Parse { logs, limit } => Command::Parse { config: logs.into_config(), limit },
    }
}

impl LogArgs {
    fn into_config(self) -> DeriveConfig {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        DeriveConfig {
            inputs: self.files,
            format: self.format,
            strict: self.strict,
            threads: self.threads.map_or(cores, usize::from),
            settings: DeriveSettings::default(),
            trace: None,
            sample_budget: crate::profile::deriver::SAMPLE_BUDGET,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_and_until_take_dates_and_rfc_3339() {
        assert_eq!(parse_time("2015-05-18"), Ok(1_431_907_200_000_000));
        assert_eq!(parse_time("2015-05-18T00:00:00Z"), Ok(1_431_907_200_000_000));
        assert_eq!(parse_time("2015-05-18T02:00:00+02:00"), Ok(1_431_907_200_000_000));
        assert!(parse_time("18/05/2015").unwrap_err().contains("a date (2026-11-01)"));
    }
}
