//! What makes a record an HTTP request, and what a server logged when it was not one.
//!
//! A record is a request only when its method is an RFC 9110 token and its
//! target is origin-form (`/…`), absolute-form (`http://host/…`, already split
//! into host and path by the parsers), authority-form for `CONNECT`
//! (`host:443`) or `*` for `OPTIONS`. Everything else a server wrote into its
//! request field is a connection that never spoke HTTP: a TLS ClientHello on
//! a plain-HTTP port (`"\x16\x03\x01…"`), an SMB negotiation
//! (`"\x00\x00\x00T\xFFSMBr…"`), an RDP connection request
//! (`"\x03\x00\x00+&\xE0…Cookie: mstshash=hello"`), an SSH banner
//! (`"SSH-2.0-PUTTY"`), an HTTP/2 preface sent to an HTTP/1 port
//! (`"PRI * HTTP/2.0"`), an empty request (`"-"`, `""`), binary junk, or
//! text that is not a request line (`"hello"`, FTP's `[1]USER anonymous`).
//! Those are counted by kind and never replayed.
//!
//! The parsers undo the servers' `\xNN` escapes before this rule sees the
//! bytes, so a handshake is recognised by its real first bytes.

/// Why a logged record is not an HTTP request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NotRequest {
    /// `-` or an empty request field: the connection closed before a request.
    Empty,
    /// A TLS (or SSL 2) ClientHello sent to a plain-HTTP port.
    TlsHandshake,
    /// An SMB negotiation.
    Smb,
    /// An RDP connection request (a TPKT header).
    Rdp,
    /// An SSH client's banner.
    Ssh,
    /// The HTTP/2 connection preface sent to an HTTP/1 port.
    Http2Preface,
    /// Control or non-ASCII bytes where a method should be.
    Binary,
    /// Text whose first word is no HTTP method (an RFC 9110 token).
    BadMethod,
    /// A method with no target, or a target in no form HTTP allows for it.
    BadTarget,
}

impl NotRequest {
    /// Every kind, in the order summaries list them.
    pub const ALL: [NotRequest; 9] = [
        NotRequest::Empty,
        NotRequest::TlsHandshake,
        NotRequest::Smb,
        NotRequest::Rdp,
        NotRequest::Ssh,
        NotRequest::Http2Preface,
        NotRequest::Binary,
        NotRequest::BadMethod,
        NotRequest::BadTarget,
    ];

    /// What a person reads in derive's summary.
    pub fn describe(self) -> &'static str {
        match self {
            NotRequest::Empty => "empty request (connection closed before a request)",
            NotRequest::TlsHandshake => "TLS handshake on a plain-HTTP port",
            NotRequest::Smb => "SMB negotiation",
            NotRequest::Rdp => "RDP connection request",
            NotRequest::Ssh => "SSH handshake",
            NotRequest::Http2Preface => "HTTP/2 preface on an HTTP/1 port",
            NotRequest::Binary => "binary data",
            NotRequest::BadMethod => "no HTTP method",
            NotRequest::BadTarget => "no valid request target",
        }
    }

    /// The kind's index in [`NotRequest::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

/// RFC 9110 5.6.2 `tchar`, as a table: this runs on every record's method.
const TCHAR: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        table[b] = c.is_ascii_alphanumeric()
            || matches!(c, b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~');
        b += 1;
    }
    table
};

/// Whether `method` is an RFC 9110 token: one or more `tchar`s.
pub fn is_token(method: &[u8]) -> bool {
    !method.is_empty() && method.iter().all(|&b| TCHAR[b as usize])
}

/// `host:port` (or `[v6]:port`), as CONNECT's authority-form target.
fn is_authority(target: &[u8]) -> bool {
    let Some(colon) = memchr::memrchr(b':', target) else { return false };
    let (host, port) = (&target[..colon], &target[colon + 1..]);
    !host.is_empty()
        && !port.is_empty()
        && port.len() <= 5
        && port.iter().all(u8::is_ascii_digit)
        && host.iter().all(|&b| b.is_ascii_alphanumeric() || b"-._[]:%".contains(&b))
}

