//! `replay run` and `replay plan` flags, and their translation into a [`RunRequest`].

use super::duration::parse_duration;
use crate::client::{ClientConfig, DEFAULT_CONNECTIONS};
use crate::plan::settings::DEFAULT_SEED;
use crate::plan::{Pace, PlanSettings, Vars};
use crate::run::RunConfig;
use crate::schedule::Arrivals;
use hyper::header::{HeaderName, HeaderValue};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

pub const RUN_EXAMPLES: &str = "\\
Examples:
  replay run profile.json --host http://127.0.0.1:8080 --speed 60
  replay run profile.json --host https://staging.example.com --duration 10m --window 2h..4h --rate-scale 2 --max-rps 5000
  replay run profile.json --host http://127.0.0.1:8080 --header 'Authorization: Bearer ${STAGING_TOKEN}' --var token=abc

Thresholds (--threshold, repeatable, or \"thresholds\" in the profile): p50 p90 p95 p99 p99.9 max mean
(p99<300ms), errors or a failure class (errors<1%, http_5xx<0.1%), not_sent<1%, delivery (rps>=0.99*intended),
per endpoint ('GET /users/{id}: p99<250ms') and over every window of the run (p99[1m]<400ms).

A run ends at its schedule's end (or --duration), plus one second for late requests and --timeout for
requests in flight; every intended request is counted as sent or not sent, with the reason.

Exit codes: 0 passed, 1 a threshold failed (or, with none given, nothing was sent, every request failed,
or the generator under-delivered), 2 bad usage or input, 3 aborted (Ctrl-C).";

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The profile to replay, or a trace from `replay derive --trace`
    #[arg(value_name = "PROFILE")]
    pub profile: PathBuf,
    /// The target: http:// or https:// URL (user:password@ in it is sent as HTTP Basic authentication)
    #[arg(long, value_name = "URL", value_parser = parse_host)]
    pub host: (hyper::Uri, Option<HeaderValue>),
    /// Play the timeline this many times faster (60 plays an hour in a minute)
    #[arg(long, value_name = "F", value_parser = parse_speed, conflicts_with = "duration")]
    pub speed: Option<f64>,
    /// Fit the window into this much time instead of --speed, and end the run then (e.g. 10m)
    #[arg(long, value_name = "DURATION", value_parser = parse_run_duration)]
    pub duration: Option<Duration>,
    /// The part of the profile to play, from..to in profile time (e.g. 2h..4h)
    #[arg(long, value_name = "FROM..TO", value_parser = parse_window)]
    pub window: Option<(u64, u64)>,
    /// Send this many times production's requests on the same timeline (0.1 sends a tenth)
    #[arg(long, value_name = "K", default_value_t = 1.0, value_parser = parse_scale)]
    pub rate_scale: f64,
    /// A hard ceiling on requests per second, whatever the profile and scales say
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_rps: Option<u32>,
    /// Stop after this many requests
    #[arg(long, value_name = "N")]
    pub max_requests: Option<u64>,
    /// Requests in flight at most (the keep-alive pool's size)
    #[arg(long, value_name = "N", default_value_t = DEFAULT_CONNECTIONS as u32, value_parser = clap::value_parser!(u32).range(1..))]
    pub connections: u32,
    /// Per-request timeout (e.g. 5s, 500ms); requests in flight when sending ends get this long to finish
    #[arg(long, value_name = "DURATION", default_value = crate::units::flag_default(crate::client::DEFAULT_TIMEOUT), value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Requests due within this long of each other go out together, none early (e.g. 500us, 1ms; 0 wakes for each)
    #[arg(long, value_name = "DURATION", default_value = crate::units::flag_default(crate::run::DEFAULT_BATCH_WINDOW), value_parser = parse_batch_window)]
    pub batch_window: Duration,
    /// Sleep through every wait, never spin through short ones while busy (for a target on the generator's cores)
    #[arg(long)]
    pub no_spin: bool,
    /// A header for every request, 'Name: value'; ${ENV} is expanded (repeat for more)
    #[arg(long = "header", value_name = "'NAME: VALUE'", value_parser = parse_header)]
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// A value for a placeholder: name=value (repeat for more)
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// A CSV of placeholder values: the header names them, each row gives values to draw from
    #[arg(long = "vars", value_name = "FILE")]
    pub vars_file: Option<PathBuf>,
    /// Refuse to run while any placeholder has no value, instead of leaving out the rare endpoints that need one
    #[arg(long)]
    pub strict_vars: bool,
    /// Seed for arrival times, endpoint draws and parameter values
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SEED)]
    pub seed: u64,
    /// Arrivals within a bin: poisson (default) or uniform
    #[arg(long, value_enum, default_value_t = ArrivalsArg::Poisson)]
    pub arrivals: ArrivalsArg,
    /// Virtual users: arrive at the profile's session rate, log in first, walk flows with think times, keep cookies
    #[arg(long)]
    pub sessions: bool,
    /// With --sessions: the users' think time instead of the profile's, one duration or a range (5s..9s, Locust's between)
    #[arg(long, value_name = "DURATION[..DURATION]", requires = "sessions", value_parser = crate::profile::think::Think::parse)]
    pub think: Option<crate::profile::think::Think>,
    /// Start the window again when it ends (soak tests; stop with --max-requests or Ctrl-C)
    #[arg(long = "loop")]
    pub looped: bool,
    /// Speak HTTP/2 without TLS (h2c); over TLS, HTTP/2 is negotiated anyway
    #[arg(long)]
    pub http2: bool,
    /// Accept any TLS certificate (self-signed staging)
    #[arg(long)]
    pub insecure: bool,
    /// Add traceparent and x-replay-id headers, so staging's traces can be matched to the run
    #[arg(long)]
    pub trace_headers: bool,
    /// Where results go [default: replay-results/<UTC timestamp>/]; checked before any traffic
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Replace the results already in --out
    #[arg(long)]
    pub overwrite: bool,
    /// A condition the run must meet, else exit 1: 'p99<300ms', 'errors<1%', 'GET /users/{id}: p99<250ms' (repeat for more)
    #[arg(long = "threshold", value_name = "RULE", value_parser = parse_threshold)]
    pub thresholds: Vec<String>,
    /// Stop as soon as a threshold can no longer pass
    #[arg(long)]
    pub abort_on_fail: bool,
    /// Send only shard K of N (K from 0) of the seeded schedule; --max-rps and --max-requests are shared out (docs/distributed.md)
    #[arg(long, value_name = "K/N", value_parser = crate::plan::Shard::parse)]
    pub shard: Option<crate::plan::Shard>,
    /// Start at this instant (RFC 3339, e.g. 2026-12-01T10:00:00Z), so every shard starts together
    #[arg(long, value_name = "TIME", value_parser = parse_start_at)]
    pub start_at: Option<chrono::DateTime<chrono::Utc>>,
    /// The run's identity in results.json, which merge checks: every shard of one run has it. By default a
    /// shard's comes from the plan and --start-at, a whole run's is new; a rerun of a failed shard passes the others'
    #[arg(long, value_name = "ID", value_parser = parse_run_id)]
    pub run_id: Option<String>,
}

