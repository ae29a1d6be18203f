//! Common Log Format and Combined, with the variants real servers write.
//!
//! ```text
//! 127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326
//! 127.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 2326 "http://ref/" "Mozilla/5.0"
//! vhost:443 10.0.0.2, 10.0.0.1 - - [...] "GET / HTTP/1.1" 200 1 "-" "curl" 1234
//! "10.5.1.1 - - [...] "GET / HTTP/1.1" 200 1 "-" "ua""          (an export's extra quotes)
//! ```
//!
//! Before the `[time]` come the client, ident and user, optionally preceded
//! by a virtual host (`%v`, `$host[:port]`) and a forwarded-for list; the
//! original client is the first address of such a list. After referer and
//! user agent, extra fields are ignored except a trailing duration: `12ms`
//! (Traefik), `0.138` (seconds, nginx `$request_time`) or a bare integer
//! (microseconds, Apache `%D`).

use super::fields::{self, ClfTimeCache, Res, byte_count, quoted, space1, status};
use super::{Handed, LineError, LineParser, LogRecord, Parsed, Text, trim_line};
use nom::error::context;
use std::borrow::Cow;

#[derive(Clone, Default)]
pub struct ClfParser {
    times: ClfTimeCache,
}

impl ClfParser {
    /// Reads `line` and gives its record to `take`, by reference where it was built; `Err(None)`
    /// for a line to skip, `Err(Some(error))` for a reject.
    #[inline(always)] // once a line, from either reading
    fn read<'a, R>(&mut self, line: &'a [u8], mut take: impl FnMut(&LogRecord<'a>) -> R) -> Result<R, Option<LineError>> {
        let line = unwrap_export_quotes(trim_line(line));
        if line.is_empty() {
            return Err(None);
        }
        // The common shape's record is read where it is built: no copy of it on the way out.
        let common = super::clf_common::parse_common(line, &mut self.times, |record| {
            #[cfg(debug_assertions)]
            check_common(line, record);
            take(record)
        });
        if let Some(taken) = common {
            return Ok(taken);
        }
        match parse_clf(line, &mut self.times) {
            Ok(record) => Ok(take(&record)),
            Err(err) => Err(Some(LineError::from_nom(line, err))),
        }
    }
}

impl LineParser for ClfParser {
    fn parse<'a>(&mut self, line: &'a [u8]) -> Parsed<'a> {
        // Off the per-line path (tests, `replay parse`): the record is copied out.
        match self.read(line, LogRecord::clone) {
            Ok(record) => Parsed::Record(record),
            Err(None) => Parsed::Skip,
            Err(Some(error)) => Parsed::Reject(error),
        }
    }

    fn parse_and_take(&mut self, line: &[u8], take: &mut dyn FnMut(&LogRecord<'_>)) -> Handed {
        match self.read(line, |record| take(record)) {
            Ok(()) => Handed::Record,
            Err(None) => Handed::Skip,
            Err(Some(error)) => Handed::Reject(error),
        }
    }

    fn clone_box(&self) -> Box<dyn LineParser> {
        Box::new(self.clone())
    }
}

/// Debug builds: the common shape's reading of a line is the general parser's (with a time
/// cache of its own, so the check leaves the parser's as it was).
#[cfg(debug_assertions)]
fn check_common(line: &[u8], record: &LogRecord<'_>) {
    match parse_clf(line, &mut ClfTimeCache::default()) {
        Ok(general) => assert_eq!(record, &general, "the common shape's reading of {:?}", String::from_utf8_lossy(line)),
        Err(_) => panic!("the common shape took a line the general parser rejects: {:?}", String::from_utf8_lossy(line)),
    }
}

/// Strips the pair of quotes some exports wrap around each line.
fn unwrap_export_quotes(line: &[u8]) -> &[u8] {
    if line.len() > 2 && line[0] == b'"' && line.ends_with(b"\"\"") && line[1] != b'"' {
        let inner = &line[1..line.len() - 1];
        // A quoted forwarded-for list also opens a line with `"`; it closes before the `[time]`.
        let first_close = memchr::memchr(b'"', inner);
        let time = memchr::memchr(b'[', inner);
        if matches!((first_close, time), (Some(q), Some(t)) if q > t) {
            return inner;
        }
    }
    line
}

