//! HAProxy HTTP logs (`option httplog`), with or without a syslog prefix.
//!
//! ```text
//! Feb  2 04:05:24 127.0.0.1 haproxy[9883]: 127.0.0.1:42617 [02/Feb/2012:04:05:24.385] front back/srv 0/0/0/1/4 404 638 - - CD-- 0/0/0/0/0 0/0 {Mozilla/5.0} {} "GET / HTTP/1.0"
//! ```
//! The time is the bracketed accept date (it has the year and milliseconds;
//! HAProxy writes local time without an offset, read here as UTC). The
//! duration is the last timer, the total time in milliseconds. The proxy's
//! own messages (`Proxy x started.`, `Connect from ...`, `SSL handshake
//! failure`) and TCP-mode lines carry no request and are skipped.

use super::fields::{self, clf_time, next_field};
use super::{LineError, LineParser, LogRecord, Parsed, trim_line};
use std::borrow::Cow;

#[derive(Clone, Default)]
pub struct HaproxyParser;

impl LineParser for HaproxyParser {
    fn parse<'a>(&mut self, line: &'a [u8]) -> Parsed<'a> {
        let line = trim_line(line);
        // The accept date, `[dd/Mon/...`, after `client:port ` (not syslog's `haproxy[pid]`).
        let date_at =
            |at: usize| line.get(at + 1).is_some_and(u8::is_ascii_digit) && line.get(at + 2..at + 4).is_some_and(|s| s.contains(&b'/'));
        let Some(open) = memchr::memchr_iter(b'[', line).find(|&at| date_at(at)) else {
            return Parsed::Skip;
        };
        let before = line[..open].trim_ascii_end();
        let client = &before[memchr::memrchr(b' ', before).map_or(0, |sp| sp + 1)..];
        if !client.contains(&b':') {
            return Parsed::Skip;
        }
        let Some(quote) = request_quote(line, open) else {
            return Parsed::Skip;
        };
        match read(line, open, quote) {
            Ok(mut record) => {
                record.client = fields::present(fields::strip_port(client));
                Parsed::Record(record)
            }
            Err(err) => Parsed::Reject(err),
        }
    }
    fn clone_box(&self) -> Box<dyn LineParser> {
        Box::new(self.clone())
    }
}

/// The quote that opens the request: the first one outside the `{...}` captured headers.
fn request_quote(line: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    loop {
        let next = at + memchr::memchr2(b'{', b'"', &line[at..])?;
        if line[next] == b'"' {
            return Some(next);
        }
        at = next + memchr::memchr(b'}', &line[next..])?;
    }
}

fn read(line: &[u8], open: usize, quote: usize) -> Result<LogRecord<'_>, LineError> {
    let (rest, time) = clf_time(&line[open..]).map_err(|e| match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => LineError::at(line, e.input, e.expected),
        nom::Err::Incomplete(_) => LineError::at(line, b"", "more input"),
    })?;
    let mut rest = rest;
    let mut take = |expected: &'static str| match next_field(rest) {
        Some((field, next)) if !field.starts_with(b"\"") => {
            rest = next;
            Ok(field)
        }
        _ => Err(LineError::at(line, rest, expected)),
    };
    let _frontend = take("the frontend name")?;
    let _backend = take("backend/server")?;
    // Custom log-formats may put a field (the host, say) before the timers.
    let mut host = None;
    let timers = loop {
        let field = take("the timers Tq/Tw/Tc/Tr/Tt")?;
        if looks_like_timers(field) {
            break field;
        }
        if host.is_some() {
            return Err(LineError::at(line, rest, "the timers Tq/Tw/Tc/Tr/Tt"));
        }
        host = fields::present(field);
    };
    let status_field = take("a status")?;
    let status = match fields::status(status_field) {
        Ok((b"", code)) => code,
        _ if status_field == b"-1" => None,
        _ => return Err(LineError::at(line, rest, "a status")),
    };
    let bytes_field = take("a byte count")?;
    let bytes = match fields::parse_u64(bytes_field.strip_prefix(b"+").unwrap_or(bytes_field)) {
        Some(bytes) => Some(bytes),
        None => return Err(LineError::at(line, bytes_field, "a byte count")),
    };
    let total = timers.rsplit(|&b| b == b'/').next().unwrap_or(b"");
    let duration_us = fields::parse_u64(total.strip_prefix(b"+").unwrap_or(total)).map(|ms| ms * 1000);
    // The request runs from its opening quote to the line's last quote
    // (HAProxy truncates long requests and may leave it unclosed).
    let body = &line[quote + 1..];
    let body = match memchr::memrchr(b'"', body) {
        Some(end) => &body[..end],
        None => body,
    };
    let request = fields::split_request(Cow::Borrowed(body));
    Ok(LogRecord {
        time_us: Some(time),
        method: request.method,
        path: request.path,
        query: request.query,
        protocol: request.protocol,
        host: host.or(request.host),
        status,
        bytes,
        duration_us,
        ..LogRecord::default()
    })
}

