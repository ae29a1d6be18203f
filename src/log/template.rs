//! Logs described by a format string: nginx `log_format` and Apache `LogFormat`.
//!
//! Both compile (in `nginx.rs` and `apache.rs`) into one [`Template`]: a list
//! of literals and typed fields. A line is read left to right: a literal must
//! match where it stands, and a field runs up to the next literal (a quote
//! escaped with a backslash does not end a quoted field). Fields the tool has
//! no use for (`$request_length`, `%l`) are [`FieldKind::Opaque`] and only
//! skipped.

use super::fields::{self, RequestLine, Text};
use super::{LineError, LineParser, LogRecord, Parsed, trim_line};
use std::borrow::Cow;

/// What a format-string field means for a [`LogRecord`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldKind {
    RemoteAddr,
    ForwardedFor,
    User,
    /// `10/Oct/2000:13:55:36 -0700` (nginx `$time_local`, brackets are literals).
    TimeClf,
    /// `[10/Oct/2000:13:55:36 -0700]` (Apache `%t`, brackets included).
    TimeClfBracketed,
    TimeIso,
    /// Epoch seconds, milliseconds or microseconds, told by magnitude (`$msec`).
    TimeEpoch,
    /// Epoch time in a known unit: microseconds per unit (`%{sec}t` 1,000,000, `%{msec}t` 1,000, `%{usec}t` 1).
    TimeEpochIn(u64),
    /// An Apache `%{format}t` strftime pattern; several such fields join into one time.
    TimeStrftime(String),
    /// The fraction of a second beside a time (`%{msec_frac}t`: microseconds per unit 1,000; `%{usec_frac}t`: 1).
    TimeFraction(u64),
    Request,
    Method,
    /// Path and query (`$request_uri`).
    Target,
    Path,
    /// The query string, with or without a leading `?`.
    Query,
    Protocol,
    Status,
    /// Body bytes (`$body_bytes_sent`, `%b`, `%B`).
    Bytes,
    /// Bytes including headers (`$bytes_sent`, `%O`): used when body bytes are not logged.
    BytesTotal,
    DurationSeconds,
    DurationMillis,
    DurationMicros,
    /// `$upstream_response_time`: `0.012`, `0.010, 0.002` or `-`; used when `$request_time` is not logged.
    UpstreamSeconds,
    Host,
    Referer,
    UserAgent,
    /// nginx `$is_args`: `?` before a query, nothing without one.
    IsArgs,
    Opaque,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Literal(Vec<u8>),
    Field(FieldKind),
}

/// A compiled format string.
#[derive(Debug, Clone)]
pub struct Template {
    items: Vec<Item>,
}

impl Template {
    /// Joins adjacent literals so each field knows the literal that ends it.
    pub fn new(raw: Vec<Item>) -> Self {
        let mut items: Vec<Item> = Vec::with_capacity(raw.len());
        for item in raw {
            match (items.last_mut(), item) {
                (Some(Item::Literal(prev)), Item::Literal(next)) => prev.extend_from_slice(&next),
                (_, Item::Literal(lit)) if lit.is_empty() => {}
                (_, item) => items.push(item),
            }
        }
        // Trailing spaces in a format string are invisible in logs that get trimmed.
        if let Some(Item::Literal(lit)) = items.last_mut() {
            while lit.last() == Some(&b' ') {
                lit.pop();
            }
            if lit.is_empty() {
                items.pop();
            }
        }
        Template { items }
    }

    pub fn items(&self) -> &[Item] {
        &self.items
    }
}

#[derive(Default)]
struct Extras<'a> {
    forwarded: Option<Text<'a>>,
    remote: Option<Text<'a>>,
    bytes_total: Option<u64>,
    upstream_us: Option<u64>,
    /// `%{%Y-%m-%d}t %{%H:%M:%S}t`: the items (by index) and values of a time split across fields.
    time_parts: Vec<(usize, &'a [u8])>,
    fraction_us: u64,
}

impl LineParser for Template {
    fn parse<'a>(&mut self, line: &'a [u8]) -> Parsed<'a> {
        let line = line.strip_suffix(b"\r").unwrap_or(line).trim_ascii_end();
        let trimmed = trim_line(line);
        if trimmed.is_empty() {
            return Parsed::Skip;
        }
        // A line that starts with a space may begin with an empty value (`$http_host` with no Host
        // header): read it as it is first, then without its leading spaces.
        let empty_first = match (self.items.first(), self.items.get(1)) {
            (Some(Item::Field(_)), Some(Item::Literal(next))) => find_end(line, next, false, 0) == Some(0),
            _ => false,
        };
        if empty_first
            && trimmed.len() < line.len()
            && let Ok(record) = self.read(line)
        {
            return Parsed::Record(record);
        }
        match self.read(trimmed) {
            Ok(record) => Parsed::Record(record),
            Err(err) => Parsed::Reject(err),
        }
    }
    fn clone_box(&self) -> Box<dyn LineParser> {
        Box::new(self.clone())
    }
}

