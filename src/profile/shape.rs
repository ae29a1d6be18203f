//! What a path segment or query value is: an id, a hash, a date, or a secret.
//!
//! The first pass of templating, done per request on the worker threads:
//! `/users/123/avatar` becomes `/users/{id}/avatar` by the look of `123`
//! alone. The second pass, by cardinality under a common prefix, happens in
//! `endpoints.rs` when the profile is finished.
//!
//! Privacy lives here too: e-mail addresses, JWTs, long random strings and
//! values of secret-sounding query keys (`token`, `password`, `sig`…) become
//! named placeholders (`{token}`) and are never sampled.

/// What a path segment looks like.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Segment {
    /// Kept as it is (`users`, `me`, `v2`).
    Literal,
    Id,
    Uuid,
    Hash,
    Date,
    /// Personal data: replaced, never sampled.
    Email,
    /// A secret: replaced, never sampled.
    Token,
}

impl Segment {
    /// The placeholder written into the template.
    pub fn placeholder(self) -> &'static str {
        match self {
            Segment::Literal => "",
            Segment::Id => "{id}",
            Segment::Uuid => "{uuid}",
            Segment::Hash => "{hash}",
            Segment::Date => "{date}",
            Segment::Email => "{email}",
            Segment::Token => "{token}",
        }
    }

    /// The name of a secret or personal segment's placeholder (`token` of `{token}`), whose
    /// values are never kept; `None` for the rest.
    pub fn redacted_name(self) -> Option<&'static str> {
        match self {
            Segment::Email => Some("email"),
            Segment::Token => Some("token"),
            _ => None,
        }
    }

    /// Whether real values may be kept as samples for replays.
    pub fn sampled(self) -> bool {
        matches!(self, Segment::Id | Segment::Uuid | Segment::Hash | Segment::Date)
    }
}

/// Byte classes a segment is checked against, one bit each (see [`CLASSES`]).
const DIGIT: u8 = 1;
const HEX_LETTER: u8 = 2;
const DASH: u8 = 4;
/// `@` or `%`: an e-mail address, plain or percent-encoded.
const MAIL: u8 = 8;
const OTHER: u8 = 16;
/// `{` or `}` (also [`OTHER`], so no shape check sees it): a log's own brace, written doubled.
const BRACE: u8 = 32;
/// A byte past ASCII (also [`OTHER`]).
const NOT_ASCII: u8 = 64;

/// Each byte's class: one table lookup a byte tells which shapes a segment can still have.
const CLASSES: [u8; 256] = {
    let mut table = [OTHER; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = match c {
            b'0'..=b'9' => DIGIT,
            b'a'..=b'f' | b'A'..=b'F' => HEX_LETTER,
            b'-' => DASH,
            b'@' | b'%' => MAIL,
            b'{' | b'}' => OTHER | BRACE,
            0x80..=0xff => OTHER | NOT_ASCII,
            _ => OTHER,
        };
        b += 1;
    }
    table
};

/// The look of a segment. One pass over its bytes gathers their classes, and
/// only the shapes those classes allow are checked in full.
pub fn classify(seg: &[u8]) -> Segment {
    classify_marked(seg).0
}

/// [`classify`], and whether the segment holds a brace (which a template writes doubled),
/// from the same pass over its bytes.
pub fn classify_marked(seg: &[u8]) -> (Segment, bool) {
    if seg.is_empty() {
        return (Segment::Literal, false);
    }
    let classes = seg.iter().fold(0u8, |seen, &b| seen | CLASSES[usize::from(b)]);
    (classify_by(seg, classes), classes & BRACE != 0)
}

/// A path segment as [`split_classified`] finds it: where it ends, and its bytes' classes.
/// Eight bytes with no padding, so the array a line's segments go in is cleared by a few
/// wide stores (with padding it was two stores an entry, 64 a line).
#[derive(Debug, Clone, Copy, Default)]
pub struct SegmentBytes {
    pub end: u32,
    classes: u8,
    _unused: [u8; 3],
}

