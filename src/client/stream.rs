//! The byte stream under an HTTP/1.1 connection: TCP, or TLS over TCP
//! (rustls), as one type that reads and writes either way, and can tell
//! whether an idle connection is still open without a system call in the
//! usual case.

use super::ticked::TickedTcp;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

pub enum Io {
    Plain(TcpStream),
    Tls(Box<TlsStream<TickedTcp>>),
}

impl Io {
    /// The socket of a cleartext connection (TLS's bytes are not the response's).
    #[cfg(target_os = "linux")]
    pub fn plain_fd(&self) -> Option<std::os::fd::RawFd> {
        match self {
            Io::Plain(tcp) => Some(std::os::fd::AsRawFd::as_raw_fd(tcp)),
            Io::Tls(_) => None,
        }
    }

    /// Whether an idle connection is open and has nothing unread: the target
    /// neither closed it nor sent bytes nobody asked for. The socket is read
    /// only when the reactor has seen it turn readable since it was last read
    /// dry; over TLS, bytes that are TLS's own (a session ticket) are taken in
    /// and the connection stays usable.
    pub fn idle_and_open(&mut self) -> bool {
        match self {
            Io::Plain(tcp) => {
                let mut probe = [0u8; 1];
                // `try_read` reads only when the reactor has seen the socket readable, and
                // otherwise says would-block at once, leaving the reader's waker as it was.
                // Nothing (would block): open and quiet. Zero bytes: closed. Anything else: not ours to reuse.
                matches!(tcp.try_read(&mut probe), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock)
            }
            Io::Tls(tls) => {
                let mut cx = Context::from_waker(std::task::Waker::noop());
                if tls.get_ref().0.poll_read_ready(&mut cx).is_pending() {
                    return true;
                }
                let mut probe = [0u8; 1];
                let mut buf = ReadBuf::new(&mut probe);
                matches!(Pin::new(&mut **tls).poll_read(&mut cx, &mut buf), Poll::Pending)
            }
        }
    }
}

impl AsyncRead for Io {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(tcp) => Pin::new(tcp).poll_read(cx, buf),
            Io::Tls(tls) => Pin::new(&mut **tls).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Io {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Io::Plain(tcp) => Pin::new(tcp).poll_write(cx, buf),
            Io::Tls(tls) => Pin::new(&mut **tls).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(tcp) => Pin::new(tcp).poll_flush(cx),
            Io::Tls(tls) => Pin::new(&mut **tls).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Io::Plain(tcp) => Pin::new(tcp).poll_shutdown(cx),
            Io::Tls(tls) => Pin::new(&mut **tls).poll_shutdown(cx),
        }
    }
}
