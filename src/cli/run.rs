//! `replay run` and `replay plan` flags, and their translation into a [`RunSpec`].

use super::parse_duration_s;
use crate::request::Vars;
use crate::schedule::Arrivals;
use hyper::header::{HeaderName, HeaderValue};
use std::path::PathBuf;
use std::time::Duration;

pub const RUN_EXAMPLES: &str = "\\
Examples:
  replay run profile.json --host http://127.0.0.1:8080 --speed 60
  replay run profile.json --host https://staging.example.com --duration 10m --window 2h..4h --rate-scale 2 --max-rps 5000
  replay run profile.json --host http://127.0.0.1:8080 --header 'Authorization: Bearer ${STAGING_TOKEN}' --var token=abc

Exit codes: 0 the run completed, 2 bad usage or input, 3 aborted (Ctrl-C).";

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The profile to replay, or a trace from `replay derive --trace`
    #[arg(value_name = "PROFILE")]
    pub profile: PathBuf,
    /// The target: http:// or https:// URL
    #[arg(long, value_name = "URL", value_parser = parse_host)]
    pub host: hyper::Uri,
    /// Play the timeline this many times faster (60 plays an hour in a minute)
    #[arg(long, value_name = "F", value_parser = parse_speed, conflicts_with = "duration")]
    pub speed: Option<f64>,
    /// Fit the window into this much time instead of --speed (e.g. 10m)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_s)]
    pub duration: Option<u64>,
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
    #[arg(long, value_name = "N", default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..))]
    pub connections: u32,
    /// Per-request timeout (e.g. 5s, 500ms)
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_timeout)]
    pub timeout: Duration,
    /// Requests due within this long of each other go out together, none early (e.g. 500us, 1ms; 0 wakes for each)
    #[arg(long, value_name = "DURATION", default_value = "500us", value_parser = parse_batch_window)]
    pub batch_window: Duration,
    /// A header for every request, 'Name: value'; ${ENV} is expanded (repeat for more)
    #[arg(long = "header", value_name = "'NAME: VALUE'", value_parser = parse_header)]
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// A value for a placeholder: name=value (repeat for more)
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = parse_var)]
    pub vars: Vec<(String, String)>,
    /// A CSV of placeholder values: the header names them, each row gives values to draw from
    #[arg(long = "vars", value_name = "FILE")]
    pub vars_file: Option<PathBuf>,
    /// Seed for arrival times, endpoint draws and parameter values
    #[arg(long, value_name = "N", default_value_t = 7)]
    pub seed: u64,
    /// Arrivals within a bin: poisson (default) or uniform
    #[arg(long, value_enum, default_value_t = ArrivalsArg::Poisson)]
    pub arrivals: ArrivalsArg,
    /// Virtual users: arrive at the profile's session rate, log in first, walk flows with think times, keep cookies
    #[arg(long)]
    pub sessions: bool,
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
    /// Where results go [default: replay-results/<UTC timestamp>/]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ArrivalsArg {
    Poisson,
    Uniform,
}

/// Everything `run` needs besides the profile, checked.
#[derive(Debug, Clone)]
pub struct RunSpec {
    pub profile: PathBuf,
    pub host: hyper::Uri,
    pub speed: Option<f64>,
    pub duration_s: Option<u64>,
    pub window: Option<(u64, u64)>,
    pub rate_scale: f64,
    pub max_rps: Option<u32>,
    pub max_requests: Option<u64>,
    pub connections: usize,
    pub timeout: Duration,
    pub batch_window: Duration,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub vars: Vars,
    pub vars_file: Option<PathBuf>,
    pub seed: u64,
    pub arrivals: Arrivals,
    pub looped: bool,
    pub sessions: bool,
    pub http2: bool,
    pub insecure: bool,
    pub trace_headers: bool,
    pub out: Option<PathBuf>,
}

impl RunArgs {
    pub fn into_spec(self) -> RunSpec {
        let mut vars = Vars::new();
        for (name, value) in self.vars {
            vars.entry(name).or_default().push(value);
        }
        RunSpec {
            profile: self.profile,
            host: self.host,
            speed: self.speed,
            duration_s: self.duration,
            window: self.window,
            rate_scale: self.rate_scale,
            max_rps: self.max_rps,
            max_requests: self.max_requests,
            connections: self.connections as usize,
            timeout: self.timeout,
            batch_window: self.batch_window,
            headers: self.headers,
            vars,
            vars_file: self.vars_file,
            seed: self.seed,
            arrivals: match self.arrivals {
                ArrivalsArg::Poisson => Arrivals::Poisson,
                ArrivalsArg::Uniform => Arrivals::Uniform,
            },
            looped: self.looped,
            sessions: self.sessions,
            http2: self.http2,
            insecure: self.insecure,
            trace_headers: self.trace_headers,
            out: self.out,
        }
    }
}

/// `500ms`, or any duration `parse_duration_s` reads.
fn parse_timeout(value: &str) -> Result<Duration, String> {
    match value.trim().strip_suffix("ms") {
        Some(ms) => match ms.parse::<u64>() {
            Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
            _ => Err(format!("`{value}` is not a timeout; use e.g. 500ms or 5s")),
        },
        None => parse_duration_s(value).map(Duration::from_secs),
    }
}

