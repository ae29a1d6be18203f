//! What the fold hands the workers as a derive goes on (the folding
//! rules, the samples' floors), kept by version, so that each chunk gets the
//! version that stood a fixed number of chunks before it.
//!
//! Chunk `n` is handed out only once chunk `n - MAX_IN_FLIGHT` has folded
//! (`scan/order.rs`), so the version made then is always published when a worker
//! starts chunk `n`, however the threads are timed: every thread count treats
//! every chunk alike, and the profile is the same byte for byte. Versions no
//! chunk still to come can ask for are dropped as new ones come in.

use std::sync::{Arc, Mutex};

/// A chunk gets the version that stood this many chunks before it.
pub const LAG: u64 = crate::scan::MAX_IN_FLIGHT as u64;

/// Each version, by the number of chunks folded when it was made.
#[derive(Debug)]
pub struct Book<T> {
    versions: Mutex<Vec<(u64, Arc<T>)>>,
}

impl<T> Default for Book<T> {
    fn default() -> Self {
        Book { versions: Mutex::new(Vec::new()) }
    }
}

/// Whether a version made when `made_at` chunks were folded (chunks `0..made_at`) is settled
/// for chunk `index`: made by the time chunk `index - LAG` folded.
fn settled_for(made_at: u64, index: u64) -> bool {
    index.checked_sub(LAG).is_some_and(|settled| made_at <= settled + 1)
}

impl<T: Default> Book<T> {
    /// Publishes a version made when `folded_chunks` chunks were folded. Every chunk still to be
    /// made comes at or after `folded_chunks`, so versions older than the newest one settled for
    /// that chunk are dropped: a book holds a handful, however long the derive.
    pub fn publish(&self, folded_chunks: u64, version: Arc<T>) {
        if let Ok(mut versions) = self.versions.lock() {
            versions.push((folded_chunks, version));
            if let Some(oldest_needed) = versions.iter().rposition(|(made_at, _)| settled_for(*made_at, folded_chunks)) {
                versions.drain(..oldest_needed);
            }
        }
    }

    /// The version for chunk `index` (counted over all inputs); the default before any settled.
    pub fn for_chunk(&self, index: u64) -> Arc<T> {
        let Ok(versions) = self.versions.lock() else { return Arc::default() };
        versions.iter().rev().find(|(made_at, _)| settled_for(*made_at, index)).map(|(_, v)| Arc::clone(v)).unwrap_or_default()
    }

    /// How many versions are kept (tests: the book stays small).
    #[cfg(test)]
    fn kept(&self) -> usize {
        self.versions.lock().map(|v| v.len()).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_sees_only_versions_settled_before_it() {
        let book: Book<u32> = Book::default();
        book.publish(10, Arc::new(1));
        book.publish(50, Arc::new(2));
        assert_eq!(*book.for_chunk(0), 0);
        assert_eq!(*book.for_chunk(LAG + 8), 0);
        assert_eq!(*book.for_chunk(LAG + 9), 1);
        assert_eq!(*book.for_chunk(LAG + 48), 1);
        assert_eq!(*book.for_chunk(LAG + 49), 2);
    }

    #[test]
    fn versions_no_chunk_to_come_needs_are_dropped_and_the_rest_answer_as_before() {
        // Published every 3 chunks for 1,000 chunks; after each, every chunk from the folded count
        // on (all a reader may still hand out) gets the newest version settled for it.
        let book: Book<u64> = Book::default();
        for folded in (3..=1000u64).step_by(3) {
            book.publish(folded, Arc::new(folded));
            for index in folded..folded + 3 * LAG {
                let expected = (3..=folded).step_by(3).filter(|&made| settled_for(made, index)).last().unwrap_or(0);
                assert_eq!(*book.for_chunk(index), expected, "chunk {index} after {folded} folded");
            }
            assert!(book.kept() <= (LAG / 3 + 2) as usize, "{} versions kept after {folded} folded", book.kept());
        }
    }
}
