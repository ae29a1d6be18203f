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
//!
//! [`App::with_login`] makes it an app that needs its login, as the classic
//! Locust example's does: `POST /login` takes a form (`username=…&password=…`)
//! and accepts a user whose password is `pw-` and the name (`ann` / `pw-ann`),
//! answering 200 with a `session` cookie, or 401. Without the cookie, `GET /`
//! redirects to `/login` (302) and `GET /profile` answers 401.

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
///
/// An app that needs its login also counts `login <name>` for each accepted
/// login, `login failed` for each refused one, `sent to the login page`
/// for each request it answered 302 or 401 for want of the cookie, and
/// `gap_ms <N>` for each request of a logged-in user N ms (to 10 ms) after
/// that user's previous one (its cookie is `session=demo-<name>`).
pub type Received = Arc<Mutex<BTreeMap<String, u64>>>;

/// How the example server behaves.
#[derive(Debug, Clone, Default)]
pub struct App {
    /// `GET /` and `GET /profile` need the cookie `POST /login` sets for a good password.
    pub requires_login: bool,
    /// Where it writes a Combined access log of what it received, as a real server would (`replay diff`'s proof).
    pub access_log: Option<Arc<Mutex<Vec<u8>>>>,
    /// A broken staging: `GET /profile` is redirected to `/`.
    pub misroutes_profile: bool,
}

impl App {
    pub fn with_login() -> Self {
        App { requires_login: true, ..App::default() }
    }
}

/// One Combined log line for what was answered now.
fn log_line(log: &Mutex<Vec<u8>>, method: &str, target: &str, status: u16, bytes: usize) {
    let time = chrono::Utc::now().format("%d/%b/%Y:%H:%M:%S +0000");
    let line = format!("127.0.0.1 - - [{time}] \"{method} {target} HTTP/1.1\" {status} {bytes} \"-\" \"replay\"\n");
    log.lock().expect("log lock").extend_from_slice(line.as_bytes());
}

/// The user a login form names, when its password is right (`pw-` and the name).
fn accepted_user(form: &[u8]) -> Option<String> {
    let pairs: BTreeMap<String, String> = form::parse(form);
    let user = pairs.get("username").filter(|u| !u.is_empty())?;
    (pairs.get("password").map(String::as_str) == Some(format!("pw-{user}").as_str())).then(|| user.clone())
}

/// `a=1&b=x%20y` as pairs, percent-decoded.
mod form {
    use std::collections::BTreeMap;

    pub fn parse(form: &[u8]) -> BTreeMap<String, String> {
        form.split(|&b| b == b'&')
            .filter_map(|pair| {
                let mut halves = pair.splitn(2, |&b| b == b'=');
                Some((decode(halves.next()?), decode(halves.next().unwrap_or_default())))
            })
            .collect()
    }