/// Splits an ASCII path at its slashes in one pass over its bytes, noting each segment's
/// end and what [`classify_split`] needs to classify it without reading it again. Returns
/// the segments found, or `None` for a path that is not ASCII, of more segments than `out`
/// holds, or 4 GiB long.
pub fn split_classified(path: &[u8], out: &mut [SegmentBytes]) -> Option<usize> {
    u32::try_from(path.len()).ok()?;
    // The classes of every segment so far, gathered as each ends (not a byte at a time).
    let (mut found, mut classes, mut all) = (0, 0u8, 0u8);
    for (at, &b) in path.iter().enumerate() {
        if b == b'/' {
            *out.get_mut(found)? = SegmentBytes { end: at as u32, classes, _unused: [0; 3] };
            (found, all, classes) = (found + 1, all | classes, 0);
        } else {
            classes |= CLASSES[usize::from(b)];
        }
    }
    *out.get_mut(found)? = SegmentBytes { end: path.len() as u32, classes, _unused: [0; 3] };
    ((all | classes) & NOT_ASCII == 0).then_some(found + 1)
}

/// [`classify_marked`] of a segment [`split_classified`] found.
pub fn classify_split(seg: &[u8], found: SegmentBytes) -> (Segment, bool) {
    let braces = found.classes & BRACE != 0;
    // Most segments are words: every shape but a JWT's needs a digit, a dash or a mail byte,
    // and a JWT begins `eyJ`. Such a segment is literal without a call.
    if seg.is_empty() || found.classes & (DIGIT | DASH | MAIL) == 0 && !seg.starts_with(b"eyJ") {
        return (Segment::Literal, braces);
    }
    (classify_by(seg, found.classes), braces)
}

/// The shape of a non-empty segment whose bytes' classes are `classes`.
fn classify_by(seg: &[u8], classes: u8) -> Segment {
    if classes == DIGIT {
        return if is_compact_date(seg) { Segment::Date } else { Segment::Id };
    }
    let hex_and_dashes = classes & !(DIGIT | HEX_LETTER | DASH) == 0;
    if hex_and_dashes && is_uuid(seg) {
        return Segment::Uuid;
    }
    if classes == DIGIT | DASH && is_date(seg) {
        return Segment::Date;
    }
    if classes & MAIL != 0 && looks_like_email(seg) {
        return Segment::Email;
    }
    // A random token has digits (`is_random` asks for two): a segment without is not read again.
    if is_jwt(seg) || classes & DIGIT != 0 && is_random(seg) {
        return Segment::Token;
    }
    if seg.len() >= 16 && classes & !(DIGIT | HEX_LETTER) == 0 && classes & DIGIT != 0 {
        return Segment::Hash;
    }
    Segment::Literal
}

fn is_uuid(s: &[u8]) -> bool {
    s.len() == 36 && s.iter().enumerate().all(|(i, &b)| if matches!(i, 8 | 13 | 18 | 23) { b == b'-' } else { b.is_ascii_hexdigit() })
}

/// `2026-11-28`
fn is_date(s: &[u8]) -> bool {
    s.len() == 10 && s[4] == b'-' && s[7] == b'-' && s.iter().enumerate().all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit())
}

/// `20261128`, with a plausible month and day.
fn is_compact_date(s: &[u8]) -> bool {
    if s.len() != 8 || !(s.starts_with(b"19") || s.starts_with(b"20")) {
        return false;
    }
    let num = |a: usize| u32::from(s[a] - b'0') * 10 + u32::from(s[a + 1] - b'0');
    (1..=12).contains(&num(4)) && (1..=31).contains(&num(6))
}