fn parse_clf<'a>(line: &'a [u8], times: &mut ClfTimeCache) -> Result<LogRecord<'a>, nom::Err<fields::FieldError<'a>>> {
    let Some(time_at) = find_time(line) else {
        return Err(nom::Err::Error(fields::FieldError::new(line, "a [dd/Mon/yyyy:HH:MM:SS +zzzz] time")));
    };
    let mut record = LogRecord::default();
    if !parse_prefix(&line[..time_at], &mut record) {
        return Err(nom::Err::Error(fields::FieldError::new(line, "a client address (an IP or a host name) before the time")));
    }
    let (rest, time) = times.parse(&line[time_at..])?;
    record.time_us = Some(time);
    let (rest, _) = space1(rest)?;
    let (rest, request) = request_field(rest)?;
    let parts = fields::split_request(request);
    record.method = parts.method;
    record.path = parts.path;
    record.query = parts.query;
    record.protocol = parts.protocol;
    if record.host.is_none() {
        record.host = parts.host;
    }
    let (rest, _) = space1(rest)?;
    let (rest, code) = status(rest)?;
    record.status = code;
    let (rest, _) = space1(rest)?;
    let (rest, bytes) = byte_count(rest)?;
    record.bytes = bytes;
    trailer(rest, &mut record)?;
    Ok(record)
}

/// Where the `[time]` opens: the first `[` followed by a digit.
fn find_time(line: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b'[', line).find(|&at| line.get(at + 1).is_some_and(u8::is_ascii_digit))
}

/// The request field: normally a quoted string with Apache's escapes, but some
/// writers (classic ELB, old nginx) leave inner quotes unescaped, so when the
/// quote found is not followed by a status, look for the one that is.
fn request_field(input: &[u8]) -> Res<'_, Text<'_>> {
    let escaped = quoted(input);
    if let Ok((rest, _)) = &escaped
        && followed_by_status(rest)
    {
        return escaped;
    }
    let Some(body) = input.strip_prefix(b"\"") else {
        return fields::fail(input, "a quoted request such as \"GET / HTTP/1.1\"");
    };
    if let Some(at) = memchr::memchr_iter(b'"', body).find(|&at| followed_by_status(&body[at + 1..])) {
        return Ok((&body[at + 1..], Cow::Borrowed(&body[..at])));
    }
    // No better end: let the status parser say what is wrong after the request.
    escaped.or_else(|_| fields::fail(input, "a closing quote after the request"))
}

/// ` 200 ` or ` - ` (or the end of the line) after a closing quote.
fn followed_by_status(rest: &[u8]) -> bool {
    let Some(rest) = rest.strip_prefix(b" ") else {
        return false;
    };
    let rest = rest.trim_ascii_start();
    let len = if rest.starts_with(b"-") { 1 } else { rest.iter().take_while(|b| b.is_ascii_digit()).count() };
    (len == 1 && rest[0] == b'-' || len == 3) && matches!(rest.get(len), None | Some(b' '))
}

/// Whether a token can be a client: anything but a bare number. A port or a
/// count where the client should stand is how a custom format (`%h
/// %{remote}p %v %{local}p %t ...`) reads as Combined with every field
/// shifted, and that must be a reject, not a misread. (Addresses and host
/// names are not parsed further: this runs on every line, and IPv4 exits at
/// its first dot.)
pub(super) fn plausible_client(token: &[u8]) -> bool {
    !(token.first().is_some_and(u8::is_ascii_digit) && token.iter().all(u8::is_ascii_digit))
}

/// Client, ident and user, with an optional virtual host and forwarded-for
/// list before them; false when what stands as the client cannot be one.
fn parse_prefix<'a>(prefix: &'a [u8], record: &mut LogRecord<'a>) -> bool {
    let groups = Groups::split(prefix);
    let n = groups.len;
    let (lead, user) = match n {
        0 => return true,
        1 | 2 => (1, None),
        _ => (n - 2, Some(groups.get(n - 1))),
    };
    record.user = user.and_then(|g| fields::present(g.first));
    let [a, b, c] = [0, 1, 2].map(|i| (i < lead).then(|| groups.get(i)));
    let (host, client) = match (lead, a, b, c) {
        (0, ..) => (None, None),
        (1, Some(a), ..) => (None, Some(a)),
        (2, Some(a), Some(_), _) if a.quoted || a.list => (None, Some(a)),
        (2, Some(a), Some(b), _) => (Some(a), Some(b)),
        (_, Some(a), Some(b), _) => (Some(a), Some(b)),
        _ => (None, None),
    };
    if client.is_some_and(|g| !plausible_client(g.first)) {
        return false;
    }
    record.host = host.and_then(|g| fields::present(g.first));
    record.client = client.and_then(|g| fields::present(g.first));
    true
}

