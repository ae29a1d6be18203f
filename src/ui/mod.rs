//! The live web view (`replay run --ui`, `replay demo --ui`, `replay ui`):
//! a page on loopback port 8089, as Locust users know it, that watches a
//! run unfold from the run's own tally and, under `replay ui`, starts and
//! stops runs from a form. Built in and offline: hyper serves it, and the
//! page's script, style and charts come with the binary.
//!
//! - `live.rs`: a run's [`live::Snapshot`], built once a second from the tally.
//! - `feed.rs`: the latest snapshot and the past runs, between a run and the pages.
//! - `server.rs`: the routes, and [`Access`] in front of them.
//! - `control.rs`: the form and the [`control::Control`] that `replay ui` implements.
//! - `assets/`: the page, its script and its style. docs/ui.md says what each chart means.
//!
//! Safety: bound to loopback unless told otherwise; any other address needs a token
//! (`--ui-token`), printed once at start and asked of every request. The page never
//! receives a header or `--var` value: the snapshot holds results.json's figures only.

pub mod control;
pub mod feed;
pub mod live;
mod server;

use hyper::header::HeaderValue;
use std::net::SocketAddr;
use std::sync::Arc;

/// Locust's port, which its users know.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8089";
/// A token given on the command line is at least this long.
const MIN_TOKEN: usize = 16;

/// The page, its script and its style, built into the binary.
mod assets {
    pub const PAGE: &str = include_str!("assets/index.html");
    pub const SCRIPT: &str = include_str!("assets/app.js");
    pub const STYLE: &str = include_str!("assets/app.css");
}

/// Where the view listens, and the token it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UiOptions {
    pub addr: SocketAddr,
    /// `--ui-token`: a token, or `auto` to make one.
    pub token: Option<String>,
}

/// What a request must show to be served.
pub struct Access {
    token: Option<String>,
    /// Only loopback names in `Host` (against a site rebinding its name to 127.0.0.1); off once a token guards the server.
    loopback_hosts: bool,
}

impl Access {
    /// Whether the headers or the query carry what is asked.
    fn check(&self, headers: &hyper::HeaderMap, query: &str) -> Result<(), String> {
        if self.loopback_hosts {
            let host = headers.get(hyper::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
            let name =
                host.rsplit_once(':').map_or(host, |(name, port)| if port.bytes().all(|b| b.is_ascii_digit()) { name } else { host });
            if !matches!(name, "127.0.0.1" | "localhost" | "[::1]") {
                return Err(format!(
                    "this server answers requests for 127.0.0.1 or localhost only, not `{}`",
                    crate::untrusted::terminal(host)
                ));
            }
        }
        let Some(token) = &self.token else { return Ok(()) };
        let bearer = headers.get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        let cookie = headers
            .get_all(hyper::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().strip_prefix(server_cookie_prefix()))
            .next();
        let given = [bearer, cookie, query_token(query)];
        if given.into_iter().flatten().any(|g| same(g.as_bytes(), token.as_bytes())) {
            Ok(())
        } else {
            Err("this server asks for its token: open the address it printed at start (…/?token=…), or send Authorization: Bearer TOKEN"
                .to_owned())
        }
    }

    /// The cookie that keeps a token given in the address, for the page's later requests.
    fn cookie_from_query(&self, query: &str) -> Option<HeaderValue> {
        let token = self.token.as_ref()?;
        let given = query_token(query)?;
        same(given.as_bytes(), token.as_bytes())
            .then(|| HeaderValue::from_str(&format!("{}{token}; HttpOnly; SameSite=Strict; Path=/", server_cookie_prefix())).ok())
            .flatten()
    }
}

fn server_cookie_prefix() -> &'static str {
    "replay_ui="
}

fn query_token(query: &str) -> Option<&str> {
    query.split('&').find_map(|pair| pair.strip_prefix("token="))
}

