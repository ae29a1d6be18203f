//! The example target: the classic Locust example's endpoints on loopback,
//! counting what it receives. `replay demo` replays against it, and the
//! tests use it as their target server.
//!
//! ```text
//! GET /            Our example home page.
//! POST /login      Login (and a `session` cookie)
//! GET /profile     Profile
//! GET /users/{id}  {"id": "…"}
//! ```
//! `GET /slow` answers after 2 s and `GET /fail` with 503, for failure tests.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use tokio::net::TcpListener;

/// Requests received, by `METHOD /path` (ids folded to `{id}`); under
/// `traced` those that carried `traceparent` and `x-replay-id`, under
/// `with the login cookie` those that sent back the cookie `POST /login` sets,
/// under `over HTTP/2` those that came by HTTP/2, and under `without a host`
/// those with neither a Host header nor an authority, and under
/// `connections` the connections accepted.
pub type Received = Arc<Mutex<BTreeMap<String, u64>>>;

async fn answer(request: Request<Incoming>, received: Received) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let logged_in = request.headers().get(hyper::header::COOKIE).is_some_and(|c| c.as_bytes().starts_with(b"session=demo"));
    let traced = request.headers().get("traceparent").is_some_and(|v| v.as_bytes().starts_with(b"00-"))
        && request.headers().contains_key("x-replay-id");
    let http2 = request.version() == hyper::Version::HTTP_2;
    let hostless = request.uri().authority().is_none() && !request.headers().contains_key(hyper::header::HOST);
    // `X-Delay-Ms: 40` makes any answer 40 ms slower (5 s at most): a target to compare runs against.
    let delay_ms = request.headers().get("x-delay-ms").and_then(|v| v.to_str().ok()?.parse::<u64>().ok()).unwrap_or(0).min(5000);
    if delay_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
    }
    let _ = request.into_body().collect().await?;
    let key_path = if path.starts_with("/users/") { "/users/{id}".to_owned() } else { path.clone() };
    {
        let mut received = received.lock().expect("received lock");
        *received.entry(format!("{method} {key_path}")).or_default() += 1;
        if traced {
            *received.entry("traced".to_owned()).or_default() += 1;
        }
        if logged_in {
            *received.entry("with the login cookie".to_owned()).or_default() += 1;
        }
        if http2 {
            *received.entry("over HTTP/2".to_owned()).or_default() += 1;
        }
        if hostless {
            *received.entry("without a host".to_owned()).or_default() += 1;
        }
    }
    let (status, body) = match (method.as_str(), path.as_str()) {
        ("GET", "/") => (StatusCode::OK, "Our example home page.".to_owned()),
        ("POST", "/login") => (StatusCode::OK, "Login".to_owned()),
        ("GET", "/profile") => (StatusCode::OK, "Profile".to_owned()),
        ("GET", "/slow") => {
            tokio::time::sleep(std::time::Duration::from_secs(2)).await;
            (StatusCode::OK, "Slow".to_owned())
        }
        ("GET", "/fail") => (StatusCode::SERVICE_UNAVAILABLE, "Unavailable".to_owned()),
        ("GET", p) if p.starts_with("/users/") => (StatusCode::OK, format!("{{\"id\": \"{}\"}}", &p[7..])),
        _ => (StatusCode::NOT_FOUND, "Not found".to_owned()),
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if method == hyper::Method::POST && path == "/login" {
        response.headers_mut().insert(hyper::header::SET_COOKIE, hyper::header::HeaderValue::from_static("session=demo; Path=/; HttpOnly"));
    }
    Ok(response)
}

/// Serves on `listener` (HTTP/1.1 and h2c) until `shutdown` resolves.
pub async fn serve(listener: TcpListener, received: Received, shutdown: impl Future<Output = ()>) {
    let counted = Arc::clone(&received);
    accept(listener, counted, shutdown, move |stream| serve_connection(stream, Arc::clone(&received))).await;
}

/// Like [`serve`], over TLS with `tls`: for testing `replay run` against HTTPS.
pub async fn serve_tls(listener: TcpListener, tls: Arc<rustls::ServerConfig>, received: Received, shutdown: impl Future<Output = ()>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    accept(listener, Arc::clone(&received), shutdown, move |stream| {
        let (acceptor, received) = (acceptor.clone(), Arc::clone(&received));
        async move {
            if let Ok(stream) = acceptor.accept(stream).await {
                serve_connection(stream, received).await;
            }
        }
    })
    .await;
}

/// Accepts connections until `shutdown`, each counted under `connections` and handled on its own task.
async fn accept<F: Future<Output = ()> + Send + 'static>(
    listener: TcpListener,
    received: Received,
    shutdown: impl Future<Output = ()>,
    handle: impl Fn(tokio::net::TcpStream) -> F,
) {
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => {
                if let Ok((stream, _)) = accepted {
                    *received.lock().expect("received lock").entry("connections".to_owned()).or_default() += 1;
                    tokio::spawn(handle(stream));
                }
            }
        }
    }
}

async fn serve_connection<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static>(stream: S, received: Received) {
    let service = hyper::service::service_fn(move |request| answer(request, Arc::clone(&received)));
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;
}

/// Binds 127.0.0.1 on a free port and serves there in the background.
pub async fn start() -> std::io::Result<(SocketAddr, Received, tokio::sync::oneshot::Sender<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let received = Received::default();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve(listener, Arc::clone(&received), async move {
        let _ = stopped.await;
    }));
    Ok((addr, received, stop))
}