pub fn looks_like_email(s: &[u8]) -> bool {
    // Most values (every query value is asked) hold neither: one search settles them.
    if crate::bytes::find2(b'@', b'%', s).is_none() {
        return false;
    }
    let at = crate::bytes::find(b'@', s).or_else(|| crate::bytes::find_each(b'%', s).find(|&p| s[p + 1..].starts_with(b"40")));
    at.is_some_and(|at| at > 0 && s[at..].contains(&b'.'))
}

fn is_jwt(s: &[u8]) -> bool {
    s.starts_with(b"eyJ") && s.iter().filter(|&&b| b == b'.').count() == 2 && s.len() > 20
}

/// A long run of mixed letters and digits, as API keys and session ids are.
///
/// One pass over the bytes: this runs on every long path segment with
/// digits (slugs, file names), so it counts classes and runs together, a
/// table lookup a byte (no branch on which letter it is).
fn is_random(s: &[u8]) -> bool {
    if s.len() < 24 {
        return false;
    }
    let (mut digits, mut seen) = (0usize, 0u8);
    // Slugs (`how-to-build-a-thing-in-rust-2024`) keep letters and digits in
    // separate words; random strings mix them within a long run. A run is judged
    // when it ends (it mixes if it is 8 bytes or more with a digit and a letter
    // in it), so a byte costs a lookup, a test, a count and an `or`.
    let (mut run, mut run_classes, mut mixed_run) = (0usize, 0u8, false);
    let mut end_run = |run: &mut usize, run_classes: &mut u8| {
        mixed_run |= *run >= 8 && *run_classes & T_DIGIT != 0 && *run_classes & (T_UPPER | T_LOWER) != 0;
        seen |= *run_classes;
        (*run, *run_classes) = (0, 0);
    };
    for &b in s {
        let class = TOKEN_CLASSES[usize::from(b)];
        if class & (T_NONE | T_SEPARATOR) != 0 {
            // A dot belongs to a token's alphabet, but a segment with one is a file name.
            if class & T_NONE != 0 {
                return false;
            }
            end_run(&mut run, &mut run_classes);
            continue;
        }
        digits += usize::from(class & T_DIGIT);
        run += 1;
        run_classes |= class;
    }
    end_run(&mut run, &mut run_classes);
    let classes = [T_DIGIT, T_UPPER, T_LOWER].iter().filter(|&&c| seen & c != 0).count();
    mixed_run && classes >= 2 && digits >= 2 && (classes == 3 || s.len() >= 32)
}

/// Byte classes for [`is_random`]: `T_DIGIT` must be 1 (it is counted by value).
const T_DIGIT: u8 = 1;
const T_UPPER: u8 = 2;
const T_LOWER: u8 = 4;
/// `+ / =`: a token's alphabet, in a run, neither letter nor digit.
const T_PLAIN: u8 = 8;
/// `- _ ~`: between runs.
const T_SEPARATOR: u8 = 16;
/// Anything else: no token.
const T_NONE: u8 = 32;

const TOKEN_CLASSES: [u8; 256] = {
    let mut table = [T_NONE; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = match b as u8 {
            b'0'..=b'9' => T_DIGIT,
            b'A'..=b'Z' => T_UPPER,
            b'a'..=b'z' => T_LOWER,
            b'+' | b'/' | b'=' => T_PLAIN,
            b'-' | b'_' | b'~' => T_SEPARATOR,
            _ => T_NONE,
        };
        b += 1;
    }
    table
};

/// A query key that is no parameter name but a payload: a shell command, SQL
/// or a path (`cd+/tmp;rm+-rf+*`, `1'+OR+'1'='1`). Names are letters, digits
/// and `_ - . [ ] : $ @ ! ~ ,` (PHP's `vars[1][]`, `filter%5Bname%5D` decoded),
/// at most 64 bytes.
pub fn is_payload_key(key: &[u8]) -> bool {
    if key.len() > MAX_NAME {
        return true;
    }
    let mut i = 0;
    while i < key.len() {
        let b = match key[i] {
            b'%' if i + 2 < key.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(key[i + 1]), hex(key[i + 2])) {
                    (Some(h), Some(l)) => {
                        i += 2;
                        (h * 16 + l) as u8
                    }
                    _ => return true,
                }
            }
            b => b,
        };
        if !NAME_BYTES[usize::from(b)] {
            return true;
        }
        i += 1;
    }
    false
}

