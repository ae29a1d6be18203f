//! An HTTP/1.1 response head: parsed by `httparse` in place, then summed up
//! as what the exchange needs (status, how the body is framed, whether the
//! connection persists, a redirect to a login page, the cookies set).
//!
//! A connection remembers the last head it parsed when what the head says
//! depends on its bytes alone (no `Location`, no `Set-Cookie`): a target
//! answers the same request with the same head, byte for byte, until its
//! `Date` turns over, and a head that starts the unread bytes exactly as the
//! remembered one did says the same without being parsed again. Parsing was
//! a fifth of the client's own work per request; the comparison costs a
//! `memcmp`, and a head that differs (the next second's `Date`) is parsed
//! and remembered in its place.

use super::h1::{Failed, Head};

/// A response head may be this long at most (hyper's default buffer is of this order).
pub const MAX_HEAD: usize = 64 * 1024;
/// A response head may carry this many header lines at most (hyper's default).
pub const MAX_HEADERS: usize = 100;
/// A head longer than this is not remembered (a usual one is a few hundred bytes).
const MAX_REMEMBERED: usize = 1024;

/// How the response's body ends (RFC 9112, 6.3).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Framing {
    None,
    Length(u64),
    Chunked,
    UntilClose,
}

/// What the exchange needs of a response head.
#[derive(Debug, PartialEq)]
pub struct Parsed {
    pub status: u16,
    pub head_len: usize,
    pub framing: Framing,
    pub keep_alive: bool,
    pub to_login: bool,
    pub set_cookies: Vec<String>,
    /// No `Location` and no `Set-Cookie`: what the head says depends on its bytes alone, not
    /// on the request it answers, and an identical head says the same.
    plain: bool,
}

/// The last plain head a connection parsed, byte for byte, and what it said.
#[derive(Debug, Default)]
pub struct SeenHead {
    bytes: Vec<u8>,
    said: Option<(u16, Framing, bool)>,
}

impl SeenHead {
    /// The response head at the start of `unread`, once it has all arrived (`None` until then):
    /// the remembered one if `unread` starts with it, else parsed (and remembered if plain).
    pub fn read(&mut self, unread: &[u8], head: &Head<'_>, keep_cookies: bool) -> Result<Option<Parsed>, Failed> {
        if let Some(parsed) = self.again(unread) {
            return Ok(Some(parsed));
        }
        let parsed = parse_head(unread, head, keep_cookies)?;
        if let Some(parsed) = &parsed
            && parsed.plain
            && parsed.head_len <= MAX_REMEMBERED
        {
            self.bytes.clear();
            self.bytes.extend_from_slice(&unread[..parsed.head_len]);
            self.said = Some((parsed.status, parsed.framing, parsed.keep_alive));
        }
        Ok(parsed)
    }

    /// What the remembered head said, if `unread` starts with it: httparse ends a head at its
    /// empty line and reads nothing past it, so the same bytes up to there parse the same.
    fn again(&self, unread: &[u8]) -> Option<Parsed> {
        let (status, framing, keep_alive) = self.said?;
        let head_len = self.bytes.len();
        (unread.get(..head_len)? == self.bytes.as_slice()).then(|| Parsed {
            status,
            head_len,
            framing,
            keep_alive,
            to_login: false,
            set_cookies: Vec::new(),
            plain: true,
        })
    }
}

