//! HTTP/1.1 on a connection the request holds while it runs: the request
//! head written straight from the spec into the connection's own buffer, the
//! response head parsed in place by `httparse`, the body framed as RFC 9112
//! section 6.3 says (no body, `Content-Length`, chunked with
//! `httparse::parse_chunk_size`, or until the connection closes) and
//! counted, never kept.
//!
//! This is the per-request path of a run, so it does no more than a request
//! needs: no task or channel between the request and its connection, no
//! header map built for a response nobody reads, and no allocation once the
//! connection's two buffers have grown to their size (a redirect's
//! `Location` and a session's `Set-Cookie`s are the exceptions). HTTP/2 stays
//! with hyper (`pool.rs`), which multiplexes.
//!
//! A connection's reads may be deferred to the loop's next wake and timed by
//! the kernel's stamps: on cleartext by this file (`deferred.rs`), over TLS
//! by the stream under rustls (`ticked.rs`). The response then says when it
//! arrived ([`Answer::arrived`]).

use super::Failure;
use super::deferred::{self, ReadTick};
use super::failure::{classify_error, describe};
use super::response_head::{Framing, MAX_HEAD, SeenHead, end_of_trailers};
use super::stream::Io;
use super::ticked::LastArrival;
use hyper::header::{HeaderName, HeaderValue};
use std::io::Write as _;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Each read asks for at least this much room.
const READ_ROOM: usize = 8 * 1024;
/// A buffer grown past this by one large head or chunk goes back to its usual size.
const KEEP_AT_MOST: usize = 64 * 1024;

/// An HTTP/1.1 connection: the stream and its two buffers.
pub struct H1 {
    io: Io,
    /// Bytes read and not yet used are `read[pos..]`. `pos <= read.len()` always: `pos` only
    /// moves by lengths httparse parsed out of `read[pos..]`, by what `read[pos..]` holds, or
    /// back to 0 with the bytes before it drained, so slicing from it cannot panic.
    read: Vec<u8>,
    pos: usize,
    /// The request being written, rebuilt in place for each request.
    out: Vec<u8>,
    /// Responses read in full on this connection.
    pub served: u64,
    /// Reads wait for the loop's wakes: the socket's low-water mark is raised (`deferred.rs`).
    deferred: bool,
    /// The kernel stamps this socket's arrivals.
    stamped: bool,
    /// When the last bytes read arrived, by the kernel's stamp (deferred reads only).
    arrived: Option<Instant>,
    /// The loop's wakes, which deferred reads wait for.
    tick: Option<Arc<ReadTick>>,
    /// Over TLS, when the stream under it last read bytes, while its reads are deferred (`ticked.rs`).
    tls_arrival: Option<Arc<LastArrival>>,
    /// The last plain response head, not parsed again while the target repeats it.
    seen: SeenHead,
}

/// A request's head and body, as the client holds them.
pub struct Head<'a> {
    pub method: &'a hyper::Method,
    /// The base path of `--host`, without its trailing slash.
    pub base_path: &'a str,
    pub target: &'a str,
    pub host: &'a HeaderValue,
    pub headers: &'a [(HeaderName, HeaderValue)],
    /// `traceparent` and `x-replay-id`: the run's id and the request's sequence number.
    pub trace: Option<(u64, u64)>,
    pub cookie: Option<&'a str>,
    /// Content type and text.
    pub body: Option<(&'a str, &'a str)>,
}

/// What came back.
pub struct Answer {
    pub status: u16,
    pub to_login: bool,
    pub set_cookies: Vec<String>,
    /// Bytes of body, after any chunked framing.
    pub bytes: u64,
    /// The connection may carry another request.
    pub reusable: bool,
    /// When the response's last bytes arrived, by the kernel's stamp, if its reads were deferred
    /// (`None`: it was read as it arrived, and now is its time).
    pub arrived: Option<Instant>,
}

/// Why an exchange failed, and how far it got.
#[derive(Debug)]
pub struct Failed {
    pub class: Failure,
    pub detail: String,
    /// No byte of a response had arrived: a kept-alive connection the target
    /// had closed may be the cause, and the request may go again (RFC 9110, 9.2.2).
    pub before_response: bool,
    /// The request could not even be written.
    pub unwritten: bool,
}

impl Failed {
    pub fn protocol(detail: impl Into<String>) -> Self {
        Failed { class: Failure::Other, detail: detail.into(), before_response: false, unwritten: false }
    }

    fn io(error: std::io::Error, before_response: bool) -> Self {
        let closed = error.kind() == std::io::ErrorKind::UnexpectedEof;
        let class = classify_error(&error, Failure::Reset);
        let detail = if closed { "connection closed before message completed".to_owned() } else { describe(&error) };
        Failed { class, detail, before_response, unwritten: false }
    }
}