/// The longest query parameter name; a longer key is a payload.
pub const MAX_NAME: usize = 64;

/// How many bytes `input` opens with that may be in a name (no `%`, no `=` or `&`).
pub fn name_bytes(input: &[u8]) -> usize {
    input.iter().position(|&b| !NAME_BYTES[usize::from(b)]).unwrap_or(input.len())
}

/// The bytes of a query parameter's name (see [`is_payload_key`]), as a table: this runs
/// on every key of every query.
const NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b'[' | b']' | b':' | b'$' | b'@' | b'!' | b'~' | b',');
        b += 1;
    }
    table
};

/// Query keys whose values are secrets or personal data whatever they look like.
///
/// Names are matched by their words, never by substrings: `access_token`,
/// `apiKey`, `X-Amz-Signature` and `SESSIONID` are secrets; `insignia`,
/// `design` and `monkey` are not. A key's words are split at `_`, `-`,
/// `.`, brackets and lower-to-upper case changes; a whole key in one word
/// counts when it ends with a secret word (`accesstoken`, `sessionid`).
pub fn is_secret_key(key: &[u8]) -> bool {
    if key.len() > 64 {
        return true; // a 64-byte key name is no ordinary parameter
    }
    let mut lower = [0u8; 64];
    let buf = &mut lower[..key.len()];
    buf.copy_from_slice(key);
    buf.make_ascii_lowercase();
    let whole: &[u8] = buf;
    const EXACT: [&[u8]; 16] = [
        b"pwd",
        b"pass",
        b"sid",
        b"otp",
        b"pin",
        b"email",
        b"mail",
        b"phone",
        b"jwt",
        b"nonce",
        b"ssn",
        b"user",
        b"username",
        b"uname",
        b"login",
        b"account",
    ];
    /// Words that make a key secret wherever they stand in it (a match, so it compiles to a switch on length).
    fn secret_word(word: &[u8]) -> bool {
        matches!(
            word,
            b"token"
                | b"tokens"
                | b"password"
                | b"passwd"
                | b"pwd"
                | b"secret"
                | b"session"
                | b"sessionid"
                | b"sig"
                | b"signature"
                | b"auth"
                | b"authorization"
                | b"apikey"
                | b"credential"
                | b"credentials"
                | b"private"
                | b"cookie"
                | b"jwt"
                | b"otp"
                | b"sid"
        )
    }
    /// Endings that make a one-word key secret (`accesstoken`, `xsrftoken`, `sessionid`).
    const ENDINGS: [&[u8]; 7] = [b"token", b"password", b"passwd", b"secret", b"signature", b"apikey", b"sessionid"];
    if EXACT.contains(&whole) || ENDINGS.iter().any(|e| whole.len() > e.len() && whole.ends_with(e)) {
        return true;
    }
    let mut words = 0;
    let mut last: &[u8] = &[];
    let mut start = 0;
    for i in 0..=key.len() {
        let boundary = i == key.len()
            || !key[i].is_ascii_alphanumeric()
            || (i > start && key[i].is_ascii_uppercase() && key[i - 1].is_ascii_lowercase());
        if !boundary {
            continue;
        }
        if i > start {
            let word = &whole[start..i];
            if secret_word(word) {
                return true;
            }
            words += 1;
            last = word;
        }
        start = if i < key.len() && !key[i].is_ascii_alphanumeric() { i + 1 } else { i };
    }
    // `api_key`, `userKey`, `X-Api-Key`: a key of several words whose last is `key`.
    words > 1 && last == b"key"
}

