//! The HTTP client: hyper on tokio with a keep-alive pool, HTTP/1.1 and
//! HTTP/2 (ALPN over TLS, or `--http2` for cleartext h2c), TLS by rustls
//! with the webpki roots (`--insecure` to skip verification).
//!
//! A request never fails the run: whatever happens becomes an [`Outcome`]
//! with its failure class. Redirects are counted as statuses, not followed.

use crate::report::{Failure, Outcome};
use crate::request::RequestSpec;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
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
    inner: HyperClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    config: Arc<ClientConfig>,
    /// `scheme://authority/base-path`, built once; each request appends its target.
    prefix: Arc<str>,
}

/// Accepts any certificate: `--insecure`, for staging with self-signed certificates.
#[derive(Debug)]
struct AnyCertificate(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _: &rustls::pki_types::CertificateDer<'_>,
        _: &[rustls::pki_types::CertificateDer<'_>],
        _: &rustls::pki_types::ServerName<'_>,
        _: &[u8],
        _: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }
    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

impl Client {
    pub fn new(config: ClientConfig) -> Self {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .expect("ring supports the defaults");
        let tls = if config.insecure {
            tls.dangerous().with_custom_certificate_verifier(Arc::new(AnyCertificate(provider))).with_no_client_auth()
        } else {
            let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
            tls.with_root_certificates(roots).with_no_client_auth()
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        // ALPN offers h2 and http/1.1 over TLS; `--http2` also speaks h2 in cleartext.
        let builder = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_or_http();
        let connector =
            if config.http2 { builder.enable_http2().wrap_connector(http) } else { builder.enable_all_versions().wrap_connector(http) };
        let inner = HyperClient::builder(TokioExecutor::new())
            .pool_max_idle_per_host(config.connections)
            .pool_idle_timeout(Duration::from_secs(90))
            .http2_only(config.http2)
            .build(connector);
        let base = &config.base;
        let prefix: Arc<str> = format!(
            "{}://{}{}",
            base.scheme_str().unwrap_or("http"),
            base.authority().map_or("", |a| a.as_str()),
            base.path().trim_end_matches('/')
        )
        .into();
        Client { inner, config: Arc::new(config), prefix }
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
        let cookie = jar.as_ref().and_then(|j| j.header());
        let (status, failure, detail) = match tokio::time::timeout(self.config.timeout, self.exchange(spec, cookie)).await {
            Ok(Ok((status, set_cookies))) => {
                if let Some(jar) = jar {
                    set_cookies.iter().for_each(|c| jar.keep(c));
                }
                let failure = classify_status(status);
                (Some(status), failure, failure.map(|_| format!("HTTP {status} from {} {}", spec.method, spec.target)))
            }
            Ok(Err((failure, detail))) => (None, Some(failure), Some(detail)),
            Err(_) => (
                None,
                Some(Failure::Timeout),
                Some(format!("no response within {:?} from {} {}", self.config.timeout, spec.method, spec.target)),
            ),
        };
        Outcome { endpoint: spec.endpoint, intended_ns, sent_ns, done_ns: now_ns(), status, failure, detail }
    }

    async fn exchange(&self, spec: &RequestSpec, cookie: Option<String>) -> Result<(u16, Vec<String>), (Failure, String)> {
        let mut uri = String::with_capacity(self.prefix.len() + spec.target.len());
        uri.push_str(&self.prefix);
        uri.push_str(&spec.target);
        let mut request = Request::builder().method(spec.method.as_str()).uri(uri);
        for (name, value) in &self.config.headers {
            request = request.header(name, value);
        }
        if let Some(run_id) = self.config.trace_headers {
            // W3C trace context: the run is the trace, each request a span.
            request = request
                .header("traceparent", format!("00-{run_id:016x}{:016x}-{:016x}-01", spec.seq, spec.seq.wrapping_add(1)))
                .header("x-replay-id", format!("{run_id:016x}-{}", spec.seq));
        }
        if let Some(cookie) = cookie {
            request = request.header(hyper::header::COOKIE, cookie);
        }
        let body = match &spec.body {
            Some((content_type, text)) => {
                request = request.header(CONTENT_TYPE, content_type.as_str());
                Full::new(Bytes::from(text.clone()))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(body).map_err(|e| (Failure::Other, format!("cannot build {} {}: {e}", spec.method, spec.target)))?;
        let response = self.inner.request(request).await.map_err(|e| (classify_error(&e), describe(&e)))?;
        let status = response.status().as_u16();
        let set_cookies =
            response.headers().get_all(hyper::header::SET_COOKIE).iter().filter_map(|v| v.to_str().ok().map(str::to_owned)).collect();
        // Read the whole body: the response is not over until it is.
        response.into_body().collect().await.map_err(|e| (classify_error(&e), describe(&e)))?;
        Ok((status, set_cookies))
    }
}

/// A virtual user's cookies: what responses set, sent back on the next requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CookieJar {
    cookies: std::collections::BTreeMap<String, String>,
}

impl CookieJar {
    /// Keeps `name=value` from a `Set-Cookie` header (attributes are ignored; an empty value or Max-Age=0 removes it).
    pub fn keep(&mut self, set_cookie: &str) {
        let pair = set_cookie.split(';').next().unwrap_or("");
        let Some((name, value)) = pair.split_once('=') else { return };
        let expired = set_cookie.to_ascii_lowercase().contains("max-age=0");
        if value.trim().is_empty() || expired {
            self.cookies.remove(name.trim());
        } else {
            self.cookies.insert(name.trim().to_owned(), value.trim().to_owned());
        }
    }

    /// The `Cookie` header to send, if any.
    pub fn header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| self.cookies.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; "))
    }
}

fn classify_status(status: u16) -> Option<Failure> {
    match status {
        400..=499 => Some(Failure::Http4xx),
        500..=599 => Some(Failure::Http5xx),
        _ => None,
    }
}

/// The innermost cause in words (`invalid peer certificate: UnknownIssuer`, `Connection refused`).
fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    let mut innermost: &(dyn std::error::Error + 'static) = error;
    loop {
        let next = match innermost.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn std::error::Error + 'static)).or_else(|| innermost.source()),
            None => innermost.source(),
        };
        match next {
            Some(next) => innermost = next,
            None => return innermost.to_string(),
        }
    }
}

/// Walks an error's sources for what went wrong on the wire.
fn classify_error(error: &(dyn std::error::Error + 'static)) -> Failure {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut connect = false;
    while let Some(e) = source {
        if let Some(legacy) = e.downcast_ref::<hyper_util::client::legacy::Error>() {
            connect |= legacy.is_connect();
        }
        if e.downcast_ref::<rustls::Error>().is_some() {
            return Failure::Tls;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::*;
            // An io::Error's source() skips the error it wraps: look inside by hand.
            let mut wrapped = io.get_ref();
            while let Some(inner) = wrapped {
                if inner.is::<rustls::Error>() {
                    return Failure::Tls;
                }
                wrapped = inner.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref());
            }
            match io.kind() {
                ConnectionRefused | HostUnreachable | NetworkUnreachable | AddrNotAvailable => return Failure::Connect,
                ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof => return Failure::Reset,
                TimedOut => return Failure::Timeout,
                _ => {}
            }
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>()
            && (h.is_incomplete_message() || h.is_closed() || h.is_canceled())
        {
            return Failure::Reset;
        }
        source = e.source();
    }
    if connect { Failure::Connect } else { Failure::Other }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jar_keeps_what_responses_set() {
        let mut jar = CookieJar::default();
        assert_eq!(jar.header(), None);
        jar.keep("session=abc; Path=/; HttpOnly");
        jar.keep("theme=dark");
        assert_eq!(jar.header().as_deref(), Some("session=abc; theme=dark"));
        jar.keep("theme=; Max-Age=0");
        assert_eq!(jar.header().as_deref(), Some("session=abc"));
    }
}
