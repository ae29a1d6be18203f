//! Folding chunk results into the run's total in input order, on whichever worker
//! finishes the chunk that is due, and holding back the reading of chunks too far ahead.
//!
//! A worker hands its chunk's result in, then folds every result that is due, unless
//! another worker is folding (that one folds it). When chunk `n` is read, chunk
//! `n - in_flight` has been folded, whatever the thread count and timing: what the fold
//! publishes for later chunks (`profile::book`) reaches each chunk alike, and a slow
//! chunk holds the reading back rather than letting results pile up in memory.

use super::{Accumulator, ChunkResult, Scan, fold};
use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, TryLockError};

/// Results waiting for the ones before them, and how far the fold has come.
struct Pending<A> {
    results: BTreeMap<u64, ChunkResult<A>>,
    /// The next chunk to fold: every chunk before it is folded.
    next: u64,
    /// A worker stopped on a panic: no one waits for room any more.
    stopped: bool,
}

impl<A> Pending<A> {
    /// Whether chunk `seq` may be read, `in_flight` chunks being the most read and not folded
    /// (or the scan stopped, and no one should wait).
    fn has_room(&self, seq: u64, in_flight: u64) -> bool {
        self.stopped || seq < self.next + in_flight
    }
}

/// The fold's side: what the scan counts, and the total.
struct Folding<'t, A: Accumulator> {
    scan: Scan,
    total: &'t mut A::Total,
}

pub(super) struct Order<'t, A: Accumulator> {
    pending: Mutex<Pending<A>>,
    /// Signalled as each chunk folds (or the scan stops).
    room: Condvar,
    folding: Mutex<Folding<'t, A>>,
}

impl<'t, A: Accumulator> Order<'t, A> {
    pub(super) fn new(scan: Scan, total: &'t mut A::Total) -> Self {
        Order {
            pending: Mutex::new(Pending { results: BTreeMap::new(), next: 0, stopped: false }),
            room: Condvar::new(),
            folding: Mutex::new(Folding { scan, total }),
        }
    }

    /// Waits until chunk `seq` may be read: chunk `seq - in_flight` has folded. False
    /// when the scan stopped instead.
    pub(super) fn wait_for_room(&self, seq: u64, in_flight: u64) -> bool {
        let Ok(mut pending) = self.pending.lock() else { return false };
        while !pending.has_room(seq, in_flight) {
            pending = match self.room.wait(pending) {
                Ok(pending) => pending,
                Err(_) => return false,
            };
        }
        !pending.stopped
    }

    /// Hands a chunk's result in, then folds whatever is due, unless another worker is
    /// folding: that one sees this result before it lets go (it looks again after).
    pub(super) fn hand_in(&self, result: ChunkResult<A>) {
        match self.pending.lock() {
            Ok(mut pending) => pending.results.insert(result.seq, result),
            Err(_) => return,
        };
        loop {
            let mut folding = match self.folding.try_lock() {
                Ok(folding) => folding,
                Err(TryLockError::WouldBlock | TryLockError::Poisoned(_)) => return,
            };
            while let Some(chunk) = self.take_due() {
                let Folding { scan, total } = &mut *folding;
                fold(scan, &mut **total, chunk);
                if let Ok(mut pending) = self.pending.lock() {
                    pending.next += 1;
                }
                self.room.notify_all();
            }
            drop(folding);
            // A result handed in after the last look, while this worker still held the fold,
            // found it held: it is folded here.
            match self.pending.lock() {
                Ok(pending) if pending.results.contains_key(&pending.next) => {}
                _ => return,
            }
        }
    }

    fn take_due(&self) -> Option<ChunkResult<A>> {
        let mut pending = self.pending.lock().ok()?;
        let next = pending.next;
        pending.results.remove(&next)
    }

    /// Lets every worker waiting for room go: one stopped on a panic, and the chunks
    /// after its own can no longer fold.
    pub(super) fn stop(&self) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.stopped = true;
        }
        self.room.notify_all();
    }

    /// What the scan counted, once every worker is done.
    pub(super) fn into_scan(self) -> Scan {
        match self.folding.into_inner() {
            Ok(folding) => folding.scan,
            Err(poisoned) => poisoned.into_inner().scan,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::{ChunkResult, NotRequests};

    /// Each chunk's number, folded in turn.
    struct Seq(u64);
    impl Accumulator for Seq {
        type Total = Vec<u64>;
        fn add(&mut self, _: &crate::log::LogRecord<'_>) {}
        fn fold_into(self, total: &mut Vec<u64>) {
            total.push(self.0);
        }
    }

    fn result(seq: u64) -> ChunkResult<Seq> {
        ChunkResult {
            seq,
            lines: 1,
            records: 0,
            not_requests: NotRequests::default(),
            skipped: 0,
            rejected: 0,
            rejects: Vec::new(),
            acc: Seq(seq),
        }
    }

    fn room(order: &Order<'_, Seq>, seq: u64) -> bool {
        order.pending.lock().unwrap().has_room(seq, 4)
    }

    #[test]
    fn chunks_fold_in_turn_and_room_opens_only_as_the_earliest_fold() {
        let mut total = Vec::new();
        let order = Order::<Seq>::new(Scan::default(), &mut total);
        // Four in flight: chunks 0 to 3 may be read before any folds, not chunk 4.
        assert!((0..4).all(|seq| room(&order, seq)) && !room(&order, 4));
        // Chunks 1 to 3 are done, chunk 0 is not: nothing folds, no room opens.
        for seq in [2, 1, 3] {
            order.hand_in(result(seq));
        }
        assert!(!room(&order, 4));
        // Chunk 0 is done: all four fold, in turn; chunks up to 7 may be read.
        order.hand_in(result(0));
        assert!(room(&order, 7) && !room(&order, 8));
        order.hand_in(result(5));
        assert!(!room(&order, 8), "chunk 4 has not folded");
        order.hand_in(result(4));
        assert!(room(&order, 9) && !room(&order, 10));
        // A stopped scan keeps no one waiting.
        order.stop();
        assert!(room(&order, 1000));
        let scan = order.into_scan();
        assert_eq!(scan.lines, 6);
        assert_eq!(total, [0, 1, 2, 3, 4, 5]);
    }
}
