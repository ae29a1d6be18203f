//! Field parsers shared by every log family: timestamps, quoted strings,
//! request lines, numbers and durations.
//!
//! Each parser is a small nom function over bytes, labelled with `context`
//! so a rejected line can say what was expected and where. Errors are the
//! allocation-free [`FieldError`]; `IResult` never leaves `log/`.
//!
//! ```text
//! [10/Oct/2000:13:55:36 -0700]             clf_time
//! 2018-11-08T08:15:33.779204Z              iso_time
//! "GET /a?b=1 HTTP/1.1"                    quoted, then split_request
//! ```

pub use super::record::Text;
use nom::{
    IResult,
    branch::alt,
    bytes::complete::{tag, take, take_while, take_while1},
    character::complete::{char, one_of},
    combinator::{map, map_opt, opt, value},
    error::{ContextError, ErrorKind, ParseError, context},
    sequence::{preceded, tuple},
};
use std::borrow::Cow;

/// What a field parser says when it fails: where, and what it wanted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldError<'a> {
    /// The input left at the failing position.
    pub input: &'a [u8],
    pub expected: &'static str,
    labelled: bool,
}

impl<'a> FieldError<'a> {
    pub fn new(input: &'a [u8], expected: &'static str) -> Self {
        FieldError {
            input,
            expected,
            labelled: true,
        }
    }
}

impl<'a> ParseError<&'a [u8]> for FieldError<'a> {
    fn from_error_kind(input: &'a [u8], kind: ErrorKind) -> Self {
        let expected = match kind {
            ErrorKind::Digit => "a digit",
            ErrorKind::Char | ErrorKind::Tag => "a separator",
            ErrorKind::Eof => "more input",
            _ => "a field",
        };
        FieldError {
            input,
            expected,
            labelled: false,
        }
    }
    fn append(_: &'a [u8], _: ErrorKind, other: Self) -> Self {
        other
    }
}

impl<'a> ContextError<&'a [u8]> for FieldError<'a> {
    /// The innermost label wins: it names the field that broke.
    fn add_context(_: &'a [u8], ctx: &'static str, mut other: Self) -> Self {
        if !other.labelled {
            other.expected = ctx;
            other.labelled = true;
        }
        other
    }
}

pub type Res<'a, T> = IResult<&'a [u8], T, FieldError<'a>>;

/// Turns a failed parse into the error of a whole line.
pub fn fail<'a, T>(input: &'a [u8], expected: &'static str) -> Res<'a, T> {
    Err(nom::Err::Error(FieldError::new(input, expected)))
}

fn digits(count: usize) -> impl FnMut(&[u8]) -> Res<'_, u32> {
    move |input| {
        map_opt(take(count), |d: &[u8]| {
            d.iter().try_fold(0u32, |n, &b| {
                b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
            })
        })(input)
    }
}

/// An unsigned decimal integer.
pub fn uint(input: &[u8]) -> Res<'_, u64> {
    map_opt(take_while1(|b: u8| b.is_ascii_digit()), parse_u64)(input)
}

pub fn parse_u64(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() || digits.len() > 19 {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| {
        b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
    })
}

/// `-` where a field was not logged.
pub fn dash(input: &[u8]) -> Res<'_, ()> {
    value((), char('-'))(input)
}

/// An HTTP status: three digits (CloudFront writes `000` for aborted requests), or `-`.
pub fn status(input: &[u8]) -> Res<'_, Option<u16>> {
    context(
        "a 3-digit status",
        alt((map(digits(3), |s| Some(s as u16)), value(None, dash))),
    )(input)
}

/// A byte count, or `-` (Apache's `%b` for an empty body).
pub fn byte_count(input: &[u8]) -> Res<'_, Option<u64>> {
    context(
        "a byte count or -",
        alt((map(uint, Some), value(None, dash))),
    )(input)
}