/// The response head at the start of `unread`, once it has all arrived (`None`
/// until then). Not async: its header array never lives in a request's future.
fn parse_head(unread: &[u8], head: &Head<'_>, keep_cookies: bool) -> Result<Option<Parsed>, Failed> {
    let mut headers = [const { std::mem::MaybeUninit::<httparse::Header<'_>>::uninit() }; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut []);
    match httparse::ParserConfig::default().parse_response_with_uninit_headers(&mut response, unread, &mut headers) {
        Ok(httparse::Status::Complete(len)) => summarize(&response, len, head, keep_cookies).map(Some),
        Ok(httparse::Status::Partial) if unread.len() > MAX_HEAD => {
            Err(Failed::protocol(format!("the response head is longer than {} KB", MAX_HEAD / 1024)))
        }
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(Failed::protocol(format!("invalid HTTP response: {e}"))),
    }
}

/// The length of the trailer fields and the empty line that ends a chunked body, once they have arrived.
pub fn end_of_trailers(unread: &[u8]) -> Result<Option<usize>, Failed> {
    let mut trailers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    match httparse::parse_headers(unread, &mut trailers) {
        Ok(httparse::Status::Complete((len, _))) => Ok(Some(len)),
        Ok(httparse::Status::Partial) if unread.len() > MAX_HEAD => Err(Failed::protocol("invalid chunked trailer: too long")),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(Failed::protocol(format!("invalid chunked trailer: {e}"))),
    }
}

/// Status, framing, persistence, and the headers a session keeps, from a parsed head.
fn summarize(response: &httparse::Response<'_, '_>, head_len: usize, head: &Head<'_>, keep_cookies: bool) -> Result<Parsed, Failed> {
    let status = response.code.ok_or_else(|| Failed::protocol("invalid HTTP response: no status"))?;
    let http10 = response.version == Some(0);
    let (mut length, mut chunked, mut encoded) = (None::<u64>, false, false);
    let (mut close, mut keep_alive) = (false, false);
    let mut location = None;
    let mut set_cookies = Vec::new();
    let mut sets_cookies = false;
    for header in response.headers.iter() {
        let name = header.name.as_bytes();
        let value = header.value;
        // By length first: most fields (Date, Server, Content-Type) are none of these, and cost one compare.
        match name.len() {
            14 if name.eq_ignore_ascii_case(b"content-length") => match (decimal(value), length) {
                (Some(n), None) => length = Some(n),
                (Some(n), Some(seen)) if n == seen => {}
                _ => return Err(Failed::protocol("invalid HTTP response: invalid content-length")),
            },
            17 if name.eq_ignore_ascii_case(b"transfer-encoding") => {
                encoded = true;
                // Chunked must be the last coding for the length to be known (RFC 9112, 6.3).
                chunked = value.rsplit(|&b| b == b',').next().is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
            }
            10 if name.eq_ignore_ascii_case(b"connection") => {
                for token in value.split(|&b| b == b',') {
                    let token = token.trim_ascii();
                    close |= token.eq_ignore_ascii_case(b"close");
                    keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
                }
            }
            8 if name.eq_ignore_ascii_case(b"location") => location = Some(value),
            10 if name.eq_ignore_ascii_case(b"set-cookie") => {
                sets_cookies = true;
                if keep_cookies && let Ok(cookie) = std::str::from_utf8(value) {
                    set_cookies.push(cookie.to_owned());
                }
            }
            _ => {}
        }
    }
    let framing = match (encoded, chunked, length) {
        (true, true, _) => Framing::Chunked,
        (true, false, _) => Framing::UntilClose,
        (false, _, Some(n)) => Framing::Length(n),
        (false, _, None) => Framing::UntilClose,
    };
    let to_login = (300..400).contains(&status) && location.is_some_and(|l| super::redirects_to_login(l, head.target));
    let plain = location.is_none() && !sets_cookies;
    Ok(Parsed { status, head_len, framing, keep_alive: !close && (!http10 || keep_alive), to_login, set_cookies, plain })
}

/// A field value that is a decimal number (`Content-Length`), spaces around it allowed.
fn decimal(value: &[u8]) -> Option<u64> {
    let digits = value.trim_ascii();
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |n, &b| if b.is_ascii_digit() { n.checked_mul(10)?.checked_add(u64::from(b - b'0')) } else { None })
}

#[cfg(test)]
#[path = "response_head_tests.rs"]
mod tests;
