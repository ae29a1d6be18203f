//! The streaming scan: bytes in, parsed records out to an accumulator, on
//! every core, in bounded memory.
//!
//! Workers, the calling thread among them, each read the next chunk of whole
//! lines (about 1 MiB) into a buffer of their own, in turn (`chunks.rs`), and
//! parse it with their own parser and their own accumulator; chunk results
//! are folded in input order by whichever worker finishes the one that is due
//! (`order.rs`), so line numbers and anything order-sensitive come out the
//! same as a single-threaded pass. As many threads as workers, so none waits
//! for the machine's cores. Memory is the chunks in flight plus what the
//! accumulators keep: never the whole input. A line longer than
//! [`MAX_LINE`] is not buffered: it is counted as a reject and skipped.
//! Stateful parsers (W3C's `#Fields:`) get one worker, which sees every
//! chunk in order. Records that are no HTTP request (a TLS handshake a
//! server logged, a bare `-`: `log::request_rule`) are counted by kind and
//! never reach the accumulator.

use crate::log::{Handed, LineError, LineParser, LogRecord, NotRequest, request_rule};
use std::io::{self, Read};
use std::sync::Mutex;

mod chunks;
mod order;
use chunks::{Chunker, Work};
use order::Order;

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
/// what it built into the run's total, one chunk at a time and in input
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
#[derive(Debug, Default)]
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
    A: Accumulator,
    A::Total: Send,
    F: Fn(u64) -> A + Sync,
{
    let workers = if parser.is_stateful() { 1 } else { threads.max(1) };
    // Chunks read but not yet folded: a slow chunk holds the reading back instead of
    // letting the results after it pile up in memory.
    let in_flight = (IN_FLIGHT_PER_WORKER * workers).min(MAX_IN_FLIGHT) as u64;
    let chunker = Mutex::new(Chunker::new(reader));
    let order = Order::new(Scan::default(), total);
    let work = |mut parser: Box<dyn LineParser>| {
        // A worker that panics lets the others go rather than leave them waiting for its chunk.
        let _stop = StopOnPanic(&order);
        let mut buf = Vec::new();
        loop {
            let work = {
                let Ok(mut chunker) = chunker.lock() else { return };
                if !order.wait_for_room(chunker.next_seq(), in_flight) {
                    return;
                }
                chunker.next(&mut buf)
            };
            let result = match work {
                Some(Work::Lines { seq, len }) => parse_chunk(seq, &buf[..len], parser.as_mut(), new_acc(seq)),
                Some(Work::Overlong { seq }) => overlong(seq, new_acc(seq)),
                None => return,
            };
            order.hand_in(result);
        }
    };
    std::thread::scope(|scope| {
        let work = &work;
        for _ in 1..workers {
            let parser = parser.clone_box();
            scope.spawn(move || work(parser));
        }
        // The calling thread is a worker too.
        work(parser.clone_box());
    });
    let mut scan = order.into_scan();
    scan.read_error = match chunker.into_inner() {
        Ok(chunker) => chunker.error,
        Err(_) => Some(io::Error::other("a worker panicked while reading the input")),
    };
    scan
}

/// Stops the scan's order when dropped by a panicking worker.
struct StopOnPanic<'o, 't, A: Accumulator>(&'o Order<'t, A>);