impl Template {
    fn read<'a>(&self, line: &'a [u8]) -> Result<LogRecord<'a>, LineError> {
        let mut record = LogRecord::default();
        let mut extras = Extras::default();
        let mut rest = line;
        for (i, item) in self.items.iter().enumerate() {
            match item {
                Item::Literal(lit) => rest = match_literal(line, rest, lit)?,
                Item::Field(kind) => {
                    let in_quotes = matches!(i.checked_sub(1).map(|p| &self.items[p]), Some(Item::Literal(l)) if l.ends_with(b"\""));
                    let end = match (kind, self.items.get(i + 1)) {
                        // `[10/Oct/2000:13:55:36 -0700]` holds a space: it ends at its bracket, whatever follows.
                        (FieldKind::TimeClfBracketed, _) if rest.first() == Some(&b'[') => {
                            memchr::memchr(b']', rest).map(|at| at + 1).ok_or_else(|| LineError::at(line, rest, "a closing ]"))?
                        }
                        (_, Some(Item::Literal(next))) => find_end(rest, next, in_quotes, inner_spaces(kind))
                            .ok_or_else(|| LineError::at(line, rest, expected_literal(next)))?,
                        (FieldKind::IsArgs, _) => usize::from(rest.first() == Some(&b'?')),
                        // Fields side by side (`%U%q`, `$uri$is_args$args`): bounded by the literal after them all.
                        (_, Some(Item::Field(next))) => {
                            let limit = match self.items.iter().skip(i + 1).find(|item| matches!(item, Item::Literal(_))) {
                                Some(Item::Literal(after)) => find_end(rest, after, in_quotes, 0).unwrap_or(rest.len()),
                                _ => rest.len(),
                            };
                            let stop: &[u8] = match (kind, next) {
                                // A path runs to its query.
                                (FieldKind::Path, _) | (_, FieldKind::Query | FieldKind::IsArgs) => b"? ",
                                _ => b" ",
                            };
                            rest[..limit].iter().position(|b| stop.contains(b)).unwrap_or(limit)
                        }
                        (_, None) => rest.len(),
                    };
                    let value = &rest[..end];
                    if let FieldKind::TimeStrftime(_) = kind {
                        extras.time_parts.push((i, value));
                    } else {
                        apply(kind, value, in_quotes, &mut record, &mut extras).map_err(|expected| LineError::at(line, rest, expected))?;
                    }
                    rest = &rest[end..];
                }
            }
        }
        if !extras.time_parts.is_empty() {
            let parts: Vec<(&str, &[u8])> = extras
                .time_parts
                .iter()
                .filter_map(|(i, v)| match &self.items[*i] {
                    Item::Field(FieldKind::TimeStrftime(pattern)) => Some((pattern.as_str(), *v)),
                    _ => None,
                })
                .collect();
            record.time_us = Some(joined_time(&parts).ok_or_else(|| LineError::at(line, line, "a time in the format's %{...}t patterns"))?);
        }
        if let Some(t) = record.time_us.as_mut() {
            *t += extras.fraction_us as i64;
        }
        record.client = extras.forwarded.or(extras.remote);
        record.bytes = record.bytes.or(extras.bytes_total);
        record.duration_us = record.duration_us.or(extras.upstream_us);
        Ok(record)
    }
}

/// What the format expected next, named by the literal's first visible byte.
fn expected_literal(lit: &[u8]) -> &'static str {
    match lit.iter().find(|&&b| b != b' ') {
        Some(b'"') => "a quote",
        Some(b'[') => "an opening [",
        Some(b']') => "a closing ]",
        None => "a space",
        _ => "the format's next separator",
    }
}

/// A literal must stand here; a run of spaces in it matches one or more spaces.
fn match_literal<'a>(line: &'a [u8], rest: &'a [u8], lit: &[u8]) -> Result<&'a [u8], LineError> {
    let mut rest = rest;
    let mut lit_at = 0;
    while lit_at < lit.len() {
        if lit[lit_at] == b' ' {
            let spaces = rest.iter().take_while(|&&b| b == b' ').count();
            if spaces == 0 {
                return Err(LineError::at(line, rest, "a space"));
            }
            rest = &rest[spaces..];
            lit_at += lit[lit_at..].iter().take_while(|&&b| b == b' ').count();
        } else if rest.first() == Some(&lit[lit_at]) {
            rest = &rest[1..];
            lit_at += 1;
        } else {
            return Err(LineError::at(line, rest, expected_literal(&lit[lit_at..])));
        }
    }
    Ok(rest)
}

