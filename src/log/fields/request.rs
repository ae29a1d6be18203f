//! Request lines and targets: `GET /path?query HTTP/1.1`, absolute-form
//! targets (`GET http://host:80/x`), and client addresses with ports.

use super::{Text, present};
use std::borrow::Cow;

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

pub fn split_request_bytes(line: &[u8]) -> RequestLine<'_> {
    let line = line.trim_ascii();
    if line.is_empty() || line == b"-" {
        return RequestLine::default();
    }
    // Methods are a few letters and protocols end the line: scanned byte by byte, where
    // `memchr`'s setup would cost more than the bytes it skips.
    let first_space = if line.starts_with(b"GET ") { Some(3) } else { line.iter().position(|&b| b == b' ') };
    let (method, rest) = match first_space {
        Some(sp) => (&line[..sp], line[sp + 1..].trim_ascii_start()),
        None => {
            return RequestLine { method: present(line), ..RequestLine::default() };
        }
    };
    if method == b"-" {
        // `- - -`, `- http://host:80- -`: a connection that never sent a request.
        return RequestLine::default();
    }
    // The protocol is the last token when it looks like one; targets may hold spaces
    // in broken clients' requests, so split from the right.
    // Nearly every request ends ` HTTP/1.1`, `1.0` or `2.0`: that space is the last, found without a scan.
    let last_space = match rest.last_chunk::<9>() {
        Some(tail) if is_common_protocol(tail) => Some(rest.len() - 9),
        _ => rest.iter().rposition(|&b| b == b' '),
    };
    let (target, protocol) = match last_space {
        Some(sp) if rest[sp + 1..].starts_with(b"HTTP/") || rest[sp + 1..].starts_with(b"http/") => {
            (rest[..sp].trim_ascii_end(), present(&rest[sp + 1..]))
        }
        _ => (rest, None),
    };
    let (path, query, host) = split_target(target);
    RequestLine { method: present(method), path, query, protocol, host }
}

/// Whether a request's last nine bytes are ` HTTP/1.1`, ` HTTP/1.0` or ` HTTP/2.0`: its first
/// eight read as one word (a byte-by-byte compare cost two dozen instructions a line).
#[inline(always)] // once a line
fn is_common_protocol(tail: &[u8; 9]) -> bool {
    let (head, last) = (u64::from_le_bytes([tail[0], tail[1], tail[2], tail[3], tail[4], tail[5], tail[6], tail[7]]), tail[8]);
    head == u64::from_le_bytes(*b" HTTP/1.") && matches!(last, b'1' | b'0') || head == u64::from_le_bytes(*b" HTTP/2.") && last == b'0'
}

/// Splits a request target into path, query and the authority of an absolute URI.
pub fn split_target(target: &[u8]) -> (Option<Text<'_>>, Option<Text<'_>>, Option<Text<'_>>) {
    let (target, host) = strip_authority(target);
    let (path, query) = match crate::bytes::find(b'?', target) {
        Some(q) => (&target[..q], Some(Cow::Borrowed(&target[q + 1..]))),
        None => (target, None),
    };
    let path = if path.is_empty() && host.is_some() { Some(Cow::Borrowed(&b"/"[..])) } else { present(path) };
    (path, query, host)
}

