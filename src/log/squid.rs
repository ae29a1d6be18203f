//! Squid's native access log (`logformat squid`), as Squid, Apache Traffic
//! Server and other caching proxies write it.
//!
//! ```text
//! 1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://www.google.com/ - DIRECT/209.85.135.104 text/html
//! time (epoch s)  elapsed ms  client  result/status  bytes  method  URL  user  hierarchy/peer  type
//! ```
//! Fields are separated by runs of spaces (the elapsed time is padded). The
//! URL is absolute for proxied requests (its host becomes the record's host
//! and its path the target) and `host:port` for CONNECT. A `-` user is none.

use super::fields::{self, epoch_to_us, split_target};
use super::{LineError, LineParser, LogRecord, Parsed, trim_line};

#[derive(Clone, Default)]
pub struct SquidParser;

/// The next field after runs of spaces, and the rest.
fn field(rest: &[u8]) -> Option<(&[u8], &[u8])> {
    let rest = rest.trim_ascii_start();
    if rest.is_empty() {
        return None;
    }
    let end = rest.iter().position(|&b| b == b' ' || b == b'\t').unwrap_or(rest.len());
    Some((&rest[..end], &rest[end..]))
}

fn read(line: &[u8]) -> Result<LogRecord<'_>, LineError> {
    let missing = |rest: &[u8], what| LineError::at(line, rest, what);
    let (time, rest) = field(line).ok_or_else(|| missing(line, "an epoch time such as 1286536308.779"))?;
    let int = time.iter().take_while(|b| b.is_ascii_digit()).count();
    let time_us = (int == 10 && time.get(int) == Some(&b'.') && time[int + 1..].iter().all(u8::is_ascii_digit) && time.len() > int + 1)
        .then(|| std::str::from_utf8(time).ok()?.parse::<f64>().ok())
        .flatten()
        .and_then(epoch_to_us)
        .ok_or_else(|| missing(line, "an epoch time such as 1286536308.779"))?;
    let (elapsed, rest) = field(rest).ok_or_else(|| missing(rest, "the elapsed milliseconds"))?;
    let elapsed_ms = fields::parse_u64(elapsed).ok_or_else(|| missing(rest, "the elapsed milliseconds"))?;
    let (client, rest) = field(rest).ok_or_else(|| missing(rest, "the client address"))?;
    let (result, after_result) = field(rest).ok_or_else(|| missing(rest, "a result code such as TCP_MISS/200"))?;
    let slash = memchr::memchr(b'/', result).filter(|&s| s > 0 && result[..s].iter().all(|b| b.is_ascii_uppercase() || *b == b'_'));
    let status_text = slash.map(|s| &result[s + 1..]).ok_or_else(|| missing(rest, "a result code such as TCP_MISS/200"))?;
    let status = fields::parse_u64(status_text).filter(|&s| s < 1000).ok_or_else(|| missing(rest, "a status after the result code"))?;
    let rest = after_result;
    let (bytes, rest) = field(rest).ok_or_else(|| missing(rest, "the bytes sent"))?;
    let (method, rest) = field(rest).ok_or_else(|| missing(rest, "a method"))?;
    let (url, rest) = field(rest).ok_or_else(|| missing(rest, "a URL"))?;
    let (user, _) = field(rest).unwrap_or((b"-", b""));
    let mut record = LogRecord {
        time_us: Some(time_us),
        method: fields::present(method),
        duration_us: Some(elapsed_ms.saturating_mul(1000)),
        client: fields::present(client),
        // Squid logs 0 for a request it never answered (an aborted connection, `NONE/000`).
        status: u16::try_from(status).ok().filter(|&s| s > 0),
        bytes: fields::parse_u64(bytes),
        user: fields::present(user),
        ..LogRecord::default()
    };
    if method.eq_ignore_ascii_case(b"CONNECT") {
        record.path = fields::present(url);
    } else {
        let (path, query, host) = split_target(url);
        (record.path, record.query, record.host) = (path, query, host);
    }
    Ok(record)
}

impl LineParser for SquidParser {
    fn parse<'a>(&mut self, line: &'a [u8]) -> Parsed<'a> {
        let line = trim_line(line);
        if line.is_empty() || line.starts_with(b"#") {
            return Parsed::Skip;
        }
        match read(line) {
            Ok(record) => Parsed::Record(record),
            Err(error) => Parsed::Reject(error),
        }
    }
    fn clone_box(&self) -> Box<dyn LineParser> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squid_native_lines() {
        let mut parser = SquidParser;
        let table = [
            (
                "1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://www.google.com/search?q=x - DIRECT/209.85.135.104 text/html",
                ("2010-10-08T11:11:48.779Z", "GET", "/search", Some("q=x"), Some("www.google.com"), Some(200), 180_000),
            ),
            (
                "1286536309.123 2 10.0.0.5 TCP_TUNNEL/200 5120 CONNECT www.example.com:443 alice HIER_DIRECT/93.184.216.34 -",
                ("2010-10-08T11:11:49.123Z", "CONNECT", "www.example.com:443", None, None, Some(200), 2_000),
            ),
            (
                "1286536310.000      0 10.0.0.6 NONE/000 0 GET /index.html - HIER_NONE/- -",
                ("2010-10-08T11:11:50Z", "GET", "/index.html", None, None, None, 0),
            ),
        ];
        for (line, (time, method, path, query, host, status, duration)) in table {
            let Parsed::Record(r) = parser.parse(line.as_bytes()) else { panic!("{line}") };
            let r = r.to_owned_record();
            assert_eq!(
                (r.time.as_deref(), r.method.as_deref(), r.path.as_deref(), r.query.as_deref(), r.host.as_deref(), r.status, r.duration_us),
                (Some(time), Some(method), Some(path), query, host, status, Some(duration)),
                "{line}"
            );
        }
        for bad in [
            "1286536308 180 1.2.3.4 TCP_MISS/200 1 GET /",
            "1286536308.779 x 1.2.3.4 TCP_MISS/200 1 GET /",
            "1286536308.779 1 1.2.3.4 200 1 GET /",
        ] {
            assert!(matches!(parser.parse(bad.as_bytes()), Parsed::Reject(_)), "{bad}");
        }
    }
}