/// `0/0/1/12/14`, `-1/-1/-1/-1/3`, `10/0/2/-1/+5003`.
fn looks_like_timers(field: &[u8]) -> bool {
    field.iter().filter(|&&b| b == b'/').count() >= 2 && field.iter().all(|&b| b.is_ascii_digit() || b"/-+".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_log_lines() {
        let p = HaproxyParser.parse(br#"Feb  2 04:05:24 127.0.0.1 haproxy[9883]: 127.0.0.1:42617 [02/Feb/2012:04:05:24.385] Prod Prod/<NOSRV> -1/-1/-1/-1/12 401 262 - - PR-- 0/0/0/0/0 0/0 "GET /haproxy-status;csv;norefresh HTTP/1.1""#);
        let Parsed::Record(r) = p else { panic!("{p:?}") };
        let r = r.to_owned_record();
        assert_eq!(r.time.as_deref(), Some("2012-02-02T04:05:24.385Z"));
        assert_eq!((r.status, r.bytes, r.duration_us, r.client.as_deref()), (Some(401), Some(262), Some(12_000), Some("127.0.0.1")));
        assert_eq!(r.path.as_deref(), Some("/haproxy-status;csv;norefresh"));
        // A byte count that is not a number is a reject, not a missing value.
        let bad = HaproxyParser.parse(br#"Feb  2 04:05:24 127.0.0.1 haproxy[9883]: 127.0.0.1:42617 [02/Feb/2012:04:05:24.385] Prod Prod/<NOSRV> -1/-1/-1/-1/12 401 lots - - PR-- 0/0/0/0/0 0/0 "GET / HTTP/1.1""#);
        assert!(matches!(bad, Parsed::Reject(ref e) if e.expected == "a byte count"), "{bad:?}");

        let p = HaproxyParser.parse(br#"141.35.244.171:53332 [25/Feb/2019:16:19:48.143] prod~ bk/ng 0/0/7/1457/1487 200 11394 - - ---- 2/1/0/0/0 0/0 {Mozilla/5.0 (X11; "x")} {} "GET /admin?survey=130 HTTP/1.1""#);
        let Parsed::Record(r) = p else { panic!("{p:?}") };
        assert_eq!((r.duration_us, r.query.as_deref()), (Some(1_487_000), Some(&b"survey=130"[..])));
    }

    #[test]
    fn messages_are_skipped_and_broken_lines_rejected() {
        for line in [
            "Feb 25 16:19:38 192.168.4.2 haproxy[1]: Proxy prod_http_in started.",
            "Dec 24 00:31:38 localhost haproxy[42949]: Connect from 1.2.3.4:5 to 10.0.0.1:443 (https-in/HTTP)",
            "Feb 25 16:19:49 h haproxy[7]: 141.35.244.171:53332 [25/Feb/2019:16:19:48.143] prod_http_in~/1: SSL handshake failure",
        ] {
            assert_eq!(HaproxyParser.parse(line.as_bytes()), Parsed::Skip, "{line}");
        }
        assert!(matches!(
            HaproxyParser.parse(br#"1.2.3.4:5 [25/Feb/2019:16:19:48.143] f b/s 0/0/7/1457/1487 2x0 1 "GET / HTTP/1.1""#),
            Parsed::Reject(e) if e.expected == "a status"
        ));
    }
}