/// Compares in time that does not depend on where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// 32 hex digits from the system's randomness.
fn new_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut bytes = [0u8; 16];
    let from_os = std::fs::File::open("/dev/urandom").and_then(|mut f| std::io::Read::read_exact(&mut f, &mut bytes));
    if from_os.is_err() {
        // std seeds each RandomState from the system's randomness.
        for (i, chunk) in bytes.chunks_mut(8).enumerate() {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_usize(i);
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Why the view cannot start.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error(
        "--ui {0} is not a loopback address: anyone who can reach it could watch and start runs. Give --ui-token TOKEN \
         (16 characters or more) or --ui-token auto, and open the address printed at start; or keep the default {DEFAULT_ADDR}"
    )]
    NeedsToken(SocketAddr),
    #[error("--ui-token: a token is at least {MIN_TOKEN} letters, digits, `-` or `_` (or `auto` to make one)")]
    WeakToken,
    #[error("cannot listen on {0} for the web view: {1} (is another replay or Locust using it? choose another with --ui ADDR:PORT)")]
    Bind(SocketAddr, std::io::Error),
}

/// The running view: its address, and the address to open (with the token, once).
pub struct UiServer {
    pub addr: SocketAddr,
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The server's thread: joined when the server is dropped, so what it is writing gets out.
    thread: Option<std::thread::JoinHandle<()>>,
}

impl UiServer {
    /// Binds `options.addr` and serves `feed` (and `control`'s calls, for `replay ui`) from a thread of its own.
    pub fn start(options: &UiOptions, feed: Arc<feed::Feed>, control: Option<Arc<dyn control::Control>>) -> Result<UiServer, UiError> {
        let token = match options.token.as_deref() {
            Some("auto") => Some(new_token()),
            Some(t) if t.len() >= MIN_TOKEN && t.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b)) => Some(t.to_owned()),
            Some(_) => return Err(UiError::WeakToken),
            None if options.addr.ip().is_loopback() => None,
            None => return Err(UiError::NeedsToken(options.addr)),
        };
        let listener = std::net::TcpListener::bind(options.addr).map_err(|e| UiError::Bind(options.addr, e))?;
        let addr = listener.local_addr().map_err(|e| UiError::Bind(options.addr, e))?;
        listener.set_nonblocking(true).map_err(|e| UiError::Bind(addr, e))?;
        let shown = if addr.ip().is_unspecified() { SocketAddr::new([127, 0, 0, 1].into(), addr.port()) } else { addr };
        let url = match &token {
            Some(t) => format!("http://{shown}/?token={t}"),
            None => format!("http://{shown}/"),
        };
        let access = Access { loopback_hosts: token.is_none(), token };
        let site = Arc::new(server::Site { feed, control, access });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| UiError::Bind(addr, e))?;
        let thread = std::thread::Builder::new()
            .name("replay-ui".into())
            .spawn(move || {
                runtime.block_on(async move {
                    match tokio::net::TcpListener::from_std(listener) {
                        Ok(listener) => server::serve(listener, site, stopped).await,
                        Err(e) => eprintln!("replay: the web view stopped: {e}"),
                    }
                });
            })
            .map_err(|e| UiError::Bind(addr, e))?;
        Ok(UiServer { addr, url, stop: Some(stop), thread: Some(thread) })
    }
}

