//! The HTTP client: hyper's connection-level API on tokio, HTTP/1.1 and
//! HTTP/2 (ALPN over TLS, or `--http2` for cleartext h2c), TLS by rustls
//! with the webpki roots (`--insecure` to skip verification).
//!
//! A request never fails the run: whatever happens becomes an [`Outcome`]
//! with its failure class. Redirects are counted as statuses, not followed.
//!
//! The per-request path is kept short: the pool (`pool.rs`) is a stack of
//! idle connections behind one uncontended lock, the request is built once
//! from the spec with the Host header and base path prepared at start, and
//! the response body is read and dropped frame by frame.

mod cookies;
mod failure;
mod pool;
mod tls;

pub use cookies::CookieJar;

use crate::report::{Failure, Outcome};
use crate::request::RequestSpec;
use bytes::Bytes;
use failure::{classify_error, classify_status, describe};
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{CONTENT_TYPE, HOST, HeaderName, HeaderValue};
use pool::{Body, Conn, Pool, Target};
use std::sync::Arc;
use std::time::Duration;

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

impl ClientConfig {
    /// `base` with 32 connections, a 5 s timeout, HTTP/1.1 or negotiated HTTP/2, verified TLS, no extra headers.
    pub fn new(base: hyper::Uri) -> Self {
        ClientConfig {
            base,
            connections: 32,
            timeout: Duration::from_secs(5),
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
    /// The base path of `--host` without its trailing slash; each target is appended.
    base_path: String,
    /// `scheme://authority` + base path: HTTP/2 requests carry the absolute form.
    absolute_prefix: String,
}

type Exchange = Result<(u16, Vec<String>), (Failure, String)>;

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
        let extra_headers = config.headers.iter().filter(|(name, _)| name != HOST).cloned().collect();
        let base_path = config.base.path().trim_end_matches('/').to_owned();
        let absolute_prefix = format!("{}://{}{base_path}", if target.https { "https" } else { "http" }, target.authority);
        let pool = Pool::new(target, tls, config.http2)?;
        Ok(Client { shared: Arc::new(Shared { config, pool, host_header, host_given, extra_headers, base_path, absolute_prefix }) })
    }

    /// Sends `spec`; `intended_ns` and `now_ns` (nanoseconds after the run's start) time it.
    pub async fn send(&self, spec: &RequestSpec, intended_ns: u64, now_ns: impl Fn() -> u64) -> Outcome {
        self.send_in_session(spec, intended_ns, now_ns, None).await
    }

    /// Like [`Client::send`], sending the cookies in `jar` and keeping those the response sets.
    pub async fn send_in_session(
        &self,
        spec: &RequestSpec,
        intended_ns: u64,
        now_ns: impl Fn() -> u64,
        jar: Option<&mut CookieJar>,
    ) -> Outcome {
        let sent_ns = now_ns();
        let timeout = self.shared.config.timeout;
        let cookie = jar.as_ref().and_then(|j| j.header());
        let (status, failure, detail) = match tokio::time::timeout(timeout, self.exchange(spec, cookie.as_deref(), jar.is_some())).await {
            Ok(Ok((status, set_cookies))) => {
                if let Some(jar) = jar {
                    set_cookies.iter().for_each(|c| jar.keep(c));
                }
                let failure = classify_status(status);
                (Some(status), failure, failure.map(|_| format!("HTTP {status} from {} {}", spec.method, spec.target)))
            }
            Ok(Err((failure, detail))) => (None, Some(failure), Some(detail)),
            Err(_) => (None, Some(Failure::Timeout), Some(format!("no response within {timeout:?} from {} {}", spec.method, spec.target))),
        };
        Outcome { endpoint: spec.endpoint, intended_ns, sent_ns, done_ns: now_ns(), status, failure, detail }
    }

    async fn exchange(&self, spec: &RequestSpec, cookie: Option<&str>, keep_cookies: bool) -> Exchange {
        let pool = &self.shared.pool;
        let (mut conn, mut reused) = match pool.checkout() {
            Some(conn) => (conn, true),
            None => (pool.connect().await?, false),
        };
        let response = loop {
            let request = self.request(spec, cookie, conn.is_http2())?;
            match conn.send(request).await {
                Ok(response) => break response,
                Err(e) => {
                    let class = classify_error(e.error(), Failure::Other);
                    // A kept-alive connection the target had closed: the request never went out, or
                    // (idempotent, no response yet) may be sent again (RFC 9110, 9.2.2). Once more, on a new connection.
                    if reused && (e.message().is_some() || (class == Failure::Reset && idempotent(&spec.method))) {
                        conn = pool.connect().await?;
                        reused = false;
                        continue;
                    }
                    return Err((class, describe(e.error())));
                }
            }
        };
        let status = response.status().as_u16();
        let set_cookies = if keep_cookies {
            response.headers().get_all(hyper::header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok().map(str::to_owned)).collect()
        } else {
            Vec::new()
        };
        // Read the whole body: the response is not over until it is.
        let mut body = response.into_body();
        while let Some(frame) = body.frame().await {
            frame.map_err(|e| (classify_error(&e, Failure::Reset), describe(&e)))?;
        }
        if let Conn::Http1(sender) = conn {
            pool.put_back(sender);
        }
        Ok((status, set_cookies))
    }

    /// The request for `spec`: origin form and a Host header over HTTP/1.1, absolute form over HTTP/2.
    fn request(&self, spec: &RequestSpec, cookie: Option<&str>, http2: bool) -> Result<Request<Body>, (Failure, String)> {
        let shared = &*self.shared;
        let bad = |e: &dyn std::fmt::Display| (Failure::Other, format!("cannot build {} {}: {e}", spec.method, spec.target));
        let uri = if http2 {
            hyper::Uri::try_from(format!("{}{}", shared.absolute_prefix, spec.target))
        } else if shared.base_path.is_empty() {
            hyper::Uri::try_from(spec.target.clone())
        } else {
            hyper::Uri::try_from(format!("{}{}", shared.base_path, spec.target))
        }
        .map_err(|e| bad(&e))?;
        let method = hyper::Method::from_bytes(spec.method.as_bytes()).map_err(|e| bad(&e))?;
        let body = match &spec.body {
            Some((_, text)) => Full::new(Bytes::from(text.clone())),
            None => Full::new(Bytes::new()),
        };
        let mut request = Request::new(body);
        *request.method_mut() = method;
        *request.uri_mut() = uri;
        if http2 {
            *request.version_mut() = hyper::Version::HTTP_2;
        }
        let headers = request.headers_mut();
        if !http2 || shared.host_given {
            headers.insert(HOST, shared.host_header.clone());
        }
        for (name, value) in &shared.extra_headers {
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

/// Methods a client may send again after a connection failed before any response (RFC 9110, 9.2.2).
fn idempotent(method: &str) -> bool {
    matches!(method, "GET" | "HEAD" | "OPTIONS" | "TRACE" | "PUT" | "DELETE")
}
