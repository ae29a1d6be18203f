//! The TCP stream under a TLS connection or the shared HTTP/2 connection,
//! whose reads may wait for the loop's wakes.
//!
//! HTTP/1.1 in cleartext defers its reads itself (`h1.rs`, `deferred.rs`).
//! Over TLS the reads are rustls's, made through this stream, and the
//! shared HTTP/2 connection is read by its own task; without this each
//! batch's responses woke the process once more after the batch went out: at
//! 5,000 rps over TLS that was half the wakes. So a TLS connection's socket,
//! or the h2c connection's, is a [`TickedTcp`] that may defer: while the
//! loop says it wakes soon ([`ReadTick::dense`]), the socket's low-water mark
//! is raised (a response smaller than [`deferred::LOW_WATER`] wakes nobody)
//! and the reader looks at the socket on each of the loop's words, bypassing
//! the reactor's readiness (which the mark holds back). A closing socket, an
//! error or a large response still turns readable at any mark, and the
//! reactor hears those at once. When the loop says it will not wake soon,
//! the mark is lowered and reads wait for the socket as usual.
//!
//! Every read is stamped: [`LastArrival`] keeps when the bytes of the
//! latest read arrived (the kernel's stamp, or the read's own time if it
//! stamped none), and a request whose response that connection carried
//! ends its latency there. Over HTTP/1.1 one request owns the connection,
//! so that is its response's arrival. Over HTTP/2 a response was read in
//! that read or an earlier one, so the latency errs long, never short, and
//! by no more than the time between two reads of the connection before the
//! request's task ran.
//!
//! The shared HTTP/2 connection always defers; an HTTP/1.1 connection over
//! TLS defers as a cleartext one does, when its request finds connections to
//! spare (`client/mod.rs`). A stream that does not defer reads through the
//! reactor as a plain `TcpStream` does.

use super::deferred::{self, ReadTick};
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// A TCP stream whose reads may wait for the loop's wakes ([`TickedTcp::defer`]).
pub struct TickedTcp {
    tcp: TcpStream,
    deferral: Option<Box<Deferral>>,
}

/// What a deferring stream keeps between its polls.
struct Deferral {
    tick: Arc<ReadTick>,
    arrival: Arc<LastArrival>,
    /// The socket's low-water mark is raised: reads wait for the loop's words.
    raised: bool,
    /// Whether the kernel stamps this socket's arrivals.
    stamped: bool,
    /// The words said when the last look found nothing (`None`: look at the next poll).
    looked: Option<u64>,
    /// Whether the reader's waker is filed for the first word after `looked`.
    filed: bool,
}

/// When the bytes of a connection's latest read arrived, for the requests it answered.
#[derive(Debug)]
pub struct LastArrival {
    base: Instant,
    /// Nanoseconds from `base`, plus one; zero: nothing read yet.
    since_base: AtomicU64,
}

impl LastArrival {
    fn new() -> Self {
        LastArrival { base: Instant::now(), since_base: AtomicU64::new(0) }
    }

    fn note(&self, at: Instant) {
        let ns = at.saturating_duration_since(self.base).as_nanos();
        self.since_base.store(u64::try_from(ns).unwrap_or(u64::MAX - 1) + 1, Ordering::Release);
    }

    /// When the latest read's bytes arrived, if anything was read.
    pub fn get(&self) -> Option<Instant> {
        let stored = self.since_base.load(Ordering::Acquire);
        (stored > 0).then(|| self.base + std::time::Duration::from_nanos(stored - 1))
    }
}

impl TickedTcp {
    pub fn new(tcp: TcpStream) -> Self {
        TickedTcp { tcp, deferral: None }
    }

    /// Defers this stream's reads to `tick`'s wakes from now on, while the loop wakes soon;
    /// what it reads, and when that arrived, is told by the [`LastArrival`] returned.
    pub fn defer(&mut self, tick: Arc<ReadTick>) -> Arc<LastArrival> {
        let arrival = Arc::new(LastArrival::new());
        #[cfg(target_os = "linux")]
        let stamped = deferred::stamp_arrivals(std::os::fd::AsRawFd::as_raw_fd(&self.tcp)).is_ok();
        #[cfg(not(target_os = "linux"))]
        let stamped = false;
        self.deferral =
            Some(Box::new(Deferral { tick, arrival: Arc::clone(&arrival), raised: false, stamped, looked: None, filed: false }));
        arrival
    }