/// Keys that hold a secret only sometimes: `?code=<uuid>` is an OAuth code,
/// `?code=404` and `?state=active` are words every client sends.
const WEAK_KEYS: [&[u8]; 3] = [b"key", b"code", b"state"];

/// Whether a query pair's value is a secret, by its key and its value:
///
/// - a secret key (`token`, `password`, `api_key`, `email`, `user`…) always is;
/// - a weak key (`key`, `code`, `state`) is when its value looks like an
///   opaque credential: a UUID, a number of 6 digits or more, letters and
///   digits mixed (`xyzzy42`), or anything [`is_secret_value`] finds;
///   a word (`active`, `null`, `en-US`) or a short number is not;
/// - any other key is when its value looks secret ([`is_secret_value`]).
pub fn is_secret_pair(key: &[u8], value: &[u8]) -> bool {
    is_secret_key(key) || is_secret_for_key(key, value)
}

/// [`is_secret_pair`] for a key already known not to be secret by itself: whether
/// `value` makes the pair secret (the per-request half; a key's own verdict is kept).
pub fn is_secret_for_key(key: &[u8], value: &[u8]) -> bool {
    is_secret_for(is_weak_key(key), value)
}

/// Whether `key` names what a value of digits (a code, an account) makes secret: `id`, `code`…
pub fn is_weak_key(key: &[u8]) -> bool {
    WEAK_KEYS.iter().any(|w| key.eq_ignore_ascii_case(w))
}

/// [`is_secret_for_key`] with the key's [`is_weak_key`] verdict already known (a query key's
/// name is judged once; its values, on every request).
pub fn is_secret_for(weak_key: bool, value: &[u8]) -> bool {
    if is_secret_value(value) {
        return true;
    }
    if !weak_key {
        return false;
    }
    let digits = value.iter().filter(|b| b.is_ascii_digit()).count();
    let letters = value.iter().filter(|b| b.is_ascii_alphabetic()).count();
    is_uuid(value) || (digits >= 6 && letters == 0) || (digits > 0 && letters > 0)
}

/// Query values that look like secrets or personal data whatever their key.
pub fn is_secret_value(value: &[u8]) -> bool {
    looks_like_email(value) || is_jwt(value) || is_random(value) || value.len() >= 32 && value.iter().all(u8::is_ascii_hexdigit)
}

/// Appends a log's literal text to a template, its braces doubled (`{` as
/// `{{`), so they are never read back as placeholders.
pub fn push_literal(out: &mut String, text: &str) {
    if crate::bytes::find2(b'{', b'}', text.as_bytes()).is_none() {
        out.push_str(text);
        return;
    }
    for c in text.chars() {
        out.push(c);
        if c == '{' || c == '}' {
            out.push(c);
        }
    }
}

/// A log's bytes as profile text, losslessly: valid UTF-8 as it is, every
/// byte that is not as its `%XX` escape (a logged `/t\xc3\xa9st` is `/tést`;
/// a stray `\xff` is `%FF`). A target goes out on the wire percent-encoded
/// either way, so the request's bytes are the ones the server logged.
pub fn lossless(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(bytes.len() + 8);
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        for b in chunk.invalid() {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// [`lossless`] of bytes already owned: text as it is, without a copy (the usual case).
pub fn lossless_owned(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| lossless(e.as_bytes()).into_owned())
}

/// [`push_literal`] for bytes.
pub fn extend_literal(out: &mut Vec<u8>, text: &[u8]) {
    if crate::bytes::find2(b'{', b'}', text).is_none() {
        out.extend_from_slice(text);
        return;
    }
    for &b in text {
        out.push(b);
        if b == b'{' || b == b'}' {
            out.push(b);
        }
    }
}

/// A placeholder name for a secret query key: `{access_token}`.
pub fn placeholder_for(key: &[u8]) -> String {
    let name: String = lossless(key).chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' { c } else { '_' }).collect();
    format!("{{{name}}}")
}

#[cfg(test)]
#[path = "shape_tests.rs"]
mod tests;