/// `0`, `250us` or `2ms`: at most 100 ms, beyond which batches would be bursts of their own.
fn parse_batch_window(value: &str) -> Result<Duration, String> {
    let bad = || format!("`{value}` is not a batch window; use e.g. 500us, 1ms or 0 (at most 100ms)");
    let v = value.trim();
    let window = if v == "0" {
        Duration::ZERO
    } else if let Some(us) = v.strip_suffix("us") {
        Duration::from_micros(us.parse().map_err(|_| bad())?)
    } else if let Some(ms) = v.strip_suffix("ms") {
        Duration::from_millis(ms.parse().map_err(|_| bad())?)
    } else {
        return Err(bad());
    };
    if window > Duration::from_millis(100) { Err(bad()) } else { Ok(window) }
}

fn parse_host(value: &str) -> Result<hyper::Uri, String> {
    let bad = || format!("`{value}` is not an http(s) URL; use e.g. --host http://127.0.0.1:8080 or --host https://staging.example.com");
    let uri: hyper::Uri = value.parse().map_err(|_| bad())?;
    match (uri.scheme_str(), uri.authority()) {
        (Some("http" | "https"), Some(_)) => Ok(uri),
        _ => Err(bad()),
    }
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
    let time = |t: &str| if t.trim() == "0" { Ok(0) } else { parse_duration_s(t) };
    let (from, to) = (time(from).map_err(|_| bad("has a bad start"))?, time(to).map_err(|_| bad("has a bad end"))?);
    if to <= from {
        return Err(bad("is empty"));
    }
    Ok((from, to))
}

fn parse_var(value: &str) -> Result<(String, String), String> {
    match value.split_once('=') {
        Some((name, v)) if !name.trim().is_empty() => Ok((name.trim().trim_matches(['{', '}']).to_owned(), v.to_owned())),
        _ => Err(format!("`{value}` is not name=value; e.g. --var token=abc123")),
    }
}

/// `Authorization: Bearer ${STAGING_TOKEN}`, with environment variables expanded.
fn parse_header(value: &str) -> Result<(HeaderName, HeaderValue), String> {
    let (name, raw) = value.split_once(':').ok_or_else(|| format!("`{value}` is not 'Name: value'; e.g. --header 'X-Env: staging'"))?;
    let mut expanded = String::new();
    let mut rest = raw.trim();
    while let Some(open) = rest.find("${") {
        let close = rest[open..].find('}').map(|c| open + c).ok_or_else(|| format!("`{value}`: unclosed ${{"))?;
        let var = &rest[open + 2..close];
        let v = std::env::var(var)
            .map_err(|_| format!("`{value}`: the environment variable {var} is not set; export it or write the value"))?;
        expanded.push_str(&rest[..open]);
        expanded.push_str(&v);
        rest = &rest[close + 1..];
    }
    expanded.push_str(rest);
    let name = HeaderName::from_bytes(name.trim().as_bytes()).map_err(|_| format!("`{}` is not a header name", name.trim()))?;
    let value = HeaderValue::from_str(&expanded).map_err(|_| format!("the value of {name} has bytes a header cannot hold"))?;
    Ok((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_values() {
        assert_eq!(parse_window("2h..4h"), Ok((7200, 14400)));
        assert_eq!(parse_timeout("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_batch_window("250us"), Ok(Duration::from_micros(250)));
        assert_eq!(parse_batch_window("2ms"), Ok(Duration::from_millis(2)));
        assert_eq!(parse_batch_window("0"), Ok(Duration::ZERO));
        assert!(parse_batch_window("1s").unwrap_err().contains("e.g. 500us"));
        assert!(parse_batch_window("200ms").is_err());
        assert_eq!(parse_timeout("2s"), Ok(Duration::from_secs(2)));
        assert!(parse_timeout("0ms").is_err());
        assert_eq!(parse_window("0..30m"), Ok((0, 1800)));
        assert!(parse_window("4h..2h").unwrap_err().contains("is empty"));
        assert!(parse_host("ftp://x").unwrap_err().contains("e.g. --host http://127.0.0.1:8080"));
        assert!(parse_host("localhost:8080").is_err());
        assert!(parse_speed("0").unwrap_err().contains("--speed 60"));
        assert_eq!(parse_var("{token}=a=b"), Ok(("token".into(), "a=b".into())));
        // SAFETY: tests in this binary do not read this variable concurrently.
        unsafe { std::env::set_var("REPLAY_TEST_TOKEN", "s3cr3t") };
        let (name, value) = parse_header("Authorization: Bearer ${REPLAY_TEST_TOKEN}").unwrap();
        assert_eq!((name.as_str(), value.to_str().unwrap()), ("authorization", "Bearer s3cr3t"));
        assert!(parse_header("X: ${REPLAY_NOT_SET_ANYWHERE}").unwrap_err().contains("not set"));
    }
}
