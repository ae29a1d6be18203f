//! The command line: clap definitions only, and one step that turns them
//! into the typed configs the library takes. Nothing below this module sees clap.

use crate::derive::DeriveConfig;
use crate::log::{FORMAT_HELP, Format};
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

fn parse_format(value: &str) -> Result<Format, String> {
    value
        .parse::<Format>()
        .map_err(|e| format!("{}\n  {FORMAT_HELP}", e.reason))
}

/// A command, with its typed configuration.
#[derive(Debug)]
pub enum Command {
    Derive {
        config: DeriveConfig,
        output: Option<PathBuf>,
    },
    Parse {
        config: DeriveConfig,
        limit: Option<u64>,
    },
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
    Cli::try_parse_from(args)
        .map(translate)
        .map_err(|e| e.to_string())
}

fn translate(cli: Cli) -> Command {
    match cli.command {
        CliCommand::Derive { logs, output } => Command::Derive {
            config: logs.into_config(),
            output,
        },
        CliCommand::Parse { logs, limit } => Command::Parse {
            config: logs.into_config(),
            limit,
        },
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
        }
    }
}