impl Drop for UiServer {
    /// Stops the server and waits for it (at most [`server::FINISH_WITHIN`] and a little): a
    /// page's last frames are written before the process exits.
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> hyper::HeaderMap {
        let mut h = hyper::HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn loopback_serves_loopback_names_only_and_a_token_is_asked_everywhere() {
        let open = Access { token: None, loopback_hosts: true };
        assert!(open.check(&headers(&[("host", "127.0.0.1:8089")]), "").is_ok());
        assert!(open.check(&headers(&[("host", "localhost:8089")]), "").is_ok());
        assert!(open.check(&headers(&[("host", "[::1]:8089")]), "").is_ok());
        assert!(open.check(&headers(&[("host", "evil.example:8089")]), "").unwrap_err().contains("127.0.0.1 or localhost only"));
        let token = "0123456789abcdef0123";
        let guarded = Access { token: Some(token.into()), loopback_hosts: false };
        let host = ("host", "10.0.0.5:8089");
        assert!(guarded.check(&headers(&[host]), "").is_err());
        assert!(guarded.check(&headers(&[host]), "token=0123456789abcdef0124").is_err());
        assert!(guarded.check(&headers(&[host]), &format!("x=1&token={token}")).is_ok());
        assert!(guarded.check(&headers(&[host, ("authorization", &format!("Bearer {token}"))]), "").is_ok());
        assert!(guarded.check(&headers(&[host, ("cookie", &format!("a=b; replay_ui={token}"))]), "").is_ok());
        let cookie = guarded.cookie_from_query(&format!("token={token}")).unwrap();
        assert!(cookie.to_str().unwrap().contains("HttpOnly; SameSite=Strict"));
        assert!(guarded.cookie_from_query("token=wrong").is_none());
    }

    #[test]
    fn a_non_loopback_bind_needs_a_strong_token() {
        let feed = feed::Feed::new();
        let any = UiOptions { addr: "0.0.0.0:0".parse().unwrap(), token: None };
        assert!(matches!(UiServer::start(&any, Arc::clone(&feed), None), Err(UiError::NeedsToken(_))));
        let weak = UiOptions { token: Some("short".into()), ..any.clone() };
        assert!(matches!(UiServer::start(&weak, Arc::clone(&feed), None), Err(UiError::WeakToken)));
        let auto = UiOptions { addr: "127.0.0.1:0".parse().unwrap(), token: Some("auto".into()) };
        let server = UiServer::start(&auto, feed, None).unwrap();
        let token = server.url.split("token=").nth(1).unwrap();
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
    }

    /// Reads from `client` until `until` holds of what came, or it closes; each read waits 10 s at most.
    fn read_until(client: &mut std::net::TcpStream, got: &mut Vec<u8>, until: impl Fn(&str) -> bool) {
        use std::io::Read;
        client.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 4096];
        while !until(&String::from_utf8_lossy(got)) {
            match client.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    }

    #[test]
    fn a_dropped_server_has_written_the_run_s_end_to_an_open_stream_and_closed_it() {
        use std::io::{Read, Write};
        let feed = feed::Feed::new();
        let options = UiOptions { addr: "127.0.0.1:0".parse().unwrap(), token: None };
        let server = UiServer::start(&options, Arc::clone(&feed), None).unwrap();
        let addr = server.addr;
        let mut page = std::net::TcpStream::connect(addr).unwrap();
        page.write_all(b"GET /api/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
        let mut got = Vec::new();
        read_until(&mut page, &mut got, |s| s.contains("event: snapshot"));
        assert!(String::from_utf8_lossy(&got).contains("\"phase\":\"idle\""));
        // The run ends: its last snapshot goes out, the stream ends, the process drops the server.
        let mut done = live::Snapshot::idle();
        done.phase = live::Phase::Done;
        feed.publish(done);
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(feed.ended(std::time::Duration::from_secs(30)));
        drop(server);
        // By then everything was written and the connection closed: what is in the socket is
        // the whole stream, its end included, with nothing more to wait for.
        page.set_nonblocking(true).unwrap();
        let mut rest = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match page.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => rest.extend_from_slice(&buf[..n]),
                Err(e) => panic!("the stream was not closed when the server was dropped: {e}"),
            }
        }
        let rest = String::from_utf8_lossy(&rest);
        assert!(rest.contains("\"phase\":\"done\""), "{rest}");
        assert!(rest.ends_with("0\r\n\r\n"), "the stream's last chunk: {rest:?}");
        assert!(std::net::TcpStream::connect(addr).is_err(), "still listening");
    }
}
