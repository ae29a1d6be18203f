//! The Combined line as nearly every server writes it, read in one forward
//! pass: `client ident user [time] "request" status bytes` and the trailer.
//!
//! This is the per-line path of a derive, so it takes the shape the general
//! parser (`clf.rs`) spends most of its searching on and reads it by
//! position: three plain tokens, one space each, then the time. A line of
//! any other shape (a virtual host or a forwarded-for list before the
//! client, a quoted client, escapes in the request, a request whose closing
//! quote is not followed by a status, a second space between fields) gets
//! `None`, and the general parser reads it as before; debug builds check
//! that both readings agree on every line the fast one takes.

use super::LogRecord;
use super::clf::{plausible_client, trailer};
use super::fields::{self, ClfTimeCache};

/// Reads `line` if it has the common shape and hands its record to `take`, by reference
/// where it was built (returning it copied its 270 bytes); `None` leaves the line to the
/// general parser.
#[inline(always)] // once per line, from the parser's one call
pub(super) fn parse_common<'a, R>(line: &'a [u8], times: &mut ClfTimeCache, take: impl FnOnce(&LogRecord<'a>) -> R) -> Option<R> {
    let (client, rest) = plain_token(line)?;
    let (_ident, rest) = plain_token(rest)?;
    let (user, rest) = plain_token(rest)?;
    if !(rest.first() == Some(&b'[') && rest.get(1).is_some_and(u8::is_ascii_digit)) || !plausible_client(client) {
        return None;
    }
    let (rest, time_us) = times.parse(rest).ok()?;
    let rest = rest.strip_prefix(b" ")?;
    let body = rest.strip_prefix(b"\"")?;
    let close = crate::bytes::find2(b'"', b'\\', body)?;
    // The status is read right after the quote below: a quote not followed by one (an
    // unescaped inner quote) makes that fail, and the general parser looks further.
    if body[close] != b'"' {
        return None;
    }
    let request = fields::split_request_bytes(&body[..close]);
    let rest = body[close + 1..].strip_prefix(b" ")?;
    let (status, rest) = status_token(rest)?;
    let rest = rest.strip_prefix(b" ")?;
    let (bytes, rest) = byte_token(rest)?;
    // The usual end is read in place; anything else is the general trailer's.
    let (referer, user_agent, general) = match referer_and_agent(rest) {
        Some((referer, agent)) => (fields::present(referer), fields::present(agent), false),
        None => (None, None, true),
    };
    // Built once, here, and read here (the general trailer fills in the rest).
    let mut record = LogRecord {
        time_us: Some(time_us),
        method: request.method,
        path: request.path,
        query: request.query,
        protocol: request.protocol,
        status,
        bytes,
        client: fields::present(client),
        user: fields::present(user),
        host: request.host,
        referer,
        user_agent,
        duration_us: None,
    };
    if general {
        trailer(rest, &mut record).ok()?;
    }
    Some(take(&record))
}

/// ` "referer" "agent"` ending the line, neither with an escape or an inner quote.
fn referer_and_agent(rest: &[u8]) -> Option<(&[u8], &[u8])> {
    let body = rest.strip_prefix(b" \"")?;
    let end = fields::find_quote_or_backslash(body)?;
    if body[end] != b'"' {
        return None;
    }
    let agent = body[end + 1..].strip_prefix(b" \"")?.strip_suffix(b"\"")?;
    (!fields::has_quote_or_backslash(agent)).then_some((&body[..end], agent))
}

/// A token of visible bytes other than `"`, `,` and `[`, and the input after the one space that ends it.
fn plain_token(input: &[u8]) -> Option<(&[u8], &[u8])> {
    // Ident and user are nearly always `-`.
    if let [b'-', b' ', rest @ ..] = input {
        return Some((&input[..1], rest));
    }
    let end = crate::bytes::find_token_end(input)?;
    if end == 0 || input[end] != b' ' {
        return None;
    }
    Some((&input[..end], &input[end + 1..]))
}

/// Three digits or `-`, ended by a space.
#[inline(always)] // once a line
fn status_token(input: &[u8]) -> Option<(Option<u16>, &[u8])> {
    if let [b'-', b' ', ..] = input {
        return Some((None, &input[1..]));
    }
    match input {
        [a, b, c, b' ', ..] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            let value = u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0');
            Some((Some(value), &input[3..]))
        }
        _ => None,
    }
}