/// A decimal number of seconds (`0.138`, `12`), as microseconds.
pub fn seconds_us(input: &[u8]) -> Res<'_, u64> {
    let (rest, whole) = uint(input)?;
    let (rest, frac) = opt(preceded(char('.'), take_while(|b: u8| b.is_ascii_digit())))(rest)?;
    let mut micros = whole.saturating_mul(1_000_000);
    if let Some(frac) = frac {
        let mut scale = 100_000;
        for &d in frac.iter().take(6) {
            micros += u64::from(d - b'0') * scale;
            scale /= 10;
        }
    }
    Ok((rest, micros))
}

/// A whole field of decimal seconds; `None` for `-`, negative (`-1`) or unparsable values.
pub fn seconds_field_us(field: &[u8]) -> Option<u64> {
    match seconds_us(field) {
        Ok((rest, us)) if rest.is_empty() => Some(us),
        _ => None,
    }
}

fn month(input: &[u8]) -> Res<'_, u32> {
    context(
        "a month name such as Oct",
        map_opt(take(3usize), |m: &[u8]| {
            const MONTHS: [&[u8; 3]; 12] = [
                b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct",
                b"Nov", b"Dec",
            ];
            MONTHS
                .iter()
                .position(|name| name.eq_ignore_ascii_case(m))
                .map(|i| i as u32 + 1)
        }),
    )(input)
}

/// Fractional seconds after a `.` or `,`, as microseconds (extra digits are dropped).
fn fraction_us(input: &[u8]) -> Res<'_, u32> {
    map(
        preceded(one_of(".,"), take_while1(|b: u8| b.is_ascii_digit())),
        |frac: &[u8]| {
            let mut micros = 0;
            for i in 0..6 {
                micros = micros * 10 + frac.get(i).map_or(0, |d| u32::from(d - b'0'));
            }
            micros
        },
    )(input)
}

/// A UTC offset: `+0330`, `-07:00`, `Z`; its value in seconds east of UTC.
fn utc_offset(input: &[u8]) -> Res<'_, i32> {
    context(
        "a UTC offset such as +0000",
        alt((
            value(0, one_of("Zz")),
            map(
                tuple((one_of("+-"), digits(2), opt(char(':')), digits(2))),
                |(sign, h, _, m)| {
                    let secs = (h * 3600 + m * 60) as i32;
                    if sign == '-' { -secs } else { secs }
                },
            ),
        )),
    )(input)
}

/// Microseconds since the epoch from civil date and time fields, or `None` for an impossible date.
pub fn civil_to_us(
    year: i32,
    month: u32,
    day: u32,
    hms: (u32, u32, u32),
    micros: u32,
    offset_s: i32,
) -> Option<i64> {
    let date = chrono::NaiveDate::from_ymd_opt(year, month, day)?;
    let time = chrono::NaiveTime::from_hms_opt(hms.0, hms.1, hms.2)?;
    let secs = date.and_time(time).and_utc().timestamp() - i64::from(offset_s);
    Some(secs * 1_000_000 + i64::from(micros))
}

fn hms(input: &[u8]) -> Res<'_, (u32, u32, u32)> {
    map(
        tuple((digits(2), char(':'), digits(2), char(':'), digits(2))),
        |(h, _, m, _, s)| (h, m, s),
    )(input)
}

/// The body of a Common Log Format time, `10/Oct/2000:13:55:36 -0700`
/// (sub-second digits and a missing offset, as HAProxy writes it, are accepted).
pub fn clf_time_body(input: &[u8]) -> Res<'_, i64> {
    let (rest, (day, _, month, _, year, _, hms, micros, offset)) = tuple((
        context("a day of month", alt((digits(2), digits(1)))),
        char('/'),
        month,
        char('/'),
        context("a 4-digit year", digits(4)),
        char(':'),
        context("a time HH:MM:SS", hms),
        opt(fraction_us),
        opt(preceded(char(' '), utc_offset)),
    ))(input)?;
    match civil_to_us(
        year as i32,
        month,
        day,
        hms,
        micros.unwrap_or(0),
        offset.unwrap_or(0),
    ) {
        Some(us) => Ok((rest, us)),
        None => fail(input, "a valid calendar date"),
    }
}

