//! Connections to the target: a stack of idle HTTP/1.1 connections (the
//! keep-alive pool) and, when the target speaks HTTP/2 (ALPN over TLS, or
//! `--http2` in cleartext), one shared multiplexed connection.
//!
//! An HTTP/1.1 connection ([`H1`]) is taken by one request at a time, which
//! does its I/O itself and gives it back when the response has been read in
//! full. The HTTP/2 connection's I/O runs on its own task (the `h2` crate's
//! `Connection`); requests share its sender and each awaits its own stream
//! (no task or channel of its own per request, as hyper's client adds). A
//! connection the target closed while idle is noticed on checkout and
//! dropped. The number of connections is bounded by the caller: one per
//! request in flight at most.

use super::Failure;
use super::deferred::ReadTick;
use super::failure::{classify_error, describe};
use super::h1::H1;
use super::stream::Io;
use super::ticked::{LastArrival, TickedTcp};
use bytes::Bytes;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// A connection, for one request: its own over HTTP/1.1, a sender on the shared one over HTTP/2.
/// An HTTP/1.1 connection is boxed: it moves from the pool to its request and back, as a pointer.
pub enum Conn {
    Http1(Box<H1>),
    Http2(H2),
}

/// A sender on the shared HTTP/2 connection, whether that connection's I/O has ended, and
/// when the bytes of its latest read arrived (`ticked.rs`).
#[derive(Clone)]
pub struct H2 {
    pub sender: h2::client::SendRequest<Bytes>,
    closed: Arc<AtomicBool>,
    pub arrival: Arc<LastArrival>,
}

impl H2 {
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Relaxed)
    }
}

/// Flow-control windows and buffers of the HTTP/2 connection, as hyper's client sets them
/// (the protocol's 64 KB default would hold back large responses on a fast link).
const H2_STREAM_WINDOW: u32 = 2 * 1024 * 1024;
const H2_CONNECTION_WINDOW: u32 = 5 * 1024 * 1024;
const H2_SEND_BUFFER: usize = 1024 * 1024;
const H2_MAX_HEADER_LIST: u32 = 16 * 1024;
/// Streams opened before the server's settings say how many it allows.
const H2_INITIAL_STREAMS: usize = 100;

/// Where the target is: parsed once from `--host`.
#[derive(Debug, Clone)]
pub struct Target {
    pub https: bool,
    /// The host name or address to connect to (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// `host[:port]` as given, for the Host header and messages.
    pub authority: String,
}

impl Target {
    pub fn new(base: &hyper::Uri) -> Self {
        let https = base.scheme_str() == Some("https");
        let host = base.host().unwrap_or("localhost").trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = base.port_u16().unwrap_or(if https { 443 } else { 80 });
        // Without any user:password@, which goes into an Authorization header, never into the Host header or a message.
        let authority = base.authority().map_or_else(|| host.clone(), |a| a.as_str().rsplit('@').next().unwrap_or_default().to_owned());
        Target { https, host, port, authority }
    }
}

pub struct Pool {
    target: Target,
    tls: Option<(tokio_rustls::TlsConnector, rustls::pki_types::ServerName<'static>)>,
    /// Cleartext HTTP/2 with prior knowledge (`--http2` on an http:// target).
    h2c: bool,
    idle: Mutex<Vec<Box<H1>>>,
    shared_h2: Mutex<Option<H2>>,
    /// Whether the target speaks HTTP/2, once a connection has told.
    speaks_h2: OnceLock<bool>,
    /// Held while opening a connection that may turn out to be the shared
    /// HTTP/2 one, so a burst of first requests opens one connection, not hundreds.
    opening_h2: tokio::sync::Mutex<()>,
    /// The last open failed: while the target refuses or fails TLS, opens go
    /// side by side, so each request fails on its own time, not queued behind the others.
    opens_failing: AtomicBool,
    /// The loop's wakes, which HTTP/1.1 connections' deferred reads wait for.
    tick: Arc<ReadTick>,
}

/// A failure to reach the target: its class and what happened, in words.
pub type ConnectError = (Failure, String);

impl Pool {
    pub fn new(target: Target, tls: Option<rustls::ClientConfig>, http2: bool, tick: Arc<ReadTick>) -> Result<Self, String> {
        let tls = match tls.filter(|_| target.https) {
            Some(config) => {
                let name = rustls::pki_types::ServerName::try_from(target.host.clone())
                    .map_err(|e| format!("`{}` is not a name TLS can verify: {e}", target.host))?;
                Some((tokio_rustls::TlsConnector::from(Arc::new(config)), name))
            }
            None => None,
        };
        let h2c = http2 && !target.https;
        Ok(Pool {
            target,
            tls,
            h2c,
            idle: Mutex::new(Vec::new()),
            shared_h2: Mutex::new(None),
            speaks_h2: OnceLock::new(),
            opening_h2: tokio::sync::Mutex::new(()),
            opens_failing: AtomicBool::new(false),
            tick,
        })
    }

    /// Whether a new connection may be HTTP/2 (over TLS until ALPN has told, or h2c).
    fn may_be_h2(&self) -> bool {
        self.h2c || (self.tls.is_some() && self.speaks_h2.get() != Some(&false))
    }

