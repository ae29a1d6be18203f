//! The streaming scan: bytes in, parsed records out to an accumulator, on
//! every core, in bounded memory.
//!
//! A reader thread cuts the input into chunks of whole lines (about 1 MiB,
//! buffers recycled); worker threads parse chunks with their own parser and
//! their own accumulator; the calling thread merges chunk results in input
//! order, so line numbers and anything order-sensitive come out the same as
//! a single-threaded pass. Memory is the chunks in flight plus what the
//! accumulators keep: never the whole input. A line longer than
//! [`MAX_LINE`] is not buffered: it is counted as a reject and skipped.
//! Stateful parsers (W3C's `#Fields:`) get one worker, which sees every
//! chunk in order. Records that are no HTTP request (a TLS handshake a
//! server logged, a bare `-`: `log::request_rule`) are counted by kind and
//! never reach the accumulator.

use crate::log::{Handed, LineError, LineParser, LogRecord, NotRequest, request_rule};
use std::collections::BTreeMap;
use std::io::{self, Read};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

/// Lines longer than this are rejected without being held in memory.
pub const MAX_LINE: usize = 1 << 20;
const CHUNK: usize = 1 << 20;
/// Chunks read but not yet folded, per worker…
const IN_FLIGHT_PER_WORKER: usize = 4;
/// …and in all: when chunk `n` is handed out, chunk `n - MAX_IN_FLIGHT` is folded, whatever the thread count.
pub const MAX_IN_FLIGHT: usize = 16;
/// How many rejected lines are kept with their text for the report.
pub const KEPT_REJECTS: usize = 10;

/// Takes one chunk's records, one at a time, on a worker thread; then folds
/// what it built into the run's total on the calling thread, chunks in input
/// order. The expensive per-record work belongs in `add`; `fold_into` sees
/// each chunk once.
pub trait Accumulator: Send {
    type Total;
    fn add(&mut self, record: &LogRecord<'_>);
    /// Work left once the chunk's last line is in, done on the worker's thread rather than the fold's.
    fn seal(&mut self) {}
    fn fold_into(self, total: &mut Self::Total);
}

/// A line that was rejected, as reported to the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reject {
    /// 1-based line number in its input.
    pub line: u64,
    pub error: LineError,
    /// The start of the line, lossily decoded, for the message.
    pub excerpt: String,
}

/// What a scan of one input found.
#[derive(Debug)]
pub struct Scan {
    pub lines: u64,
    /// Records that are HTTP requests.
    pub records: u64,
    /// Records that are not, by kind: indexed by [`NotRequest::index`].
    pub not_requests: NotRequests,
    pub skipped: u64,
    pub rejected: u64,
    /// The first [`KEPT_REJECTS`] rejects, in line order.
    pub rejects: Vec<Reject>,
    /// A read error that ended the input early (a truncated gzip); what came before is kept.
    pub read_error: Option<io::Error>,
}

enum Work {
    /// Whole lines in `buf[..len]`; the buffer goes back to the reader's pool.
    Lines { seq: u64, buf: Vec<u8>, len: usize },
    /// A line over [`MAX_LINE`] bytes that was skipped.
    Overlong { seq: u64 },
}

/// Counts of records that were no HTTP request, by [`NotRequest::index`].
pub type NotRequests = [u64; NotRequest::ALL.len()];

struct ChunkResult<A> {
    seq: u64,
    lines: u64,
    records: u64,
    not_requests: NotRequests,
    skipped: u64,
    rejected: u64,
    /// Rejects with their 1-based line number inside the chunk.
    rejects: Vec<Reject>,
    acc: A,
}

