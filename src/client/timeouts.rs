//! The per-request timeout (`--timeout`) without a timer per request.
//!
//! `tokio::time::timeout` files an entry in the runtime's timer wheel for
//! each request (a lock and a list insert) and takes it out when the
//! response comes. Reusing tokio timers from a pool (the way before this
//! one) still cost a lock to take one and give it back, a reset and two
//! registrations a request: about 430 instructions, a tenth of a request's
//! own work in user space. Timeouts are seconds, and a request's timeout
//! need not end to the microsecond, so here nothing is filed at all: a
//! request writes its deadline into a slot of a fixed table ([`SLOTS`],
//! taken and freed by a bit of a bitmap) and its task's waker beside it, and
//! one sweeper task looks over the table [`SWEEPS_PER_TIMEOUT`] times a
//! timeout (the shortest in use; between [`MIN_SWEEP`] and [`MAX_SWEEP`]
//! apart): a request past its deadline is marked and woken. A timeout
//! therefore ends between its deadline and one sweep later (a 5 s timeout at
//! most 0.31 s late), and the request's latency runs to when it ended.
//!
//! Otherwise it is `tokio::time::timeout`: the request's own future is
//! polled first, and the deadline is its start plus the timeout. More
//! requests waiting at once than the table holds each wait on a tokio timer
//! of their own. The sweeper holds the table weakly and ends with it; if its
//! runtime goes away first, the next request starts another.

use futures_util::task::AtomicWaker;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::task::Poll;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// Requests that can wait at once in the table; more wait on tokio timers.
pub const SLOTS: usize = 4096;

/// The sweeper looks this many times a timeout: a timeout ends at most this share of itself late.
pub const SWEEPS_PER_TIMEOUT: u32 = 16;

/// The sweeper looks no more often than this...
pub const MIN_SWEEP: Duration = Duration::from_millis(1);

/// ...and no less often than this, however long the timeouts.
pub const MAX_SWEEP: Duration = Duration::from_secs(1);

/// A slot's state when not a deadline (milliseconds since the table began).
const FREE: u64 = u64::MAX;
const FIRED: u64 = u64::MAX - 1;

/// A deadline this far ahead stands for "never" when the timeout overflows the clock (as tokio's own).
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// The deadlines of the requests waiting, for requests to wait on.
#[derive(Debug)]
pub struct Timers {
    table: Arc<Table>,
}

#[derive(Debug)]
struct Table {
    /// Deadlines count milliseconds from here.
    base: Instant,
    slots: Box<[Slot]>,
    /// A bit a slot: set while a request holds it.
    taken: Box<[AtomicU64]>,
    /// The shortest timeout asked for, in milliseconds: the sweeps' pace.
    shortest_ms: AtomicU64,
    /// Tells a sleeping sweeper the pace has quickened (its own, so the sweeper can wait on it
    /// without keeping the table).
    sooner: Arc<Notify>,
    /// A sweeper is running.
    swept: AtomicBool,
}

#[derive(Debug)]
struct Slot {
    state: AtomicU64,
    waker: AtomicWaker,
}

/// A request that did not end within its timeout.
#[derive(Debug, PartialEq, Eq)]
pub struct Elapsed;

impl Default for Timers {
    fn default() -> Self {
        let table = Table {
            base: Instant::now(),
            slots: (0..SLOTS).map(|_| Slot { state: AtomicU64::new(FREE), waker: AtomicWaker::new() }).collect(),
            taken: (0..SLOTS / 64).map(|_| AtomicU64::new(0)).collect(),
            shortest_ms: AtomicU64::new(u64::MAX),
            sooner: Arc::new(Notify::new()),
            swept: AtomicBool::new(false),
        };
        Timers { table: Arc::new(table) }
    }
}

