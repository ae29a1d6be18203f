//! `--trace`: the per-request timeline, as CSV, for replays that must follow
//! production request by request.
//!
//! ```text
//! offset_s,method,template,target,session
//! 0.000,GET,/users/{id},/users/42?tab=posts,5f0c2a1b9e8d7c64
//! 0.137,POST,/login,/login,0b9a8c7d6e5f4a31
//! ```
//! `template` is the path templated by the look of its segments (the
//! profile's cardinality folding happens only when the whole log is read);
//! `target` is the concrete path and query with secrets replaced by their
//! placeholders; `session` is the user's seeded hash, never the address.
//!
//! Rows stream out in time order through a reorder window of
//! [`WINDOW_S`] seconds, enough for the disorder of several workers writing
//! one log; a row later than that is written where it arrives and counted.
//! Offsets are seconds from the first row written.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::io::Write;

/// The trace's columns, in order: what `derive --trace` writes and `run` reads.
pub const COLUMNS: [&str; 5] = ["offset_s", "method", "template", "target", "session"];

pub const WINDOW_S: i64 = 60;

/// One request of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TraceRow {
    pub time_us: i64,
    pub method: String,
    pub template: String,
    pub target: String,
    pub user: u64,
}

pub struct TraceWriter {
    csv: csv::Writer<Box<dyn Write + Send>>,
    pending: BinaryHeap<Reverse<(i64, u64, TraceRow)>>,
    seq: u64,
    watermark_us: i64,
    base_us: Option<i64>,
    last_emitted: Option<i64>,
    pub written: u64,
    /// Rows that came later than the window and were written out of order.
    pub late: u64,
    error: Option<csv::Error>,
}

impl TraceWriter {
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        let mut csv = csv::Writer::from_writer(out);
        let error = csv.write_record(COLUMNS).err();
        TraceWriter {
            csv,
            pending: BinaryHeap::new(),
            seq: 0,
            watermark_us: i64::MIN,
            base_us: None,
            last_emitted: None,
            written: 0,
            late: 0,
            error,
        }
    }

    pub fn push(&mut self, row: TraceRow) {
        self.watermark_us = self.watermark_us.max(row.time_us);
        if self.emitted_past(row.time_us) {
            self.late += 1;
            self.write(row);
        } else {
            self.seq += 1;
            self.pending.push(Reverse((row.time_us, self.seq, row)));
        }
        let horizon = self.watermark_us - WINDOW_S * 1_000_000;
        while self.pending.peek().is_some_and(|Reverse((t, _, _))| *t < horizon) {
            if let Some(Reverse((_, _, row))) = self.pending.pop() {
                self.write(row);
            }
        }
    }

    fn emitted_past(&self, time_us: i64) -> bool {
        self.last_emitted.is_some_and(|last| time_us < last)
    }

    fn write(&mut self, row: TraceRow) {
        let base = *self.base_us.get_or_insert(row.time_us);
        self.last_emitted = Some(self.last_emitted.map_or(row.time_us, |l| l.max(row.time_us)));
        let offset = format!("{:.6}", (row.time_us - base) as f64 / 1e6);
        let session = format!("{:016x}", row.user);
        let result = self.csv.write_record([offset.as_str(), &row.method, &row.template, &row.target, &session]);
        if let Err(e) = result {
            self.error.get_or_insert(e);
        }
        self.written += 1;
    }

    /// Writes what is pending and flushes; the first write error, if any.
    pub fn finish(mut self) -> Result<(u64, u64), csv::Error> {
        while let Some(Reverse((_, _, row))) = self.pending.pop() {
            self.write(row);
        }
        if let Some(e) = self.error.take() {
            return Err(e);
        }
        self.csv.flush()?;
        Ok((self.written, self.late))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    /// A writer the test can read back.
    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);
    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn row(sec: i64, target: &str) -> TraceRow {
        TraceRow { time_us: sec * 1_000_000, method: "GET".into(), template: "/t".into(), target: target.into(), user: 255 }
    }

    #[test]
    fn rows_come_out_in_time_order_within_the_window() {
        let out = Shared::default();
        let mut trace = TraceWriter::new(Box::new(out.clone()));
        for (sec, target) in [(100, "/a"), (130, "/c"), (110, "/b"), (400, "/d"), (120, "/late")] {
            trace.push(row(sec, target));
        }
        assert_eq!(trace.finish().unwrap(), (5, 1));
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        let targets: Vec<&str> = text.lines().skip(1).map(|l| l.split(',').nth(3).unwrap()).collect();
        assert_eq!(targets, ["/a", "/b", "/c", "/late", "/d"]);
        assert!(text.lines().nth(2).unwrap().starts_with("10.000000,GET,/t,/b,00000000000000ff"), "{text}");
    }
}
