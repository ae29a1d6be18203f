//! Timestamps as logs write them, to microseconds since the epoch, UTC.
//!
//! ```text
//! [10/Oct/2000:13:55:36 -0700]             clf_time (and ClfTimeCache, its per-second memo)
//! 2018-11-08T08:15:33.779204Z              iso_time
//! 1716723772.6014807                       epoch_to_us (s, ms, µs or ns by magnitude)
//! ```

use super::{Res, digits, fail};
use nom::{
    branch::alt,
    bytes::complete::{take, take_while1},
    character::complete::{char, one_of},
    combinator::{map, map_opt, opt, value},
    error::context,
    sequence::{preceded, tuple},
};

fn month(input: &[u8]) -> Res<'_, u32> {
    context(
        "a month name such as Oct",
        map_opt(take(3usize), |m: &[u8]| {
            const MONTHS: [&[u8; 3]; 12] = [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];
            MONTHS.iter().position(|name| name.eq_ignore_ascii_case(m)).map(|i| i as u32 + 1)
        }),
    )(input)
}

/// Fractional seconds after a `.` or `,`, as microseconds (extra digits are dropped).
fn fraction_us(input: &[u8]) -> Res<'_, u32> {
    map(preceded(one_of(".,"), take_while1(|b: u8| b.is_ascii_digit())), |frac: &[u8]| {
        let mut micros = 0;
        for i in 0..6 {
            micros = micros * 10 + frac.get(i).map_or(0, |d| u32::from(d - b'0'));
        }
        micros
    })(input)
}

/// A UTC offset: `+0330`, `-07:00`, `Z`; its value in seconds east of UTC.
fn utc_offset(input: &[u8]) -> Res<'_, i32> {
    context(
        "a UTC offset such as +0000",
        alt((
            value(0, one_of("Zz")),
            map(tuple((one_of("+-"), digits(2), opt(char(':')), digits(2))), |(sign, h, _, m)| {
                let secs = (h * 3600 + m * 60) as i32;
                if sign == '-' { -secs } else { secs }
            }),
        )),
    )(input)
}

/// Microseconds since the epoch from civil date and time fields, or `None` for an impossible date.
pub fn civil_to_us(year: i32, month: u32, day: u32, hms: (u32, u32, u32), micros: u32, offset_s: i32) -> Option<i64> {
    let date = chrono::NaiveDate::from_ymd_opt(year, month, day)?;
    let time = chrono::NaiveTime::from_hms_opt(hms.0, hms.1, hms.2)?;
    let secs = date.and_time(time).and_utc().timestamp() - i64::from(offset_s);
    Some(secs * 1_000_000 + i64::from(micros))
}

fn hms(input: &[u8]) -> Res<'_, (u32, u32, u32)> {
    map(tuple((digits(2), char(':'), digits(2), char(':'), digits(2))), |(h, _, m, _, s)| (h, m, s))(input)
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
    calendar(input, rest, (year as i32, month, day), hms, micros, offset)
}

