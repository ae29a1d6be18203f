//! The HTTP client on tokio: HTTP/1.1 as the request's own exchange on the
//! connection it holds (`h1.rs`, httparse), HTTP/2 by the
//! `h2` crate (ALPN over TLS, or `--http2` for cleartext h2c), TLS
//! by rustls with the webpki roots (`--insecure` to skip verification).
//!
//! A request never fails the run: whatever happens becomes an [`Outcome`]
//! with its failure class. Redirects are counted as statuses, not followed.
//! A request goes out once more, on a new connection, when the protocol
//! says it was never processed: a kept-alive connection the target had
//! closed, an idempotent request reset before any response (RFC 9110
//! 9.2.2), or streams an HTTP/2 GOAWAY or REFUSED_STREAM left unprocessed
//! (RFC 9113 6.8, 8.7); its outcome says it was retried.
//!
//! The per-request path is kept short: the pool (`pool.rs`) is a stack of
//! idle connections behind one uncontended lock; over HTTP/1.1 the request
//! head is written from the spec into the connection's buffer with the Host
//! header and base path prepared at start, and the response is parsed in
//! place and its body counted, not kept. `--timeout` is a deadline in a slot
//! of a table one sweeper looks over (`timeouts.rs`), and a deferred read
//! waits for the loop's next word as a count (`next_word.rs`): neither files
//! and unfiles a timer per request.

mod cookies;
mod deferred;
mod failure;
mod h1;
mod next_word;
mod outcome;
mod pool;
mod response_head;
mod stream;
mod ticked;
mod timeouts;
mod tls;

pub use cookies::CookieJar;
pub use outcome::{Failure, Outcome};

use crate::plan::RequestSpec;
use bytes::Bytes;
use deferred::ReadTick;
use failure::{classify_error, classify_status, describe};
use h1::H1;
use hyper::Request;
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use pool::{Conn, H2, Pool, Target};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `http://host:port` or `https://host:port`, with any base path.
    pub base: hyper::Uri,
    pub connections: usize,
    pub timeout: Duration,
    pub http2: bool,
    pub insecure: bool,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// Add `traceparent` and `x-replay-id` so staging's tracing can be matched to the run.
    pub trace_headers: Option<u64>,
}

/// A request goes out at most this many times more, and only when the protocol says it was never processed.
const MAX_RESENDS: u32 = 3;

/// Requests in flight at most, when not given (`--connections`).
pub const DEFAULT_CONNECTIONS: usize = 64;

/// The per-request timeout, when not given (`--timeout`).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

impl ClientConfig {
    /// `base` with 64 connections, a 5 s timeout, HTTP/1.1 or negotiated HTTP/2, verified TLS, no extra headers.
    pub fn new(base: hyper::Uri) -> Self {
        ClientConfig {
            base,
            connections: DEFAULT_CONNECTIONS,
            timeout: DEFAULT_TIMEOUT,
            http2: false,
            insecure: false,
            headers: vec![],
            trace_headers: None,
        }
    }
}

#[derive(Clone)]
pub struct Client {
    shared: Arc<Shared>,
}

struct Shared {
    config: ClientConfig,
    pool: Pool,
    /// A `--header 'Host: …'` if given (sent over HTTP/2 too), else the authority of `--host`.
    host_header: HeaderValue,
    host_given: bool,
    /// The `--header`s but Host, sent as they are.
    extra_headers: Vec<(HeaderName, HeaderValue)>,
    /// Those HTTP/2 may carry ([`h2_headers`]).
    h2_headers: Vec<(HeaderName, HeaderValue)>,
    /// The base path of `--host` without its trailing slash; each target is appended.
    base_path: String,
    /// The scheme and authority of `--host`: HTTP/2 requests carry the absolute form, made of
    /// these (cloned, not parsed again) and the request's own path.
    origin: (hyper::http::uri::Scheme, hyper::http::uri::Authority),
    /// The loop's wakes, which deferred reads wait for (`deferred.rs`).
    tick: Arc<ReadTick>,
    /// Idle timers for `--timeout`, reused from request to request (`timeouts.rs`).
    timers: timeouts::Timers,
}