/// Scans `reader` with `parser`: each chunk's records go to an accumulator
/// made by `new_acc` (given the chunk's number in this input), which is then folded into `total` in input order.
pub fn scan<A, F>(reader: Box<dyn Read + Send>, parser: &dyn LineParser, new_acc: F, total: &mut A::Total, threads: usize) -> Scan
where
    A: Accumulator + 'static,
    F: Fn(u64) -> A + Sync,
{
    let workers = if parser.is_stateful() { 1 } else { threads.max(1) };
    let (work_tx, work_rx) = sync_channel::<Work>(workers * 2);
    // Chunks between the reader and the fold: a slow fold holds the reader
    // back instead of letting parsed chunks pile up in memory.
    let in_flight = (IN_FLIGHT_PER_WORKER * workers).min(MAX_IN_FLIGHT);
    let (permit_tx, permit_rx) = sync_channel::<()>(in_flight);
    for _ in 0..in_flight {
        let _ = permit_tx.send(());
    }
    let work_rx = Arc::new(Mutex::new(work_rx));
    let (pool_tx, pool_rx) = std::sync::mpsc::channel::<Vec<u8>>();
    let (result_tx, result_rx) = std::sync::mpsc::channel::<ChunkResult<A>>();
    std::thread::scope(|scope| {
        let reader_thread = scope.spawn(move || read_chunks(reader, Sender { work: work_tx, permits: permit_rx }, pool_rx));
        for _ in 0..workers {
            let (work_rx, result_tx, pool_tx) = (Arc::clone(&work_rx), result_tx.clone(), pool_tx.clone());
            let mut parser = parser.clone_box();
            let new_acc = &new_acc;
            scope.spawn(move || {
                loop {
                    let work = match work_rx.lock() {
                        Ok(rx) => rx.recv(),
                        Err(_) => return,
                    };
                    let Ok(work) = work else { return };
                    let result = match work {
                        Work::Lines { seq, buf, len } => {
                            let result = parse_chunk(seq, &buf[..len], parser.as_mut(), new_acc(seq));
                            let _ = pool_tx.send(buf);
                            result
                        }
                        Work::Overlong { seq } => overlong(seq, new_acc(seq)),
                    };
                    if result_tx.send(result).is_err() {
                        return;
                    }
                }
            });
        }
        drop(result_tx);
        let mut scan = Scan {
            lines: 0,
            records: 0,
            not_requests: NotRequests::default(),
            skipped: 0,
            rejected: 0,
            rejects: Vec::new(),
            read_error: None,
        };
        let mut pending = BTreeMap::new();
        let mut next_seq = 0;
        for result in result_rx {
            pending.insert(result.seq, result);
            while let Some(chunk) = pending.remove(&next_seq) {
                fold(&mut scan, total, chunk);
                let _ = permit_tx.try_send(());
                next_seq += 1;
            }
        }
        scan.read_error = reader_thread.join().unwrap_or_else(|_| Some(io::Error::other("the reader thread panicked")));
        scan
    })
}

fn fold<A: Accumulator>(scan: &mut Scan, total: &mut A::Total, chunk: ChunkResult<A>) {
    for mut reject in chunk.rejects {
        if scan.rejects.len() < KEPT_REJECTS {
            reject.line += scan.lines;
            scan.rejects.push(reject);
        }
    }
    scan.lines += chunk.lines;
    scan.records += chunk.records;
    for (total, n) in scan.not_requests.iter_mut().zip(chunk.not_requests) {
        *total += n;
    }
    scan.skipped += chunk.skipped;
    scan.rejected += chunk.rejected;
    chunk.acc.fold_into(total);
}

fn overlong<A>(seq: u64, acc: A) -> ChunkResult<A> {
    let error = LineError { column: MAX_LINE + 1, expected: "a line shorter than 1 MiB" };
    let reject = Reject { line: 1, error, excerpt: String::new() };
    ChunkResult { seq, lines: 1, records: 0, not_requests: NotRequests::default(), skipped: 0, rejected: 1, rejects: vec![reject], acc }
}

fn parse_chunk<A: Accumulator>(seq: u64, buf: &[u8], parser: &mut dyn LineParser, acc: A) -> ChunkResult<A> {
    let mut result =
        ChunkResult { seq, lines: 0, records: 0, not_requests: NotRequests::default(), skipped: 0, rejected: 0, rejects: Vec::new(), acc };
    let mut start = 0;
    for end in crate::bytes::find_each(b'\n', buf) {
        result.take_line(&buf[start..end], parser);
        start = end + 1;
    }
    if start < buf.len() {
        result.take_line(&buf[start..], parser);
    }
    result.acc.seal();
    result
}

impl<A: Accumulator> ChunkResult<A> {
    fn take_line(&mut self, line: &[u8], parser: &mut dyn LineParser) {
        self.lines += 1;
        let (acc, records, not_requests) = (&mut self.acc, &mut self.records, &mut self.not_requests);
        let mut take = |record: &LogRecord<'_>| match request_rule::check(record.method.as_deref(), record.path.as_deref())
            .and_then(|()| request_rule::check_query(record.query.as_deref()))
        {
            Ok(()) => {
                *records += 1;
                acc.add(record);
            }
            Err(kind) => not_requests[kind.index()] += 1,
        };
        match parser.parse_and_take(line, &mut take) {
            Handed::Record => {}
            Handed::Skip => self.skipped += 1,
            Handed::Reject(error) => {
                self.rejected += 1;
                if self.rejects.len() < KEPT_REJECTS {
                    let excerpt = String::from_utf8_lossy(&line[..line.len().min(200)]).into_owned();
                    self.rejects.push(Reject { line: self.lines, error, excerpt });
                }
            }
        }
    }
}

/// Cuts the input into chunks that end at a newline; returns the error that ended it early, if any.
///
/// Buffers keep their full length between uses (only `filled` bytes are
/// data), so recycling one costs no zeroing.
/// The reader's way out: one permit per chunk sent, returned when it is folded.
struct Sender {
    work: SyncSender<Work>,
    permits: Receiver<()>,
}