/// `[10/Oct/2000:13:55:36 -0700]`
pub fn clf_time(input: &[u8]) -> Res<'_, i64> {
    context("a [dd/Mon/yyyy:HH:MM:SS +zzzz] time", |i| {
        let (rest, _) = char('[')(i)?;
        let (rest, us) = clf_time_body(rest)?;
        let (rest, _) = char(']')(rest)?;
        Ok((rest, us))
    })(input)
}

/// Remembers the last `[time]` text and its value: consecutive lines mostly
/// share their second, so the calendar arithmetic runs once per second of log.
#[derive(Debug, Clone, Default)]
pub struct ClfTimeCache {
    text: [u8; 32],
    len: usize,
    value: i64,
}

impl ClfTimeCache {
    /// [`clf_time`], answered from the cache when the text repeats.
    pub fn parse<'a>(&mut self, input: &'a [u8]) -> Res<'a, i64> {
        let window = &input[..input.len().min(self.text.len())];
        let Some(end) = memchr::memchr(b']', window) else {
            return clf_time(input);
        };
        let text = &input[..=end];
        if text.len() == self.len && self.text[..self.len] == *text {
            return Ok((&input[end + 1..], self.value));
        }
        let (rest, value) = clf_time(input)?;
        self.text[..text.len()].copy_from_slice(text);
        (self.len, self.value) = (text.len(), value);
        Ok((rest, value))
    }
}

/// ISO 8601 / RFC 3339: `2018-11-08T08:15:33.779204Z`, `2026-01-02 03:04:05+01:00`;
/// no offset means UTC.
pub fn iso_time(input: &[u8]) -> Res<'_, i64> {
    let (rest, (year, _, month, _, day, _, hms, micros, offset)) = context(
        "an ISO 8601 time such as 2026-01-02T03:04:05Z",
        tuple((
            digits(4),
            char('-'),
            digits(2),
            char('-'),
            digits(2),
            one_of("Tt "),
            hms,
            opt(fraction_us),
            opt(utc_offset),
        )),
    )(input)?;
    match civil_to_us(
        year as i32,
        month,
        day,
        hms,
        micros.unwrap_or(0),
        offset.unwrap_or(0),
    ) {
        Some(us) => Ok((rest, us)),
        None => fail(input, "a valid calendar date"),
    }
}

/// A whole field holding an ISO time.
pub fn iso_time_field(field: &[u8]) -> Option<i64> {
    match iso_time(field) {
        Ok((rest, us)) if rest.is_empty() => Some(us),
        _ => None,
    }
}

/// An epoch timestamp in seconds, milliseconds, microseconds or nanoseconds,
/// told apart by magnitude (any date between 1973 and 2286 reads right).
pub fn epoch_to_us(value: f64) -> Option<i64> {
    if !value.is_finite() || value <= 0.0 {
        return None;
    }
    let us = if value < 1e11 {
        value * 1e6
    } else if value < 1e14 {
        value * 1e3
    } else if value < 1e17 {
        value
    } else {
        value / 1e3
    };
    Some(us.round() as i64)
}

/// A double-quoted string with backslash escapes (`\"`, `\\`, `\xNN`).
/// Returns the unescaped contents, borrowed when nothing was escaped.
pub fn quoted(input: &[u8]) -> Res<'_, Text<'_>> {
    let Some(body) = input.strip_prefix(b"\"") else {
        return fail(input, "a quoted field");
    };
    let mut at = 0;
    let mut escaped = false;
    while let Some(offset) = memchr::memchr2(b'"', b'\\', &body[at..]) {
        let pos = at + offset;
        if body[pos] == b'\\' {
            escaped = true;
            at = pos + 2;
            if at > body.len() {
                break;
            }
            continue;
        }
        let raw = &body[..pos];
        let text = if escaped {
            Cow::Owned(unescape(raw))
        } else {
            Cow::Borrowed(raw)
        };
        return Ok((&body[pos + 1..], text));
    }
    fail(input, "a closing quote")
}