impl H1 {
    pub fn new(io: Io) -> Self {
        #[cfg(target_os = "linux")]
        let stamped = io.plain_fd().is_some_and(|fd| deferred::stamp_arrivals(fd).is_ok());
        #[cfg(not(target_os = "linux"))]
        let stamped = false;
        H1 {
            io,
            read: Vec::with_capacity(READ_ROOM),
            pos: 0,
            out: Vec::with_capacity(512),
            served: 0,
            deferred: false,
            stamped,
            arrived: None,
            tick: None,
            tls_arrival: None,
            seen: SeenHead::default(),
        }
    }

    /// A connection whose reads may be deferred to `tick`'s wakes (see [`H1::defer`]).
    pub fn with_tick(io: Io, tick: Arc<ReadTick>) -> Self {
        H1 { tick: Some(tick), ..H1::new(io) }
    }

    /// Defers this connection's reads to the loop's wakes, or stops deferring them (one
    /// system call when that changes). A cleartext connection defers if the kernel stamps its
    /// arrivals; over TLS, the stream under it follows the loop's wakes itself (`ticked.rs`).
    pub fn defer(&mut self, on: bool) {
        let Some(tick) = &self.tick else { return };
        if on == self.deferred {
            return;
        }
        match &mut self.io {
            Io::Tls(tls) => {
                let ticked = &mut tls.get_mut().0;
                self.tls_arrival = if on {
                    Some(ticked.defer(Arc::clone(tick)))
                } else {
                    ticked.stop_deferring();
                    None
                };
                self.deferred = on;
            }
            #[cfg(target_os = "linux")]
            Io::Plain(tcp) => {
                let fd = std::os::fd::AsRawFd::as_raw_fd(tcp);
                if (self.stamped || !on) && deferred::set_low_water(fd, if on { deferred::LOW_WATER } else { 1 }).is_ok() {
                    self.deferred = on;
                }
            }
            #[cfg(not(target_os = "linux"))]
            Io::Plain(_) => {}
        }
    }

    /// Whether an idle connection can carry a request: the target has not
    /// closed it or sent anything unasked. Costs no system call unless the
    /// socket has turned readable since its last response. (A deferred socket
    /// turns readable when closed, not for a few unasked bytes: its exchange
    /// tells those by their arrival, before the request.)
    pub fn is_open(&mut self) -> bool {
        self.pos == self.read.len() && self.io.idle_and_open()
    }

    /// Writes the request, reads the response to its end.
    pub async fn exchange(&mut self, head: &Head<'_>, keep_cookies: bool) -> Result<Answer, Failed> {
        write_head(&mut self.out, head).map_err(|detail| Failed {
            class: Failure::Other,
            detail,
            before_response: true,
            unwritten: true,
        })?;
        // The request goes out after the loop last said when it wakes: bytes that arrived before are not its answer.
        let written_after = self.tick.as_ref().map(|tick| tick.said());
        let written = async {
            self.io.write_all(&self.out).await?;
            self.io.flush().await
        };
        if let Err(e) = written.await {
            let mut failed = Failed::io(e, true);
            failed.unwritten = true;
            return Err(failed);
        }
        self.arrived = None;
        let tls_read_before = self.tls_arrival.as_ref().map(|arrival| arrival.get());
        let mut answer = self.read_response(head, keep_cookies).await?;
        if let (Some(arrival), Some(before)) = (&self.tls_arrival, tls_read_before) {
            // The response's last bytes came in the stream's latest read (one request owns the
            // connection), if any was made for it.
            let latest = arrival.get();
            self.arrived = latest.filter(|_| latest != before);
        }
        if let Some(arrived) = self.arrived {
            // Bytes the kernel took in before the request went out were no answer to it: the
            // target sent them unasked, which a deferred connection's idle check cannot see.
            if written_after.is_some_and(|after| arrived < after) {
                return Err(Failed {
                    class: Failure::Reset,
                    detail: "the connection held bytes the target sent before the request".to_owned(),
                    before_response: true,
                    unwritten: false,
                });
            }
            answer.arrived = Some(arrived);
        }
        self.served += 1;
        if self.read.capacity() > KEEP_AT_MOST {
            self.read.drain(..self.pos);
            self.pos = 0;
            self.read.shrink_to(READ_ROOM.max(self.read.len()));
        }
        Ok(answer)
    }

    /// Reads more bytes into the buffer; `Ok(false)` when the target closed the connection.
    async fn fill(&mut self) -> std::io::Result<bool> {
        if self.pos == self.read.len() {
            self.read.clear();
            self.pos = 0;
        } else if self.read.capacity() - self.read.len() < READ_ROOM && self.pos > 0 {
            self.read.drain(..self.pos);
            self.pos = 0;
        }
        self.read.reserve(READ_ROOM);
        #[cfg(target_os = "linux")]
        if let (true, Some(tick), Some(fd)) = (self.deferred, &self.tick, self.io.plain_fd()) {
            if let Some(read) = read_deferred(fd, &mut self.read, tick, &mut self.arrived).await? {
                return Ok(read);
            }
            // Nothing on the loop's wakes: wait for the socket as usual, the mark lowered.
            self.defer(false);
        }
        self.arrived = None;
        Ok(self.io.read_buf(&mut self.read).await? > 0)
    }

