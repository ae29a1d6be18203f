//! The HTTP/2 exchange on the `h2` crate against an in-process h2c target on
//! loopback: a request body arrives whole, a response larger than the stream's
//! window is read to its end (the window is given back as it is read),
//! connection-specific headers HTTP/2 forbids are left out while the rest go,
//! a stream the target resets is a failure, not a hang, and a connection the
//! target hangs up under a request is a reset, the request sent again on a new
//! one while the protocol allows.

use super::*;
use bytes::Bytes;
use std::collections::BTreeMap;
use std::sync::Mutex;
use tokio::net::TcpListener;

/// What the target saw of one request: its method, path and query, scheme and authority, body and headers.
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    origin: String,
    body: Vec<u8>,
    headers: BTreeMap<String, String>,
}

/// A response this big outgrows the 2 MB stream window several times over.
const BIG: usize = 5 * 1024 * 1024 + 17;

/// An h2c target: `/big` answers [`BIG`] bytes, `/reset` resets the stream, `/drop` hangs up
/// the connection, anything else `ok`.
async fn h2c_target() -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let noted = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let noted = Arc::clone(&noted);
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(stream).await else { return };
                while let Some(Ok((request, mut respond))) = conn.accept().await {
                    if request.uri().path() == "/drop" {
                        // Hangs up: the connection and its socket go, no response, no GOAWAY.
                        noted.lock().unwrap().push(Seen {
                            line: "GET /drop".into(),
                            origin: String::new(),
                            body: Vec::new(),
                            headers: BTreeMap::new(),
                        });
                        return;
                    }
                    let noted = Arc::clone(&noted);
                    tokio::spawn(async move {
                        let (head, mut body) = request.into_parts();
                        let mut got = Vec::new();
                        while let Some(Ok(chunk)) = body.data().await {
                            got.extend_from_slice(&chunk);
                            let _ = body.flow_control().release_capacity(chunk.len());
                        }
                        let headers = head.headers.iter().map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_owned())).collect();
                        let path = head.uri.path().to_owned();
                        let line = format!("{} {}", head.method, head.uri.path_and_query().map_or("", |p| p.as_str()));
                        let origin =
                            format!("{}://{}", head.uri.scheme_str().unwrap_or(""), head.uri.authority().map_or("", |a| a.as_str()));
                        noted.lock().unwrap().push(Seen { line, origin, body: got, headers });
                        if path == "/reset" {
                            respond.send_reset(h2::Reason::INTERNAL_ERROR);
                            return;
                        }
                        let Ok(mut send) = respond.send_response(hyper::Response::new(()), false) else { return };
                        let body = if path == "/big" { Bytes::from(vec![b'x'; BIG]) } else { Bytes::from_static(b"ok") };
                        let _ = send.send_data(body, true);
                    });
                }
            });
        }
    });
    (format!("http://{addr}"), seen)
}

fn spec(method: hyper::Method, target: &str, body: Option<(&str, &str)>) -> RequestSpec {
    let body = body.map(|(kind, text)| (kind.to_owned(), text.to_owned()));
    RequestSpec { seq: 7, endpoint: 0, method, target: target.into(), body, synthetic: false }
}

fn h2_client(base: &str, headers: &[(&str, &str)]) -> Client {
    let mut config = ClientConfig::new(base.parse().unwrap());
    config.http2 = true;
    config.timeout = Duration::from_secs(10);
    config.headers =
        headers.iter().map(|(k, v)| (HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap())).collect();
    Client::new(config).unwrap()
}

#[tokio::test]
async fn targets_go_in_the_absolute_form_under_the_base_path_and_encoded_where_a_uri_cannot_hold_them() {
    let (base, seen) = h2c_target().await;
    for (given_base, prefix) in [(base.clone(), ""), (format!("{base}/api/"), "/api")] {
        let client = h2_client(&given_base, &[]);
        for target in ["/users/7?page=2&sort=asc", "/sra_{BA19}/a b", "//twice", "/"] {
            let sent = client.send(&spec(hyper::Method::GET, target, None), 0, || 0, None).await;
            assert_eq!((sent.status, sent.failure), (Some(200), None), "{target}: {:?}", sent.detail);
        }
        let seen: Vec<_> = std::mem::take(&mut *seen.lock().unwrap());
        let lines: Vec<&str> = seen.iter().map(|s| s.line.as_str()).collect();
        let expected: Vec<String> =
            ["/users/7?page=2&sort=asc", "/sra_%7BBA19%7D/a%20b", "//twice", "/"].iter().map(|t| format!("GET {prefix}{t}")).collect();
        assert_eq!(lines, expected, "under {given_base}");
        assert!(seen.iter().all(|s| s.origin == base), "{:?}", seen.iter().map(|s| &s.origin).collect::<Vec<_>>());
    }
}