    fn decode(bytes: &[u8]) -> String {
        let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
                (b'+', _, _) => out.push(b' '),
                (b'%', Some(high), Some(low)) => {
                    out.push(high << 4 | low);
                    i += 2;
                }
                (b, _, _) => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
}

/// Counts the gap since `user`'s previous request, to 10 ms, under `gap_ms <N>`; the time of
/// each user's last request is kept under `at <user>` (ms since the epoch).
fn note_gap(received: &Received, user: &str) {
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
    let mut received = received.lock().expect("received lock");
    if let Some(last) = received.insert(format!("at {user}"), now_ms) {
        let gap = now_ms.saturating_sub(last) / 10 * 10;
        *received.entry(format!("gap_ms {gap}")).or_default() += 1;
    }
}

async fn answer(request: Request<Incoming>, received: Received, app: App) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let target = request.uri().path_and_query().map_or_else(|| path.clone(), |t| t.as_str().to_owned());
    let cookie = request.headers().get(hyper::header::COOKIE).map(|c| String::from_utf8_lossy(c.as_bytes()).into_owned());
    let logged_in = cookie.as_deref().is_some_and(|c| c.starts_with("session=demo"));
    if app.requires_login
        && let Some(user) = cookie.as_deref().and_then(|c| c.strip_prefix("session=demo-"))
    {
        note_gap(&received, user);
    }
    let traced = request.headers().get("traceparent").is_some_and(|v| v.as_bytes().starts_with(b"00-"))
        && request.headers().contains_key("x-replay-id");
    let http2 = request.version() == hyper::Version::HTTP_2;
    let hostless = request.uri().authority().is_none() && !request.headers().contains_key(hyper::header::HOST);
    // `X-Delay-Ms: 40` makes any answer 40 ms slower (5 s at most): a target to compare runs against.
    let delay_ms = request.headers().get("x-delay-ms").and_then(|v| v.to_str().ok()?.parse::<u64>().ok()).unwrap_or(0).min(5000);
    if delay_ms > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(delay_ms)).await;
    }
    let body = request.into_body().collect().await?.to_bytes();
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
    let count = |what: String| *received.lock().expect("received lock").entry(what).or_default() += 1;
    let mut login_cookie = (!app.requires_login).then(|| "session=demo; Path=/; HttpOnly".to_owned());
    let (status, body) = match (method.as_str(), path.as_str()) {
        ("POST", "/login") if app.requires_login => match accepted_user(&body) {
            Some(user) => {
                count(format!("login {user}"));
                note_gap(&received, &user);
                login_cookie = Some(format!("session=demo-{user}; Path=/; HttpOnly"));
                (StatusCode::OK, "Login".to_owned())
            }
            None => {
                count("login failed".to_owned());
                (StatusCode::UNAUTHORIZED, "Login failed".to_owned())
            }
        },
        ("GET", "/" | "/profile") if app.requires_login && !logged_in => {
            count("sent to the login page".to_owned());
            if path == "/" { (StatusCode::FOUND, String::new()) } else { (StatusCode::UNAUTHORIZED, "Log in first".to_owned()) }
        }
        ("GET", "/profile") if app.misroutes_profile => (StatusCode::FOUND, String::new()),
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
    if let Some(log) = &app.access_log {
        log_line(log, method.as_str(), &target, status.as_u16(), body.len());
    }
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    if method == hyper::Method::POST
        && path == "/login"
        && let Some(cookie) = login_cookie.and_then(|c| hyper::header::HeaderValue::from_str(&c).ok())
    {
        response.headers_mut().insert(hyper::header::SET_COOKIE, cookie);
    }
    if status == StatusCode::FOUND {
        let to = if app.misroutes_profile && path == "/profile" { "/" } else { "/login" };
        response.headers_mut().insert(hyper::header::LOCATION, hyper::header::HeaderValue::from_static(to));
    }
    Ok(response)
}

/// Serves on `listener` (HTTP/1.1 and h2c) until `shutdown` resolves.
pub async fn serve(listener: TcpListener, received: Received, shutdown: impl Future<Output = ()>) {
    serve_app(listener, App::default(), received, shutdown).await;
}

/// [`serve`] as `app`.
pub async fn serve_app(listener: TcpListener, app: App, received: Received, shutdown: impl Future<Output = ()>) {
    let counted = Arc::clone(&received);
    accept(listener, counted, shutdown, move |stream| serve_connection(stream, Arc::clone(&received), app.clone())).await;
}

/// Like [`serve`], over TLS with `tls`: for testing `replay run` against HTTPS.
pub async fn serve_tls(listener: TcpListener, tls: Arc<rustls::ServerConfig>, received: Received, shutdown: impl Future<Output = ()>) {
    let acceptor = tokio_rustls::TlsAcceptor::from(tls);
    accept(listener, Arc::clone(&received), shutdown, move |stream| {
        let (acceptor, received) = (acceptor.clone(), Arc::clone(&received));
        async move {
            if let Ok(stream) = acceptor.accept(stream).await {
                serve_connection(stream, received, App::default()).await;
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

async fn serve_connection<S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static>(
    stream: S,
    received: Received,
    app: App,
) {
    let service = hyper::service::service_fn(move |request| answer(request, Arc::clone(&received), app.clone()));
    let _ = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;
}

/// Binds 127.0.0.1 on a free port and serves there in the background.
pub async fn start() -> std::io::Result<(SocketAddr, Received, tokio::sync::oneshot::Sender<()>)> {
    start_app(App::default()).await
}

/// [`start`] as `app`.
pub async fn start_app(app: App) -> std::io::Result<(SocketAddr, Received, tokio::sync::oneshot::Sender<()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let received = Received::default();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(serve_app(listener, app, Arc::clone(&received), async move {
        let _ = stopped.await;
    }));
    Ok((addr, received, stop))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_form_is_accepted_with_the_users_password_only() {
        assert_eq!(accepted_user(b"username=ann&password=pw-ann").as_deref(), Some("ann"));
        assert_eq!(accepted_user(b"password=pw-o%27neil&username=o%27neil").as_deref(), Some("o'neil"));
        assert_eq!(accepted_user(b"username=ann&password=wrong"), None);
        assert_eq!(accepted_user(b"username=&password=pw-"), None);
        assert_eq!(accepted_user(b""), None);
        assert_eq!(form::parse(b"a=%zz&b=x+y%2"), [("a".into(), "%zz".into()), ("b".into(), "x y%2".into())].into_iter().collect());
    }
}