    /// Stops deferring this stream's reads: its mark is lowered, and reads wait for the socket.
    pub fn stop_deferring(&mut self) {
        #[cfg(target_os = "linux")]
        if self.deferral.as_ref().is_some_and(|deferral| deferral.raised) {
            let _ = deferred::set_low_water(std::os::fd::AsRawFd::as_raw_fd(&self.tcp), 1);
        }
        self.deferral = None;
    }

    /// Whether the socket has turned readable (registering `cx` to hear when it does).
    pub fn poll_read_ready(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.tcp.poll_read_ready(cx)
    }
}

#[cfg(target_os = "linux")]
impl TickedTcp {
    /// Raises or lowers the socket's mark to match whether the loop wakes soon (a system call
    /// only when that changes). Only a stamped socket defers: its arrivals must be known.
    fn follow_the_loop(tcp: &TcpStream, deferral: &mut Deferral) {
        let dense = deferral.stamped && deferral.tick.dense();
        if dense != deferral.raised {
            let mark = if dense { deferred::LOW_WATER } else { 1 };
            if deferred::set_low_water(std::os::fd::AsRawFd::as_raw_fd(tcp), mark).is_ok() {
                deferral.raised = dense;
                deferral.filed = false;
                deferral.looked = None;
            }
        }
    }

    /// Reads what the socket holds into `buf`, noting when it arrived.
    fn take(tcp: &TcpStream, deferral: &Deferral, buf: &mut ReadBuf<'_>) -> io::Result<()> {
        // SAFETY: recvmsg writes only initialised bytes into the unfilled part, and says how many.
        let unfilled = unsafe { buf.unfilled_mut() };
        let (read, stamp) = deferred::recv_stamped(std::os::fd::AsRawFd::as_raw_fd(tcp), unfilled)?;
        // SAFETY: the kernel initialised the first `read` bytes of the unfilled part.
        unsafe { buf.assume_init(read) };
        buf.advance(read);
        let at = match stamp {
            Some(wall_ns) => deferral.tick.instant_of(wall_ns).min(Instant::now()),
            None => Instant::now(),
        };
        deferral.arrival.note(at);
        Ok(())
    }

    fn poll_deferred(tcp: &TcpStream, deferral: &mut Deferral, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        loop {
            Self::follow_the_loop(tcp, deferral);
            if !deferral.raised {
                // Through the reactor: it clears its readiness when the socket has nothing.
                std::task::ready!(tcp.poll_read_ready(cx))?;
                match tcp.try_io(tokio::io::Interest::READABLE, || Self::take(tcp, deferral, buf)) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                    done => return Poll::Ready(done),
                }
            }
            // The socket is looked at once a word of the loop's: what arrives between two words
            // waits for the next, however often the reader's task is polled for other reasons.
            // The rest of what a read began is looked for at once. Noted before the look, so a
            // word said after it ends the wait below.
            let seen = deferral.tick.words_said();
            if deferral.looked != Some(seen) {
                match Self::take(tcp, deferral, buf) {
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => (deferral.looked, deferral.filed) = (Some(seen), false),
                    done => {
                        deferral.looked = None;
                        return Poll::Ready(done);
                    }
                }
            }
            // A close, an error or a large response turns the socket readable at any mark: the
            // reactor hears it. Readiness it kept from before the look is cleared first.
            let _ = tcp.try_io(tokio::io::Interest::READABLE, || Err::<(), _>(io::ErrorKind::WouldBlock.into()));
            if tcp.poll_read_ready(cx).is_ready() {
                deferral.looked = None;
                continue;
            }
            // Here `looked` is `Some(seen)`: the wait is for the first word after the last look.
            if deferral.tick.poll_word_after(seen, &mut deferral.filed, cx).is_pending() {
                return Poll::Pending;
            }
        }
    }
}

#[cfg(unix)]
impl std::os::fd::AsRawFd for TickedTcp {
    fn as_raw_fd(&self) -> std::os::fd::RawFd {
        self.tcp.as_raw_fd()
    }
}

