//! The loop's words to the deferred readers (`deferred.rs`): each reader
//! waits for the next one, and each word wakes every reader waiting.
//!
//! `tokio::sync::Notify` did this with an intrusive list: a waiter joined it
//! under a lock when made, and left it under the lock again when dropped
//! unheard. Here a word is a count: a waiter notes the count when made and
//! is over once it has moved, so making one costs one atomic read, and only
//! a waiter that finds no word yet files its task's waker (under a lock, as
//! the loop takes them all when it speaks). A waiter dropped after filing
//! leaves its waker to be woken once, for nothing, at the next word: that is
//! only a request given up while its response was awaited (a timeout).

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

/// The words said so far, and the tasks waiting for the next.
#[derive(Debug, Default)]
pub struct Words {
    said: AtomicU64,
    waiting: Mutex<Vec<Waker>>,
    /// The list the last word emptied, kept for its room: the next word swaps it in.
    spare: Mutex<Vec<Waker>>,
}

impl Words {
    /// A wait for the next word: one said after this call ends it, whenever it is awaited.
    pub fn next(&self) -> NextWord<'_> {
        NextWord { words: self, seen: self.said.load(Ordering::SeqCst), filed: false }
    }

    /// How many words have been said: a wait kept by hand ([`Words::poll_after`]) notes it
    /// before it looks at what it waits for.
    pub fn count(&self) -> u64 {
        self.said.load(Ordering::SeqCst)
    }

    /// A wait for the first word after `seen` (a [`Words::count`]), polled by hand: for a
    /// reader that cannot hold a [`NextWord`] across its polls. `filed` is the wait's own,
    /// false when it is made.
    pub fn poll_after(&self, seen: u64, filed: &mut bool, cx: &mut Context<'_>) -> Poll<()> {
        if self.said.load(Ordering::SeqCst) != seen {
            return Poll::Ready(());
        }
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        // Asked again under the lock: a word said since the question above took the wakers
        // before this one could be filed, and would not wake it.
        if self.said.load(Ordering::SeqCst) != seen {
            return Poll::Ready(());
        }
        if !*filed || !waiting.iter().any(|w| w.will_wake(cx.waker())) {
            waiting.push(cx.waker().clone());
            *filed = true;
        }
        Poll::Pending
    }

    /// Says a word: every wait made before this call ends, and the tasks waiting are woken.
    pub fn say(&self) {
        self.said.fetch_add(1, Ordering::SeqCst);
        let mut spare = self.spare.lock().unwrap_or_else(|e| e.into_inner());
        // Woken outside the waiters' lock, so a waker that polls at once cannot deadlock on it.
        std::mem::swap(&mut *self.waiting.lock().unwrap_or_else(|e| e.into_inner()), &mut *spare);
        for waker in spare.drain(..) {
            waker.wake();
        }
    }

    #[cfg(test)]
    fn filed(&self) -> usize {
        self.waiting.lock().unwrap().len()
    }
}

/// A wait for the loop's next word ([`Words::next`]).
#[derive(Debug)]
pub struct NextWord<'a> {
    words: &'a Words,
    /// The count of words when the wait was made.
    seen: u64,
    /// Whether this wait's waker is filed (a task polled again keeps its waker: filed once).
    filed: bool,
}

impl Future for NextWord<'_> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let NextWord { words, seen, ref mut filed } = *self;
        words.poll_after(seen, filed, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::AtomicUsize;

    /// A waker that counts its wakes.
    struct Counter(AtomicUsize);

    impl std::task::Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Counter>, Waker) {
        let counter = Arc::new(Counter(AtomicUsize::new(0)));
        (Arc::clone(&counter), Waker::from(counter))
    }

    fn poll(wait: &mut NextWord<'_>, waker: &Waker) -> Poll<()> {
        Pin::new(wait).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn a_word_said_after_the_wait_is_made_ends_it_whenever_it_is_polled() {
        let words = Words::default();
        let (count, waker) = counter();
        // Said before the first poll: the wait is over at once, and nothing was filed.
        let mut wait = words.next();
        words.say();
        assert_eq!(poll(&mut wait, &waker), Poll::Ready(()));
        // Said after a poll found none: the waker is woken once, and the wait is over.
        let mut wait = words.next();
        assert_eq!(poll(&mut wait, &waker), Poll::Pending);
        assert_eq!(words.filed(), 1);
        words.say();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        assert_eq!(words.filed(), 0);
        assert_eq!(poll(&mut wait, &waker), Poll::Ready(()));
    }

    #[test]
    fn a_wait_made_after_a_word_waits_for_the_next() {
        let words = Words::default();
        let (count, waker) = counter();
        words.say();
        let mut wait = words.next();
        assert_eq!(poll(&mut wait, &waker), Poll::Pending);
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        words.say();
        assert_eq!(poll(&mut wait, &waker), Poll::Ready(()));
    }

    #[test]
    fn every_waiting_task_is_woken_once_by_a_word() {
        let words = Words::default();
        let tasks: Vec<_> = (0..40).map(|_| counter()).collect();
        let mut waits: Vec<_> = tasks.iter().map(|_| words.next()).collect();
        for (wait, (_, waker)) in waits.iter_mut().zip(&tasks) {
            assert_eq!(poll(wait, waker), Poll::Pending);
            // Polled again (a task woken for something else): its waker is not filed twice.
            assert_eq!(poll(wait, waker), Poll::Pending);
        }
        assert_eq!(words.filed(), 40);
        words.say();
        assert!(tasks.iter().all(|(count, _)| count.0.load(Ordering::SeqCst) == 1));
        assert!(waits.iter_mut().zip(&tasks).all(|(wait, (_, waker))| poll(wait, waker).is_ready()));
        // A second word finds nobody filed: nobody is woken again.
        words.say();
        assert!(tasks.iter().all(|(count, _)| count.0.load(Ordering::SeqCst) == 1));
    }

    #[test]
    fn a_wait_polled_from_another_task_files_that_tasks_waker_too() {
        let words = Words::default();
        let ((first, first_waker), (second, second_waker)) = (counter(), counter());
        let mut wait = words.next();
        assert_eq!(poll(&mut wait, &first_waker), Poll::Pending);
        assert_eq!(poll(&mut wait, &second_waker), Poll::Pending);
        words.say();
        assert_eq!((first.0.load(Ordering::SeqCst), second.0.load(Ordering::SeqCst)), (1, 1));
    }

    #[test]
    fn words_from_another_thread_wake_a_waiting_task() {
        let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let words = Arc::new(Words::default());
        for _ in 0..200 {
            let wait = words.next();
            let speaker = {
                let words = Arc::clone(&words);
                std::thread::spawn(move || words.say())
            };
            // However the word and the poll interleave, the wait ends.
            runtime.block_on(wait);
            speaker.join().unwrap();
        }
    }
}