/// Letters, digits, `.`, `_` and `-`, at most 64: it goes into file names and reports as it is.
fn parse_run_id(value: &str) -> Result<String, String> {
    let ok = !value.is_empty() && value.len() <= 64 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if ok {
        Ok(value.to_owned())
    } else {
        Err("a run id is 1 to 64 letters, digits, `.`, `_` or `-` (e.g. the run's results.json `run_id`)".to_owned())
    }
}

/// An RFC 3339 instant with its zone.
fn parse_start_at(value: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    chrono::DateTime::parse_from_rfc3339(value)
        .map(|t| t.with_timezone(&chrono::Utc))
        .map_err(|_| format!("`{value}` is not an RFC 3339 time; give one such as 2026-12-01T10:00:00Z"))
}

/// Checks a threshold's grammar at once, so a typo is bad usage before anything loads.
pub(super) fn parse_threshold(value: &str) -> Result<String, String> {
    crate::verdict::Threshold::parse(value).map(|_| value.to_owned())
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ArrivalsArg {
    Poisson,
    Uniform,
}

/// `replay run` or `replay plan`, typed: what to replay, how, and where results go.
#[derive(Debug, Clone)]
pub struct RunRequest {
    /// A profile (JSON) or a trace (CSV).
    pub source: PathBuf,
    pub sessions: bool,
    pub plan: PlanSettings,
    /// `--vars FILE`, read (and merged under `--var`) before planning.
    pub vars_file: Option<PathBuf>,
    pub run: RunConfig,
    pub out: Option<PathBuf>,
    pub overwrite: bool,
    /// `--threshold`s, as written (a profile's own join them when it is loaded).
    pub thresholds: Vec<String>,
    pub abort_on_fail: bool,
    /// `--start-at`: when sending begins.
    pub start_at: Option<chrono::DateTime<chrono::Utc>>,
    /// `plan --shards N`: show each shard's share.
    pub shards: Option<u32>,
    /// `--run-id`: the run's identity, when given.
    pub run_id: Option<String>,
}

impl RunArgs {
    pub fn into_request(self) -> RunRequest {
        let mut vars = Vars::new();
        for (name, value) in self.vars {
            vars.entry(name).or_default().push(value);
        }
        let pace = match (self.speed, self.duration) {
            (Some(speed), _) => Pace::Speed(speed),
            (None, Some(duration)) => Pace::Duration(duration),
            (None, None) => Pace::Unset,
        };
        let plan = PlanSettings {
            pace,
            window: self.window,
            rate_scale: self.rate_scale,
            arrivals: match self.arrivals {
                ArrivalsArg::Poisson => Arrivals::Poisson,
                ArrivalsArg::Uniform => Arrivals::Uniform,
            },
            seed: self.seed,
            looped: self.looped,
            vars,
            strict_vars: self.strict_vars,
            think: self.think,
            shard: self.shard,
        };
        let (base, credentials) = self.host;
        let mut headers = self.headers;
        if let Some(value) = credentials
            && !headers.iter().any(|(name, _)| name == hyper::header::AUTHORIZATION)
        {
            headers.push((hyper::header::AUTHORIZATION, value));
        }
        let client = ClientConfig {
            base,
            connections: self.connections as usize,
            timeout: self.timeout,
            http2: self.http2,
            insecure: self.insecure,
            headers,
            trace_headers: self.trace_headers.then(|| chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0) as u64 ^ self.seed),
        };
        // A limit holds for the whole run: each shard takes its share.
        let share = |whole: u64| self.shard.map_or(whole, |s| s.share(whole).max(1));
        let run = RunConfig {
            max_rps: self.max_rps.map(|cap| share(u64::from(cap)) as u32),
            max_requests: self.max_requests.map(share),
            batch_window: self.batch_window,
            spin: !self.no_spin,
            progress_every: if std::io::stderr().is_terminal() {
                crate::run::PROGRESS_ON_A_TERMINAL
            } else {
                crate::run::DEFAULT_PROGRESS_EVERY
            },
            ..RunConfig::new(client)
        };
        RunRequest {
            source: self.profile,
            sessions: self.sessions,
            plan,
            vars_file: self.vars_file,
            run,
            out: self.out,
            overwrite: self.overwrite,
            thresholds: self.thresholds,
            abort_on_fail: self.abort_on_fail,
            start_at: self.start_at,
            shards: None,
            run_id: self.run_id,
        }
    }
}

