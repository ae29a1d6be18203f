//! A remembered head says what parsing it would: for every kind of head, on
//! every request it could answer, read again or not.

use super::*;
use hyper::header::HeaderValue;

const PLAIN: &[u8] =
    b"HTTP/1.1 200 OK\r\nServer: nginx\r\nDate: Sun, 06 Dec 2026 13:00:00 GMT\r\nContent-Length: 22\r\nConnection: keep-alive\r\n\r\n";

/// Heads of every framing and persistence, and those whose meaning depends on the request.
fn heads() -> Vec<Vec<u8>> {
    let mut heads: Vec<Vec<u8>> = vec![
        PLAIN.to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n".to_vec(),
        b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n".to_vec(),
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\n".to_vec(),
        b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_vec(),
        b"HTTP/1.1 100 Continue\r\n\r\n".to_vec(),
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
        b"HTTP/1.1 302 Found\r\nLocation: /login?next=/cart\r\nContent-Length: 0\r\n\r\n".to_vec(),
        b"HTTP/1.1 302 Found\r\nLocation: /cart\r\nContent-Length: 0\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\nSet-Cookie: session=abc; Path=/\r\nContent-Length: 2\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\r\nset-cookie: a=1\r\nSET-COOKIE: b=2\r\nContent-Length: 2\r\n\r\n".to_vec(),
        b"HTTP/1.1 200 OK\nContent-Length: 5\n\n".to_vec(),
    ];
    // A head too long to remember, still read right.
    let mut long = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n".to_vec();
    long.extend_from_slice(format!("X-Padding: {}\r\n\r\n", "p".repeat(MAX_REMEMBERED)).as_bytes());
    heads.push(long);
    heads
}

fn request<'a>(method: &'a hyper::Method, target: &'a str, host: &'a HeaderValue) -> Head<'a> {
    Head { method, base_path: "", target, host, headers: &[], trace: None, cookie: None, body: None }
}

#[test]
fn a_head_read_again_says_what_parsing_it_says_for_any_request() {
    let host = HeaderValue::from_static("example.test");
    let methods = [hyper::Method::GET, hyper::Method::HEAD, hyper::Method::POST];
    let targets = ["/cart", "/login", "/"];
    let heads = heads();
    let mut hits = 0;
    // Each head after each other one, as a connection meets them, with a body's bytes behind.
    for first in &heads {
        for second in &heads {
            for (method, target, keep_cookies) in
                methods.iter().flat_map(|m| targets.iter().flat_map(move |t| [(m, *t, false), (m, *t, true)]))
            {
                let head = request(method, target, &host);
                let mut seen = SeenHead::default();
                seen.read(first, &head, keep_cookies).unwrap().expect("a whole head");
                let mut unread = second.clone();
                unread.extend_from_slice(b"body bytes");
                hits += usize::from(seen.again(&unread).is_some());
                let read = seen.read(&unread, &head, keep_cookies).unwrap();
                let parsed = parse_head(&unread, &head, keep_cookies).unwrap();
                assert_eq!(read, parsed, "{:?} then {:?}", String::from_utf8_lossy(first), String::from_utf8_lossy(second));
            }
        }
    }
    // Exactly the plain heads short enough to remember are found again when they come twice: 9 of them.
    assert_eq!(hits, 9 * methods.len() * targets.len() * 2, "{hits}");
}

#[test]
fn only_a_head_that_starts_the_bytes_exactly_is_taken_as_seen() {
    let host = HeaderValue::from_static("example.test");
    let head = request(&hyper::Method::GET, "/", &host);
    let mut seen = SeenHead::default();
    let first = seen.read(PLAIN, &head, false).unwrap().unwrap();
    assert_eq!((first.status, first.framing, first.keep_alive, first.head_len), (200, Framing::Length(22), true, PLAIN.len()));
    // The same bytes with a body behind them: seen, ending where it ended.
    let mut with_body = PLAIN.to_vec();
    with_body.extend_from_slice(b"Our example home page.");
    assert_eq!(seen.again(&with_body).map(|p| p.head_len), Some(PLAIN.len()));
    // Only part of it arrived yet: not seen, and not whole.
    assert_eq!(seen.again(&PLAIN[..PLAIN.len() - 1]), None);
    assert_eq!(seen.read(&PLAIN[..PLAIN.len() - 1], &head, false).unwrap(), None);
    // One byte changed anywhere (the next second's Date, another length): parsed again.
    for at in 0..PLAIN.len() {
        let mut changed = PLAIN.to_vec();
        changed[at] ^= 0x01;
        assert_eq!(seen.again(&changed), None, "byte {at}");
    }
    // The next second's head takes the remembered one's place.
    let next = String::from_utf8_lossy(PLAIN).replace("13:00:00", "13:00:01");
    seen.read(next.as_bytes(), &head, false).unwrap().unwrap();
    assert_eq!(seen.again(PLAIN), None);
    assert!(seen.again(next.as_bytes()).is_some());
}

#[test]
fn a_head_that_sets_cookies_is_parsed_each_time_so_a_session_gets_them() {
    let host = HeaderValue::from_static("example.test");
    let head = request(&hyper::Method::GET, "/", &host);
    let sets = b"HTTP/1.1 200 OK\r\nSet-Cookie: session=abc\r\nContent-Length: 0\r\n\r\n";
    let mut seen = SeenHead::default();
    // Read first by a request that keeps no cookies, then by a session's that does.
    assert!(seen.read(sets, &head, false).unwrap().unwrap().set_cookies.is_empty());
    assert_eq!(seen.again(sets), None);
    assert_eq!(seen.read(sets, &head, true).unwrap().unwrap().set_cookies, ["session=abc"]);
}