impl Timers {
    /// Runs `future` until it ends or `timeout` has passed since this call (to within a sweep, see
    /// the module's doc), whichever is first. The future comes pinned where its caller made it: a
    /// request's exchange is over a kilobyte, and taken by value it would be copied in, and again
    /// as it was pinned here.
    pub async fn within<F: Future>(&self, timeout: Duration, mut future: Pin<&mut F>) -> Result<F::Output, Elapsed> {
        let now = Instant::now();
        let deadline = now.checked_add(timeout).unwrap_or_else(|| now + FAR_FUTURE);
        let Some(held) = self.table.hold(deadline, timeout) else {
            // The table is full: this request waits on a tokio timer of its own.
            return tokio::time::timeout_at(deadline, future).await.map_err(|_| Elapsed);
        };
        if !self.table.swept.load(Ordering::Relaxed) {
            start_sweeper(&self.table);
        }
        let slot = held.slot();
        std::future::poll_fn(|cx| {
            if let Poll::Ready(output) = future.as_mut().poll(cx) {
                return Poll::Ready(Ok(output));
            }
            // Registered before the look: a sweep that marks the slot after the look wakes this waker.
            slot.waker.register(cx.waker());
            if slot.state.load(Ordering::Acquire) == FIRED { Poll::Ready(Err(Elapsed)) } else { Poll::Pending }
        })
        .await
    }

    #[cfg(test)]
    fn held(&self) -> u32 {
        self.table.taken.iter().map(|w| w.load(Ordering::Relaxed).count_ones()).sum()
    }
}

impl Table {
    /// A free slot holding `deadline`, or `None` when every slot is held.
    fn hold(&self, deadline: Instant, timeout: Duration) -> Option<Held<'_>> {
        let timeout_ms = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        if timeout_ms < self.shortest_ms.load(Ordering::Relaxed) {
            self.shortest_ms.fetch_min(timeout_ms, Ordering::Relaxed);
            self.sooner.notify_one();
        }
        // Rounded up, so a sweep at or after this millisecond is never early.
        let since = deadline.saturating_duration_since(self.base);
        let deadline_ms =
            since.as_secs().saturating_mul(1000).saturating_add(u64::from(since.subsec_nanos().div_ceil(1_000_000))).min(FIRED - 1);
        for (w, word) in self.taken.iter().enumerate() {
            let mut bits = word.load(Ordering::Relaxed);
            while bits != u64::MAX {
                let mask = 1u64 << (!bits).trailing_zeros();
                let before = word.fetch_or(mask, Ordering::Acquire);
                if before & mask == 0 {
                    let index = w * 64 + mask.trailing_zeros() as usize;
                    self.slots[index].state.store(deadline_ms, Ordering::Release);
                    return Some(Held { table: self, index });
                }
                bits = before | mask;
            }
        }
        None
    }

    /// How long the sweeper sleeps between looks.
    fn pace(&self) -> Duration {
        let shortest = Duration::from_millis(self.shortest_ms.load(Ordering::Relaxed));
        (shortest / SWEEPS_PER_TIMEOUT).clamp(MIN_SWEEP, MAX_SWEEP)
    }

    /// Marks and wakes every request whose deadline is at or before `now`.
    fn fire_due(&self, now: Instant) {
        let now_ms = u64::try_from(now.saturating_duration_since(self.base).as_millis()).unwrap_or(u64::MAX);
        for (w, word) in self.taken.iter().enumerate() {
            let mut bits = word.load(Ordering::Acquire);
            while bits != 0 {
                let slot = &self.slots[w * 64 + bits.trailing_zeros() as usize];
                bits &= bits - 1;
                let deadline = slot.state.load(Ordering::Acquire);
                // Only the deadline read: a request that ended and another that took the slot since keep theirs.
                if deadline < FIRED
                    && deadline <= now_ms
                    && slot.state.compare_exchange(deadline, FIRED, Ordering::AcqRel, Ordering::Relaxed).is_ok()
                {
                    slot.waker.wake();
                }
            }
        }
    }
}

/// A slot held by a request: freed when the request ends or its future is dropped.
struct Held<'a> {
    table: &'a Table,
    index: usize,
}

