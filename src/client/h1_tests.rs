//! The HTTP/1.1 exchange against scripted targets on loopback: every way a
//! response can be framed, cut short or malformed, and the bytes a request
//! head goes out as.

use super::*;
use crate::client::ticked::TickedTcp;
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// A connection to a target that reads one request head, then writes `response` (one byte at a
/// time when `trickle`) and closes; returns the request the target read.
async fn connect_to(response: Vec<u8>, trickle: bool) -> (H1, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match tokio::io::AsyncReadExt::read(&mut stream, &mut buf).await {
                Ok(0) | Err(_) => return got,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
        if trickle {
            for byte in &response {
                stream.write_all(&[*byte]).await.unwrap();
                stream.flush().await.unwrap();
                tokio::task::yield_now().await;
            }
        } else {
            let _ = stream.write_all(&response).await;
        }
        got
    });
    let tcp = TcpStream::connect(addr).await.unwrap();
    (H1::new(Io::Plain(tcp)), served)
}

fn head<'a>(method: &'a hyper::Method, target: &'a str, host: &'a HeaderValue) -> Head<'a> {
    Head { method, base_path: "", target, host, headers: &[], trace: None, cookie: None, body: None }
}

/// (status, body bytes, reusable) or (failure class, before any response byte).
type Expected = Result<(u16, u64, bool), (Failure, bool)>;