/// Undoes Apache and nginx escapes: `\"`, `\\`, `\xNN`, `\n`, `\t`.
pub fn unescape(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        let b = raw[i];
        if b != b'\\' || i + 1 >= raw.len() {
            out.push(b);
            i += 1;
            continue;
        }
        let next = raw[i + 1];
        match next {
            b'x' | b'X' if i + 3 < raw.len() && hex_byte(&raw[i + 2..i + 4]).is_some() => {
                out.push(hex_byte(&raw[i + 2..i + 4]).unwrap_or(b'?'));
                i += 4;
            }
            b'n' => {
                out.push(b'\n');
                i += 2;
            }
            b't' => {
                out.push(b'\t');
                i += 2;
            }
            b'"' | b'\\' => {
                out.push(next);
                i += 2;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn hex_byte(two: &[u8]) -> Option<u8> {
    let value = |c: u8| (c as char).to_digit(16);
    Some((value(two[0])? * 16 + value(two[1])?) as u8)
}

/// A field as a `Text`, or `None` for `-` and empty fields.
pub fn present<'a>(field: &'a [u8]) -> Option<Text<'a>> {
    (!field.is_empty() && field != b"-").then_some(Cow::Borrowed(field))
}

/// Like [`present`] for an already unescaped field.
pub fn present_text(field: Text<'_>) -> Option<Text<'_>> {
    (!field.is_empty() && &*field != b"-").then_some(field)
}

/// The parts of a request line `GET /path?query HTTP/1.1`.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct RequestLine<'a> {
    pub method: Option<Text<'a>>,
    pub path: Option<Text<'a>>,
    pub query: Option<Text<'a>>,
    pub protocol: Option<Text<'a>>,
    /// The authority of an absolute-form target (`GET http://host:80/x`).
    pub host: Option<Text<'a>>,
}

/// Splits a request line. `-` or an empty request gives an empty `RequestLine`;
/// HTTP/0.9's `GET /page` has no protocol; a line of one token is kept as the method only.
pub fn split_request(line: Text<'_>) -> RequestLine<'_> {
    match line {
        Cow::Borrowed(bytes) => split_request_bytes(bytes),
        Cow::Owned(bytes) => {
            let borrowed = split_request_bytes(&bytes);
            RequestLine {
                method: borrowed.method.map(|t| Cow::Owned(t.into_owned())),
                path: borrowed.path.map(|t| Cow::Owned(t.into_owned())),
                query: borrowed.query.map(|t| Cow::Owned(t.into_owned())),
                protocol: borrowed.protocol.map(|t| Cow::Owned(t.into_owned())),
                host: borrowed.host.map(|t| Cow::Owned(t.into_owned())),
            }
        }
    }
}

fn split_request_bytes(line: &[u8]) -> RequestLine<'_> {
    let line = line.trim_ascii();
    if line.is_empty() || line == b"-" {
        return RequestLine::default();
    }
    let (method, rest) = match memchr::memchr(b' ', line) {
        Some(sp) => (&line[..sp], line[sp + 1..].trim_ascii_start()),
        None => {
            return RequestLine {
                method: present(line),
                ..RequestLine::default()
            };
        }
    };
    if method == b"-" {
        // `- - -`, `- http://host:80- -`: a connection that never sent a request.
        return RequestLine::default();
    }
    // The protocol is the last token when it looks like one; targets may hold spaces
    // in broken clients' requests, so split from the right.
    let (target, protocol) = match memchr::memrchr(b' ', rest) {
        Some(sp)
            if rest[sp + 1..].starts_with(b"HTTP/") || rest[sp + 1..].starts_with(b"http/") =>
        {
            (rest[..sp].trim_ascii_end(), present(&rest[sp + 1..]))
        }
        _ => (rest, None),
    };
    let (path, query, host) = split_target(target);
    RequestLine {
        method: present(method),
        path,
        query,
        protocol,
        host,
    }
}

/// Splits a request target into path, query and the authority of an absolute URI.
pub fn split_target(target: &[u8]) -> (Option<Text<'_>>, Option<Text<'_>>, Option<Text<'_>>) {
    let (target, host) = strip_authority(target);
    let (path, query) = match memchr::memchr(b'?', target) {
        Some(q) => (&target[..q], Some(Cow::Borrowed(&target[q + 1..]))),
        None => (target, None),
    };
    let path = if path.is_empty() && host.is_some() {
        Some(Cow::Borrowed(&b"/"[..]))
    } else {
        present(path)
    };
    (path, query, host)
}

/// `http://host:80/x` → (`/x`, `host:80`); any other target is returned as it is.
pub fn strip_authority(target: &[u8]) -> (&[u8], Option<Text<'_>>) {
    let scheme_len = if target.len() > 8 && target[..8].eq_ignore_ascii_case(b"https://") {
        8
    } else if target.len() > 7 && target[..7].eq_ignore_ascii_case(b"http://") {
        7
    } else {
        return (target, None);
    };
    let rest = &target[scheme_len..];
    let end = rest
        .iter()
        .position(|&b| b == b'/' || b == b'?')
        .unwrap_or(rest.len());
    (&rest[end..], present(&rest[..end]))
}

/// Strips `:port` from `1.2.3.4:5678` and `[::1]:80`; bare IPv6 addresses are kept whole.
pub fn strip_port(addr: &[u8]) -> &[u8] {
    if let Some(inner) = addr.strip_prefix(b"[") {
        return memchr::memchr(b']', inner).map_or(addr, |end| &inner[..end]);
    }
    match memchr::memrchr(b':', addr) {
        Some(colon) if memchr::memchr(b':', &addr[..colon]).is_none() => &addr[..colon],
        _ => addr,
    }
}

/// Splits off the next space-separated field; a field opening with `"` runs
/// to the quote that is followed by a space or the end of the line (load
/// balancers do not escape quotes inside a request), and comes back unquoted.
pub fn next_field(s: &[u8]) -> Option<(&[u8], &[u8])> {
    let s = s.trim_ascii_start();
    if s.is_empty() {
        return None;
    }
    if let Some(body) = s.strip_prefix(b"\"") {
        let mut closing = memchr::memchr_iter(b'"', body);
        let end = closing
            .clone()
            .find(|&at| matches!(body.get(at + 1), None | Some(b' ' | b'\t')))
            .or_else(|| closing.next());
        return Some(match end {
            Some(end) => (&body[..end], &body[end + 1..]),
            None => (body, b""),
        });
    }
    let end = s
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

/// Skips spaces.
pub fn spaces(input: &[u8]) -> Res<'_, ()> {
    value((), take_while(|b| b == b' '))(input)
}

/// One or more spaces.
pub fn space1(input: &[u8]) -> Res<'_, ()> {
    context("a space", value((), take_while1(|b| b == b' ')))(input)
}