    async fn read_response(&mut self, head: &Head<'_>, keep_cookies: bool) -> Result<Answer, Failed> {
        let mut got_any = false;
        loop {
            // The head, parsed in place once it has all arrived.
            let parsed = loop {
                // Nothing unread (as when the request has just gone out): nothing to parse yet.
                if self.pos < self.read.len()
                    && let Some(parsed) = self.seen.read(&self.read[self.pos..], head, keep_cookies)?
                {
                    break parsed;
                }
                match self.fill().await {
                    Ok(true) => got_any = true,
                    Ok(false) => {
                        let closed = std::io::Error::from(std::io::ErrorKind::UnexpectedEof);
                        return Err(Failed::io(closed, !got_any));
                    }
                    Err(e) => return Err(Failed::io(e, !got_any)),
                }
            };
            self.pos += parsed.head_len;
            // 100 Continue, 103 Early Hints: the response is still to come.
            if (100..200).contains(&parsed.status) && parsed.status != 101 {
                continue;
            }
            let framing = if head.method == hyper::Method::HEAD || parsed.status == 204 || parsed.status == 304 || parsed.status < 200 {
                Framing::None
            } else {
                parsed.framing
            };
            let bytes = self.read_body(framing).await?;
            let reusable = parsed.keep_alive && framing != Framing::UntilClose && parsed.status != 101;
            return Ok(Answer {
                status: parsed.status,
                to_login: parsed.to_login,
                set_cookies: parsed.set_cookies,
                bytes,
                reusable,
                arrived: None,
            });
        }
    }

    /// Reads and counts the body.
    async fn read_body(&mut self, framing: Framing) -> Result<u64, Failed> {
        match framing {
            Framing::None => Ok(0),
            Framing::Length(length) => {
                self.skip(length).await?;
                Ok(length)
            }
            Framing::UntilClose => {
                let mut bytes = 0u64;
                loop {
                    bytes += (self.read.len() - self.pos) as u64;
                    self.pos = self.read.len();
                    match self.fill().await {
                        Ok(true) => {}
                        Ok(false) => return Ok(bytes),
                        Err(e) => return Err(Failed::io(e, false)),
                    }
                }
            }
            Framing::Chunked => {
                let mut bytes = 0u64;
                loop {
                    let size = loop {
                        match httparse::parse_chunk_size(&self.read[self.pos..]) {
                            Ok(httparse::Status::Complete((len, size))) => {
                                self.pos += len;
                                break size;
                            }
                            Ok(httparse::Status::Partial) if self.read.len() - self.pos > MAX_HEAD => {
                                return Err(Failed::protocol("invalid chunk size line: too long"));
                            }
                            Ok(httparse::Status::Partial) => self.more().await?,
                            Err(_) => return Err(Failed::protocol("invalid chunk size line")),
                        }
                    };
                    if size == 0 {
                        break;
                    }
                    self.skip(size).await?;
                    bytes += size;
                    self.expect_crlf().await?;
                }
                // Trailer fields, then the empty line that ends the message.
                loop {
                    match end_of_trailers(&self.read[self.pos..])? {
                        Some(len) => {
                            self.pos += len;
                            return Ok(bytes);
                        }
                        None => self.more().await?,
                    }
                }
            }
        }
    }

    /// Reads more of a body that is not over: the connection closing now cuts the message short.
    async fn more(&mut self) -> Result<(), Failed> {
        match self.fill().await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Failed::io(std::io::Error::from(std::io::ErrorKind::UnexpectedEof), false)),
            Err(e) => Err(Failed::io(e, false)),
        }
    }

    /// Consumes `n` bytes of body.
    async fn skip(&mut self, mut n: u64) -> Result<(), Failed> {
        loop {
            let here = ((self.read.len() - self.pos) as u64).min(n);
            self.pos += here as usize;
            n -= here;
            if n == 0 {
                return Ok(());
            }
            self.more().await?;
        }
    }

    /// The CRLF that ends a chunk's data.
    async fn expect_crlf(&mut self) -> Result<(), Failed> {
        while self.read.len() - self.pos < 2 {
            self.more().await?;
        }
        if &self.read[self.pos..self.pos + 2] != b"\r\n" {
            return Err(Failed::protocol("invalid chunk: no line break after its data"));
        }
        self.pos += 2;
        Ok(())
    }
}

