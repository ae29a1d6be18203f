//! `Format`: which log family a file is in, from `--format` or detection.
//!
//! ```text
//! --format combined | common | nginx:'<log_format>' | apache:'<LogFormat>'
//!          json | json:time=ts,method=verb,... | alb | elb | w3c | haproxy | envoy
//! ```

use super::aws::{AwsParser, Balancer};
use super::clf::ClfParser;
use super::container::{WrappedParser, Wrapper};
use super::envoy::EnvoyParser;
use super::haproxy::HaproxyParser;
use super::json::{JsonParser, Mapping};
use super::w3c::W3cParser;
use super::{LineParser, apache, nginx};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// Common Log Format, also read by the Combined parser.
    Common,
    Combined,
    /// An nginx `log_format` string.
    Nginx(String),
    /// An Apache `LogFormat` string.
    Apache(String),
    /// JSON lines in a recognised dialect (Caddy, Envoy, Traefik, Cloudflare, GCP).
    Json,
    /// JSON lines read through a user's field mapping.
    JsonMapped(String),
    Alb,
    Elb,
    /// W3C extended: IIS and CloudFront.
    W3c,
    Haproxy,
    Envoy,
    /// Squid's native access log (and other caching proxies').
    Squid,
    /// A layout learned from the lines when no format fits (`loose.rs`): never given by `--format`.
    Loose(super::loose::Layout),
    /// Lines inside a container runtime's wrapper (`container.rs`): `docker:combined`, `cri:nginx:…`.
    Wrapped(super::container::Wrapper, Box<Format>),
}

/// A `--format` value that cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("bad --format `{value}`: {reason}")]
pub struct FormatError {
    pub value: String,
    pub reason: String,
}

/// The nginx default `combined` format.
pub const NGINX_COMBINED: &str =
    r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent""#;

pub const FORMAT_HELP: &str = "use one of: combined, common, nginx:'<log_format>', apache:'<LogFormat>', json, json:time=FIELD,method=FIELD,path=FIELD,..., alb, elb, w3c, cloudfront, iis, haproxy, envoy, squid, and docker:FORMAT or cri:FORMAT for lines inside a container runtime's wrapper";

impl std::str::FromStr for Format {
    type Err = FormatError;
    fn from_str(value: &str) -> Result<Self, FormatError> {
        let err = |reason: String| FormatError { value: value.to_owned(), reason };
        let (name, spec) = value.split_once(':').map_or((value, None), |(n, s)| (n, Some(s)));
        let format = match (name.to_ascii_lowercase().as_str(), spec) {
            ("common" | "clf", None) => Format::Common,
            ("combined", None) => Format::Combined,
            ("nginx", None) => Format::Nginx(NGINX_COMBINED.to_owned()),
            ("nginx", Some(spec)) => Format::Nginx(spec.to_owned()),
            ("apache", Some(spec)) => Format::Apache(spec.to_owned()),
            ("json" | "caddy" | "gcp" | "traefik" | "cloudflare" | "envoy-json", None) => Format::Json,
            ("json", Some(spec)) => Format::JsonMapped(spec.to_owned()),
            ("alb", None) => Format::Alb,
            ("elb", None) => Format::Elb,
            ("w3c" | "iis" | "cloudfront", None) => Format::W3c,
            ("haproxy", None) => Format::Haproxy,
            ("envoy", None) => Format::Envoy,
            ("squid", None) => Format::Squid,
            ("docker", Some(inner)) => {
                Format::Wrapped(Wrapper::DockerJson, Box::new(inner.parse().map_err(|e: FormatError| err(e.reason))?))
            }
            ("cri", Some(inner)) => Format::Wrapped(Wrapper::Cri, Box::new(inner.parse().map_err(|e: FormatError| err(e.reason))?)),
            ("apache", None) => return Err(err("apache needs its LogFormat string, e.g. apache:'%h %l %u %t \"%r\" %>s %b'".into())),
            _ => return Err(err(format!("unknown format; {FORMAT_HELP}"))),
        };
        format.parser().map_err(err)?;
        Ok(format)
    }
}