/// Whether a target's bytes can stand in a request line: no control bytes
/// (a space from a broken client is tolerated, as servers log and answer them).
///
/// Every target and query of a log passes here: 16 bytes and more are read 16 at a time
/// (`bytes::find_control`); a shorter one eight bytes at a time (the last word overlapping
/// the one before), with no early exit, where a byte-wise fold left most of it to a loop.
fn is_target_text(target: &[u8]) -> bool {
    if target.len() >= 16 {
        return crate::bytes::find_control(target).is_none();
    }
    let word = |at: usize| target[at..at + 8].first_chunk::<8>().map_or(0, |w| control_bytes(u64::from_le_bytes(*w)));
    let n = target.len();
    if n < 8 {
        return !target.iter().any(|&b| b < 0x20 || b == 0x7f);
    }
    let bad = (0..n / 8).fold(0, |bad, i| bad | word(i * 8));
    (bad | word(n - 8)) == 0
}

/// Nonzero when a byte of `word` is below 0x20 or is 0x7f. (The high bit of the lowest such
/// byte is always set: a borrow only ever marks bytes above a true one, so the test is exact.)
fn control_bytes(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |w: u64, n: u64| w.wrapping_sub(ONES * n) & !w & HIGH;
    below(word, 0x20) | below(word ^ (ONES * 0x7f), 1)
}

/// Checks a record's method and target (the path as the parsers split it,
/// `None` where the request field held none).
#[inline(always)] // once a line: the usual request is settled without a call
pub fn check(method: Option<&[u8]>, path: Option<&[u8]>) -> Result<(), NotRequest> {
    // Nearly every line: a usual method (a token, no other protocol's first bytes) and an origin-form target.
    if let (Some(b"GET" | b"POST" | b"HEAD"), Some(target)) = (method, path)
        && target.first() == Some(&b'/')
    {
        return if is_target_text(target) { Ok(()) } else { Err(NotRequest::BadTarget) };
    }
    check_any(method, path)
}

/// [`check`] of any request.
#[inline(never)]
fn check_any(method: Option<&[u8]>, path: Option<&[u8]>) -> Result<(), NotRequest> {
    let Some(method) = method.filter(|m| !m.is_empty() && *m != b"-") else {
        return Err(if path.is_some() { NotRequest::BadMethod } else { NotRequest::Empty });
    };
    // Nearly every line's method is one of these: a token, and no other protocol's first bytes.
    let usual = matches!(method, b"GET" | b"POST" | b"HEAD");
    if !usual && let Some(kind) = handshake(method) {
        return Err(kind);
    }
    if !usual && !is_token(method) {
        let binary = method.iter().any(|b| !(0x20..0x7f).contains(b));
        return Err(if binary { NotRequest::Binary } else { NotRequest::BadMethod });
    }
    let Some(target) = path.filter(|p| !p.is_empty()) else { return Err(NotRequest::BadTarget) };
    if method == b"PRI" && target == b"*" {
        return Err(NotRequest::Http2Preface);
    }
    if is_target_for(method, target) && is_target_text(target) { Ok(()) } else { Err(NotRequest::BadTarget) }
}

/// A query holds no control bytes either (`?a=\x1b[2J` is no request a client sent; it would
/// reach a terminal through derive's summary).
pub fn check_query(query: Option<&[u8]>) -> Result<(), NotRequest> {
    if query.is_none_or(is_target_text) { Ok(()) } else { Err(NotRequest::BadTarget) }
}

/// Whether `target` is in a form HTTP allows for `method`: origin-form
/// (`/…`; absolute-form arrives split into host and path), `*` for OPTIONS,
/// authority-form (`host:443`) for CONNECT.
pub fn is_target_for(method: &[u8], target: &[u8]) -> bool {
    target.starts_with(b"/")
        || (target == b"*" && method == b"OPTIONS")
        || (method.eq_ignore_ascii_case(b"CONNECT") && is_authority(target))
}