/// A run of non-space bytes.
pub fn token(input: &[u8]) -> Res<'_, &[u8]> {
    context("a field", take_while1(|b| b != b' '))(input)
}

/// The literal `s`.
pub fn literal<'a>(s: &'static str) -> impl FnMut(&'a [u8]) -> Res<'a, &'a [u8]> {
    tag(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn us(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s)
            .unwrap()
            .timestamp_micros()
    }

    #[test]
    fn clf_times() {
        let table = [
            ("[10/Oct/2000:13:55:36 -0700]", "2000-10-10T20:55:36Z"),
            ("[22/Jan/2019:03:56:14 +0330]", "2019-01-22T00:26:14Z"),
            ("[01/Aug/1995:00:00:01 -0400]", "1995-08-01T04:00:01Z"),
            ("[02/Feb/2012:04:05:24.385]", "2012-02-02T04:05:24.385Z"),
            ("[1/Feb/2012:04:05:24 +0000]", "2012-02-01T04:05:24Z"),
            ("[25/Oct/2015:04:11:25 +01:00]", "2015-10-25T03:11:25Z"),
        ];
        for (input, want) in table {
            let (rest, got) =
                clf_time(input.as_bytes()).unwrap_or_else(|e| panic!("{input}: {e:?}"));
            assert!(rest.is_empty(), "{input}");
            assert_eq!(got, us(want), "{input}");
        }
    }

    #[test]
    fn the_time_cache_answers_like_the_parser() {
        let mut cache = ClfTimeCache::default();
        for input in [
            "[10/Oct/2000:13:55:36 -0700] x",
            "[10/Oct/2000:13:55:36 -0700] y",
            "[10/Oct/2000:13:55:37 -0700] z",
            "[10/Oct/2000:13:55:36 +0000] w",
        ] {
            assert_eq!(
                cache.parse(input.as_bytes()),
                clf_time(input.as_bytes()),
                "{input}"
            );
        }
        assert!(cache.parse(b"[10/Oct/2000:13:55:3x -0700]").is_err());
    }

    #[test]
    fn clf_time_errors_name_the_field() {
        let table = [
            ("[10/Foo/2000:13:55:36 -0700]", "a month name such as Oct"),
            ("[31/Feb/2000:13:55:36 -0700]", "a valid calendar date"),
            ("[10/Oct/2000:13:55 -0700]", "a time HH:MM:SS"),
            (
                "10/Oct/2000:13:55:36 -0700",
                "a [dd/Mon/yyyy:HH:MM:SS +zzzz] time",
            ),
        ];
        for (input, want) in table {
            match clf_time(input.as_bytes()) {
                Err(nom::Err::Error(e)) => assert_eq!(e.expected, want, "{input}"),
                other => panic!("{input}: {other:?}"),
            }
        }
    }

    #[test]
    fn iso_times() {
        let table = [
            ("2018-11-08T08:15:33.779204Z", "2018-11-08T08:15:33.779204Z"),
            ("2026-01-02 03:04:05+01:00", "2026-01-02T02:04:05Z"),
            ("2026-01-02T03:04:05", "2026-01-02T03:04:05Z"),
            ("2025-10-01T13:31:23.251Z", "2025-10-01T13:31:23.251Z"),
            (
                "2026-01-02T03:04:05.123456789-0500",
                "2026-01-02T08:04:05.123456Z",
            ),
        ];
        for (input, want) in table {
            assert_eq!(iso_time_field(input.as_bytes()), Some(us(want)), "{input}");
        }
        assert_eq!(iso_time_field(b"2026-13-02T03:04:05Z"), None);
        assert_eq!(iso_time_field(b"yesterday"), None);
    }

    #[test]
    fn epochs_by_magnitude() {
        let want = us("2024-05-26T11:42:52.601480Z");
        assert_eq!(epoch_to_us(1716723772.60148), Some(want));
        assert_eq!(epoch_to_us(1716723772601.48), Some(want));
        assert_eq!(epoch_to_us(1716723772601480.0), Some(want));
        assert_eq!(epoch_to_us(1716723772601480000.0), Some(want));
        assert_eq!(epoch_to_us(-1.0), None);
    }

    #[test]
    fn numbers() {
        assert_eq!(status(b"200 x").unwrap(), (&b" x"[..], Some(200)));
        assert_eq!(status(b"- x").unwrap(), (&b" x"[..], None));
        assert!(status(b"2x0").is_err());
        assert_eq!(byte_count(b"-").unwrap().1, None);
        assert_eq!(byte_count(b"1839").unwrap().1, Some(1839));
        assert_eq!(seconds_field_us(b"0.138"), Some(138_000));
        assert_eq!(seconds_field_us(b"12"), Some(12_000_000));
        assert_eq!(seconds_field_us(b"0.0000231"), Some(23));
        assert_eq!(seconds_field_us(b"-1"), None);
        assert_eq!(seconds_field_us(b"-"), None);
        assert_eq!(parse_u64(b"99999999999999999999"), None);
    }

    #[test]
    fn quoted_fields() {
        let table: [(&str, &[u8], &str); 5] = [
            (r#""GET / HTTP/1.1" 200"#, b"GET / HTTP/1.1", " 200"),
            (r#""a \"b\" c" x"#, b"a \"b\" c", " x"),
            (r#""\x16\x03\x01" 400"#, b"\x16\x03\x01", " 400"),
            (r#""" 400"#, b"", " 400"),
            (r#""back\\slash""#, b"back\\slash", ""),
        ];
        for (input, want, rest) in table {
            let (got_rest, got) = quoted(input.as_bytes()).unwrap();
            assert_eq!(&*got, want, "{input}");
            assert_eq!(got_rest, rest.as_bytes(), "{input}");
        }
        assert!(quoted(br#""never closed"#).is_err());
        assert!(quoted(br#""ends in backslash\"#).is_err());
    }

    #[test]
    fn request_lines() {
        let t = |s: &str| Some(Cow::Owned(s.as_bytes().to_vec()));
        let table = [
            (
                "GET /a/b?x=1&y HTTP/1.1",
                RequestLine {
                    method: t("GET"),
                    path: t("/a/b"),
                    query: t("x=1&y"),
                    protocol: t("HTTP/1.1"),
                    host: None,
                },
            ),
            (
                "GET /ksc.html",
                RequestLine {
                    method: t("GET"),
                    path: t("/ksc.html"),
                    ..Default::default()
                },
            ),
            ("-", RequestLine::default()),
            ("", RequestLine::default()),
            (
                "hello",
                RequestLine {
                    method: t("hello"),
                    ..Default::default()
                },
            ),
            (
                "GET https://paytm.com:443/shop?code=1 HTTP/1.1",
                RequestLine {
                    method: t("GET"),
                    path: t("/shop"),
                    query: t("code=1"),
                    protocol: t("HTTP/1.1"),
                    host: t("paytm.com:443"),
                },
            ),
            (
                "GET http://54.236.119.61:80 HTTP/1.1",
                RequestLine {
                    method: t("GET"),
                    path: t("/"),
                    protocol: t("HTTP/1.1"),
                    host: t("54.236.119.61:80"),
                    ..Default::default()
                },
            ),
            (
                "GET /a b HTTP/1.0",
                RequestLine {
                    method: t("GET"),
                    path: t("/a b"),
                    protocol: t("HTTP/1.0"),
                    ..Default::default()
                },
            ),
        ];
        for (input, want) in table {
            assert_eq!(
                split_request(Cow::Borrowed(input.as_bytes())),
                want,
                "{input}"
            );
        }
    }

    #[test]
    fn split_fields() {
        let mut rest: &[u8] = br#"a "b c" "GET /x?q="><s> HTTP/1.1" "-"1 z"#;
        let mut got = Vec::new();
        while let Some((field, next)) = next_field(rest) {
            got.push(String::from_utf8_lossy(field).into_owned());
            rest = next;
        }
        assert_eq!(got, ["a", "b c", "GET /x?q=\"><s> HTTP/1.1", "-", "1", "z"]);
    }

    #[test]
    fn ports() {
        assert_eq!(strip_port(b"1.2.3.4:5678"), b"1.2.3.4");
        assert_eq!(strip_port(b"[::1]:80"), b"::1");
        assert_eq!(strip_port(b"2a03::1"), b"2a03::1");
        assert_eq!(strip_port(b"host"), b"host");
    }
}
