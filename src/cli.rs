//! The command line: clap definitions only, and one step that turns them
//! into the typed configs the library takes. Nothing below this module sees clap.

use crate::derive::DeriveConfig;
use crate::log::{FORMAT_HELP, Format};
use crate::profile::deriver::DeriveSettings;
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
        /// Write the profile here instead of stdout
        #[arg(short, long, value_name = "FILE")]
        output: Option<PathBuf>,
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

#[derive(Debug, clap::Args)]
struct ProfileArgs {
    /// Keep requests at or after this time (RFC 3339, e.g. 2026-11-01T00:00:00Z)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    since: Option<i64>,
    /// Keep requests before this time (RFC 3339)
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    until: Option<i64>,
    /// Leave out requests whose path matches this regex (e.g. '^/healthz')
    #[arg(long, value_name = "REGEX", value_parser = parse_regex)]
    exclude: Option<regex::bytes::Regex>,
    /// Keep only requests to this host (port ignored)
    #[arg(long, value_name = "HOST")]
    host_filter: Option<String>,
    /// Most endpoints in the profile; the rest fold into one tail entry
    #[arg(long, value_name = "N", default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    max_endpoints: u32,
    /// Idle time that ends a user's session (e.g. 30m, 90s, 1h)
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration_s)]
    session_gap: u64,
    /// Width of the arrival curve's bins (e.g. 1s, 1m); chosen from the span when left out
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_s)]
    bin: Option<u64>,
    /// Seed for sampling parameter values
    #[arg(long, value_name = "N", default_value_t = 7)]
    seed: u64,
}

fn parse_time(value: &str) -> Result<i64, String> {
    crate::log::fields::iso_time_field(value.as_bytes())
        .ok_or_else(|| format!("`{value}` is not a time; use RFC 3339, e.g. 2026-11-01T00:00:00Z"))
}

fn parse_regex(value: &str) -> Result<regex::bytes::Regex, String> {
    regex::bytes::Regex::new(value).map_err(|e| format!("`{value}` is not a regex: {e}"))
}

/// `90`, `90s`, `30m`, `2h`, `1d` as seconds.
pub fn parse_duration_s(value: &str) -> Result<u64, String> {
    let bad = || format!("`{value}` is not a duration; use e.g. 90s, 30m, 2h or 1d");
    let (digits, unit) = value.trim().split_at(value.trim().find(|c: char| !c.is_ascii_digit()).unwrap_or(value.trim().len()));
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let scale = match unit {
        "" | "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86400,
        _ => return Err(bad()),
    };
    if n == 0 {
        return Err(format!("`{value}` must be more than zero"));
    }
    Ok(n * scale)
}

fn parse_format(value: &str) -> Result<Format, String> {
    value.parse::<Format>().map_err(|e| format!("{}\n  {FORMAT_HELP}", e.reason))
}

/// A command, with its typed configuration.
#[derive(Debug)]
pub enum Command {
    Derive { config: DeriveConfig, output: Option<PathBuf> },
    Parse { config: DeriveConfig, limit: Option<u64> },
}

/// Parses the process arguments; exits with code 2 and a usage message on bad usage.
pub fn parse() -> Command {
    translate(Cli::parse())
}

/// Parses `args` (the first is the program name), for tests.
pub fn try_parse_from<I, T>(args: I) -> Result<Command, String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    Cli::try_parse_from(args).map(translate).map_err(|e| e.to_string())
}

fn translate(cli: Cli) -> Command {
    match cli.command {
        CliCommand::Derive { logs, profile, output } => {
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
            };
            Command::Derive { config, output }
        }
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
        }
    }
}