/// `500ms`, `5s`, `1m`: a timeout above zero.
fn parse_timeout(value: &str) -> Result<Duration, String> {
    match parse_duration(value) {
        Ok(d) if !d.is_zero() => Ok(d),
        _ => Err(format!("`{value}` is not a timeout; use e.g. 500ms or 5s")),
    }
}

/// `0`, `250us` or `2ms`: at most 100 ms, beyond which batches would be bursts of their own.
fn parse_batch_window(value: &str) -> Result<Duration, String> {
    match parse_duration(value) {
        Ok(window) if window <= Duration::from_millis(100) => Ok(window),
        _ => Err(format!("`{value}` is not a batch window; use e.g. 500us, 1ms or 0 (at most 100ms)")),
    }
}

/// `--duration`: above zero.
fn parse_run_duration(value: &str) -> Result<Duration, String> {
    match parse_duration(value) {
        Ok(d) if !d.is_zero() => Ok(d),
        Ok(_) => Err(format!("`{value}` must be more than zero")),
        Err(e) => Err(e),
    }
}

/// The target, and HTTP Basic credentials from a `user:password@` in it.
/// Messages never repeat the URL: it may hold a password.
fn parse_host(value: &str) -> Result<(hyper::Uri, Option<HeaderValue>), String> {
    let bad = || "--host takes an http(s) URL; use e.g. --host http://127.0.0.1:8080 or --host https://staging.example.com".to_owned();
    let uri: hyper::Uri = value.parse().map_err(|_| bad())?;
    let (Some(scheme @ ("http" | "https")), Some(authority)) = (uri.scheme_str(), uri.authority()) else { return Err(bad()) };
    // A query would be printed in the banner and every report, and it reaches no request: refuse it
    // without repeating it (it is most often a token).
    if uri.query().is_some() || value.contains('#') {
        return Err("--host takes a base URL with no query or fragment (a token in it would be printed in every report and sent with no request); pass a token with --header 'Authorization: Bearer …' or as a --var".to_owned());
    }
    let Some((userinfo, host)) = authority.as_str().rsplit_once('@') else { return Ok((uri, None)) };
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    let bare: hyper::Uri = format!("{scheme}://{host}{path}").parse().map_err(|_| bad())?;
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode(percent_decode(userinfo));
    let mut header = HeaderValue::from_str(&format!("Basic {encoded}")).map_err(|_| bad())?;
    header.set_sensitive(true);
    Ok((bare, Some(header)))
}