#[derive(Clone, Copy, Default)]
struct Group<'a> {
    /// The first address of a list, or the whole token.
    first: &'a [u8],
    list: bool,
    quoted: bool,
}

/// The space-separated groups before the time; `a, b, c` and `"a, b"` are one group each.
struct Groups<'a> {
    items: [Group<'a>; 6],
    len: usize,
}

impl<'a> Groups<'a> {
    fn split(mut s: &'a [u8]) -> Self {
        let mut groups = Groups { items: [Group::default(); 6], len: 0 };
        loop {
            s = s.trim_ascii_start();
            if s.is_empty() || groups.len == groups.items.len() {
                break;
            }
            let (group, rest) = if let Some(body) = s.strip_prefix(b"\"") {
                let end = memchr::memchr(b'"', body).unwrap_or(body.len());
                let inner = &body[..end];
                let first = inner.split(|&b| b == b',').next().unwrap_or(inner).trim_ascii();
                (Group { first, list: inner.contains(&b','), quoted: true }, body.get(end + 1..).unwrap_or(b""))
            } else {
                let mut end = 0;
                let mut first_end = None;
                loop {
                    let token_end = end + memchr::memchr(b' ', &s[end..]).unwrap_or(s.len() - end);
                    if token_end > end && s[token_end - 1] == b',' {
                        first_end.get_or_insert(token_end - 1);
                        end = (token_end + 1).min(s.len());
                        continue;
                    }
                    end = token_end;
                    break;
                }
                let first = &s[..first_end.unwrap_or(end)];
                (Group { first, list: first_end.is_some(), quoted: false }, &s[end..])
            };
            groups.items[groups.len] = group;
            groups.len += 1;
            s = rest;
        }
        groups
    }
    fn get(&self, i: usize) -> Group<'a> {
        self.items[i]
    }
}

/// Referer, user agent, extra fields and a trailing duration, all optional.
pub(super) fn trailer<'a>(rest: &'a [u8], record: &mut LogRecord<'a>) -> Result<(), nom::Err<fields::FieldError<'a>>> {
    let rest = rest.trim_ascii_start();
    if rest.is_empty() {
        return Ok(());
    }
    let mut rest = rest;
    if rest.starts_with(b"\"") {
        let (after, referer) = context("a quoted referer", quoted)(rest)?;
        record.referer = fields::present_text(referer);
        rest = after.trim_ascii_start();
        if rest.starts_with(b"\"") {
            // A user agent cut off at the end of the line (no closing quote) is kept as far as it goes.
            let (after, agent) = quoted(rest).unwrap_or((b"", Cow::Borrowed(&rest[1..])));
            record.user_agent = fields::present_text(agent);
            rest = after.trim_ascii_start();
            // nginx's `main` format ends with "$http_x_forwarded_for": the same rule as anywhere,
            // the first address of the list is the client.
            if let Some(body) = rest.strip_prefix(b"\"")
                && let Some(end) = memchr::memchr(b'"', body)
            {
                let first = body[..end].split(|&b| b == b',').next().unwrap_or(b"").trim_ascii();
                if std::str::from_utf8(first).is_ok_and(|f| f.parse::<std::net::IpAddr>().is_ok()) {
                    record.client = Some(Cow::Borrowed(first));
                }
            }
        }
    }
    if !rest.is_empty() && !rest.ends_with(b"\"") {
        let last = &rest[memchr::memrchr(b' ', rest).map_or(0, |sp| sp + 1)..];
        record.duration_us = trailing_duration(last);
    }
    Ok(())
}