/// Where a field ends: at the next occurrence of the literal that follows it,
/// skipping backslash-escaped quotes inside a quoted field.
fn find_end(rest: &[u8], next: &[u8], in_quotes: bool, mut inner_spaces: usize) -> Option<usize> {
    let finder_len = next.iter().position(|&b| b == b' ').filter(|&p| p > 0).unwrap_or(next.len());
    let needle = &next[..finder_len];
    let mut from = 0;
    while let Some(found) = memchr::memmem::find(&rest[from..], needle) {
        let at = from + found;
        let backslashes = rest[..at].iter().rev().take_while(|&&b| b == b'\\').count();
        // A list (`0.010, 0.002`, `a, b`) does not end at the space after its comma.
        let list_comma = needle == b" " && at > 0 && rest[at - 1] == b',';
        let inside = needle == b" " && inner_spaces > 0;
        if list_comma || inside || in_quotes && needle[0] == b'"' && backslashes % 2 == 1 {
            inner_spaces = inner_spaces.saturating_sub(usize::from(inside));
            from = at + 1;
            continue;
        }
        return Some(at);
    }
    None
}

/// Spaces a field's own value holds (a strftime time such as `%Y-%m-%d %H:%M:%S`).
fn inner_spaces(kind: &FieldKind) -> usize {
    match kind {
        FieldKind::TimeStrftime(pattern) => pattern.matches(' ').count(),
        _ => 0,
    }
}

fn unquote(value: &[u8], in_quotes: bool) -> Text<'_> {
    if in_quotes && value.contains(&b'\\') { Cow::Owned(fields::unescape(value)) } else { Cow::Borrowed(value) }
}

fn apply<'a>(
    kind: &FieldKind,
    value: &'a [u8],
    in_quotes: bool,
    record: &mut LogRecord<'a>,
    extras: &mut Extras<'a>,
) -> Result<(), &'static str> {
    let dash = value == b"-" || value.is_empty();
    match kind {
        FieldKind::Opaque | FieldKind::IsArgs => {}
        FieldKind::RemoteAddr => extras.remote = fields::present(value),
        FieldKind::ForwardedFor => {
            let first = value.split(|&b| b == b',').next().unwrap_or(value).trim_ascii();
            extras.forwarded = fields::present(first);
        }
        FieldKind::User => record.user = fields::present(value),
        FieldKind::Host => record.host = fields::present(value),
        FieldKind::Referer => record.referer = fields::present_text(unquote(value, in_quotes)),
        FieldKind::UserAgent => record.user_agent = fields::present_text(unquote(value, in_quotes)),
        FieldKind::TimeClf => record.time_us = Some(whole(fields::clf_time_body, value, "a dd/Mon/yyyy:HH:MM:SS +zzzz time")?),
        FieldKind::TimeClfBracketed => record.time_us = Some(whole(fields::clf_time, value, "a [dd/Mon/yyyy:HH:MM:SS +zzzz] time")?),
        FieldKind::TimeIso => record.time_us = Some(fields::iso_time_field(value).ok_or("an ISO 8601 time")?),
        FieldKind::TimeEpoch => {
            let number = std::str::from_utf8(value).ok().and_then(|s| s.parse::<f64>().ok());
            record.time_us = Some(number.and_then(fields::epoch_to_us).ok_or("an epoch timestamp")?);
        }
        FieldKind::TimeEpochIn(us_per_unit) => {
            let number = std::str::from_utf8(value).ok().and_then(|s| s.parse::<u64>().ok()).ok_or("an epoch timestamp")?;
            record.time_us = Some(number.checked_mul(*us_per_unit).and_then(|us| i64::try_from(us).ok()).ok_or("an epoch timestamp")?);
        }
        FieldKind::TimeStrftime(_) => {}
        FieldKind::TimeFraction(us_per_unit) => {
            extras.fraction_us = fields::parse_u64(value).ok_or("a fraction of a second")? * us_per_unit
        }
        FieldKind::Request => {
            let RequestLine { method, path, query, protocol, host } = fields::split_request(unquote(value, in_quotes));
            (record.method, record.path, record.query, record.protocol) = (method, path, query, protocol);
            if record.host.is_none() {
                record.host = host;
            }
        }
        FieldKind::Method => record.method = fields::present(value),
        FieldKind::Target => {
            let (path, query, host) = fields::split_target(value);
            (record.path, record.query) = (path, query);
            if record.host.is_none() {
                record.host = host;
            }
        }
        FieldKind::Path => record.path = fields::present(value),
        FieldKind::Query => {
            let query = value.strip_prefix(b"?").unwrap_or(value);
            record.query = (!dash && !query.is_empty()).then_some(Cow::Borrowed(query));
        }
        FieldKind::Protocol => record.protocol = fields::present(value),
        FieldKind::Status => record.status = whole(fields::status, value, "a 3-digit status")?,
        FieldKind::Bytes => record.bytes = if dash { None } else { Some(fields::parse_u64(value).ok_or("a byte count")?) },
        FieldKind::BytesTotal => extras.bytes_total = fields::parse_u64(value),
        FieldKind::DurationSeconds => {
            record.duration_us = if dash { None } else { Some(fields::seconds_field_us(value).ok_or("a duration in seconds")?) }
        }
        FieldKind::DurationMillis => {
            record.duration_us = if dash { None } else { Some(fields::seconds_field_us(value).ok_or("a duration in milliseconds")? / 1000) }
        }
        FieldKind::DurationMicros => {
            record.duration_us = if dash { None } else { Some(fields::parse_u64(value).ok_or("a duration in microseconds")?) }
        }
        FieldKind::UpstreamSeconds => extras.upstream_us = upstream_sum(value),
    }
    Ok(())
}