/// `p%40ss` as `p@ss`, for credentials in a URL.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn parse_speed(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(speed) if speed.is_finite() && speed > 0.0 => Ok(speed),
        _ => Err(format!("`{value}` is not a speed above 0; e.g. --speed 60 plays an hour in a minute, --speed 0.5 at half speed")),
    }
}

fn parse_scale(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(scale) if scale.is_finite() && scale > 0.0 => Ok(scale),
        _ => Err(format!("`{value}` is not a rate scale above 0; e.g. --rate-scale 2 doubles the traffic, 0.1 sends a tenth")),
    }
}

/// `2h..4h`, `0..30m`, `90s..` (to the end is not allowed: give both ends).
fn parse_window(value: &str) -> Result<(u64, u64), String> {
    let bad = |why: &str| format!("`{value}` {why}; use FROM..TO in profile time, e.g. --window 2h..4h or --window 0..30m");
    let (from, to) = value.split_once("..").ok_or_else(|| bad("is not a window"))?;
    let time = |t: &str| parse_duration(t).map(|d| d.as_secs());
    let (from, to) = (time(from).map_err(|_| bad("has a bad start"))?, time(to).map_err(|_| bad("has a bad end"))?);
    if to <= from {
        return Err(bad("is empty"));
    }
    Ok((from, to))
}

/// `name=value`; messages never repeat the value.
fn parse_var(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((name, v)) if !name.trim().is_empty() => Ok((name.trim().trim_matches(['{', '}']).to_owned(), v.to_owned())),
        _ => Err("--var takes name=value (with an equals sign); e.g. --var token=abc123".to_owned()),
    }
}