/// The parsed parts of a time as microseconds since the epoch, or the error
/// at `input` when they name no real date (31 February).
fn calendar<'a>(
    input: &'a [u8],
    rest: &'a [u8],
    (year, month, day): (i32, u32, u32),
    hms: (u32, u32, u32),
    micros: Option<u32>,
    offset: Option<i32>,
) -> Res<'a, i64> {
    match civil_to_us(year, month, day, hms, micros.unwrap_or(0), offset.unwrap_or(0)) {
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
/// share their second, so the calendar arithmetic runs once per hour of log.
/// A text that differs from the remembered one only in its minute and second
/// digits is the remembered hour's value plus those (a day's seconds are
/// 24 misses, not 86,400).
#[derive(Debug, Clone, Default)]
pub struct ClfTimeCache {
    text: [u8; 32],
    len: usize,
    value: i64,
    /// Where the remembered text's minute digits are (`MM:SS` from there), if it has them.
    minute_at: Option<usize>,
}

impl ClfTimeCache {
    /// [`clf_time`], answered from the cache when the text repeats.
    #[inline(always)] // once a line, nearly always the remembered text: no call for it
    pub fn parse<'a>(&mut self, input: &'a [u8]) -> Res<'a, i64> {
        // The remembered text ends at its first `]`: a line that begins with it has its
        // `]` there too, so a hit needs no search.
        if let Some(head) = input.get(..self.len)
            && self.len > 0
            && same_bytes(head, &self.text[..self.len])
        {
            return Ok((&input[self.len..], self.value));
        }
        self.parse_new(input)
    }

    /// [`parse`](Self::parse) of a text other than the remembered one: by the remembered hour,
    /// or parsed and remembered.
    #[inline(never)]
    fn parse_new<'a>(&mut self, input: &'a [u8]) -> Res<'a, i64> {
        if let Some(head) = input.get(..self.len)
            && self.len > 0
            && let Some(value) = self.same_hour(head)
        {
            // Remembered: the lines after it share its second.
            self.text[..self.len].copy_from_slice(head);
            self.value = value;
            return Ok((&input[self.len..], value));
        }
        let window = &input[..input.len().min(self.text.len())];
        let Some(end) = memchr::memchr(b']', window) else {
            return clf_time(input);
        };
        let text = &input[..=end];
        let (rest, value) = clf_time(input)?;
        self.text[..text.len()].copy_from_slice(text);
        (self.len, self.value) = (text.len(), value);
        self.minute_at = minute_digits(text);
        Ok((rest, value))
    }

    /// The value of `head`, a text as long as the remembered one, when it differs from it only
    /// in valid minute and second digits: the same day, hour, fraction and offset.
    fn same_hour(&self, head: &[u8]) -> Option<i64> {
        let at = self.minute_at?;
        let known = &self.text[..self.len];
        // `MM:SS` is 5 bytes from `at`; the remembered text goes on past it (to its `]` at least).
        let (before, after) = (at, at + 5);
        if head[..before] != known[..before] || head[after..] != known[after..] || head[at + 2] != b':' {
            return None;
        }
        let minute_second = |t: &[u8]| {
            let two = |i: usize| match (t[i], t[i + 1]) {
                (a @ b'0'..=b'5', b @ b'0'..=b'9') => Some(i64::from(a - b'0') * 10 + i64::from(b - b'0')),
                _ => None,
            };
            Some(two(at)? * 60 + two(at + 3)?)
        };
        let (new, old) = (minute_second(head)?, minute_second(known)?);
        Some(self.value + (new - old) * 1_000_000)
    }
}

#[cfg(test)]
impl ClfTimeCache {
    /// Whether `input` would be answered by the remembered hour (not the same text, not parsed).
    fn same_hour_of(&self, input: &[u8]) -> bool {
        input
            .get(..self.len)
            .is_some_and(|head| self.len > 0 && !same_bytes(head, &self.text[..self.len]) && self.same_hour(head).is_some())
    }
}

/// Where a parsed `[dd/Mon/yyyy:HH:MM:SS...]` text's minute digits begin: two past the
/// hour's, after the first `:`, when the text has `HH:MM:SS` there and goes on past it.
fn minute_digits(text: &[u8]) -> Option<usize> {
    let hour_colon = memchr::memchr(b':', text)?;
    let at = hour_colon + 4;
    let shape = text.get(hour_colon..at + 5)?;
    (shape[3] == b':' && shape[6] == b':' && text.len() > at + 5).then_some(at)
}

/// Whether two texts of one length are equal; a time's 16 to 32 bytes are compared as two
/// overlapping 16-byte words (no call per line).
#[inline(always)] // once a line
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let n = a.len();
    if n != b.len() {
        return false;
    }
    if !(16..=32).contains(&n) {
        return a == b;
    }
    let word = |s: &[u8], at: usize| s[at..at + 16].first_chunk::<16>().map(|w| u128::from_ne_bytes(*w));
    word(a, 0) == word(b, 0) && word(a, n - 16) == word(b, n - 16)
}

/// ISO 8601 / RFC 3339: `2018-11-08T08:15:33.779204Z`, `2026-01-02 03:04:05+01:00`;
/// no offset means UTC.
pub fn iso_time(input: &[u8]) -> Res<'_, i64> {
    let (rest, (year, _, month, _, day, _, hms, micros, offset)) = context(
        "an ISO 8601 time such as 2026-01-02T03:04:05Z",
        tuple((digits(4), char('-'), digits(2), char('-'), digits(2), one_of("Tt "), hms, opt(fraction_us), opt(utc_offset))),
    )(input)?;
    calendar(input, rest, (year as i32, month, day), hms, micros, offset)
}

