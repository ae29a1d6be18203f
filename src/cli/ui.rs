//! The web view's flags: `--ui [ADDR:PORT]` and `--ui-token` on `run` and
//! `demo`, and `replay ui`'s own (the profiles a page may start, the target
//! it suggests, and the run flags every run it starts takes, whose values
//! never reach the page).

use crate::ui::{DEFAULT_ADDR, UiOptions};
use std::net::SocketAddr;
use std::path::PathBuf;

pub const UI_EXAMPLES: &str = "\
Examples:
  replay ui profile.json --host http://127.0.0.1:8080
  replay ui steady.json bursty.json --host https://staging.example.com --header 'Authorization: Bearer ${STAGING_TOKEN}'
  replay ui profile.json --listen 0.0.0.0:8089 --ui-token auto

The page starts one run at a time, each into its own folder under --out; Stop ends a run as Ctrl-C does
(its partial results written). Ctrl-C stops the server, and the run going. docs/ui.md shows the page.";

#[derive(Debug, clap::Args)]
pub struct UiFlags {
    /// Watch the run live in a browser: serve a page on ADDR:PORT [default: 127.0.0.1:8089] and print its address
    #[arg(long, value_name = "ADDR:PORT", num_args = 0..=1, default_missing_value = DEFAULT_ADDR, value_parser = parse_ui_addr)]
    pub ui: Option<SocketAddr>,
    /// The token a view on a non-loopback address asks of every request: 16 or more letters and digits, or `auto` to make one (printed once)
    #[arg(long, value_name = "TOKEN", requires = "ui")]
    pub ui_token: Option<String>,
}

impl UiFlags {
    pub fn options(self) -> Option<UiOptions> {
        self.ui.map(|addr| UiOptions { addr, token: self.ui_token })
    }
}

/// `replay ui`'s arguments.
#[derive(Debug, clap::Args)]
pub struct UiArgs {
    /// The profiles (or traces) the page may start, in the order its list shows them
    #[arg(required = true, value_name = "PROFILE")]
    pub profiles: Vec<PathBuf>,
    /// The target the form suggests (http:// or https://); the page may change it
    #[arg(long, value_name = "URL")]
    pub host: Option<String>,
    /// Where the page is served
    #[arg(long, value_name = "ADDR:PORT", default_value = DEFAULT_ADDR, value_parser = parse_ui_addr)]
    pub listen: SocketAddr,
    /// The token a non-loopback --listen asks of every request: 16 or more letters and digits, or `auto` to make one (printed once)
    #[arg(long, value_name = "TOKEN")]
    pub ui_token: Option<String>,
    /// The folder each run's results go under, one folder a run
    #[arg(long, value_name = "DIR", default_value = "replay-results")]
    pub out: PathBuf,
    /// A header for every request of every run, 'Name: value'; never shown on the page (repeat for more)
    #[arg(long = "header", value_name = "'NAME: VALUE'")]
    pub headers: Vec<String>,
    /// A value for a placeholder, name=value; never shown on the page (repeat for more)
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// A CSV of placeholder values, as `run --vars` takes
    #[arg(long = "vars", value_name = "FILE")]
    pub vars_file: Option<PathBuf>,
    /// Requests in flight at most, for every run
    #[arg(long, value_name = "N")]
    pub connections: Option<String>,
    /// Per-request timeout, for every run (e.g. 5s)
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Accept any TLS certificate (self-signed staging)
    #[arg(long)]
    pub insecure: bool,
}

impl UiArgs {
    /// The flags every run started from the page takes, as `replay run` reads them.
    pub fn run_flags(&self) -> Vec<String> {
        let mut flags = Vec::new();
        for header in &self.headers {
            flags.extend(["--header".to_owned(), header.clone()]);
        }
        for var in &self.vars {
            flags.extend(["--var".to_owned(), var.clone()]);
        }
        if let Some(file) = &self.vars_file {
            flags.extend(["--vars".to_owned(), file.display().to_string()]);
        }
        for (flag, value) in [("--connections", &self.connections), ("--timeout", &self.timeout)] {
            if let Some(value) = value {
                flags.extend([flag.to_owned(), value.clone()]);
            }
        }
        if self.insecure {
            flags.push("--insecure".to_owned());
        }
        flags
    }
}

/// `127.0.0.1:8089`, `[::1]:8089`, `localhost:8089`, `0.0.0.0:8089`, or a port alone (on 127.0.0.1).
fn parse_ui_addr(value: &str) -> Result<SocketAddr, String> {
    let v = value.trim();
    if let Ok(port) = v.parse::<u16>() {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    if let Some(port) = v.strip_prefix("localhost:").and_then(|p| p.parse::<u16>().ok()) {
        return Ok(SocketAddr::from(([127, 0, 0, 1], port)));
    }
    v.parse::<SocketAddr>()
        .map_err(|_| format!("`{value}` is not an address to serve on; give ADDR:PORT, e.g. 127.0.0.1:8089 or 0.0.0.0:8089"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_may_be_a_port_or_a_name_on_loopback() {
        assert_eq!(parse_ui_addr("8090").unwrap(), "127.0.0.1:8090".parse().unwrap());
        assert_eq!(parse_ui_addr("localhost:8090").unwrap(), "127.0.0.1:8090".parse().unwrap());
        assert_eq!(parse_ui_addr("[::1]:8089").unwrap(), "[::1]:8089".parse().unwrap());
        assert!(parse_ui_addr("profile.json").unwrap_err().contains("ADDR:PORT"));
    }
}