/// `http://host:80/x` → (`/x`, `host:80`); any other target is returned as it is.
pub fn strip_authority(target: &[u8]) -> (&[u8], Option<Text<'_>>) {
    // Origin-form, nearly every request: no scheme to look for.
    if target.first() == Some(&b'/') {
        return (target, None);
    }
    let scheme_len = if target.len() > 8 && target[..8].eq_ignore_ascii_case(b"https://") {
        8
    } else if target.len() > 7 && target[..7].eq_ignore_ascii_case(b"http://") {
        7
    } else {
        return (target, None);
    };
    let rest = &target[scheme_len..];
    let end = rest.iter().position(|&b| b == b'/' || b == b'?').unwrap_or(rest.len());
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

/// Strips the `:port` an address always carries (AWS load balancers' `client:port`),
/// IPv6 included: `2601:db8::6bbc:50599` is `2601:db8::6bbc`.
pub fn strip_known_port(addr: &[u8]) -> &[u8] {
    if addr.starts_with(b"[") {
        return strip_port(addr);
    }
    match memchr::memrchr(b':', addr) {
        Some(colon) if colon + 1 < addr.len() && addr[colon + 1..].iter().all(u8::is_ascii_digit) => &addr[..colon],
        _ => addr,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::borrow::Cow;
    #[test]
    fn the_common_protocols_are_told_by_a_word_as_by_their_bytes() {
        // The three, and every one-byte change of each at every place (other versions, `HTTP/1.2`,
        // lower case, a tab for the space, a byte with its high bit set).
        let mut found = 0;
        for common in [b" HTTP/1.1", b" HTTP/1.0", b" HTTP/2.0"] {
            for at in 0..9 {
                for byte in 0..=255u8 {
                    let mut tail = *common;
                    tail[at] = byte;
                    let by_bytes = matches!(&tail, b" HTTP/1.1" | b" HTTP/1.0" | b" HTTP/2.0");
                    assert_eq!(is_common_protocol(&tail), by_bytes, "{:?}", String::from_utf8_lossy(&tail));
                    found += usize::from(by_bytes);
                }
            }
        }
        // Each of the three once for every place and every other place that makes another of them.
        assert_eq!(found, 3 * 9 + 4);
    }

    #[test]
    fn request_lines() {
        let t = |s: &str| Some(Cow::Owned(s.as_bytes().to_vec()));
        let table = [
            (
                "GET /a/b?x=1&y HTTP/1.1",
                RequestLine { method: t("GET"), path: t("/a/b"), query: t("x=1&y"), protocol: t("HTTP/1.1"), host: None },
            ),
            ("GET /ksc.html", RequestLine { method: t("GET"), path: t("/ksc.html"), ..Default::default() }),
            ("-", RequestLine::default()),
            ("", RequestLine::default()),
            ("hello", RequestLine { method: t("hello"), ..Default::default() }),
            (
                "GET https://paytm.com:443/shop?code=1 HTTP/1.1",
                RequestLine { method: t("GET"), path: t("/shop"), query: t("code=1"), protocol: t("HTTP/1.1"), host: t("paytm.com:443") },
            ),
            (
                "GET http://54.236.119.61:80 HTTP/1.1",
                RequestLine { method: t("GET"), path: t("/"), protocol: t("HTTP/1.1"), host: t("54.236.119.61:80"), ..Default::default() },
            ),
            ("GET /a b HTTP/1.0", RequestLine { method: t("GET"), path: t("/a b"), protocol: t("HTTP/1.0"), ..Default::default() }),
            // Around the common shapes read without a scan: spaces doubled, a protocol with a space
            // or of another version, a target that is only the protocol, a method other than GET.
            ("GET  /x   HTTP/2.0", RequestLine { method: t("GET"), path: t("/x"), protocol: t("HTTP/2.0"), ..Default::default() }),
            ("GET /x HTTP/1 1", RequestLine { method: t("GET"), path: t("/x HTTP/1 1"), ..Default::default() }),
            ("GET /x HTTP/3", RequestLine { method: t("GET"), path: t("/x"), protocol: t("HTTP/3"), ..Default::default() }),
            ("GET HTTP/1.1", RequestLine { method: t("GET"), path: t("HTTP/1.1"), ..Default::default() }),
            ("GET  HTTP/1.1", RequestLine { method: t("GET"), path: t("HTTP/1.1"), ..Default::default() }),
            ("GET / HTTP/1.1", RequestLine { method: t("GET"), path: t("/"), protocol: t("HTTP/1.1"), ..Default::default() }),
            ("GETX / http/1.0", RequestLine { method: t("GETX"), path: t("/"), protocol: t("http/1.0"), ..Default::default() }),
            ("GET", RequestLine { method: t("GET"), ..Default::default() }),
        ];
        for (input, want) in table {
            assert_eq!(split_request(Cow::Borrowed(input.as_bytes())), want, "{input}");
        }
    }

    #[test]
    fn ports() {
        assert_eq!(strip_port(b"1.2.3.4:5678"), b"1.2.3.4");
        assert_eq!(strip_port(b"[::1]:80"), b"::1");
        assert_eq!(strip_port(b"2a03::1"), b"2a03::1");
        assert_eq!(strip_port(b"host"), b"host");
        assert_eq!(strip_known_port(b"2601:646:8b00:2ef0:ac2e:45ff:fe18:6bbc:50599"), b"2601:646:8b00:2ef0:ac2e:45ff:fe18:6bbc");
        assert_eq!(strip_known_port(b"10.0.0.1:443"), b"10.0.0.1");
        assert_eq!(strip_known_port(b"[2001:db8::1]:443"), b"2001:db8::1");
        assert_eq!(strip_known_port(b"-"), b"-");
    }
}