#[tokio::test]
async fn a_body_goes_whole_and_a_response_past_the_window_is_read_to_its_end() {
    let (base, seen) = h2c_target().await;
    let client = h2_client(&base, &[]);
    let form = "user=ada&password=".to_owned() + &"p".repeat(100_000);
    let posted = client.send(&spec(hyper::Method::POST, "/login", Some(("application/x-www-form-urlencoded", &form))), 0, || 0, None).await;
    assert_eq!((posted.status, posted.failure, posted.bytes), (Some(200), None, 2), "{:?}", posted.detail);
    let big = client.send(&spec(hyper::Method::GET, "/big", None), 0, || 0, None).await;
    assert_eq!((big.status, big.failure, big.bytes), (Some(200), None, BIG as u64), "{:?}", big.detail);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen[0].line, "POST /login");
    assert_eq!(seen[0].body, form.as_bytes(), "the body arrived whole");
    assert_eq!(seen[0].headers.get("content-type").map(String::as_str), Some("application/x-www-form-urlencoded"));
    assert_eq!((seen[1].line.as_str(), seen[1].body.len()), ("GET /big", 0));
}

#[tokio::test]
async fn headers_http2_forbids_stay_home_and_the_rest_go() {
    let (base, seen) = h2c_target().await;
    let given = [
        ("connection", "keep-alive, x-hop"),
        ("x-hop", "only for this hop"),
        ("keep-alive", "timeout=5"),
        ("upgrade", "websocket"),
        ("te", "gzip"),
        ("x-team", "checkout"),
        ("authorization", "Bearer t"),
    ];
    let client = h2_client(&base, &given);
    let sent = client.send(&spec(hyper::Method::GET, "/", None), 0, || 0, None).await;
    assert_eq!((sent.status, sent.failure), (Some(200), None), "{:?}", sent.detail);
    let headers = seen.lock().unwrap()[0].headers.clone();
    for gone in ["connection", "x-hop", "keep-alive", "upgrade", "te"] {
        assert!(!headers.contains_key(gone), "{gone} is connection-specific: {headers:?}");
    }
    assert_eq!(headers.get("x-team").map(String::as_str), Some("checkout"));
    assert_eq!(headers.get("authorization").map(String::as_str), Some("Bearer t"));
    // `TE: trailers` is the one TE HTTP/2 allows.
    let client = h2_client(&base, &[("te", "trailers")]);
    let sent = client.send(&spec(hyper::Method::GET, "/", None), 0, || 0, None).await;
    assert_eq!(sent.failure, None, "{:?}", sent.detail);
    assert_eq!(seen.lock().unwrap()[1].headers.get("te").map(String::as_str), Some("trailers"));
}

#[tokio::test]
async fn a_stream_the_target_resets_fails_and_the_connection_serves_the_next() {
    let (base, seen) = h2c_target().await;
    let client = h2_client(&base, &[]);
    // A POST is not idempotent: reset before any response, it is not sent again.
    let reset = client.send(&spec(hyper::Method::POST, "/reset", Some(("text/plain", "x"))), 0, || 0, None).await;
    assert_eq!((reset.status, reset.retried), (None, false), "{:?}", reset.detail);
    assert!(reset.failure.is_some(), "a reset stream is a failure");
    assert!(reset.detail.as_deref().unwrap_or("").contains("stream error received"), "{:?}", reset.detail);
    let next = client.send(&spec(hyper::Method::GET, "/", None), 0, || 0, None).await;
    assert_eq!((next.status, next.failure), (Some(200), None), "{:?}", next.detail);
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_connection_hung_up_under_a_request_is_a_reset_and_an_idempotent_request_goes_again() {
    let (base, seen) = h2c_target().await;
    let client = h2_client(&base, &[]);
    let dropped = client.send(&spec(hyper::Method::GET, "/drop", None), 0, || 0, None).await;
    // The I/O error under h2's error is what classes it (h2 names no source).
    assert_eq!((dropped.status, dropped.failure), (None, Some(Failure::Reset)), "{:?}", dropped.detail);
    // Sent once and again at most MAX_RESENDS times, each on a new connection.
    assert_eq!(seen.lock().unwrap().len(), 1 + MAX_RESENDS as usize);
    let next = client.send(&spec(hyper::Method::GET, "/", None), 0, || 0, None).await;
    assert_eq!((next.status, next.failure), (Some(200), None), "{:?}", next.detail);
}