/// `Authorization: Bearer ${STAGING_TOKEN}`, with environment variables expanded.
/// Messages name the header, never its value: it may be a secret.
fn parse_header(value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, raw) =
        value.split_once(':').ok_or_else(|| "--header takes 'Name: value' (with a colon); e.g. --header 'X-Env: staging'".to_owned())?;
    let shown = name.trim().chars().take(40).filter(|c| c.is_ascii_graphic()).collect::<String>();
    let mut expanded = String::new();
    let mut rest = raw.trim();
    while let Some(open) = rest.find("${") {
        let close = rest[open..].find('}').map(|c| open + c).ok_or_else(|| format!("--header {shown}: its value has an unclosed ${{"))?;
        let var = &rest[open + 2..close];
        let v = std::env::var(var)
            .map_err(|_| format!("--header {shown}: the environment variable {var} is not set; export it or write the value"))?;
        expanded.push_str(&rest[..open]);
        expanded.push_str(&v);
        rest = &rest[close + 1..];
    }
    expanded.push_str(rest);
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| format!("--header: `{shown}` is not a header name"))?;
    let mut value = HeaderValue::from_str(&expanded).map_err(|_| format!("--header {name}: the value has bytes a header cannot hold"))?;
    value.set_sensitive(true);
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_spin_turns_the_timer_s_spinning_off() {
        let spins = |extra: &[&str]| {
            let args = [&["replay", "run", "p.json", "--host", "http://127.0.0.1:1"][..], extra].concat();
            match crate::cli::try_parse_from(args) {
                Ok(crate::cli::Command::Run { request, .. }) => request.run.spin,
                _ => panic!("not a run"),
            }
        };
        assert!(spins(&[]));
        assert!(!spins(&["--no-spin"]));
    }

    #[test]
    fn flag_values() {
        assert_eq!(parse_window("2h..4h"), Ok((7200, 14400)));
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_batch_window("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_batch_window("2ms"), Ok(Duration::from_millis(2)));
        assert_eq!(parse_batch_window("0"), Ok(Duration::ZERO));
        assert!(parse_batch_window("1s").unwrap_err().contains("e.g. 500us"));
        assert_eq!(parse_run_duration("8s"), Ok(Duration::from_secs(8)));
        assert_eq!(parse_run_duration("1.5m"), Ok(Duration::from_secs(90)));
        assert!(parse_batch_window("200ms").is_err());
        assert_eq!(parse_timeout("2s"), Ok(Duration::from_secs(2)));
        assert!(parse_timeout("0ms").is_err());
        assert_eq!(parse_window("0..30m"), Ok((0, 1800)));
        assert!(parse_window("4h..2h").unwrap_err().contains("is empty"));
        assert!(parse_host("ftp://x").unwrap_err().contains("e.g. --host http://127.0.0.1:8080"));
        assert!(parse_host("localhost:8080").is_err());
        assert_eq!(percent_decode("ops:p%40ss"), b"ops:p@ss");
        let (bare, auth) = parse_host("https://ops:hunter2@staging.example.com/api").unwrap();
        assert_eq!(bare.to_string(), "https://staging.example.com/api");
        assert_eq!(auth.unwrap().to_str().unwrap(), "Basic b3BzOmh1bnRlcjI=");
        assert!(!parse_host("ftp://ops:hunter2@x").unwrap_err().contains("hunter2"));
        let err = parse_host("https://staging.example.com/api?token=s3cret").unwrap_err();
        assert!(err.contains("--header") && !err.contains("s3cret"), "{err}");
        assert!(parse_host("https://staging.example.com/#frag").is_err());
        assert!(parse_speed("0").unwrap_err().contains("--speed 60"));
        assert_eq!(parse_var("{token}=a=b"), Ok(("token".into(), "a=b".into())));
        // SAFETY: tests in this binary do not read this variable concurrently.
        unsafe { std::env::set_var("REPLAY_TEST_TOKEN", "s3cr3t") };
        let (name, value) = parse_header("Authorization: Bearer ${REPLAY_TEST_TOKEN}").unwrap();
        assert_eq!((name.as_str(), value.to_str().unwrap()), ("authorization", "Bearer s3cr3t"));
        assert!(parse_header("X: ${REPLAY_NOT_SET_ANYWHERE}").unwrap_err().contains("not set"));
        let malformed = parse_header("Authorization Bearer hunter2").unwrap_err();
        assert!(!malformed.contains("hunter2") && malformed.contains("--header"), "{malformed}");
        assert!(!parse_header("X-Bad Name: hunter2").unwrap_err().contains("hunter2"));
        assert!(!parse_var("hunter2").unwrap_err().contains("hunter2"));
    }
}