/// What came back: the status, the cookies set, whether the request went out again, the body's size.
struct Exchanged {
    status: u16,
    /// A redirect to a login page, or back to where the request went.
    to_login: bool,
    set_cookies: Vec<String>,
    retried: bool,
    bytes: u64,
    /// When the response arrived, by the kernel's stamp, if it was read later (`deferred.rs`).
    arrived: Option<Instant>,
}

type Exchange = Result<Exchanged, (Failure, String)>;

/// What sends a request and says what became of it: the [`Client`], or a test's stand-in.
pub trait Transport: Clone + Send + Sync + 'static {
    /// Sends `spec`; `intended_ns` and `now_ns` (nanoseconds after the run's start) time it.
    /// With a `jar`, sends its cookies and keeps those the response sets.
    fn send(
        &self,
        spec: &RequestSpec,
        intended_ns: u64,
        now_ns: impl Fn() -> u64 + Send,
        jar: Option<&mut CookieJar>,
    ) -> impl std::future::Future<Output = Outcome> + Send;

    /// The loop has sent what was due and is about to wait this long (`Duration::MAX`: for a
    /// connection, or for good): responses waiting for its wakes are read now.
    fn will_wait(&self, _gap: Duration) {}
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Self, String> {
        let target = Target::new(&config.base);
        let tls = target.https.then(|| tls::client_config(config.insecure, config.http2));
        let given_host = config.headers.iter().rev().find(|(name, _)| name == HOST).map(|(_, value)| value.clone());
        let host_given = given_host.is_some();
        let host_header = match given_host {
            Some(host) => host,
            None => HeaderValue::from_str(&target.authority).map_err(|e| format!("`{}` cannot be a Host header: {e}", target.authority))?,
        };
        let extra_headers: Vec<(HeaderName, HeaderValue)> = config.headers.iter().filter(|(name, _)| name != HOST).cloned().collect();
        let base_path = config.base.path().trim_end_matches('/').to_owned();
        let scheme = if target.https { hyper::http::uri::Scheme::HTTPS } else { hyper::http::uri::Scheme::HTTP };
        let authority = hyper::http::uri::Authority::try_from(target.authority.as_str())
            .map_err(|e| format!("`{}` cannot be a URL's authority: {e}", target.authority))?;
        let tick = Arc::new(ReadTick::default());
        let pool = Pool::new(target, tls, config.http2, Arc::clone(&tick))?;
        let h2_headers = h2_headers(&extra_headers);
        let shared = Shared {
            config,
            pool,
            host_header,
            host_given,
            extra_headers,
            h2_headers,
            base_path,
            origin: (scheme, authority),
            tick,
            timers: Default::default(),
        };
        Ok(Client { shared: Arc::new(shared) })
    }

    /// Opens up to `n` connections before the run's clock starts and leaves
    /// them idle, so the first requests of a run do not each wait for a
    /// connection (production's clients had theirs open): without this, a
    /// burst in the first milliseconds goes out late by the connections'
    /// set-up. One is enough over HTTP/2, which shares it. Waits at most
    /// `within`; what fails to open is left to the run, which counts it.
    pub async fn warm(&self, n: usize, within: std::time::Duration) {
        let pool = &self.shared.pool;
        match tokio::time::timeout(within, pool.connect()).await {
            Ok(Ok(Conn::Http1(sender))) => pool.put_back(sender),
            _ => return,
        }
        let mut opening = tokio::task::JoinSet::new();
        for _ in 1..n {
            let client = self.clone();
            opening.spawn(async move {
                if let Ok(Conn::Http1(sender)) = client.shared.pool.connect().await {
                    client.shared.pool.put_back(sender);
                }
            });
        }
        let _ = tokio::time::timeout(within, async { while opening.join_next().await.is_some() {} }).await;
    }

    async fn exchange(&self, spec: &RequestSpec, cookie: Option<&str>, keep_cookies: bool) -> Exchange {
        let pool = &self.shared.pool;
        let (mut conn, mut reused, spare) = match pool.checkout() {
            Some((conn, spare)) => (conn, true, spare),
            // Opening a connection (TCP, TLS, HTTP/2 handshakes) is rare and its future large: boxed, it
            // does not make every request's task that large (each task is copied as it is spawned).
            None => (Box::pin(pool.connect()).await?, false, 0),
        };
        // Deferred while the loop wakes often and connections are to spare: a deferred
        // response holds its connection until the next wake.
        let defer = spare >= deferred::SPARE && self.shared.tick.dense();
        let mut retried = false;
        loop {
            let h1 = match conn {
                Conn::Http1(mut h1) => {
                    // Once deferred, a connection stays so until a read of its finds the loop not
                    // waking soon: a change costs a system call.
                    if defer {
                        h1.defer(true);
                    }
                    h1
                }
                Conn::Http2(sender) => return Box::pin(self.exchange_h2(sender, spec, cookie, keep_cookies, retried)).await,
            };
            match self.exchange_h1(h1, spec, cookie, keep_cookies).await {
                Ok(mut exchanged) => {
                    exchanged.retried = retried;
                    return Ok(exchanged);
                }
                Err(failed) => {
                    // A kept-alive connection the target had closed: the request never went out, or
                    // (idempotent, no response yet) may be sent again (RFC 9110, 9.2.2).
                    let stale = reused
                        && !retried
                        && failed.before_response
                        && failed.class == Failure::Reset
                        && (failed.unwritten || idempotent(&spec.method));
                    if !stale {
                        return Err((failed.class, failed.detail));
                    }
                    conn = Box::pin(pool.connect()).await?;
                    (reused, retried) = (false, true);
                }
            }
        }
    }

    /// One exchange on an HTTP/1.1 connection, which goes back to the pool if it can carry another.
    async fn exchange_h1(
        &self,
        mut conn: Box<H1>,
        spec: &RequestSpec,
        cookie: Option<&str>,
        keep_cookies: bool,
    ) -> Result<Exchanged, h1::Failed> {
        let shared = &*self.shared;
        let head = h1::Head {
            method: &spec.method,
            base_path: &shared.base_path,
            target: &spec.target,
            host: &shared.host_header,
            headers: &shared.extra_headers,
            trace: shared.config.trace_headers.map(|run_id| (run_id, spec.seq)),
            cookie,
            body: spec.body.as_ref().map(|(content_type, text)| (content_type.as_str(), text.as_str())),
        };
        let answer = conn.exchange(&head, keep_cookies).await?;
        if answer.reusable {
            shared.pool.put_back(conn);
        }
        let h1::Answer { status, to_login, set_cookies, bytes, arrived, .. } = answer;
        Ok(Exchanged { status, to_login, set_cookies, retried: false, bytes, arrived })
    }

    /// An exchange over the shared HTTP/2 connection; streams the target did not process go again on a new one.
    async fn exchange_h2(&self, mut h2: H2, spec: &RequestSpec, cookie: Option<&str>, keep_cookies: bool, mut retried: bool) -> Exchange {
        let pool = &self.shared.pool;
        // Sends after the first: streams a GOAWAY left unprocessed may meet another GOAWAY on the next connection.
        let mut resends = 0;
        let response = loop {
            let request = self.request(spec, cookie)?;
            let attempt = match send_h2(h2.sender, request, spec.body.as_ref().map(|(_, text)| text)).await {
                Ok(response) => response.await.map_err(|e| (e, false)),
                Err(e) => Err(e),
            };
            match attempt {
                Ok(response) => break response,
                Err((e, unsent)) => {
                    let class = classify_error(&e, Failure::Other);
                    let idempotent = idempotent(&spec.method);
                    // The target said it did not process this stream (RFC 9113, 6.8 and 8.7), or the
                    // shared connection broke under an idempotent request before any response.
                    let resend_idempotent = class == Failure::Reset && idempotent;
                    // A request the connection refused to open (it had closed) goes again whatever its method.
                    let unprocessed = resends < MAX_RESENDS && (unsent || failure::unprocessed(&e, idempotent) || resend_idempotent);
                    if !unprocessed {
                        return Err((class, describe(&e)));
                    }
                    pool.forget_h2();
                    // Both rare and large (a TLS handshake; a whole HTTP/1.1 exchange): boxed, they do
                    // not make every HTTP/2 request's future, copied as it is boxed, kilobytes larger.
                    h2 = match Box::pin(pool.connect()).await? {
                        Conn::Http2(h2) => h2,
                        // The new connection chose HTTP/1.1 (another server behind the same name).
                        Conn::Http1(h1) => {
                            let exchanged = Box::pin(self.exchange_h1(h1, spec, cookie, keep_cookies)).await;
                            return exchanged.map(|e| Exchanged { retried: true, ..e }).map_err(|f| (f.class, f.detail));
                        }
                    };
                    retried = true;
                    resends += 1;
                }
            }
        };
        let status = response.status().as_u16();
        let to_login = response.status().is_redirection()
            && response.headers().get(hyper::header::LOCATION).is_some_and(|l| redirects_to_login(l.as_bytes(), &spec.target));
        let set_cookies = if keep_cookies {
            response.headers().get_all(hyper::header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok().map(str::to_owned)).collect()
        } else {
            Vec::new()
        };
        // Read the whole body: the response is not over until it is. Each chunk read gives its
        // room back to the target's send window.
        let mut body = response.into_body();
        let mut bytes = 0u64;
        while let Some(chunk) = body.data().await {
            let chunk = chunk.map_err(|e| (classify_error(&e, Failure::Reset), describe(&e)))?;
            bytes += chunk.len() as u64;
            let _ = body.flow_control().release_capacity(chunk.len());
        }
        // Its last bytes came in the connection's latest read or an earlier one (`ticked.rs`).
        Ok(Exchanged { status, to_login, set_cookies, retried, bytes, arrived: h2.arrival.get() })
    }

    /// The request head for `spec` over HTTP/2: the absolute form, a Host header only when `--header` gave one.
    fn request(&self, spec: &RequestSpec, cookie: Option<&str>) -> Result<Request<()>, (Failure, String)> {
        let shared = &*self.shared;
        // The target may hold `--var` values: the message names neither it nor them.
        let bad = |e: &dyn std::fmt::Display| (Failure::Other, format!("cannot build the request: {e}"));
        let build = |target: &str| -> Result<hyper::Uri, String> {
            if !target.starts_with('/') {
                // `OPTIONS *` and CONNECT's `host:443` go as they are.
                return hyper::Uri::try_from(target).map_err(|e| e.to_string());
            }
            let path = if shared.base_path.is_empty() {
                hyper::http::uri::PathAndQuery::try_from(target)
            } else {
                hyper::http::uri::PathAndQuery::try_from(format!("{}{target}", shared.base_path))
            };
            let mut parts = hyper::http::uri::Parts::default();
            parts.scheme = Some(shared.origin.0.clone());
            parts.authority = Some(shared.origin.1.clone());
            parts.path_and_query = Some(path.map_err(|e| e.to_string())?);
            hyper::Uri::from_parts(parts).map_err(|e| e.to_string())
        };
        // A logged target may hold bytes a URI cannot (`{`, a space): they go percent-encoded.
        let uri = build(&spec.target).or_else(|_| build(&percent_encode_target(&spec.target))).map_err(|e| bad(&e))?;
        let mut request = Request::new(());
        *request.method_mut() = spec.method.clone();
        *request.uri_mut() = uri;
        *request.version_mut() = hyper::Version::HTTP_2;
        let headers = request.headers_mut();
        if shared.host_given {
            headers.insert(HOST, shared.host_header.clone());
        }
        for (name, value) in &shared.h2_headers {
            headers.append(name.clone(), value.clone());
        }
        if let Some(run_id) = shared.config.trace_headers {
            // W3C trace context: the run is the trace, each request a span.
            let traceparent = format!("00-{run_id:016x}{:016x}-{:016x}-01", spec.seq, spec.seq.wrapping_add(1));
            headers.insert("traceparent", HeaderValue::from_str(&traceparent).map_err(|e| bad(&e))?);
            headers.insert("x-replay-id", HeaderValue::from_str(&format!("{run_id:016x}-{}", spec.seq)).map_err(|e| bad(&e))?);
        }
        if let Some(cookie) = cookie {
            headers.insert(hyper::header::COOKIE, HeaderValue::from_str(cookie).map_err(|e| bad(&e))?);
        }
        if let Some((content_type, _)) = &spec.body {
            headers.insert(CONTENT_TYPE, HeaderValue::from_str(content_type).map_err(|e| bad(&e))?);
        }
        Ok(request)
    }
}