/// A whole field holding an ISO time.
pub fn iso_time_field(field: &[u8]) -> Option<i64> {
    match iso_time(field) {
        Ok((b"", us)) => Some(us),
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::{Rng, SeedableRng};
    fn us(s: &str) -> i64 {
        chrono::DateTime::parse_from_rfc3339(s).unwrap().timestamp_micros()
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
            let (rest, got) = clf_time(input.as_bytes()).unwrap_or_else(|e| panic!("{input}: {e:?}"));
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
            "[10/Oct/2000:13:55:36 +0000]",
            "[10/Oct/2000:13:55:36 +00:00] longer offset",
            "[10/Oct/2000:13:55:36 +00:00] and again",
            "[10/Oct/2000:13:55:36 +0000] shorter again",
            "[10/Oct/2000:13:56:36 +0000] a minute on",
            "[1/Oct/2000:13:56:36 +0000] one-digit day",
            "[1/Oct/2000:13:56:36 +0000]",
        ] {
            assert_eq!(cache.parse(input.as_bytes()), clf_time(input.as_bytes()), "{input}");
        }
        // A line cut inside the remembered time, and a bad one after a good one, fail as the parser does.
        assert!(cache.parse(b"[1/Oct/2000:13:56:3").is_err());
        assert!(cache.parse(b"[10/Oct/2000:13:55:3x -0700]").is_err());
        // The word-wise compare finds a difference at any byte.
        let text = b"[10/Oct/2000:13:55:36 +00:00]";
        for at in 0..text.len() {
            let mut other = *text;
            other[at] ^= 1;
            assert!(!same_bytes(text, &other), "a difference at {at}");
        }
        assert!(same_bytes(text, &text.clone()) && !same_bytes(&text[..20], &text[..21]));
    }

    /// Texts that differ from the remembered one in any of their digits, or in the
    /// bytes around them, with fractions, offsets and one-digit days: the cache's
    /// answers, by the same hour or not, are the parser's, errors included.
    #[test]
    fn the_hour_cache_answers_like_the_parser() {
        let bases = [
            "[10/Oct/2000:13:55:36 -0700]",
            "[1/Feb/2012:04:05:24 +0000]",
            "[02/Feb/2012:04:05:24.385]",
            "[25/Oct/2015:04:11:25 +01:00]",
            "[28/Feb/2016:23:59:59 +0530]",
            "[31/Dec/1999:23:00:00 -1200]",
        ];
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x2545_f491_4f6c_dd1d);
        let mut next = |n: usize| (rng.next_u64() >> 33) as usize % n;
        let bytes = b"0123456789:/ +-.]xO";
        let mut cache = ClfTimeCache::default();
        let mut hours = 0;
        let mut base = bases[0];
        for _ in 0..20_000 {
            if next(8) == 0 {
                base = bases[next(bases.len())];
            }
            let mut text = base.as_bytes().to_vec();
            let colon = text.iter().position(|&b| b == b':').unwrap_or(0);
            // Mostly new minute and second digits; now and then any byte anywhere.
            for _ in 0..next(5) {
                let (at, byte) = match next(6) {
                    0 => (next(text.len()), bytes[next(bytes.len())]),
                    _ => (colon + [4, 5, 7, 8][next(4)], bytes[next(11)]),
                };
                text[at] = byte;
            }
            text.extend_from_slice(b" rest");
            let hit = cache.same_hour_of(&text);
            let got = cache.parse(&text);
            assert_eq!(got, clf_time(&text), "{}", String::from_utf8_lossy(&text));
            hours += usize::from(hit && got.is_ok());
        }
        assert!(hours > 1_000, "only {hours} answers by the hour");
    }

    #[test]
    fn clf_time_errors_name_the_field() {
        let table = [
            ("[10/Foo/2000:13:55:36 -0700]", "a month name such as Oct"),
            ("[31/Feb/2000:13:55:36 -0700]", "a valid calendar date"),
            ("[10/Oct/2000:13:55 -0700]", "a time HH:MM:SS"),
            ("10/Oct/2000:13:55:36 -0700", "a [dd/Mon/yyyy:HH:MM:SS +zzzz] time"),
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
            ("2026-01-02T03:04:05.123456789-0500", "2026-01-02T08:04:05.123456Z"),
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
}