/// A deferred read: looks at the socket on the loop's next wakes, at most [`deferred::TRIES`]
/// of them and while the loop wakes soon; the rest of a response already coming in is looked
/// for at once too. `Some(false)`: the target closed the connection; `Some(true)`: bytes were
/// read, and `arrived` says when the kernel took them in; `None`: nothing came, and the caller
/// waits for the socket instead.
#[cfg(target_os = "linux")]
async fn read_deferred(
    fd: std::os::fd::RawFd,
    read: &mut Vec<u8>,
    tick: &ReadTick,
    arrived: &mut Option<Instant>,
) -> std::io::Result<Option<bool>> {
    let mut wakes = 0;
    // Just after the request went out its response is not in yet: a look would be a system call for nothing.
    let mut look = arrived.is_some() || !tick.dense();
    loop {
        // Made before the look and the question (one atomic read): a wake or release after them is heard.
        let next = tick.next();
        if look {
            match deferred::recv_stamped(fd, read.spare_capacity_mut()) {
                Ok((0, _)) => return Ok(Some(false)),
                Ok((n, stamp)) => {
                    // SAFETY: recvmsg initialised the first `n` bytes of the spare capacity.
                    unsafe { read.set_len(read.len() + n) };
                    *arrived = Some(stamp.map_or_else(Instant::now, |wall_ns| tick.instant_of(wall_ns)));
                    return Ok(Some(true));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        look = true;
        if wakes == deferred::TRIES || !tick.dense() {
            return Ok(None);
        }
        wakes += 1;
        next.await;
    }
}

/// The request head and body into `out`; `Err` names what cannot go in a head.
fn write_head(out: &mut Vec<u8>, head: &Head<'_>) -> Result<(), String> {
    out.clear();
    out.extend_from_slice(head.method.as_str().as_bytes());
    out.push(b' ');
    if head.target.starts_with('/') {
        out.extend_from_slice(head.base_path.as_bytes());
    }
    // A logged target may hold bytes a request-target cannot (a space, `<`): it goes percent-encoded.
    if sends_as_is(head.target) {
        out.extend_from_slice(head.target.as_bytes());
    } else {
        // Rare (a log's oddities), so the client's one encoder serves, string and all.
        out.extend_from_slice(super::percent_encode_target(head.target).as_bytes());
    }
    out.extend_from_slice(b" HTTP/1.1\r\nhost: ");
    out.extend_from_slice(head.host.as_bytes());
    out.extend_from_slice(b"\r\n");
    for (name, value) in head.headers {
        line(out, name.as_str().as_bytes(), value.as_bytes());
    }
    if let Some((run_id, seq)) = head.trace {
        // W3C trace context: the run is the trace, each request a span.
        let _ = write!(out, "traceparent: 00-{run_id:016x}{seq:016x}-{:016x}-01\r\n", seq.wrapping_add(1));
        let _ = write!(out, "x-replay-id: {run_id:016x}-{seq}\r\n");
    }
    // The cookie and content type come from responses and profiles: nothing in them may end the line.
    let clean = |what: &str, value: &str| match value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
        true => Err(format!("cannot build the request: its {what} holds a line break")),
        false => Ok(()),
    };
    if let Some(cookie) = head.cookie {
        clean("cookie", cookie)?;
        line(out, b"cookie", cookie.as_bytes());
    }
    match head.body {
        Some((content_type, text)) => {
            clean("content type", content_type)?;
            line(out, b"content-type", content_type.as_bytes());
            let _ = write!(out, "content-length: {}\r\n\r\n", text.len());
            out.extend_from_slice(text.as_bytes());
        }
        None if body_expected(head.method) => out.extend_from_slice(b"content-length: 0\r\n\r\n"),
        None => out.extend_from_slice(b"\r\n"),
    }
    Ok(())
}

/// A header line.
fn line(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Whether a target goes as it is: every byte one that hyper's URI parser
/// (and so this client before) sends unencoded, UTF-8 included, in the path
/// and in the query; a `#` never does.
fn sends_as_is(target: &str) -> bool {
    let mut in_query = false;
    target.bytes().all(|b| match b {
        b'?' => {
            in_query = true;
            true
        }
        0x80..=0xFF | 0x21 | 0x24..=0x3B | 0x3D => true,
        _ if in_query => (0x3F..=0x7E).contains(&b),
        0x40..=0x5F | 0x61..=0x7A | 0x7C | 0x7E | b'"' | b'{' | b'}' => true,
        _ => false,
    })
}

/// Methods whose request carries a length even when empty, as hyper sends them.
fn body_expected(method: &hyper::Method) -> bool {
    use hyper::Method;
    *method == Method::POST || *method == Method::PUT || *method == Method::PATCH
}

#[cfg(test)]
#[path = "h1_tests.rs"]
mod tests;