/// Opens a request's stream and sends its head and body. An error here means the stream
/// was never opened on a connection that broke or is going away (`true`: the request may go
/// again on another connection), or the request itself was refused or its body could not be
/// sent (`false`).
async fn send_h2(
    sender: h2::client::SendRequest<Bytes>,
    request: Request<()>,
    body: Option<&String>,
) -> Result<h2::client::ResponseFuture, (h2::Error, bool)> {
    // Only a connection's failure, not the request's own, is worth another connection.
    let unopened = |e: h2::Error| {
        let connection = failure::of_the_connection(&e);
        (e, connection)
    };
    let mut sender = sender.ready().await.map_err(unopened)?;
    let (response, mut stream) = sender.send_request(request, body.is_none()).map_err(unopened)?;
    if let Some(body) = body {
        // Buffered by the connection, sent as the target's window allows.
        stream.send_data(Bytes::from(body.clone()), true).map_err(|e| (e, false))?;
    }
    Ok(response)
}

/// The `--header`s HTTP/2 may carry: without the connection-specific ones it forbids
/// (RFC 9113, 8.2.2: `Connection` and the headers it names, `Keep-Alive`,
/// `Proxy-Connection`, `Transfer-Encoding`, `Upgrade`, and `TE` but `TE: trailers`).
fn h2_headers(headers: &[(HeaderName, HeaderValue)]) -> Vec<(HeaderName, HeaderValue)> {
    use hyper::header::{CONNECTION, TE, TRANSFER_ENCODING, UPGRADE};
    let named_by_connection: Vec<String> = headers
        .iter()
        .filter(|(name, _)| name == CONNECTION)
        .filter_map(|(_, value)| value.to_str().ok())
        .flat_map(|value| value.split(',').map(|n| n.trim().to_ascii_lowercase()))
        .collect();
    headers
        .iter()
        .filter(|(name, value)| {
            let forbidden = [CONNECTION, TRANSFER_ENCODING, UPGRADE].contains(name)
                || ["keep-alive", "proxy-connection"].contains(&name.as_str())
                || (name == TE && value.as_bytes() != b"trailers")
                || named_by_connection.iter().any(|n| n == name.as_str());
            !forbidden
        })
        .cloned()
        .collect()
}

