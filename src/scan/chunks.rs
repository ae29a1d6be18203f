//! Cutting the input into chunks of whole lines, for whichever worker asks next.
//!
//! The input is read by the workers themselves, one at a time (the cutter sits behind a
//! lock): each reads its next chunk into its own buffer and parses it, while the other
//! workers parse theirs. A reader thread of its own and a thread for the fold, passing
//! buffers and results through channels, made two threads more than the cores to
//! schedule: a worker waited on a channel's lock held by a thread set aside.

use super::{CHUNK, MAX_LINE};
use std::io::{self, Read};

/// What a worker got to parse.
pub(super) enum Work {
    /// Whole lines in the first `len` bytes of the worker's buffer.
    Lines { seq: u64, len: usize },
    /// A line over [`MAX_LINE`] bytes that was skipped.
    Overlong { seq: u64 },
}

/// The input, and what was read past the last whole line handed out.
pub(super) struct Chunker {
    reader: Box<dyn Read + Send>,
    /// The start of a line read but not ended yet: the next chunk begins with it.
    carry: Vec<u8>,
    next_seq: u64,
    ended: bool,
    /// A read error that ended the input early; what came before is handed out.
    pub(super) error: Option<io::Error>,
}

impl Chunker {
    pub(super) fn new(reader: Box<dyn Read + Send>) -> Self {
        Chunker { reader, carry: Vec::new(), next_seq: 0, ended: false, error: None }
    }

    /// The number the next chunk handed out will have.
    pub(super) fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The next chunk, read into `buf` (which keeps its length between calls: only the
    /// bytes a chunk covers are data, so reusing it costs no zeroing); `None` once the
    /// input has ended.
    pub(super) fn next(&mut self, buf: &mut Vec<u8>) -> Option<Work> {
        loop {
            if self.ended {
                return None;
            }
            let mut filled = self.carry.len();
            // A chunk's window is set by the carried line alone, never by the buffer's size (a
            // buffer grown for a long line once stays grown): chunks end at the same lines
            // whichever worker reads them.
            let window = if filled + CHUNK / 2 > CHUNK { filled + CHUNK } else { CHUNK };
            if buf.len() < window {
                buf.resize(window, 0);
            }
            buf[..filled].copy_from_slice(&self.carry);
            self.carry.clear();
            let (eof, error) = fill(&mut self.reader, &mut buf[..window], &mut filled);
            if eof {
                self.ended = true;
                self.error = error;
            } else {
                match memchr::memrchr(b'\n', &buf[..filled]) {
                    Some(last) => {
                        self.carry.extend_from_slice(&buf[last + 1..filled]);
                        filled = last + 1;
                    }
                    None if filled >= MAX_LINE => {
                        let seq = self.take_seq();
                        match skip_line(&mut self.reader, &mut self.carry) {
                            Ok(true) => {}
                            Ok(false) => self.ended = true,
                            Err(e) => {
                                self.ended = true;
                                self.error = Some(e);
                            }
                        }
                        return Some(Work::Overlong { seq });
                    }
                    None => {
                        // One line still going: read more behind it.
                        self.carry.extend_from_slice(&buf[..filled]);
                        continue;
                    }
                }
            }
            if filled > 0 {
                return Some(Work::Lines { seq: self.take_seq(), len: filled });
            }
        }
    }

    fn take_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq - 1
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