impl Held<'_> {
    fn slot(&self) -> &Slot {
        &self.table.slots[self.index]
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let slot = self.slot();
        slot.state.store(FREE, Ordering::Release);
        // A slot keeps no task's waker, nor with it the task's memory, once the request is done.
        drop(slot.waker.take());
        self.table.taken[self.index / 64].fetch_and(!(1u64 << (self.index % 64)), Ordering::Release);
    }
}

/// Starts the sweeper on the current runtime, unless one runs.
fn start_sweeper(table: &Arc<Table>) {
    if table.swept.swap(true, Ordering::AcqRel) {
        return;
    }
    let running = Running(Arc::downgrade(table));
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        drop(runtime.spawn(sweep(running)));
    }
}

/// The sweeper's hold on the table. Dropped with its task however that ends (its runtime
/// shutting down too, before it ever ran): the next request then starts another.
struct Running(Weak<Table>);

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(table) = self.0.upgrade() {
            table.swept.store(false, Ordering::Release);
        }
    }
}

/// Looks over the table at its pace until the table is gone.
async fn sweep(running: Running) {
    let table = &running.0;
    loop {
        let Some(live) = table.upgrade() else { return };
        let (pace, sooner) = (live.pace(), Arc::clone(&live.sooner));
        drop(live);
        tokio::select! {
            _ = tokio::time::sleep(pace) => {}
            _ = sooner.notified() => {}
        }
        let Some(live) = table.upgrade() else { return };
        live.fire_due(Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A timeout's end: at its deadline or up to one sweep after it.
    fn ended_at_timeout(elapsed: Duration, timeout: Duration) -> bool {
        elapsed >= timeout && elapsed <= timeout + timeout / SWEEPS_PER_TIMEOUT + MIN_SWEEP
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_that_ends_in_time_gives_its_output_and_its_slot_back() {
        let timers = Timers::default();
        let started = Instant::now();
        let answer = std::pin::pin!(async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            7
        });
        assert_eq!(timers.within(Duration::from_secs(5), answer).await, Ok(7));
        assert_eq!(started.elapsed(), Duration::from_secs(2));
        assert_eq!(timers.held(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_past_its_timeout_ends_within_a_sweep_of_it_never_before() {
        let timers = Timers::default();
        for secs in [5, 1, 30] {
            let started = Instant::now();
            let never = std::pin::pin!(std::future::pending::<()>());
            assert_eq!(timers.within(Duration::from_secs(secs), never).await, Err(Elapsed));
            assert!(ended_at_timeout(started.elapsed(), Duration::from_secs(secs)), "{secs} s: {:?}", started.elapsed());
            assert_eq!(timers.held(), 0);
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_slot_taken_again_counts_from_its_new_start_whatever_it_held_before() {
        let timers = Timers::default();
        // The first use ends early, its deadline at 5 s.
        assert_eq!(timers.within(Duration::from_secs(5), std::pin::pin!(async {})).await, Ok(()));
        tokio::time::sleep(Duration::from_secs(3)).await;
        // Taken again at 3 s: its deadline is 8 s, not the 5 s it held.
        let started = Instant::now();
        assert_eq!(timers.within(Duration::from_secs(5), std::pin::pin!(std::future::pending::<()>())).await, Err(Elapsed));
        assert!(ended_at_timeout(started.elapsed(), Duration::from_secs(5)), "{:?}", started.elapsed());
        // It fired; taken again after, it waits a whole timeout once more.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let started = Instant::now();
        let answer = std::pin::pin!(async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            "in time"
        });
        assert_eq!(timers.within(Duration::from_secs(4), answer).await, Ok("in time"));
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        assert_eq!(timers.held(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn requests_at_once_each_have_their_own_deadline() {
        let timers = Arc::new(Timers::default());
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..6u64 {
            let timers = Arc::clone(&timers);
            tasks.spawn(async move {
                // Started a second apart; 0-2 answer 1, 2, 3 s after they start; 3-5 never do.
                tokio::time::sleep(Duration::from_secs(i)).await;
                let started = Instant::now();
                let answer = async move {
                    if i < 3 {
                        tokio::time::sleep(Duration::from_secs(i + 1)).await;
                    } else {
                        std::future::pending::<()>().await;
                    }
                    i
                };
                (i, timers.within(Duration::from_secs(4), std::pin::pin!(answer)).await, started.elapsed())
            });
        }
        let mut ended = tasks.join_all().await;
        ended.sort_by_key(|(i, ..)| *i);
        let secs = Duration::from_secs;
        for (i, result, elapsed) in ended {
            match i {
                0..3 => assert_eq!((result, elapsed), (Ok(i), secs(i + 1))),
                _ => assert!(result == Err(Elapsed) && ended_at_timeout(elapsed, secs(4)), "{i}: {result:?} after {elapsed:?}"),
            }
        }
        assert_eq!(timers.held(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_shorter_timeout_after_a_long_one_ends_at_its_own_pace() {
        let timers = Arc::new(Timers::default());
        let waiting = Arc::clone(&timers);
        // A long timeout first: the sweeper goes to sleep for a second (its longest pace).
        let long =
            tokio::spawn(async move { waiting.within(Duration::from_secs(600), std::pin::pin!(std::future::pending::<()>())).await });
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
        let started = Instant::now();
        let short = timers.within(Duration::from_millis(100), std::pin::pin!(std::future::pending::<()>())).await;
        assert_eq!(short, Err(Elapsed));
        assert!(ended_at_timeout(started.elapsed(), Duration::from_millis(100)), "{:?}", started.elapsed());
        long.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_dropped_while_waiting_frees_its_slot_and_waker() {
        struct Task;
        impl std::task::Wake for Task {
            fn wake(self: Arc<Self>) {}
        }
        let timers = Timers::default();
        let task = Arc::new(Task);
        let waker = std::task::Waker::from(Arc::clone(&task));
        {
            let never = std::pin::pin!(std::future::pending::<()>());
            let mut within = Box::pin(timers.within(Duration::from_secs(5), never));
            assert!(within.as_mut().poll(&mut std::task::Context::from_waker(&waker)).is_pending());
            assert_eq!(timers.held(), 1);
            assert!(Arc::strong_count(&task) > 2, "the slot holds the task's waker");
        }
        drop(waker);
        assert_eq!(timers.held(), 0);
        assert_eq!(Arc::strong_count(&task), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn more_requests_than_slots_wait_on_timers_of_their_own() {
        let timers = Arc::new(Timers::default());
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..SLOTS + 2 {
            let timers = Arc::clone(&timers);
            tasks.spawn(async move {
                let started = Instant::now();
                (timers.within(Duration::from_secs(2), std::pin::pin!(std::future::pending::<()>())).await, started.elapsed())
            });
        }
        let ended = tasks.join_all().await;
        assert_eq!(ended.len(), SLOTS + 2);
        assert!(ended.iter().all(|(result, elapsed)| *result == Err(Elapsed) && ended_at_timeout(*elapsed, Duration::from_secs(2))));
        assert_eq!(timers.held(), 0);
    }

    #[test]
    fn a_table_outliving_its_sweepers_runtime_gets_another_sweeper() {
        let timers = Timers::default();
        let paused = || tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        let first = paused();
        first.block_on(async { assert_eq!(timers.within(Duration::from_secs(1), std::pin::pin!(async { 1 })).await, Ok(1)) });
        drop(first);
        let second = paused();
        second.block_on(async {
            let started = Instant::now();
            let never = std::pin::pin!(std::future::pending::<()>());
            let waiting = timers.within(Duration::from_secs(1), never);
            // Without a sweeper it would wait for ever: the test's own timer says so instead.
            assert_eq!(tokio::time::timeout(Duration::from_secs(10), waiting).await, Ok(Err(Elapsed)));
            assert!(ended_at_timeout(started.elapsed(), Duration::from_secs(1)));
        });
    }

    #[tokio::test(start_paused = true)]
    async fn a_timeout_past_the_clocks_end_never_fires() {
        let timers = Timers::default();
        let answer = std::pin::pin!(async {
            tokio::time::sleep(Duration::from_secs(86_400)).await;
            1
        });
        assert_eq!(timers.within(Duration::MAX, answer).await, Ok(1));
    }
}