/// `--host` as it may be shown: without any `user:password@`.
pub fn display_url(uri: &hyper::Uri) -> String {
    match (uri.authority(), uri.scheme_str()) {
        (Some(authority), Some(scheme)) if authority.as_str().contains('@') => {
            let host = authority.as_str().rsplit('@').next().unwrap_or_default();
            format!("{scheme}://{host}{}", uri.path_and_query().map_or("/", |p| p.as_str()))
        }
        _ => uri.to_string(),
    }
}

impl Transport for Client {
    fn will_wait(&self, gap: Duration) {
        self.shared.tick.sleeps_for(gap);
    }

    async fn send(&self, spec: &RequestSpec, intended_ns: u64, now_ns: impl Fn() -> u64 + Send, jar: Option<&mut CookieJar>) -> Outcome {
        let sent_ns = now_ns();
        let timeout = self.shared.config.timeout;
        let cookie = jar.as_ref().and_then(|j| j.header());
        // Pinned here, so waiting on it within the timeout moves a pointer, not the exchange.
        let exchange = self.exchange(spec, cookie.as_deref(), jar.is_some());
        tokio::pin!(exchange);
        let (status, failure, detail, (retried, bytes, to_login), arrived) = match self.shared.timers.within(timeout, exchange).await {
            Ok(Ok(Exchanged { status, to_login, set_cookies, retried, bytes, arrived })) => {
                if let Some(jar) = jar {
                    set_cookies.iter().for_each(|c| jar.keep(c));
                }
                let failure = classify_status(status);
                (Some(status), failure, failure.map(|_| format!("HTTP {status}")), (retried, bytes, to_login), arrived)
            }
            Ok(Err((failure, detail))) => (None, Some(failure), Some(detail), (false, 0, false), None),
            Err(_) => (
                None,
                Some(Failure::Timeout),
                Some(format!("no response within {}", crate::units::human_duration(timeout.as_secs_f64()))),
                (false, 0, false),
                None,
            ),
        };
        // A response read on a later wake is timed by when the kernel took it in.
        let now = now_ns();
        let done_ns = arrived.map_or(now, |at| now.saturating_sub(at.elapsed().as_nanos() as u64).max(sent_ns));
        Outcome {
            endpoint: spec.endpoint,
            intended_ns,
            sent_ns,
            done_ns,
            status,
            failure,
            detail,
            retried,
            bytes,
            synthetic: spec.synthetic,
            to_login,
        }
    }
}

