//! Field parsers shared by every log family: timestamps, quoted strings,
//! request lines, numbers and durations.
//!
//! Each parser is a small nom function over bytes, labelled with `context`
//! so a rejected line can say what was expected and where. Errors are the
//! allocation-free [`FieldError`]; `IResult` never leaves `log/`.
//!
//! Timestamps live in `time.rs`, request lines and targets in `request.rs`;
//! this file holds the error type, numbers, quoted strings and tokens.
//!
//! ```text
//! [10/Oct/2000:13:55:36 -0700]             clf_time
//! 2018-11-08T08:15:33.779204Z              iso_time
//! "GET /a?b=1 HTTP/1.1"                    quoted, then split_request
//! 200 2326 0.138                           status, byte_count, seconds_us
//! ```

pub use super::record::Text;

mod request;
mod time;

use nom::{
    IResult,
    branch::alt,
    bytes::complete::{take, take_while, take_while1},
    character::complete::char,
    combinator::{map, map_opt, opt, value},
    error::{ContextError, ErrorKind, ParseError, context},
    sequence::preceded,
};
pub use request::{RequestLine, split_request, split_request_bytes, split_target, strip_authority, strip_known_port, strip_port};
use std::borrow::Cow;
pub use time::{ClfTimeCache, civil_to_us, clf_time, clf_time_body, epoch_to_us, iso_time, iso_time_field};

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
        FieldError { input, expected, labelled: true }
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
        FieldError { input, expected, labelled: false }
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

pub(super) fn digits(count: usize) -> impl FnMut(&[u8]) -> Res<'_, u32> {
    move |input| {
        map_opt(take(count), |d: &[u8]| d.iter().try_fold(0u32, |n, &b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))))(input)
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
    digits.iter().try_fold(0u64, |n, &b| b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0')))
}

/// `-` where a field was not logged.
pub fn dash(input: &[u8]) -> Res<'_, ()> {
    value((), char('-'))(input)
}

/// An HTTP status: three digits (CloudFront writes `000` for aborted requests), or `-`.
pub fn status(input: &[u8]) -> Res<'_, Option<u16>> {
    context("a 3-digit status", alt((map(digits(3), |s| Some(s as u16)), value(None, dash))))(input)
}

/// A byte count, or `-` (Apache's `%b` for an empty body).
pub fn byte_count(input: &[u8]) -> Res<'_, Option<u64>> {
    // By hand: this runs on every line, and the combinators cost more than the digits.
    let digits = input.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits > 0 {
        if let Some(n) = parse_u64(&input[..digits]) {
            return Ok((&input[digits..], Some(n)));
        }
    } else if let Some(rest) = input.strip_prefix(b"-") {
        return Ok((rest, None));
    }
    fail(input, "a byte count or -")
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
        Ok((b"", us)) => Some(us),
        _ => None,
    }
}

/// A double-quoted string with backslash escapes (`\"`, `\\`, `\xNN`).
/// Returns the unescaped contents, borrowed when nothing was escaped.
pub fn quoted(input: &[u8]) -> Res<'_, Text<'_>> {
    let Some(body) = input.strip_prefix(b"\"") else {
        return fail(input, "a quoted field");
    };
    let mut at = 0;
    let mut escaped = false;
    while let Some(offset) = find_quote_or_backslash(&body[at..]) {
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
        let text = if escaped { Cow::Owned(unescape(raw)) } else { Cow::Borrowed(raw) };
        return Ok((&body[pos + 1..], text));
    }
    fail(input, "a closing quote")
}

/// The first `"` or `\\` in `body` (most quoted fields in a log line are `"-"` or short:
/// `bytes::find2` looks at fewer than 16 bytes one by one).
#[inline]
pub fn find_quote_or_backslash(body: &[u8]) -> Option<usize> {
    crate::bytes::find2(b'"', b'\\', body)
}

/// Whether `text` holds a `"` or `\\`.
#[inline]
pub fn has_quote_or_backslash(text: &[u8]) -> bool {
    crate::bytes::find2(b'"', b'\\', text).is_some()
}

/// The contents of a quoted field (between its quotes), its escapes undone; borrowed when it has none.
pub fn quoted_body(raw: &[u8]) -> Text<'_> {
    if raw.contains(&b'\\') { Cow::Owned(unescape(raw)) } else { Cow::Borrowed(raw) }
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
            // JSON's `\u0022` (nginx `escape=json`): the code point, as UTF-8.
            b'u' if i + 5 < raw.len() + 0 && raw.len() >= i + 6 => {
                let code =
                    std::str::from_utf8(&raw[i + 2..i + 6]).ok().and_then(|h| u32::from_str_radix(h, 16).ok()).and_then(char::from_u32);
                match code {
                    Some(c) => {
                        let mut buf = [0u8; 4];
                        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        i += 6;
                    }
                    None => {
                        out.push(b);
                        i += 1;
                    }
                }
            }
            b'/' => {
                out.push(b'/');
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
        let end = closing.clone().find(|&at| matches!(body.get(at + 1), None | Some(b' ' | b'\t'))).or_else(|| closing.next());
        return Some(match end {
            Some(end) => (&body[..end], &body[end + 1..]),
            None => (body, b""),
        });
    }
    let end = s.iter().position(|&b| b == b' ' || b == b'\t').unwrap_or(s.len());
    Some((&s[..end], &s[end..]))
}

/// One or more spaces.
pub fn space1(input: &[u8]) -> Res<'_, ()> {
    context("a space", value((), take_while1(|b| b == b' ')))(input)
}

#[cfg(test)]
mod tests {
    use super::*;
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
    fn field_ends_found_before_and_after_the_short_scan() {
        for (body, want) in
            [(&b"-\" 200"[..], Some(1)), (b"", None), (b"12345678\"", Some(8)), (b"0123456789ab\\\"", Some(12)), (b"0123456789", None)]
        {
            assert_eq!(find_quote_or_backslash(body), want, "{}", String::from_utf8_lossy(body));
        }
        // Either side of the byte-by-byte length, at either end.
        for len in [0, 1, 15, 16, 17, 40] {
            let plain = vec![b'a'; len];
            assert!(!has_quote_or_backslash(&plain), "{len}");
            for at in [0, len / 2, len.saturating_sub(1)].into_iter().filter(|_| len > 0) {
                for b in [b'"', b'\\'] {
                    let mut marked = plain.clone();
                    marked[at] = b;
                    assert!(has_quote_or_backslash(&marked), "{len} {at} {b}");
                }
            }
        }
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
    fn split_fields() {
        let mut rest: &[u8] = br#"a "b c" "GET /x?q="><s> HTTP/1.1" "-"1 z"#;
        let mut got = Vec::new();
        while let Some((field, next)) = next_field(rest) {
            got.push(String::from_utf8_lossy(field).into_owned());
            rest = next;
        }
        assert_eq!(got, ["a", "b c", "GET /x?q=\"><s> HTTP/1.1", "-", "1", "z"]);
    }
}