impl Format {
    /// The short name written to the profile's `source.format`.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Common => "common",
            Format::Combined => "combined",
            Format::Nginx(_) => "nginx",
            Format::Apache(_) => "apache",
            Format::Json | Format::JsonMapped(_) => "json",
            Format::Alb => "alb",
            Format::Elb => "elb",
            Format::W3c => "w3c",
            Format::Haproxy => "haproxy",
            Format::Envoy => "envoy",
            Format::Squid => "squid",
            Format::Loose(_) => "loose",
            Format::Wrapped(_, inner) => inner.name(),
        }
    }

    /// A parser for this format; a format string that does not compile says why.
    pub fn parser(&self) -> Result<Box<dyn LineParser>, String> {
        Ok(match self {
            Format::Common | Format::Combined => Box::new(ClfParser::default()),
            Format::Nginx(spec) => Box::new(nginx::compile(spec)?),
            Format::Apache(spec) => Box::new(apache::compile(spec)?),
            Format::Json => Box::new(JsonParser::auto()),
            Format::JsonMapped(spec) => Box::new(JsonParser::with_mapping(Mapping::parse(spec)?)),
            Format::Alb => Box::new(AwsParser(Balancer::Alb)),
            Format::Elb => Box::new(AwsParser(Balancer::Elb)),
            Format::W3c => Box::new(W3cParser::default()),
            Format::Haproxy => Box::new(HaproxyParser),
            Format::Envoy => Box::new(EnvoyParser::default()),
            Format::Squid => Box::new(super::squid::SquidParser),
            Format::Loose(layout) => Box::new(super::loose::LooseParser(layout.clone())),
            Format::Wrapped(wrapper, inner) => Box::new(WrappedParser { wrapper: *wrapper, inner: inner.parser()? }),
        })
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Format::Nginx(spec) | Format::Apache(spec) | Format::JsonMapped(spec) => {
                write!(f, "{}:{spec}", self.name())
            }
            Format::Wrapped(wrapper, inner) => write!(f, "{}:{inner}", wrapper.name()),
            other => f.write_str(other.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{Handed, Parsed};

    /// The per-line path (`parse_and_take`) hands on exactly the record `parse` returns, and
    /// calls its taker once for a record and never otherwise; skips and rejects agree too.
    #[test]
    fn records_handed_on_are_the_records_returned() {
        let combined = r#"10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a?b=1 HTTP/1.1" 200 5 "-" "curl/8""#;
        let lines = [
            combined,
            // The general Combined reader: a vhost, a forwarded list, an escaped agent, a duration.
            r#"shop:443 10.0.0.2, 10.0.0.1 - bob [10/Oct/2026:13:55:36 +0000] "POST /b HTTP/2.0" 302 - "http://r/" "say \"hi\"" 0.138"#,
            r#""10.5.1.1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "ua"""#,
            r#"10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET /x HTTP/1.1" 200"#,
            r#"10.0.0.1 - - [garbage] "GET / HTTP/1.1" 200 1"#,
            "",
            "   ",
            "#Version: 1.0",
            r#"{"time":"2026-10-10T13:55:36Z","method":"GET","uri":"/j?k=v","status":200}"#,
        ];
        let docker = |line: &str| serde_json::json!({"log": format!("{line}\n"), "stream": "stdout"}).to_string();
        let mut wrapped: Vec<String> = lines.iter().map(|line| docker(line)).collect();
        // Unescaped from JSON: the inner line is a copy, read while it lives.
        wrapped.push(docker(r#"10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET /q\u0041 HTTP/1.1" 200 5 "-" "a\tb""#));
        wrapped.push("2026-10-10T13:55:36Z stdout P 10.0.0.1 - - [10/Oct".to_owned());
        let formats = [
            Format::Combined,
            Format::Common,
            Format::Nginx(NGINX_COMBINED.to_owned()),
            Format::Json,
            Format::W3c,
            Format::Wrapped(super::super::container::Wrapper::DockerJson, Box::new(Format::Combined)),
            Format::Wrapped(super::super::container::Wrapper::Cri, Box::new(Format::Combined)),
        ];
        let mut records = 0;
        for format in &formats {
            let (mut returned, mut handed) = (format.parser().unwrap(), format.parser().unwrap());
            for line in lines.iter().copied().chain(wrapped.iter().map(String::as_str)) {
                let want = returned.parse(line.as_bytes());
                let mut taken = Vec::new();
                let got = handed.parse_and_take(line.as_bytes(), &mut |record| taken.push(record.to_owned_record()));
                match want {
                    Parsed::Record(record) => {
                        records += 1;
                        assert_eq!((got, taken), (Handed::Record, vec![record.to_owned_record()]), "{format:?}: {line}");
                    }
                    Parsed::Skip => assert_eq!((got, taken.len()), (Handed::Skip, 0), "{format:?}: {line}"),
                    Parsed::Reject(error) => assert_eq!((got, taken.len()), (Handed::Reject(error), 0), "{format:?}: {line}"),
                }
            }
        }
        // Every format read some of them: the table is no table of rejects.
        assert!(records >= 12, "{records}");
    }

    #[test]
    fn names_parse() {
        let table = [
            ("combined", Format::Combined),
            ("clf", Format::Common),
            ("iis", Format::W3c),
            ("cloudfront", Format::W3c),
            ("nginx:$remote_addr [$time_local]", Format::Nginx("$remote_addr [$time_local]".into())),
            ("apache:%h %t", Format::Apache("%h %t".into())),
            ("json:time=ts,path=p", Format::JsonMapped("time=ts,path=p".into())),
            ("docker:combined", Format::Wrapped(Wrapper::DockerJson, Box::new(Format::Combined))),
            (
                "cri:nginx:$remote_addr [$time_local]",
                Format::Wrapped(Wrapper::Cri, Box::new(Format::Nginx("$remote_addr [$time_local]".into()))),
            ),
        ];
        for (value, want) in table {
            assert_eq!(value.parse::<Format>(), Ok(want), "{value}");
        }
    }

    #[test]
    fn bad_values_say_why() {
        let table = [
            ("syslog", "unknown format"),
            ("apache", "needs its LogFormat"),
            ("nginx:no variables", "no $variable"),
            ("json:time", "key=field"),
        ];
        for (value, want) in table {
            let err = value.parse::<Format>().unwrap_err().to_string();
            assert!(err.contains(want), "{value}: {err}");
        }
    }
}