    /// A connection that is open and free, if there is one, and how many idle ones are left.
    pub fn checkout(&self) -> Option<(Conn, usize)> {
        if self.may_be_h2() {
            let shared = self.shared_h2.lock().expect("pool lock");
            if let Some(sender) = shared.as_ref().filter(|s| !s.is_closed()) {
                return Some((Conn::Http2(sender.clone()), 0));
            }
        }
        let mut idle = self.idle.lock().expect("pool lock");
        while let Some(mut conn) = idle.pop() {
            if conn.is_open() {
                return Some((Conn::Http1(conn), idle.len()));
            }
        }
        None
    }

    /// Drops the shared HTTP/2 connection (it is going away); the next request opens another.
    pub fn forget_h2(&self) {
        self.shared_h2.lock().expect("pool lock").take();
    }

    /// Gives an HTTP/1.1 connection back once its response has been read.
    pub fn put_back(&self, conn: Box<H1>) {
        self.idle.lock().expect("pool lock").push(conn);
    }

    /// A new connection, or the shared HTTP/2 one if another request opened it meanwhile.
    pub async fn connect(&self) -> Result<Conn, ConnectError> {
        let one_at_a_time = || self.may_be_h2() && !self.opens_failing.load(Ordering::Relaxed);
        if !one_at_a_time() {
            return self.open().await;
        }
        let opening = self.opening_h2.lock().await;
        if let Some((conn, _)) = self.checkout() {
            return Ok(conn);
        }
        if !one_at_a_time() {
            // The first connection said HTTP/1.1, or opens fail: the rest open side by side.
            drop(opening);
        }
        self.open().await
    }

    /// Opens a connection, noting whether it failed.
    async fn open(&self) -> Result<Conn, ConnectError> {
        let opened = self.open_new().await;
        self.opens_failing.store(opened.is_err(), Ordering::Relaxed);
        opened
    }

    /// Opens a connection (TCP, then TLS where https, then the HTTP handshake).
    async fn open_new(&self) -> Result<Conn, ConnectError> {
        let target = &self.target;
        let failed = |e: &(dyn std::error::Error + 'static)| {
            (classify_error(e, Failure::Connect), format!("cannot connect to {}: {}", target.authority, describe(e)))
        };
        let tcp = TcpStream::connect((target.host.as_str(), target.port)).await.map_err(|e| failed(&e))?;
        tcp.set_nodelay(true).map_err(|e| failed(&e))?;
        let handshake = match &self.tls {
            Some((connector, name)) => {
                let mut stream = connector.connect(name.clone(), TickedTcp::new(tcp)).await.map_err(|e| failed(&e))?;
                let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
                let _ = self.speaks_h2.set(h2);
                if !h2 {
                    return Ok(self.h1(Io::Tls(Box::new(stream))));
                }
                // The shared connection's reads wait for the loop's wakes (`ticked.rs`).
                let arrival = stream.get_mut().0.defer(Arc::clone(&self.tick));
                self.handshake_h2(stream, arrival).await
            }
            None if self.h2c => {
                let mut stream = TickedTcp::new(tcp);
                let arrival = stream.defer(Arc::clone(&self.tick));
                self.handshake_h2(stream, arrival).await
            }
            None => return Ok(self.h1(Io::Plain(tcp))),
        };
        handshake.map_err(|e| failed(&e))
    }

    fn h1(&self, io: Io) -> Conn {
        Conn::Http1(Box::new(H1::with_tick(io, Arc::clone(&self.tick))))
    }

    async fn handshake_h2<Io>(&self, io: Io, arrival: Arc<LastArrival>) -> Result<Conn, h2::Error>
    where
        Io: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (sender, connection) = h2::client::Builder::new()
            .initial_max_send_streams(H2_INITIAL_STREAMS)
            .initial_window_size(H2_STREAM_WINDOW)
            .initial_connection_window_size(H2_CONNECTION_WINDOW)
            .max_send_buffer_size(H2_SEND_BUFFER)
            .max_header_list_size(H2_MAX_HEADER_LIST)
            .enable_push(false)
            .handshake::<_, Bytes>(io)
            .await?;
        let closed = Arc::new(AtomicBool::new(false));
        let ended = Arc::clone(&closed);
        tokio::spawn(async move {
            // Its error reaches each stream that was open; a new request opens another connection.
            let _ = connection.await;
            ended.store(true, Ordering::Relaxed);
        });
        let h2 = H2 { sender, closed, arrival };
        let mut shared = self.shared_h2.lock().expect("pool lock");
        if shared.as_ref().is_none_or(H2::is_closed) {
            *shared = Some(h2.clone());
        }
        Ok(Conn::Http2(h2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_keep_their_authority_and_default_ports() {
        let t = Target::new(&"http://127.0.0.1:8080/base".parse().unwrap());
        assert_eq!((t.https, t.host.as_str(), t.port, t.authority.as_str()), (false, "127.0.0.1", 8080, "127.0.0.1:8080"));
        let t = Target::new(&"https://staging.example.com".parse().unwrap());
        assert_eq!((t.https, t.host.as_str(), t.port, t.authority.as_str()), (true, "staging.example.com", 443, "staging.example.com"));
        let t = Target::new(&"http://user:s3cret@127.0.0.1:8080".parse().unwrap());
        assert_eq!(t.authority, "127.0.0.1:8080");
        let t = Target::new(&"http://[::1]:9000".parse().unwrap());
        assert_eq!((t.host.as_str(), t.port, t.authority.as_str()), ("::1", 9000, "[::1]:9000"));
    }
}