impl<A: Accumulator> Drop for StopOnPanic<'_, '_, A> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.stop();
        }
    }
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

    /// Reads a line `GET /<n>` as a request for path `/<n>`: a parser cheap enough for tests
    /// of many chunks in debug builds.
    #[derive(Clone)]
    struct Numbered;
    impl LineParser for Numbered {
        fn parse<'a>(&mut self, line: &'a [u8]) -> crate::log::Parsed<'a> {
            let path = line.strip_prefix(b"GET ").map(std::borrow::Cow::Borrowed);
            crate::log::Parsed::Record(LogRecord { method: Some(std::borrow::Cow::Borrowed(b"GET")), path, ..LogRecord::default() })
        }
        fn clone_box(&self) -> Box<dyn LineParser> {
            Box::new(self.clone())
        }
    }

    /// The chunks folded so far, shared by the accumulators of one scan.
    type Folded = std::sync::Arc<std::sync::atomic::AtomicU64>;

    /// Each chunk's line numbers; checks when made that the chunk `MAX_IN_FLIGHT` before it has folded.
    struct Numbers(Vec<u64>, Folded);
    impl Accumulator for Numbers {
        type Total = Vec<u64>;
        fn add(&mut self, record: &LogRecord<'_>) {
            let number = record.path.as_deref().and_then(|p| std::str::from_utf8(&p[1..]).ok()?.parse().ok());
            self.0.push(number.unwrap_or(u64::MAX));
        }
        fn fold_into(self, total: &mut Vec<u64>) {
            total.extend(self.0);
            self.1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn numbered_lines(n: u64) -> Vec<u8> {
        (0..n).flat_map(|i| format!("GET /{i}\n").into_bytes()).collect()
    }

    #[test]
    fn workers_fold_every_chunk_in_order_and_read_no_chunk_before_its_lag_has_folded() {
        // 30 MB: about 30 chunks, on 1 to 8 workers. When a chunk is read (its accumulator
        // made), the chunk MAX_IN_FLIGHT before it has folded, whatever the thread count:
        // what the fold publishes reaches every chunk alike.
        let text = numbered_lines(2_400_000);
        for threads in [1, 2, 3, 8] {
            let folded = Folded::default();
            let lagging = std::sync::atomic::AtomicU64::new(0);
            let new_acc = |seq: u64| {
                if seq >= folded.load(std::sync::atomic::Ordering::SeqCst) + MAX_IN_FLIGHT as u64 {
                    lagging.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                Numbers(Vec::new(), std::sync::Arc::clone(&folded))
            };
            let mut numbers = Vec::new();
            let scan = scan(Box::new(std::io::Cursor::new(text.clone())), &Numbered, new_acc, &mut numbers, threads);
            assert_eq!((scan.lines, scan.records, scan.rejected), (2_400_000, 2_400_000, 0), "{threads} threads");
            assert!(numbers.iter().copied().eq(0..2_400_000), "{threads} threads: lines out of order");
            assert!(folded.load(std::sync::atomic::Ordering::SeqCst) > MAX_IN_FLIGHT as u64 + 8, "more chunks than the lag");
            assert_eq!(lagging.into_inner(), 0, "{threads} threads: a chunk read too far ahead of the fold");
        }
    }

    /// Each chunk's first line number and its number of lines.
    struct Spans(u64, u64);
    impl Accumulator for Spans {
        type Total = Vec<(u64, u64)>;
        fn add(&mut self, record: &LogRecord<'_>) {
            let number = record.path.as_deref().and_then(|p| std::str::from_utf8(&p[1..]).ok()?.parse().ok());
            if self.1 == 0 {
                self.0 = number.unwrap_or(u64::MAX);
            }
            self.1 += 1;
        }
        fn fold_into(self, total: &mut Vec<(u64, u64)>) {
            total.push((self.0, self.1));
        }
    }

    #[test]
    fn chunks_end_at_the_same_lines_whatever_the_thread_count_after_a_long_line() {
        // A line of 1000 KiB, begun 40 KB into a chunk, grows the buffer of the worker that
        // reads it: chunks read into that buffer later still end where chunks read into any other do.
        let mut text = numbered_lines(100_000);
        text.extend(b"GET /0".iter().chain(&vec![b'7'; 1000 << 10]).chain(b"\n"));
        text.extend(numbered_lines(1_200_000));
        let spans = |threads| {
            let mut spans = Vec::new();
            scan(Box::new(std::io::Cursor::new(text.clone())), &Numbered, |_| Spans(0, 0), &mut spans, threads);
            spans
        };
        let one = spans(1);
        assert!(one.len() > 12, "{} chunks", one.len());
        assert_eq!(one.iter().map(|s| s.1).sum::<u64>(), 1_300_001);
        for threads in [2, 3] {
            assert_eq!(spans(threads), one, "{threads} threads");
        }
    }

    #[test]
    fn a_worker_that_panics_stops_the_scan_and_the_panic_reaches_the_caller() {
        // Chunk 3 of about 30 panics while the other workers go on: they are let go, not
        // left waiting for room that chunk 3's fold would have made.
        let text = numbered_lines(2_400_000);
        for threads in [1, 2, 4] {
            let folded = Folded::default();
            let new_acc = |seq: u64| {
                assert_ne!(seq, 3, "chunk 3 fails");
                Numbers(Vec::new(), std::sync::Arc::clone(&folded))
            };
            let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let mut numbers = Vec::new();
                scan(Box::new(std::io::Cursor::new(text.clone())), &Numbered, new_acc, &mut numbers, threads)
            }));
            assert!(caught.is_err(), "{threads} threads");
            assert!(folded.load(std::sync::atomic::Ordering::SeqCst) <= 3, "{threads} threads: a chunk folded after the one that failed");
        }
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
