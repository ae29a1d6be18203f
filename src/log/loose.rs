//! Reading a log whose format nobody named: a custom Apache `LogFormat` or
//! nginx `log_format` that no known format fits, read loosely.
//!
//! The first lines are split into fields (quoted strings with their escapes,
//! bracketed times, bare tokens) and searched for what every access log
//! holds: a time in a common form and a quoted request line. Where both
//! stand at the same fields in nearly every sampled line, that is the
//! layout; status, size, duration, client, referer and user agent are taken
//! only where they stand unambiguously in every sampled line:
//!
//! ```text
//! www.example.com:443 203.0.113.9 42113 [10/Oct/2026:13:55:36 +0000] 0.138 "GET /a?b=1 HTTP/1.1" 200 512 "-" "curl/8.5"
//! read loosely: client at field 2, time at field 4, duration at field 5, request at field 6, status at field 7, size at field 8,
//!               referer at field 9, user agent at field 10; pass --format for the rest
//! ```
//!
//! Never a misreading: a line whose fields do not hold a time and a request
//! where the layout says is rejected with the reason, never guessed at.

use super::fields::{self, clf_time_body, epoch_to_us, iso_time_field, split_request};
use super::{LineError, LineParser, LogRecord, Parsed, request_rule};
use std::borrow::Cow;

/// The least share of sampled lines a layout must read for derive to use it.
pub const MIN_SHARE: f64 = 0.85;
/// Fields looked at in a line; a time and a request past it are not looked for.
const MAX_FIELDS: usize = 40;

/// One field of a line, as written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field<'a> {
    /// `"…"`: the raw text between the quotes, escapes not yet undone.
    Quoted(&'a [u8]),
    /// `[…]`
    Bracketed(&'a [u8]),
    Bare(&'a [u8]),
}

/// Splits a line into at most [`MAX_FIELDS`] fields; `None` when a quote or bracket is not closed.
fn split(line: &[u8]) -> Option<Vec<Field<'_>>> {
    let mut out = Vec::with_capacity(12);
    let mut rest = line.trim_ascii();
    while !rest.is_empty() && out.len() < MAX_FIELDS {
        let (field, after) = match rest[0] {
            b'"' => {
                let body = &rest[1..];
                let mut at = 0;
                loop {
                    let pos = at + memchr::memchr2(b'"', b'\\', &body[at..])?;
                    if body[pos] == b'\\' {
                        at = pos + 2;
                        if at > body.len() {
                            return None;
                        }
                        continue;
                    }
                    break (Field::Quoted(&body[..pos]), &body[pos + 1..]);
                }
            }
            b'[' => {
                let end = memchr::memchr(b']', rest)?;
                (Field::Bracketed(&rest[1..end]), &rest[end + 1..])
            }
            _ => {
                let end = rest.iter().position(|b| b.is_ascii_whitespace()).unwrap_or(rest.len());
                (Field::Bare(&rest[..end]), &rest[end..])
            }
        };
        out.push(field);
        rest = after.trim_ascii_start();
    }
    Some(out)
}

/// How a layout's time is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeKind {
    /// `[10/Oct/2000:13:55:36 -0700]`, or any field holding that.
    Clf,
    /// `2026-10-10T13:55:36.123Z`, bare, bracketed or quoted.
    Iso,
    /// `2026-10-10 13:55:36`: a date and a time in two bare fields.
    IsoSplit,
    /// `1700000000.123`: seconds since the epoch, with 10 integer digits.
    Epoch,
}

fn text<'a>(field: &Field<'a>) -> &'a [u8] {
    match *field {
        Field::Quoted(t) | Field::Bracketed(t) | Field::Bare(t) => t,
    }
}