/// A protocol other than HTTP, recognised by its first bytes.
fn handshake(start: &[u8]) -> Option<NotRequest> {
    match start {
        // A TLS record of type handshake (0x16), version 3.x; or SSL 2's two-byte length with the high bit set.
        [0x16, 0x03, ..] | [0x80..=0xff, _, 0x01, 0x03 | 0x02, ..] => Some(NotRequest::TlsHandshake),
        // A TPKT header (version 3, reserved 0): RDP, and other ISO-on-TCP.
        [0x03, 0x00, ..] => Some(NotRequest::Rdp),
        _ if start.starts_with(b"SSH-") => Some(NotRequest::Ssh),
        // NetBIOS session header, then SMB1's `\xFFSMB` or SMB2's `\xFESMB`.
        _ if start.len() >= 8 && start[0] == 0 && matches!(&start[4..8], b"\xffSMB" | b"\xfeSMB") => Some(NotRequest::Smb),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_and_what_is_not_one() {
        // (method, target, verdict): the request line as the parsers split it, with escapes undone.
        type Row<'a> = (&'a [u8], Option<&'a [u8]>, Result<(), NotRequest>);
        let table: [Row<'_>; 26] = [
            (b"GET", Some(b"/"), Ok(())),
            (b"POST", Some(b"/login"), Ok(())),
            (b"M-SEARCH", Some(b"/"), Ok(())),
            (b"PROPFIND", Some(b"/dav/a%20b"), Ok(())),
            (b"GET", Some(b"/a b"), Ok(())),
            (b"OPTIONS", Some(b"*"), Ok(())),
            (b"CONNECT", Some(b"www.example.com:443"), Ok(())),
            (b"CONNECT", Some(b"[2001:db8::1]:443"), Ok(())),
            (b"GET", Some(b"*"), Err(NotRequest::BadTarget)),
            (b"CONNECT", Some(b"www.example.com"), Err(NotRequest::BadTarget)),
            (b"GET", Some(b"index.html"), Err(NotRequest::BadTarget)),
            (b"GET", None, Err(NotRequest::BadTarget)),
            (b"GET", Some(b"/a\x00b"), Err(NotRequest::BadTarget)),
            (b"hello", None, Err(NotRequest::BadTarget)),
            (b"PRI", Some(b"*"), Err(NotRequest::Http2Preface)),
            (b"-", None, Err(NotRequest::Empty)),
            (b"", None, Err(NotRequest::Empty)),
            (b"\x16\x03\x01\x00\xf4\x01\x00\x00\xf0\x03\x03", None, Err(NotRequest::TlsHandshake)),
            (b"\x80\x2b\x01\x03\x01\x00\x12", None, Err(NotRequest::TlsHandshake)),
            (b"\x03\x00\x00+&\xe0\x00\x00\x00\x00\x00Cookie:", Some(b"mstshash=hello"), Err(NotRequest::Rdp)),
            (b"\x00\x00\x00T\xffSMBr\x00\x00\x00\x00\x18S\xc8", None, Err(NotRequest::Smb)),
            (b"\x00\x00\x00\xa4\xfeSMB@\x00", None, Err(NotRequest::Smb)),
            (b"SSH-2.0-PUTTY", None, Err(NotRequest::Ssh)),
            (b"\x05\x01\x00", None, Err(NotRequest::Binary)),
            (b"[1]USER", Some(b"anonymous@example.com"), Err(NotRequest::BadMethod)),
            (b"GET\xc3\xa9", Some(b"/"), Err(NotRequest::Binary)),
        ];
        for (method, target, want) in table {
            assert_eq!(
                check(Some(method), target),
                want,
                "{:?} {:?}",
                method.escape_ascii().to_string(),
                target.map(|t| t.escape_ascii().to_string())
            );
        }
        assert_eq!(check(None, None), Err(NotRequest::Empty));
        assert_eq!(
            (check_query(Some(b"a=1&b")), check_query(Some(b"a=\x1b[2J")), check_query(None)),
            (Ok(()), Err(NotRequest::BadTarget), Ok(()))
        );
        assert_eq!(check(None, Some(b"/x")), Err(NotRequest::BadMethod));
    }

    /// The word-wise test agrees with a byte-wise one for every byte value at every place of
    /// targets either side of the word size and of 16-byte blocks, among plain and high (UTF-8) bytes.
    #[test]
    fn control_bytes_are_found_anywhere() {
        for len in (1..=40).chain([47, 48, 49, 64, 65]) {
            for fill in [b'a', 0xc3] {
                for at in 0..len {
                    for b in 0..=255u8 {
                        let mut target = vec![fill; len];
                        target[at] = b;
                        let want = !(b < 0x20 || b == 0x7f);
                        assert_eq!(is_target_text(&target), want, "{len} {at} {b:#x}");
                    }
                }
            }
        }
        assert!(is_target_text(b""));
        assert!(NotRequest::ALL.iter().enumerate().all(|(i, k)| k.index() == i));
    }
}