impl Sender {
    fn send(&self, item: Work) -> bool {
        self.permits.recv().is_ok() && self.work.send(item).is_ok()
    }
}

fn read_chunks(mut reader: Box<dyn Read + Send>, work: Sender, pool: Receiver<Vec<u8>>) -> Option<io::Error> {
    let mut seq = 0;
    let mut carry: Vec<u8> = Vec::new();
    let send = |item: Work| work.send(item);
    loop {
        let mut buf = pool.try_recv().unwrap_or_else(|_| vec![0; CHUNK]);
        let mut filled = carry.len();
        if buf.len() < filled + CHUNK / 2 {
            buf.resize(filled + CHUNK, 0);
        }
        buf[..filled].copy_from_slice(&carry);
        carry.clear();
        let (eof, error) = fill(&mut reader, &mut buf, &mut filled);
        if !eof {
            match memchr::memrchr(b'\n', &buf[..filled]) {
                Some(last) => {
                    carry.extend_from_slice(&buf[last + 1..filled]);
                    filled = last + 1;
                }
                None if filled >= MAX_LINE => {
                    if !send(Work::Overlong { seq }) {
                        return None;
                    }
                    seq += 1;
                    match skip_line(&mut reader, &mut carry) {
                        Ok(true) => continue,
                        Ok(false) => return None,
                        Err(e) => return Some(e),
                    }
                }
                None => {
                    // One line still going: read more behind it.
                    carry.extend_from_slice(&buf[..filled]);
                    continue;
                }
            }
        }
        if filled > 0 {
            if !send(Work::Lines { seq, buf, len: filled }) {
                return None;
            }
            seq += 1;
        }
        if eof {
            return error;
        }
    }
}

/// Reads into `buf[*filled..]` until it is full or the input ends; returns (ended, error).
fn fill(reader: &mut dyn Read, buf: &mut [u8], filled: &mut usize) -> (bool, Option<io::Error>) {
    while *filled < buf.len() {
        match reader.read(&mut buf[*filled..]) {
            Ok(0) => return (true, None),
            Ok(n) => *filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (true, Some(e)),
        }
    }
    (false, None)
}

/// Discards input up to and including the next newline; what follows it goes to `carry`.
/// Returns false at the end of the input.
fn skip_line(reader: &mut dyn Read, carry: &mut Vec<u8>) -> io::Result<bool> {
    let mut scratch = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut scratch) {
            Ok(0) => return Ok(false),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if let Some(nl) = memchr::memchr(b'\n', &scratch[..n]) {
            carry.extend_from_slice(&scratch[nl + 1..n]);
            return Ok(true);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::Format;

    /// Counts records and remembers the order of their paths' first byte.
    #[derive(Default)]
    struct Paths(Vec<u8>);
    impl Accumulator for Paths {
        type Total = Paths;
        fn add(&mut self, record: &LogRecord<'_>) {
            self.0.push(record.path.as_deref().and_then(|p| p.get(1).copied()).unwrap_or(b'?'));
        }
        fn fold_into(self, total: &mut Paths) {
            total.0.extend(self.0);
        }
    }

    fn line(i: usize) -> String {
        format!("1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET /{} HTTP/1.0\" 200 1 \"-\" \"ua\"\n", (b'a' + (i % 26) as u8) as char)
    }

    #[test]
    fn order_and_line_numbers_survive_parallel_chunks() {
        let mut text = String::new();
        for i in 0..40_000 {
            text.push_str(&line(i));
            if i == 30_000 {
                text.push_str("garbage\n");
            }
        }
        let parser = Format::Combined.parser().unwrap();
        let mut paths = Paths::default();
        let scan = scan(Box::new(std::io::Cursor::new(text.into_bytes())), parser.as_ref(), |_| Paths::default(), &mut paths, 2);
        assert_eq!((scan.lines, scan.records, scan.rejected), (40_001, 40_000, 1));
        assert_eq!(scan.rejects[0].line, 30_002);
        let want: Vec<u8> = (0..40_000).map(|i| b'a' + (i % 26) as u8).collect();
        assert_eq!(paths.0, want);
    }

    #[test]
    fn overlong_lines_are_rejected_without_losing_the_next() {
        let mut text = line(0);
        text.push_str(&"x".repeat(3 * MAX_LINE));
        text.push('\n');
        text.push_str(&line(1));
        text.push_str(line(2).trim_end());
        let parser = Format::Combined.parser().unwrap();
        let mut paths = Paths::default();
        let scan = scan(Box::new(std::io::Cursor::new(text.into_bytes())), parser.as_ref(), |_| Paths::default(), &mut paths, 2);
        assert_eq!((scan.lines, scan.records, scan.rejected), (4, 3, 1));
        assert_eq!(scan.rejects[0].line, 2);
        assert_eq!(paths.0, b"abc");
    }
}