impl AsyncRead for TickedTcp {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        #[cfg(target_os = "linux")]
        if let Some(deferral) = this.deferral.as_deref_mut() {
            return Self::poll_deferred(&this.tcp, deferral, cx, buf);
        }
        Pin::new(&mut this.tcp).poll_read(cx, buf)
    }
}

impl AsyncWrite for TickedTcp {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(self: Pin<&mut Self>, cx: &mut Context<'_>, bufs: &[io::IoSlice<'_>]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::fd::{AsRawFd, RawFd};
    use std::sync::atomic::AtomicUsize;
    use std::time::Duration;

    /// A waker that counts its wakes.
    struct Counter(AtomicUsize);

    impl std::task::Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// How many bytes the socket holds unread.
    fn unread(fd: RawFd) -> usize {
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes one c_int.
        assert_eq!(unsafe { libc::ioctl(fd, libc::FIONREAD, &raw mut n) }, 0);
        n as usize
    }

    /// Whether the kernel calls the socket readable (its low-water mark heeded).
    fn readable(fd: RawFd) -> bool {
        let mut poll = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
        // SAFETY: one pollfd, no wait.
        assert!(unsafe { libc::poll(&raw mut poll, 1, 0) } >= 0);
        poll.revents & libc::POLLIN != 0
    }

    /// Sends `bytes` from the target's end and returns once they are in the client's socket.
    fn arrive(server: &mut std::net::TcpStream, fd: RawFd, bytes: &[u8]) {
        let before = unread(fd);
        server.write_all(bytes).unwrap();
        let since = Instant::now();
        while unread(fd) < before + bytes.len() {
            assert!(since.elapsed() < Duration::from_secs(5), "the bytes never arrived");
            std::thread::yield_now();
        }
    }

    #[test]
    fn a_deferring_stream_reads_on_the_loops_words_and_keeps_when_the_bytes_arrived() {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(async {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
            let (mut server, _) = listener.accept().unwrap();
            let fd = client.as_raw_fd();
            let tick = Arc::new(ReadTick::stamped());
            tick.sleeps_for(Duration::from_micros(500));
            let mut stream = TickedTcp::new(client);
            let arrival = stream.defer(Arc::clone(&tick));
            let counter = Arc::new(Counter(AtomicUsize::new(0)));
            let waker = std::task::Waker::from(Arc::clone(&counter));
            let mut cx = Context::from_waker(&waker);
            let mut room = [0u8; 64];
            let mut read = |stream: &mut TickedTcp| {
                let mut buf = ReadBuf::new(&mut room);
                match Pin::new(stream).poll_read(&mut cx, &mut buf) {
                    Poll::Ready(done) => Some(done.map(|()| buf.filled().to_vec()).unwrap()),
                    Poll::Pending => None,
                }
            };

            // The loop wakes soon: nothing yet, and the mark is raised.
            assert_eq!(read(&mut stream), None);
            assert!(arrival.get().is_none(), "nothing read yet");
            let sent = Instant::now();
            arrive(&mut server, fd, b"HTTP/2 frames");
            let arrived_by = Instant::now();
            assert!(!readable(fd), "a small response is held under the mark: it wakes nobody");
            assert_eq!(counter.0.load(Ordering::SeqCst), 0, "the reader was not woken by the socket");

            // The loop's next word, two milliseconds on, wakes the reader, which finds the bytes
            // and when they arrived (not when they were read).
            while arrived_by.elapsed() < Duration::from_millis(2) {
                std::hint::spin_loop();
            }
            tick.sleeps_for(Duration::from_micros(500));
            assert_eq!(counter.0.load(Ordering::SeqCst), 1, "the word wakes the reader");
            assert_eq!(read(&mut stream).as_deref(), Some(&b"HTTP/2 frames"[..]));
            let at = arrival.get().expect("the read noted its arrival");
            let slack = Duration::from_micros(200);
            assert!(at + slack >= sent && at <= arrived_by + slack, "the kernel's stamp, not the read's time");

            // The loop sleeps long: the mark is lowered, and a response makes the socket readable.
            tick.sleeps_for(Duration::from_millis(50));
            assert_eq!(read(&mut stream), None);
            arrive(&mut server, fd, b"more");
            assert!(readable(fd), "the mark is lowered while the loop sleeps long");
            drop(server);
        });
    }
}