/// A byte count of at most 19 digits, or `-`; what follows is the trailer's.
#[inline(always)] // once a line
fn byte_token(input: &[u8]) -> Option<(Option<u64>, &[u8])> {
    if let Some(rest) = input.strip_prefix(b"-") {
        return (!rest.first().is_some_and(u8::is_ascii_digit)).then_some((None, rest));
    }
    // Nearly every count is under 8 digits with more of the line after it: read in one word.
    if let Some(word) = input.first_chunk::<8>()
        && let Some((value, len)) = eight_digits(u64::from_le_bytes(*word))
    {
        return Some((Some(value), &input[len..]));
    }
    let mut value = 0u64;
    let mut len = 0;
    for &b in input.iter().take(20) {
        if !b.is_ascii_digit() {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(u64::from(b - b'0'));
        len += 1;
    }
    (1..=19).contains(&len).then_some((Some(value), &input[len..]))
}

/// The number the digits opening `word` (its first byte lowest) write, and how many there
/// are: 1 to 7, ended by a byte that is no digit inside the word; `None` otherwise.
#[inline(always)] // once a line
fn eight_digits(word: u64) -> Option<(u64, usize)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    // A byte's high bit when it is below `0` or above `9`. Below: exact for the lowest such
    // byte (a borrow only marks bytes above a true one). Above: exact for every byte (a
    // byte's low 7 bits plus 118 cannot carry into the next).
    let below = word.wrapping_sub(ONES * u64::from(b'0')) & !word;
    let above = ((word & !HIGH) + ONES * (127 - u64::from(b'9'))) | word;
    let len = ((below | above) & HIGH).trailing_zeros() as usize / 8;
    if !(1..8).contains(&len) {
        return None;
    }
    // The digits as the low end of an 8-digit number with leading zeros, then summed in pairs,
    // fours and eights.
    let digits = (word.wrapping_sub(ONES * u64::from(b'0')) & (u64::MAX >> (64 - 8 * len))) << (64 - 8 * len);
    let pairs = (digits * 10 + (digits >> 8)) & 0x00ff_00ff_00ff_00ff;
    let fours = (pairs * 100 + (pairs >> 16)) & 0x0000_ffff_0000_ffff;
    let eight = (fours * 10_000 + (fours >> 32)) & 0xffff_ffff;
    Some((eight, len))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_chacha::rand_core::{Rng, SeedableRng};

    /// Lines of the common shape are taken; each of the others is left to the general parser.
    #[test]
    fn takes_the_common_shape_only() {
        let table: [(&str, bool); 15] = [
            (r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /a?b=1 HTTP/1.1" 200 2326 "-" "curl/8""#, true),
            (r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "http://a/" "say \"hi\"" 0.138"#, true),
            (r#"1.2.3.4 - frank [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 304 -"#, true),
            (r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" - -"#, true),
            (r#"vhost:443 1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1"#, false),
            (r#"10.0.0.2, 10.0.0.1 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1"#, false),
            (r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /\"x\" HTTP/1.1" 200 1"#, false),
            (r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET /"x" HTTP/1.1" 200 1"#, false),
            (r#"1.2.3.4 - -  [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1"#, false),
            (r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1"  200 1"#, false),
            (r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 2000 1"#, false),
            (r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 99999999999999999999"#, false),
            (r#"8080 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1"#, false),
            (r#"1.2.3.4 - - [garbage] "GET / HTTP/1.1" 200 1"#, false),
            (r#""1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "ua"""#, false),
        ];
        for (line, taken) in table {
            let record = parse_common(line.as_bytes(), &mut ClfTimeCache::default(), LogRecord::clone);
            assert_eq!(record.is_some(), taken, "{line}");
        }
        let record = parse_common(table[0].0.as_bytes(), &mut ClfTimeCache::default(), LogRecord::clone).unwrap();
        let owned = record.to_owned_record();
        assert_eq!(
            (owned.client.as_deref(), owned.path.as_deref(), owned.query.as_deref(), owned.status, owned.bytes),
            (Some("1.2.3.4"), Some("/a"), Some("b=1"), Some(200), Some(2326))
        );
        assert_eq!((owned.referer, owned.user_agent.as_deref()), (None, Some("curl/8")));
        // An agent with escapes and a trailing duration: the general trailer's reading.
        let owned = parse_common(table[1].0.as_bytes(), &mut ClfTimeCache::default(), LogRecord::to_owned_record).unwrap();
        assert_eq!(
            (owned.referer.as_deref(), owned.user_agent.as_deref(), owned.duration_us),
            (Some("http://a/"), Some("say \"hi\""), Some(138_000))
        );
    }

    #[test]
    fn byte_counts_read_in_a_word_are_the_digits_read_one_by_one() {
        // The reading before the word: a byte at a time.
        fn by_digit(input: &[u8]) -> Option<(Option<u64>, &[u8])> {
            if let Some(rest) = input.strip_prefix(b"-") {
                return (!rest.first().is_some_and(u8::is_ascii_digit)).then_some((None, rest));
            }
            let len = input.iter().take(20).take_while(|b| b.is_ascii_digit()).count();
            let value = input[..len].iter().fold(0u64, |v, &b| v.wrapping_mul(10).wrapping_add(u64::from(b - b'0')));
            (1..=19).contains(&len).then_some((Some(value), &input[len..]))
        }
        // A different digit at each place of each case (a multiplicative walk mod 10).
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut next = move || rng.next_u64() >> 33;
        // Every count of 0 to 21 digits (leading zeros, nines), ended by every byte value, with
        // more of the line after it or not.
        for len in 0..22usize {
            for end in 0..=255u8 {
                for tail in [&b""[..], b" \"-\" \"curl/8\"", b"9"] {
                    let digits: Vec<u8> = (0..len).map(|i| if i % 7 == 3 { b'9' } else { b'0' + (next() % 10) as u8 }).collect();
                    let mut input = digits.clone();
                    input.push(end);
                    input.extend_from_slice(tail);
                    assert_eq!(byte_token(&input), by_digit(&input), "{:?}", String::from_utf8_lossy(&input));
                    assert_eq!(byte_token(&digits), by_digit(&digits), "{:?}", String::from_utf8_lossy(&digits));
                }
            }
        }
        assert_eq!(byte_token(b"0000000 x"), Some((Some(0), &b" x"[..])));
        assert_eq!(byte_token(b"9999999 x"), Some((Some(9_999_999), &b" x"[..])));
    }

    #[test]
    fn numbers_end_where_they_should() {
        assert_eq!(byte_token(b"1234 \"-\""), Some((Some(1234), &b" \"-\""[..])));
        assert_eq!(byte_token(b"-5"), None);
        assert_eq!(byte_token(b"x"), None);
        assert_eq!(status_token(b"404 "), Some((Some(404), &b" "[..])));
        assert_eq!(status_token(b"40 "), None);
    }
}