/// The time at field `i` read as `kind`.
fn time_at(fields: &[Field<'_>], i: usize, kind: TimeKind) -> Option<i64> {
    let field = fields.get(i)?;
    let t = text(field);
    match kind {
        TimeKind::Clf => match clf_time_body(t) {
            Ok((b"", us)) => Some(us),
            _ => None,
        },
        TimeKind::Iso => iso_time_field(t),
        TimeKind::IsoSplit => {
            let (Field::Bare(date), Some(Field::Bare(clock))) = (field, fields.get(i + 1)) else { return None };
            if date.len() != 10 || clock.len() < 8 || clock.len() > 40 {
                return None;
            }
            let mut joined = [0u8; 51];
            joined[..10].copy_from_slice(date);
            joined[10] = b' ';
            joined[11..11 + clock.len()].copy_from_slice(clock);
            iso_time_field(&joined[..11 + clock.len()])
        }
        TimeKind::Epoch => {
            let Field::Bare(t) = field else { return None };
            let int = t.iter().take_while(|b| b.is_ascii_digit()).count();
            let frac_ok = t.get(int).is_none_or(|&b| b == b'.') && t[int.min(t.len())..].iter().skip(1).all(u8::is_ascii_digit);
            if int != 10 || !frac_ok {
                return None;
            }
            epoch_to_us(std::str::from_utf8(t).ok()?.parse().ok()?)
        }
    }
}

/// The kinds of time field `i` could be.
fn time_kinds<'f>(fields: &'f [Field<'_>], i: usize) -> impl Iterator<Item = TimeKind> + 'f {
    [TimeKind::Clf, TimeKind::Iso, TimeKind::IsoSplit, TimeKind::Epoch].into_iter().filter(move |&k| time_at(fields, i, k).is_some())
}

/// Whether field `i` is a quoted HTTP request line (`"GET /a HTTP/1.1"`).
fn is_request(field: &Field<'_>) -> bool {
    let Field::Quoted(raw) = *field else { return false };
    let line = split_request(Cow::Owned(fields::unescape(raw)));
    let protocol = line.protocol.as_deref().is_some_and(|p| p.starts_with(b"HTTP/"));
    request_rule::check(line.method.as_deref(), line.path.as_deref()).is_ok() && protocol
}

fn is_status(field: &Field<'_>) -> bool {
    matches!(field, Field::Bare(t) if t.len() == 3 && t.iter().all(u8::is_ascii_digit) && (b'1'..=b'5').contains(&t[0]))
}

fn is_size(field: &Field<'_>) -> bool {
    matches!(field, Field::Bare(t) if *t == b"-" || (!t.is_empty() && t.len() <= 19 && t.iter().all(u8::is_ascii_digit)))
}

/// Seconds with a decimal point (`0.138`, nginx's `$request_time`), never an integer, which could be anything.
fn is_seconds(field: &Field<'_>) -> bool {
    matches!(field, Field::Bare(t) if t.len() <= 12 && t.iter().filter(|&&b| b == b'.').count() == 1
        && t.iter().all(|&b| b.is_ascii_digit() || b == b'.') && t[0].is_ascii_digit() && t[t.len() - 1].is_ascii_digit())
}

fn is_address(field: &Field<'_>) -> bool {
    let Field::Bare(t) = *field else { return false };
    std::str::from_utf8(fields::strip_port(t)).is_ok_and(|s| s.parse::<std::net::IpAddr>().is_ok())
}

/// Where each part of a record stands, by field index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub time: (usize, TimeKind),
    pub request: usize,
    pub status: Option<usize>,
    pub size: Option<usize>,
    pub duration: Option<usize>,
    pub client: Option<usize>,
    pub referer: Option<usize>,
    pub user_agent: Option<usize>,
}

impl Layout {
    /// Learns a layout from sample lines: the time and request positions found in the most lines,
    /// if they read at least [`MIN_SHARE`] of the lines that are not blank or comments.
    pub fn learn(sample: &[&[u8]]) -> Option<Layout> {
        let lines: Vec<Vec<Field<'_>>> =
            sample.iter().map(|l| l.trim_ascii()).filter(|l| !l.is_empty() && !l.starts_with(b"#")).filter_map(split).collect();
        if lines.is_empty() {
            return None;
        }
        // Votes for each (time, kind, request) the lines hold.
        let mut votes: Vec<((usize, TimeKind, usize), usize)> = Vec::new();
        for fields in &lines {
            let Some(request) = fields.iter().position(is_request) else { continue };
            let mut seen = Vec::new();
            for i in 0..fields.len() {
                for kind in time_kinds(fields, i) {
                    if i != request && !seen.contains(&(i, kind)) {
                        seen.push((i, kind));
                        match votes.iter_mut().find(|(k, _)| *k == (i, kind, request)) {
                            Some((_, n)) => *n += 1,
                            None => votes.push(((i, kind, request), 1)),
                        }
                    }
                }
            }
        }
        // The most lines; among equals, the earliest time (a log's own time comes before times inside a request).
        votes.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.0.cmp(&b.0.0)));
        let &((time, kind, request), n) = votes.first()?;
        if (n as f64) < MIN_SHARE * lines.len() as f64 {
            return None;
        }
        let agreeing: Vec<&Vec<Field<'_>>> =
            lines.iter().filter(|f| f.get(request).is_some_and(is_request) && time_at(f, time, kind).is_some()).collect();
        let taken = |i: usize| i == request || i == time || (kind == TimeKind::IsoSplit && i == time + 1);
        let everywhere = |i: usize, test: &dyn Fn(&Field<'_>) -> bool| !taken(i) && agreeing.iter().all(|f| f.get(i).is_some_and(test));
        let status = (request + 1..request + 4).find(|&i| everywhere(i, &is_status));
        let size = status.map(|s| s + 1).filter(|&i| everywhere(i, &is_size));
        let mut layout =
            Layout { time: (time, kind), request, status, size, duration: None, client: None, referer: None, user_agent: None };
        // One field holding seconds with a decimal point in every line: the duration. Two or more: which is it? None.
        let max_fields = agreeing.iter().map(|f| f.len()).min().unwrap_or(0);
        let seconds: Vec<usize> =
            (0..max_fields).filter(|&i| Some(i) != layout.status && Some(i) != layout.size && everywhere(i, &is_seconds)).collect();
        if let [one] = seconds[..] {
            layout.duration = Some(one);
        }
        layout.client = (0..max_fields.min(5)).find(|&i| everywhere(i, &is_address));
        // Combined's order: the first two adjacent quoted fields after the size are the referer and the user agent.
        if let Some(size) = layout.size {
            let quoted = |i: usize| everywhere(i, &|f: &Field<'_>| matches!(f, Field::Quoted(_)));
            if let Some(at) = (size + 1..max_fields.saturating_sub(1)).find(|&i| quoted(i) && quoted(i + 1)) {
                (layout.referer, layout.user_agent) = (Some(at), Some(at + 1));
            }
        }
        Some(layout)
    }

    /// `client at field 2, time at field 4, request at field 6, …` (fields counted from 1).
    pub fn describe(&self) -> String {
        let mut parts: Vec<(usize, &str)> = vec![(self.time.0, "time"), (self.request, "request")];
        let optional = [
            (self.status, "status"),
            (self.size, "size"),
            (self.duration, "duration"),
            (self.client, "client"),
            (self.referer, "referer"),
            (self.user_agent, "user agent"),
        ];
        parts.extend(optional.iter().filter_map(|(i, name)| i.map(|i| (i, *name))));
        parts.sort();
        parts.iter().map(|(i, name)| format!("{name} at field {}", i + 1)).collect::<Vec<_>>().join(", ")
    }
}

/// Reads lines by a learned [`Layout`].
#[derive(Debug, Clone)]
pub struct LooseParser(pub Layout);

impl LineParser for LooseParser {
    fn parse<'a>(&mut self, line: &'a [u8]) -> Parsed<'a> {
        let layout = &self.0;
        let trimmed = line.trim_ascii();
        if trimmed.is_empty() || trimmed.starts_with(b"#") {
            return Parsed::Skip;
        }
        let Some(fields) = split(trimmed) else {
            return Parsed::Reject(LineError::at(line, b"", "a closing quote or bracket (read loosely)"));
        };
        let at = |i: usize| fields.get(i).map_or(&b""[..], text);
        let column = |i: usize| {
            let field = at(i);
            // The field borrows from the line: its offset is where it starts (at its quote or bracket).
            let opened = usize::from(matches!(fields.get(i), Some(Field::Quoted(_) | Field::Bracketed(_))));
            let offset = (field.as_ptr() as usize).saturating_sub(line.as_ptr() as usize).saturating_sub(opened).min(line.len());
            &line[offset..]
        };
        let Some(time_us) = time_at(&fields, layout.time.0, layout.time.1) else {
            return Parsed::Reject(LineError::at(line, column(layout.time.0), "a time where the other lines have it (read loosely)"));
        };
        let Some(Field::Quoted(raw)) = fields.get(layout.request).copied() else {
            return Parsed::Reject(LineError::at(
                line,
                column(layout.request),
                "a quoted request where the other lines have it (read loosely)",
            ));
        };
        let request = fields::quoted_body(raw);
        let mut record = LogRecord { time_us: Some(time_us), ..LogRecord::default() };
        let split_line = split_request(request);
        (record.method, record.path, record.query, record.protocol, record.host) =
            (split_line.method, split_line.path, split_line.query, split_line.protocol, split_line.host);
        let get = |i: Option<usize>| i.and_then(|i| fields.get(i)).map(text);
        record.status = get(layout.status).and_then(fields::parse_u64).and_then(|s| u16::try_from(s).ok());
        record.bytes = get(layout.size).and_then(fields::parse_u64);
        record.duration_us = get(layout.duration).and_then(fields::seconds_field_us);
        record.client = get(layout.client).map(fields::strip_port).and_then(fields::present);
        let quoted = |i: Option<usize>| match i.and_then(|i| fields.get(i)) {
            Some(Field::Quoted(raw)) => fields::present_text(fields::quoted_body(raw)),
            _ => None,
        };
        record.referer = quoted(layout.referer);
        record.user_agent = quoted(layout.user_agent);
        Parsed::Record(record)
    }

    fn clone_box(&self) -> Box<dyn LineParser> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(layout: &Layout, line: &str) -> crate::log::OwnedRecord {
        match LooseParser(layout.clone()).parse(line.as_bytes()) {
            Parsed::Record(r) => r.to_owned_record(),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn finds_time_and_request_anywhere_and_takes_only_what_is_unambiguous() {
        // Apache with the vhost, the client's port and the connection before the time, and a duration first.
        let lines = [
            r#"www.example.com:443 203.0.113.9 42113 [10/Oct/2026:13:55:36 +0000] 0.138 "GET /a?b=1 HTTP/1.1" 200 512 "-" "curl/8.5""#,
            r#"www.example.com:443 203.0.113.10 42114 [10/Oct/2026:13:55:37 +0000] 0.002 "POST /login HTTP/1.1" 302 0 "https://www.example.com/" "Mozilla/5.0""#,
        ];
        let sample: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
        let layout = Layout::learn(&sample).unwrap();
        assert_eq!(
            layout.describe(),
            "client at field 2, time at field 4, duration at field 5, request at field 6, status at field 7, size at field 8, referer at field 9, user agent at field 10"
        );
        let r = read(&layout, lines[0]);
        assert_eq!(
            (r.time.as_deref(), r.method.as_deref(), r.path.as_deref(), r.query.as_deref(), r.status, r.bytes, r.duration_us),
            (Some("2026-10-10T13:55:36Z"), Some("GET"), Some("/a"), Some("b=1"), Some(200), Some(512), Some(138_000))
        );
        assert_eq!((r.client.as_deref(), r.user_agent.as_deref(), r.referer), (Some("203.0.113.9"), Some("curl/8.5"), None));
    }

    #[test]
    fn formats_from_servers_documentation() {
        // (lines, the layout found): Amazon S3 server access logs (an error code where the size would be), an nginx
        // `log_format` with `[$time_iso8601]` and `$request_time`, a Go service's `[date time] client "request" status size seconds`.
        let s3 = r#"79a59df900b949e5 DOC-EXAMPLE-BUCKET1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df900b949e5 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /DOC-EXAMPLE-BUCKET1?versioning HTTP/1.1" 200 - 113 - 7 - "-" "S3Console/0.4" - s9lzHYrFp76ZVxR= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader DOC-EXAMPLE-BUCKET1.s3.us-west-1.amazonaws.com TLSV1.2 - Yes"#;
        let s3_error = s3.replace("200 - 113", "404 NoSuchBucketPolicy 297");
        let nginx = r#"203.0.113.7 [2026-10-10T13:55:36+00:00] "GET /a?x=1 HTTP/1.1" 200 512 0.012 "-" "Mozilla/5.0""#;
        let go = r#"[2026-10-10 13:55:36] 127.0.0.1 "POST /api/v1/items HTTP/1.1" 201 12 0.003"#;
        let table: [(Vec<&str>, &str); 3] = [
            (vec![s3, &s3_error], "time at field 3, client at field 4, request at field 9, status at field 10"),
            (
                vec![nginx],
                "client at field 1, time at field 2, request at field 3, status at field 4, size at field 5, duration at field 6, referer at field 7, user agent at field 8",
            ),
            (vec![go], "time at field 1, client at field 2, request at field 3, status at field 4, size at field 5, duration at field 6"),
        ];
        for (lines, want) in table {
            let sample: Vec<&[u8]> = lines.iter().map(|l| l.as_bytes()).collect();
            let layout = Layout::learn(&sample).unwrap_or_else(|| panic!("{lines:?}"));
            assert_eq!(layout.describe(), want, "{lines:?}");
            for line in lines {
                let r = read(&layout, line);
                assert!(r.time.is_some() && r.method.is_some() && r.path.is_some() && r.status.is_some(), "{line}: {r:?}");
            }
        }
    }

    #[test]
    fn times_in_other_forms() {
        let table: [(&str, &str); 4] = [
            (r#"2026-10-10T13:55:36.250Z 10.0.0.1 "GET / HTTP/1.1" 200 5"#, "2026-10-10T13:55:36.250Z"),
            (r#"2026-10-10 13:55:36 10.0.0.1 "GET / HTTP/1.1" 200 5"#, "2026-10-10T13:55:36Z"),
            (r#"1791640536.250 10.0.0.1 "GET / HTTP/1.1" 200 5"#, "2026-10-10T13:55:36.250Z"),
            (r#"10.0.0.1 - - [2026-10-10T15:55:36+02:00] "GET / HTTP/1.1" 200 5"#, "2026-10-10T13:55:36Z"),
        ];
        for (line, want) in table {
            let layout = Layout::learn(&[line.as_bytes()]).unwrap_or_else(|| panic!("{line}"));
            assert_eq!(read(&layout, line).time.as_deref(), Some(want), "{line}: {}", layout.describe());
        }
    }

    #[test]
    fn ambiguity_is_left_out_and_a_line_off_the_layout_is_rejected_with_why() {
        // Two decimal fields: which one is the duration? Neither is taken.
        let lines = [r#"[10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5 0.120 0.100"#];
        let layout = Layout::learn(&lines.map(str::as_bytes)).unwrap();
        assert_eq!(layout.duration, None, "{}", layout.describe());
        let mut parser = LooseParser(layout);
        let Parsed::Reject(e) = parser.parse(br#"[garbage] "GET / HTTP/1.1" 200 5 0.1 0.1"#) else { panic!() };
        assert!(e.expected.contains("a time where the other lines have it") && e.column == 1, "{e}");
        let Parsed::Reject(e) = parser.parse(br#"[10/Oct/2026:13:55:36 +0000] GET 200 5 0.1 0.1"#) else { panic!() };
        assert!(e.expected.contains("a quoted request"), "{e}");
        assert!(matches!(parser.parse(br#"[10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1 200"#), Parsed::Reject(_)));
        // No request or no time in most lines: no layout, so nothing is read at all.
        assert_eq!(Layout::learn(&[b"just some text 200 5".as_slice()]), None);
        assert_eq!(Layout::learn(&[br#""GET / HTTP/1.1" 200 5"#.as_slice()]), None);
        let mostly_junk: Vec<&[u8]> = vec![br#"[10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5"#, b"junk", b"junk", b"junk"];
        assert_eq!(Layout::learn(&mostly_junk), None);
    }
}