#[tokio::test]
async fn responses_are_framed_as_rfc_9112_says() {
    let cases: &[(&str, &str, &[u8], Expected)] = &[
        ("length", "GET", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", Ok((200, 5, true))),
        ("no body at all", "GET", b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n", Ok((200, 0, true))),
        (
            "chunked, an extension and trailers",
            "GET",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-sum: 1\r\n\r\n",
            Ok((200, 11, true)),
        ),
        (
            "chunked after another coding",
            "GET",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
            Ok((200, 3, true)),
        ),
        ("a coding without chunked: until close", "GET", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nabcd", Ok((200, 4, false))),
        ("no length: until close", "GET", b"HTTP/1.1 200 OK\r\n\r\nabc", Ok((200, 3, false))),
        (
            "100 Continue, then the response",
            "POST",
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok",
            Ok((201, 2, true)),
        ),
        (
            "103 Early Hints, then the response",
            "GET",
            b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx",
            Ok((200, 1, true)),
        ),
        ("HEAD has no body whatever its length says", "HEAD", b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", Ok((200, 0, true))),
        ("204 has no body", "DELETE", b"HTTP/1.1 204 No Content\r\n\r\n", Ok((204, 0, true))),
        ("304 has no body", "GET", b"HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n", Ok((304, 0, true))),
        ("Connection: close", "GET", b"HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 4\r\n\r\nbusy", Ok((503, 4, false))),
        ("HTTP/1.0 closes by default", "GET", b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", Ok((200, 2, false))),
        ("HTTP/1.0 keep-alive", "GET", b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok", Ok((200, 2, true))),
        ("the same length twice", "GET", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok", Ok((200, 2, true))),
        ("two lengths", "GET", b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok", Err((Failure::Other, false))),
        ("a length past 2^64", "GET", b"HTTP/1.1 200 OK\r\nContent-Length: 18446744073709551616\r\n\r\nok", Err((Failure::Other, false))),
        ("a length with spaces around it", "GET", b"HTTP/1.1 200 OK\r\nContent-Length:  2 \r\n\r\nok", Ok((200, 2, true))),
        ("a length that is not a number", "GET", b"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok", Err((Failure::Other, false))),
        ("not HTTP", "GET", b"\x00\x01garbage that is not HTTP\r\n\r\n", Err((Failure::Other, false))),
        ("a bad chunk size", "GET", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", Err((Failure::Other, false))),
        (
            "a chunk without its line break",
            "GET",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokXX0\r\n\r\n",
            Err((Failure::Other, false)),
        ),
        ("closed before answering", "GET", b"", Err((Failure::Reset, true))),
        ("closed mid-head", "GET", b"HTTP/1.1 200 OK\r\nContent-Le", Err((Failure::Reset, false))),
        ("closed mid-body", "GET", b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly ten..", Err((Failure::Reset, false))),
        ("closed mid-chunk", "GET", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nabc", Err((Failure::Reset, false))),
    ];
    let host = HeaderValue::from_static("127.0.0.1");
    for trickle in [false, true] {
        for (what, method, response, expected) in cases {
            let method = hyper::Method::from_bytes(method.as_bytes()).unwrap();
            let (mut conn, served) = connect_to(response.to_vec(), trickle).await;
            let got = conn.exchange(&head(&method, "/", &host), false).await;
            let got = got.map(|a| (a.status, a.bytes, a.reusable)).map_err(|f| (f.class, f.before_response));
            assert_eq!(&got, expected, "{what} (one byte at a time: {trickle})");
            served.await.unwrap();
        }
    }
}

#[tokio::test]
async fn a_head_longer_than_the_bound_fails_without_growing_past_it() {
    let mut response = b"HTTP/1.1 200 OK\r\n".to_vec();
    while response.len() <= MAX_HEAD + 1024 {
        response.extend_from_slice(b"x-filler: 0123456789012345678901234567890123456789\r\n");
    }
    let host = HeaderValue::from_static("h");
    let (mut conn, _served) = connect_to(response, false).await;
    let failed = conn.exchange(&head(&hyper::Method::GET, "/", &host), false).await.err().unwrap();
    assert_eq!(failed.class, Failure::Other);
    assert!(failed.detail.contains("longer than 64 KB") || failed.detail.contains("too many headers"), "{}", failed.detail);
    assert!(conn.read.capacity() < 2 * MAX_HEAD, "{}", conn.read.capacity());
}

#[tokio::test]
async fn cookies_and_a_redirect_to_login_are_read_from_the_head() {
    let response = b"HTTP/1.1 302 Found\r\nSet-Cookie: sid=abc; Path=/\r\nset-cookie: theme=dark\r\nLocation: /login?next=/cart\r\nContent-Length: 0\r\n\r\n";
    let host = HeaderValue::from_static("h");
    let (mut conn, _served) = connect_to(response.to_vec(), false).await;
    let answer = conn.exchange(&head(&hyper::Method::GET, "/cart", &host), true).await.unwrap();
    assert_eq!((answer.status, answer.to_login), (302, true));
    assert_eq!(answer.set_cookies, ["sid=abc; Path=/", "theme=dark"]);
    // Not asked for: not kept.
    let (mut conn, _served) = connect_to(response.to_vec(), false).await;
    assert!(conn.exchange(&head(&hyper::Method::GET, "/cart", &host), false).await.unwrap().set_cookies.is_empty());
}

#[tokio::test]
async fn a_connection_with_bytes_nobody_asked_for_or_closed_by_the_target_is_not_reused() {
    let host = HeaderValue::from_static("h");
    // A second response after the one asked for: the connection cannot be trusted with another request.
    let (mut conn, _served) = connect_to(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\nHTTP/1.1 200 OK\r\n".to_vec(), false).await;
    assert!(conn.exchange(&head(&hyper::Method::GET, "/", &host), false).await.unwrap().reusable);
    assert!(!conn.is_open());
    // Answered, then closed by the target while idle: noticed once the socket turns readable.
    let (mut conn, served) = connect_to(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n".to_vec(), false).await;
    conn.exchange(&head(&hyper::Method::GET, "/", &host), false).await.unwrap();
    served.await.unwrap();
    let Io::Plain(tcp) = &conn.io else { unreachable!() };
    tcp.readable().await.unwrap();
    assert!(!conn.is_open());
    // Still open and quiet: reusable, and checking it reads nothing.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let tcp = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    let _accepted = listener.accept().await.unwrap();
    assert!(H1::new(Io::Plain(tcp)).is_open());
}

#[test]
fn request_heads_go_out_as_the_spec_says() {
    let host = HeaderValue::from_static("staging.example.com:8443");
    let headers = [(HeaderName::from_static("authorization"), HeaderValue::from_static("Bearer t0ken"))];
    let written = |head: &Head<'_>| {
        let mut out = b"what the last request left".to_vec();
        write_head(&mut out, head).map(|_| String::from_utf8(out).unwrap())
    };
    let get = hyper::Method::GET;
    let post = hyper::Method::POST;
    let mut h = Head {
        method: &get,
        base_path: "/api",
        target: "/users/42?x=1",
        host: &host,
        headers: &headers,
        trace: Some((0xabc, 7)),
        cookie: Some("sid=1"),
        body: None,
    };
    assert_eq!(
        written(&h).unwrap(),
        "GET /api/users/42?x=1 HTTP/1.1\r\nhost: staging.example.com:8443\r\nauthorization: Bearer t0ken\r\n\
         traceparent: 00-0000000000000abc0000000000000007-0000000000000008-01\r\nx-replay-id: 0000000000000abc-7\r\n\
         cookie: sid=1\r\n\r\n"
    );
    h = Head { method: &post, base_path: "", target: "/login", host: &host, headers: &[], trace: None, cookie: None, body: None };
    assert_eq!(written(&h).unwrap(), "POST /login HTTP/1.1\r\nhost: staging.example.com:8443\r\ncontent-length: 0\r\n\r\n");
    h.body = Some(("application/json", r#"{"user":"a"}"#));
    assert_eq!(
        written(&h).unwrap(),
        "POST /login HTTP/1.1\r\nhost: staging.example.com:8443\r\ncontent-type: application/json\r\ncontent-length: 12\r\n\r\n{\"user\":\"a\"}"
    );
    // Targets as the log had them where a URI holds them; percent-encoded where it cannot.
    for (target, sent) in [
        ("/sra_{BA19}/x?a=b|c", "/sra_{BA19}/x?a=b|c"),
        ("/caf\u{e9}", "/caf\u{e9}"),
        ("/libs/owl.js type=", "/libs/owl.js%20type="),
        ("/a?q=<script>", "/a?q=%3Cscript%3E"),
        ("/page#top", "/page%23top"),
        ("*", "*"),
    ] {
        h = Head { method: &get, base_path: "", target, host: &host, headers: &[], trace: None, cookie: None, body: None };
        let line = written(&h).unwrap();
        assert!(line.starts_with(&format!("GET {sent} HTTP/1.1\r\n")), "{target}: {line}");
    }
    // A cookie or content type that would end the line is refused, never sent.
    h = Head {
        method: &get,
        base_path: "",
        target: "/",
        host: &host,
        headers: &[],
        trace: None,
        cookie: Some("a=1\r\nx-evil: 1"),
        body: None,
    };
    assert!(written(&h).unwrap_err().contains("line break"));
}

#[tokio::test]
async fn whatever_a_target_sends_ends_in_an_answer_or_a_failure() {
    // Valid responses of every framing, each mutated many ways (bytes flipped, cut, repeated):
    // the exchange ends (the target closes after sending), never panics, and never counts more
    // body than was sent.
    let seeds: &[&[u8]] = &[
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;x=1\r\n world\r\n0\r\nx-sum: 1\r\n\r\n",
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 302 Found\r\nLocation: /login\r\nSet-Cookie: a=b\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\nuntil the close",
    ];
    let host = HeaderValue::from_static("h");
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n.max(1) as u64) as usize
    };
    for round in 0..300 {
        let mut response = seeds[round % seeds.len()].to_vec();
        for _ in 0..1 + next(4) {
            let at = next(response.len());
            match next(4) {
                0 if at < response.len() => response[at] = next(256) as u8,
                1 => response.truncate(at),
                2 => {
                    let piece = response[at..].to_vec();
                    response.extend_from_slice(&piece);
                }
                _ => response.insert(at.min(response.len()), [b'\r', b'\n', b':', b';', b'0', b'f', b' '][next(7)]),
            }
        }
        let sent = response.len() as u64;
        let (mut conn, served) = connect_to(response.clone(), false).await;
        let got =
            tokio::time::timeout(std::time::Duration::from_secs(5), conn.exchange(&head(&hyper::Method::GET, "/", &host), true)).await;
        let got = got.unwrap_or_else(|_| panic!("round {round}: no end to {:?}", String::from_utf8_lossy(&response)));
        if let Ok(answer) = got {
            assert!(answer.bytes <= sent, "round {round}: {} body bytes of {sent} sent", answer.bytes);
        }
        served.await.unwrap();
    }
}

/// A target that reads one request head, then waits for `go` before it writes `response`; it
/// says when it wrote (after the write, the bytes are in the client's socket: loopback
/// delivers them within the write). With `unasked`, it writes before any request instead.
/// With `tls`, it speaks TLS (HTTP/1.1 only, no session tickets: no bytes but the answer's).
async fn deferred_target(
    response: &'static [u8],
    unasked: bool,
    tls: bool,
) -> (H1, Arc<ReadTick>, tokio::sync::oneshot::Sender<()>, tokio::sync::oneshot::Receiver<Instant>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (go_tx, go_rx) = tokio::sync::oneshot::channel::<()>();
    let (wrote_tx, wrote_rx) = tokio::sync::oneshot::channel();
    let acceptor = tls.then(tls_acceptor);
    tokio::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let stream: Box<dyn Stream> = match acceptor {
            Some(acceptor) => Box::new(acceptor.accept(stream).await.unwrap()),
            None => Box::new(stream),
        };
        serve_deferred(stream, response, unasked, go_rx, wrote_tx).await;
    });
    let tick = Arc::new(ReadTick::stamped());
    let tcp = TcpStream::connect(addr).await.unwrap();
    let io = if tls {
        let connector = tokio_rustls::TlsConnector::from(Arc::new(super::super::tls::client_config(true, false)));
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        Io::Tls(Box::new(connector.connect(name, TickedTcp::new(tcp)).await.unwrap()))
    } else {
        Io::Plain(tcp)
    };
    let mut conn = H1::with_tick(io, Arc::clone(&tick));
    // The loop sleeps half a millisecond at a time: reads may wait for it.
    tick.sleeps_for(std::time::Duration::from_micros(500));
    conn.defer(true);
    assert!(conn.deferred, "a stamped connection defers (tls: {tls})");
    (conn, tick, go_tx, wrote_rx)
}

trait Stream: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> Stream for S {}

async fn serve_deferred(
    mut stream: Box<dyn Stream>,
    response: &'static [u8],
    unasked: bool,
    go: tokio::sync::oneshot::Receiver<()>,
    wrote: tokio::sync::oneshot::Sender<Instant>,
) {
    if !unasked {
        let mut got = Vec::new();
        let mut buf = [0u8; 4096];
        while !got.windows(4).any(|w| w == b"\r\n\r\n") {
            match tokio::io::AsyncReadExt::read(&mut stream, &mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    }
    let _ = go.await;
    let before = Instant::now();
    stream.write_all(response).await.unwrap();
    stream.flush().await.unwrap();
    let _ = wrote.send(before);
    // Kept open until the client is done with it.
    let _ = tokio::io::AsyncReadExt::read(&mut stream, &mut [0u8; 64]).await;
}

/// A TLS acceptor with a self-signed certificate, for HTTP/1.1, sending no session tickets.
fn tls_acceptor() -> tokio_rustls::TlsAcceptor {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(cert.signing_key.serialize_der().into());
    let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.send_tls13_tickets = 0;
    tokio_rustls::TlsAcceptor::from(Arc::new(config))
}

/// The socket under a connection, TLS or not.
#[cfg(target_os = "linux")]
fn socket_fd(conn: &H1) -> std::os::fd::RawFd {
    use std::os::fd::AsRawFd;
    match &conn.io {
        Io::Plain(tcp) => tcp.as_raw_fd(),
        Io::Tls(tls) => tls.get_ref().0.as_raw_fd(),
    }
}

/// Lets the runtime turn: the I/O driver is polled before a yielded task runs again, so a
/// read woken by the socket would have run by then.
async fn turn() {
    for _ in 0..3 {
        tokio::task::yield_now().await;
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_deferred_response_waits_for_the_loops_sleep_and_is_timed_by_the_kernel() {
    for tls in [false, true] {
        a_deferred_response_waits_and_is_timed(tls).await;
    }
}

#[cfg(target_os = "linux")]
async fn a_deferred_response_waits_and_is_timed(tls: bool) {
    let host = HeaderValue::from_static("h");
    let (mut conn, tick, go, wrote) = deferred_target(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", false, tls).await;
    let method = hyper::Method::GET;
    let head = head(&method, "/", &host);
    let fd = socket_fd(&conn);
    let (answer, wrote_at, word_at) = {
        let exchange = conn.exchange(&head, false);
        tokio::pin!(exchange);
        // The request goes out; the target answers; the answer sits in the socket.
        go.send(()).unwrap();
        let wrote_at = tokio::select! {
            biased;
            early = &mut exchange => panic!("answered before the target wrote (tls: {tls}): {:?}", early.map(|a| a.status).map_err(|f| f.detail)),
            at = wrote => at.unwrap(),
        };
        wait_until_in_socket(fd, 40).await;
        turn().await;
        assert!(futures_poll(exchange.as_mut()).await.is_none(), "a deferred read waits for the loop, not the socket (tls: {tls})");
        // Below its low-water mark, the answer does not make the socket readable: it wakes nobody.
        let mut poll = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd, for a socket this test holds open; no wait.
        assert_eq!(unsafe { libc::poll(&raw mut poll, 1, 0) }, 0, "the socket stays quiet (tls: {tls})");
        let word_at = Instant::now();
        tick.sleeps_for(std::time::Duration::from_micros(500));
        (exchange.await.unwrap(), wrote_at, word_at)
    };
    assert_eq!((answer.status, answer.bytes), (200, 2));
    let arrived = answer.arrived.unwrap_or_else(|| panic!("timed by the kernel (tls: {tls})"));
    // The stamp is on the wall clock, converted to within a few microseconds of clock reads.
    let slack = std::time::Duration::from_micros(50);
    assert!(
        arrived + slack >= wrote_at && arrived <= word_at,
        "arrival {arrived:?} is when the kernel took it in (after the target's write at {wrote_at:?}), not when it was read (after the loop's word at {word_at:?}); tls: {tls}"
    );
    assert!(conn.deferred, "still deferred for the next request");
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn a_deferred_read_waits_for_the_socket_once_the_loop_goes_quiet_or_after_its_tries() {
    let host = HeaderValue::from_static("h");
    let method = hyper::Method::GET;
    // (words the loop says while the answer is not in yet): a long sleep releases the reader at
    // once; short sleeps, after deferred::TRIES of them.
    let long = std::time::Duration::from_secs(1);
    let short = std::time::Duration::from_micros(500);
    let cases: [(&str, Vec<std::time::Duration>); 2] = [("released", vec![long]), ("tries", vec![short; deferred::TRIES as usize])];
    for (name, words) in cases {
        let (mut conn, tick, go, wrote) = deferred_target(b"HTTP/1.1 204 No Content\r\n\r\n", false, false).await;
        let head = head(&method, "/", &host);
        let answer = {
            let exchange = conn.exchange(&head, false);
            tokio::pin!(exchange);
            turn().await;
            assert!(futures_poll(exchange.as_mut()).await.is_none(), "{name}: waiting");
            for word in words {
                tick.sleeps_for(word);
                turn().await;
                assert!(futures_poll(exchange.as_mut()).await.is_none(), "{name}: nothing to read yet");
            }
            // Now waiting for the socket: the answer wakes it, whatever the loop says (nothing, here).
            go.send(()).unwrap();
            wrote.await.unwrap();
            tokio::time::timeout(std::time::Duration::from_secs(5), exchange).await.expect(name).unwrap()
        };
        assert_eq!(answer.status, 204, "{name}");
        assert!(answer.arrived.is_none(), "{name}: read as it came, timed then");
        assert!(!conn.deferred, "{name}: the mark is lowered");
    }
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn bytes_a_deferred_connection_held_before_the_request_are_not_its_answer() {
    let host = HeaderValue::from_static("h");
    let (mut conn, tick, go, wrote) = deferred_target(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\n\r\n", true, false).await;
    go.send(()).unwrap();
    wrote.await.unwrap();
    let Io::Plain(tcp) = &conn.io else { unreachable!() };
    let fd = std::os::fd::AsRawFd::as_raw_fd(tcp);
    wait_until_in_socket(fd, 51).await;
    // The loop's next word comes after the unasked bytes did; the request goes out after it.
    tick.sleeps_for(std::time::Duration::from_micros(500));
    let method = hyper::Method::GET;
    let head = head(&method, "/", &host);
    let exchange = conn.exchange(&head, false);
    tokio::pin!(exchange);
    turn().await;
    assert!(futures_poll(exchange.as_mut()).await.is_none());
    tick.sleeps_for(std::time::Duration::from_micros(500));
    let failed = exchange.await.err().expect("not taken for the answer");
    assert_eq!((failed.class, failed.before_response), (Failure::Reset, true), "{}", failed.detail);
}

/// Waits until `len` bytes are in the socket's receive queue: a peer's write returning does
/// not mean they are (loopback delivers them in a softirq).
#[cfg(target_os = "linux")]
async fn wait_until_in_socket(fd: std::os::fd::RawFd, len: usize) {
    let since = Instant::now();
    while bytes_waiting(fd) < len {
        assert!(since.elapsed() < std::time::Duration::from_secs(10), "{len} bytes never reached the socket");
        turn().await;
    }
}

/// How many bytes wait in a socket's receive queue, whatever its low-water mark.
#[cfg(target_os = "linux")]
fn bytes_waiting(fd: std::os::fd::RawFd) -> usize {
    let mut waiting: libc::c_int = 0;
    // SAFETY: FIONREAD writes one c_int, to a local this call owns, for a socket the caller holds open.
    let got = unsafe { libc::ioctl(fd, libc::FIONREAD, &raw mut waiting) };
    assert_eq!(got, 0, "FIONREAD on a connected socket");
    usize::try_from(waiting).unwrap_or(0)
}

/// Polls `future` once: `Some` if it is done.
async fn futures_poll<F: std::future::Future>(future: std::pin::Pin<&mut F>) -> Option<F::Output> {
    let mut future = future;
    std::future::poll_fn(|cx| {
        std::task::Poll::Ready(match future.as_mut().poll(cx) {
            std::task::Poll::Ready(out) => Some(out),
            std::task::Poll::Pending => None,
        })
    })
    .await
}