/// Whether a redirect's `location` leads to a login page (`/login?next=…`,
/// `https://sso.example/signin`) or back to `target`, the path the request went to.
fn redirects_to_login(location: &[u8], target: &str) -> bool {
    let Ok(location) = std::str::from_utf8(location) else { return false };
    // The path of an absolute URL (`https://host/path`) or of a relative one.
    let path = match location.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |at| &rest[at..]),
        None => location,
    };
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let own = target.split(['?', '#']).next().unwrap_or(target);
    crate::profile::login::looks_like_login(path) || path == own
}

/// `target` with every byte a request-target cannot hold percent-encoded
/// (controls, space, `"<>\^`{|}#`, non-ASCII); `%` escapes already there stay.
pub fn percent_encode_target(target: &str) -> String {
    let mut out = String::with_capacity(target.len() + 16);
    for &b in target.as_bytes() {
        if b.is_ascii_graphic() && !b"\"<>\\^`{|}#".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Methods a client may send again after a connection failed before any response (RFC 9110, 9.2.2).
fn idempotent(method: &hyper::Method) -> bool {
    use hyper::Method;
    [Method::GET, Method::HEAD, Method::OPTIONS, Method::TRACE, Method::PUT, Method::DELETE].contains(method)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_requests_future_stays_small() {
        // tokio copies each request's task as it spawns and finishes it: the rare, large part
        // (opening a connection: TCP, TLS, HTTP/2) is boxed so those copies stay cheap (9 KB
        // before; 2.9 KB with hyper's HTTP/1.1 client; 1.1 KB with the request's own exchange).
        let client = Client::new(ClientConfig::new("http://127.0.0.1:9".parse().unwrap())).unwrap();
        let spec = RequestSpec { seq: 0, endpoint: 0, method: hyper::Method::GET, target: "/".into(), body: None, synthetic: false };
        let sending = client.send(&spec, 0, || 0, None);
        assert!(std::mem::size_of_val(&sending) <= 1536, "{} bytes", std::mem::size_of_val(&sending));
    }

    #[test]
    fn an_http2_exchanges_future_stays_small() {
        // Each HTTP/2 request's exchange is boxed (copied once as it is): opening a new connection
        // and an HTTP/1.1 fallback, both rare, are boxed inside it, or they made it kilobytes.
        fn size_of_output<A, R>(_: impl Fn(A) -> R) -> usize {
            std::mem::size_of::<R>()
        }
        let client = Client::new(ClientConfig::new("http://127.0.0.1:9".parse().unwrap())).unwrap();
        let spec = RequestSpec { seq: 0, endpoint: 0, method: hyper::Method::GET, target: "/".into(), body: None, synthetic: false };
        let size = size_of_output(|h2: H2| client.exchange_h2(h2, &spec, None, false, false));
        assert!(size <= 1024, "{size} bytes");
    }

    #[test]
    fn credentials_in_the_url_are_never_shown() {
        let uri: hyper::Uri = "https://ops:p%40ss@staging.example.com:8443/api".parse().unwrap();
        assert_eq!(display_url(&uri), "https://staging.example.com:8443/api");
        assert_eq!(display_url(&"http://127.0.0.1:8080".parse().unwrap()), "http://127.0.0.1:8080/");
    }

    #[test]
    fn targets_a_uri_cannot_hold_go_percent_encoded() {
        assert_eq!(percent_encode_target("/sra_{BA19}/x?a=${IFS}"), "/sra_%7BBA19%7D/x?a=$%7BIFS%7D");
        assert_eq!(percent_encode_target("/libs/owl.js type="), "/libs/owl.js%20type=");
        assert_eq!(percent_encode_target("/caf\u{e9}?q=%20"), "/caf%C3%A9?q=%20");
        for target in ["/sra_{BA19}/x", "/a b", "/\"quoted\"", "/caf\u{e9}"] {
            assert!(hyper::Uri::try_from(percent_encode_target(target)).is_ok(), "{target}");
        }
    }
}

#[cfg(test)]
#[path = "h2_tests.rs"]
mod h2_tests;