/// `12ms`, `0.138` (seconds) or `116075` (microseconds).
fn trailing_duration(token: &[u8]) -> Option<u64> {
    if let Some(ms) = token.strip_suffix(b"ms") {
        return fields::seconds_field_us(ms).map(|us| us / 1000);
    }
    if token.contains(&b'.') {
        return fields::seconds_field_us(token);
    }
    fields::parse_u64(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::OwnedRecord;

    fn parse(line: &str) -> OwnedRecord {
        match ClfParser::default().parse(line.as_bytes()) {
            Parsed::Record(r) => r.to_owned_record(),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn variants() {
        // (line, client, host, user, method, path, query, protocol, status, bytes, agent, duration)
        type Row = (
            &'static str,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            Option<&'static str>,
            Option<u16>,
            Option<u64>,
            Option<&'static str>,
            Option<u64>,
        );
        let table: Vec<Row> = vec![
            (
                r#"127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326"#,
                Some("127.0.0.1"),
                None,
                Some("frank"),
                Some("GET"),
                Some("/apache_pb.gif"),
                None,
                Some("HTTP/1.0"),
                Some(200),
                Some(2326),
                None,
                None,
            ),
            (
                r#"in24.inetnebr.com - - [01/Aug/1995:00:00:01 -0400] "GET /ksc.html" 302 -"#,
                Some("in24.inetnebr.com"),
                None,
                None,
                Some("GET"),
                Some("/ksc.html"),
                None,
                None,
                Some(302),
                None,
                None,
                None,
            ),
            (
                r#"2001:db8::1 - - [01/Aug/1995:00:00:01 -0400] "GET /a?b=1 HTTP/1.1" 200 5 "-" "curl/8""#,
                Some("2001:db8::1"),
                None,
                None,
                Some("GET"),
                Some("/a"),
                Some("b=1"),
                Some("HTTP/1.1"),
                Some(200),
                Some(5),
                Some("curl/8"),
                None,
            ),
            (
                r#""192.168.4.25 - - [22/Dec/2016:16:30:52 +0300] "POST /x HTTP/1.1" 303 382 "http://r/" "Mozilla/5.0""""#,
                Some("192.168.4.25"),
                None,
                None,
                Some("POST"),
                Some("/x"),
                None,
                Some("HTTP/1.1"),
                Some(303),
                Some(382),
                Some("Mozilla/5.0"),
                None,
            ),
            (
                r#"1.2.3.4 - - [22/Dec/2016:16:30:52 +0300] "GET /q?id=1\" OR \"1\"=\"1 HTTP/1.1" 200 1 "-" "a \"quoted\" agent""#,
                Some("1.2.3.4"),
                None,
                None,
                Some("GET"),
                Some("/q"),
                Some("id=1\" OR \"1\"=\"1"),
                Some("HTTP/1.1"),
                Some(200),
                Some(1),
                Some("a \"quoted\" agent"),
                None,
            ),
            (
                r#"1.2.3.4 - - [22/Dec/2016:16:30:52 +0300] "\x16\x03\x01" 400 0 "-" "-""#,
                Some("1.2.3.4"),
                None,
                None,
                Some("\u{16}\u{3}\u{1}"),
                None,
                None,
                None,
                Some(400),
                Some(0),
                None,
                None,
            ),
            (
                r#"10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Firefox/49.0""#,
                Some("10.0.0.2"),
                None,
                None,
                Some("GET"),
                Some("/ocelot"),
                None,
                Some("HTTP/1.1"),
                Some(200),
                Some(571),
                Some("Firefox/49.0"),
                None,
            ),
            (
                r#""10.5.102.222, 199.96.1.1" 10.2.1.185 - - [22/Jan/2016:13:18:29 +0000] "GET /assets/x?q=100 HTTP/1.1" 200 25507 "-" "Amazon CloudFront""#,
                Some("10.5.102.222"),
                None,
                None,
                Some("GET"),
                Some("/assets/x"),
                Some("q=100"),
                Some("HTTP/1.1"),
                Some(200),
                Some(25507),
                Some("Amazon CloudFront"),
                None,
            ),
            (
                r#"example.com:80 81.2.69.143 - - [07/Dec/2016:11:05:07 +0100] "GET /ocelot HTTP/1.1" 200 571 "-" "Chrome/70""#,
                Some("81.2.69.143"),
                Some("example.com:80"),
                None,
                Some("GET"),
                Some("/ocelot"),
                None,
                Some("HTTP/1.1"),
                Some(200),
                Some(571),
                Some("Chrome/70"),
                None,
            ),
            (
                r#"example.com 10.0.0.2, 10.0.0.1, 127.0.0.1 - - [07/Dec/2016:11:05:07 +0100] "GET / HTTP/1.1" 200 571 "-" "F""#,
                Some("10.0.0.2"),
                Some("example.com"),
                None,
                Some("GET"),
                Some("/"),
                None,
                Some("HTTP/1.1"),
                Some(200),
                Some(571),
                Some("F"),
                None,
            ),
            (
                r#"localhost:443 178.20.184.42 1j0vhgd jsmith [26/Jul/2023:00:01:26 -0700] "GET /s HTTP/2.0" 200 17163 "-" "Mozilla/5.0" 116075"#,
                Some("178.20.184.42"),
                Some("localhost:443"),
                Some("jsmith"),
                Some("GET"),
                Some("/s"),
                None,
                Some("HTTP/2.0"),
                Some(200),
                Some(17163),
                Some("Mozilla/5.0"),
                Some(116075),
            ),
            (
                r#"192.168.33.1 - - [02/Oct/2017:20:22:07 +0000] "GET /f.png HTTP/1.1" 304 0 "http://e/login" "Chrome/61" 262 "Host-host1 "http://172.19.0.3:5601" 3ms"#,
                Some("192.168.33.1"),
                None,
                None,
                Some("GET"),
                Some("/f.png"),
                None,
                Some("HTTP/1.1"),
                Some(304),
                Some(0),
                Some("Chrome/61"),
                Some(3000),
            ),
            (
                r#" 0.0.0.0 - - [17/Jun/2023:00:01:21 +0800] "GET /t HTTP/1.1" 200 14055 "-" "JFrog" "-" 0.008"#,
                Some("0.0.0.0"),
                None,
                None,
                Some("GET"),
                Some("/t"),
                None,
                Some("HTTP/1.1"),
                Some(200),
                Some(14055),
                Some("JFrog"),
                Some(8000),
            ),
            (
                r#"10.112.81.15 - - [15/Feb/2013:06:00:31 +0000] "-" 400 0 "-" "-""#,
                Some("10.112.81.15"),
                None,
                None,
                None,
                None,
                None,
                None,
                Some(400),
                Some(0),
                None,
                None,
            ),
            (
                r#"192.168.202.254 [20/Jul/2009:22:59:29 +0000] "GET /vmkboot.gz HTTP/1.0" 404 46210 "-" "gPXE/0.9.7""#,
                Some("192.168.202.254"),
                None,
                None,
                Some("GET"),
                Some("/vmkboot.gz"),
                None,
                Some("HTTP/1.0"),
                Some(404),
                Some(46210),
                Some("gPXE/0.9.7"),
                None,
            ),
            (
                "1.2.3.4 - - [22/Dec/2016:16:30:52 +0300] \"GET / HTTP/1.1\" 200 1 \"-\" \"ua\"\r",
                Some("1.2.3.4"),
                None,
                None,
                Some("GET"),
                Some("/"),
                None,
                Some("HTTP/1.1"),
                Some(200),
                Some(1),
                Some("ua"),
                None,
            ),
        ];
        for (line, client, host, user, method, path, query, protocol, status, bytes, agent, duration) in table {
            let r = parse(line);
            let s = |v: Option<&str>| v.map(str::to_owned);
            assert_eq!((r.client, r.host, r.user), (s(client), s(host), s(user)), "{line}");
            assert_eq!((r.method, r.path, r.query, r.protocol), (s(method), s(path), s(query), s(protocol)), "{line}");
            assert_eq!((r.status, r.bytes, r.user_agent, r.duration_us), (status, bytes, s(agent), duration), "{line}");
            assert!(r.time.is_some(), "{line}");
        }
    }

    #[test]
    fn unescaped_quotes_in_the_request_are_tolerated() {
        let r = parse(r#"1.2.3.4 - - [22/Dec/2016:16:30:52 +0300] "GET /a"b HTTP/1.1" 200 1 "-" "ua""#);
        assert_eq!(r.path.as_deref(), Some("/a\"b"));
        assert_eq!(r.status, Some(200));
    }

    #[test]
    fn rejects_say_where_and_what() {
        let table = [
            ("just some text", 1, "a [dd/Mon/yyyy:HH:MM:SS +zzzz] time"),
            (r#"1.2.3.4 - - [22/Dec/2016:16:30:52 +0300] "GET / HTTP/1.1" abc 1"#, 59, "a 3-digit status"),
            (r#"1.2.3.4 - - [22/Dex/2016:16:30:52 +0300] "GET / HTTP/1.1" 200 1"#, 17, "a month name such as Oct"),
            (r#"1.2.3.4 - - [22/Dec/2016:16:30:52 +0300] "GET / HTTP/1.1"#, 42, "a closing quote after the request"),
            (r#"1.2.3.4 - - [22/Dec/2016:16:30:52 +0300] "GET / HTTP/1.1" 200 x"#, 63, "a byte count or -"),
        ];
        for (line, column, expected) in table {
            match ClfParser::default().parse(line.as_bytes()) {
                Parsed::Reject(e) => {
                    assert_eq!((e.column, e.expected), (column, expected), "{line}")
                }
                other => panic!("{line}: {other:?}"),
            }
        }
        assert_eq!(ClfParser::default().parse(b"   "), Parsed::Skip);
    }
}