/// Runs a field parser that must consume the whole value.
fn whole<'a, T>(parser: impl Fn(&'a [u8]) -> fields::Res<'a, T>, value: &'a [u8], expected: &'static str) -> Result<T, &'static str> {
    match parser(value) {
        Ok((b"", v)) => Ok(v),
        Ok(_) => Err(expected),
        Err(nom::Err::Error(e) | nom::Err::Failure(e)) => Err(e.expected),
        Err(nom::Err::Incomplete(_)) => Err(expected),
    }
}

/// `0.010, 0.002 : 0.001` (several upstreams tried) adds up; `-` is none.
fn upstream_sum(value: &[u8]) -> Option<u64> {
    let mut total = None;
    for part in value.split(|&b| b == b',' || b == b':') {
        if let Some(us) = fields::seconds_field_us(part.trim_ascii()) {
            total = Some(total.unwrap_or(0) + us);
        }
    }
    total
}

/// A time from one or more `%{pattern}t` fields, joined with spaces (`%Y-%m-%d` and `%H:%M:%S`).
fn joined_time(parts: &[(&str, &[u8])]) -> Option<i64> {
    let pattern = parts.iter().map(|(p, _)| *p).collect::<Vec<_>>().join(" ");
    let values: Vec<&str> = parts.iter().map(|(_, v)| std::str::from_utf8(v).ok()).collect::<Option<_>>()?;
    strftime(&values.join(" "), &pattern)
}

fn strftime(text: &str, pattern: &str) -> Option<i64> {
    if pattern.contains("%z") || pattern.contains("%:z") {
        return chrono::DateTime::parse_from_str(text, pattern).ok().map(|t| t.timestamp_micros());
    }
    if let Ok(t) = chrono::NaiveDateTime::parse_from_str(text, pattern) {
        return Some(t.and_utc().timestamp_micros());
    }
    // A date alone stands for its midnight (UTC).
    chrono::NaiveDate::parse_from_str(text, pattern).ok().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc().timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_fields() {
        let mut t = Template::new(vec![
            Item::Field(FieldKind::RemoteAddr),
            Item::Literal(b" [".to_vec()),
            Item::Field(FieldKind::TimeClf),
            Item::Literal(b"] \"".to_vec()),
            Item::Field(FieldKind::Request),
            Item::Literal(b"\" ".to_vec()),
            Item::Field(FieldKind::Status),
            Item::Literal(b" ".to_vec()),
            Item::Field(FieldKind::UpstreamSeconds),
        ]);
        let Parsed::Record(r) = t.parse(br#"1.2.3.4 [10/Sep/2015:17:57:59 +0000] "GET /a\"b HTTP/1.1" 200 0.010, 0.002"#) else { panic!() };
        assert_eq!(r.path.as_deref(), Some(&b"/a\"b"[..]));
        assert_eq!(r.status, Some(200));
        assert_eq!(r.duration_us, Some(12_000));
        match t.parse(br#"1.2.3.4 [10/Sep/2015:17:57:59 +0000] "GET / HTTP/1.1" 2x0 -"#) {
            Parsed::Reject(e) => assert_eq!((e.column, e.expected), (55, "a 3-digit status")),
            other => panic!("{other:?}"),
        }
        match t.parse(br#"1.2.3.4 10/Sep/2015"#) {
            Parsed::Reject(e) => assert_eq!((e.column, e.expected), (1, "an opening [")),
            other => panic!("{other:?}"),
        }
    }
}
