//! The per-request timeout (`--timeout`) without a timer made and unmade for
//! each request.
//!
//! `tokio::time::timeout` registers a new entry in the runtime's timer wheel
//! for each request (a lock and a list insert) and removes it when the
//! response comes (another lock and unlink): at tens of thousands of
//! requests a second that was a tenth of the client's own work. Here the
//! timers outlive their requests: a request takes an idle [`Sleep`] from
//! [`Timers`] and gives it back when it ends. Every request waits the same
//! `--timeout`, so a timer taken again moves its deadline later, which tokio
//! does with one atomic exchange and no wheel operation: the wheel meets the
//! old deadline once, sees the later one, and files the timer again. A
//! timer is then filed about once per timeout, not twice per request.
//!
//! The result is the same as `tokio::time::timeout`'s: the request's own
//! future is polled first, and the deadline is its start plus the timeout.
//! The idle timers are at most the requests that ran at once (the
//! connections, for HTTP/1.1), and never more than [`MAX_IDLE`]; an idle
//! one keeps no task alive (it holds a no-op waker).

use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::{Instant, Sleep};

/// Idle timers kept at most; one given back beyond this is dropped.
const MAX_IDLE: usize = 4096;

/// A deadline this far ahead stands for "never" when the timeout overflows the clock (as tokio's own).
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

/// Idle timers, for requests to wait on.
#[derive(Debug, Default)]
pub struct Timers {
    idle: Mutex<Vec<Pin<Box<Sleep>>>>,
}

/// A request that did not end within its timeout.
#[derive(Debug, PartialEq, Eq)]
pub struct Elapsed;

impl Timers {
    /// Runs `future` until it ends or `timeout` has passed since this call, whichever is first.
    /// The future comes pinned where its caller made it: a request's exchange is over a
    /// kilobyte, and taken by value it would be copied in, and again as it was pinned here.
    pub async fn within<F: Future>(&self, timeout: Duration, mut future: Pin<&mut F>) -> Result<F::Output, Elapsed> {
        let now = Instant::now();
        let deadline = now.checked_add(timeout).unwrap_or_else(|| now + FAR_FUTURE);
        let mut timer = self.take(deadline);
        let ended = std::future::poll_fn(|cx| {
            if let std::task::Poll::Ready(output) = future.as_mut().poll(cx) {
                return std::task::Poll::Ready(Ok(output));
            }
            timer.as_mut().poll(cx).map(|()| Err(Elapsed))
        })
        .await;
        self.give_back(timer);
        ended
    }

    /// An idle timer set to `deadline`, or a new one.
    fn take(&self, deadline: Instant) -> Pin<Box<Sleep>> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        match idle {
            Some(mut timer) => {
                timer.as_mut().reset(deadline);
                timer
            }
            None => Box::pin(tokio::time::sleep_until(deadline)),
        }
    }

    fn give_back(&self, mut timer: Pin<Box<Sleep>>) {
        // A timer holds the waker of the last task that waited on it, and with it that task's
        // memory, until it fires or is polled again: an idle one holds a no-op waker instead.
        let _ = timer.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(timer);
        }
    }

    #[cfg(test)]
    fn idle(&self) -> usize {
        self.idle.lock().unwrap().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_request_that_ends_in_time_gives_its_output_and_its_timer_back() {
        let timers = Timers::default();
        let started = Instant::now();
        let answer = std::pin::pin!(async {
            tokio::time::sleep(Duration::from_secs(2)).await;
            7
        });
        assert_eq!(timers.within(Duration::from_secs(5), answer).await, Ok(7));
        assert_eq!(started.elapsed(), Duration::from_secs(2));
        assert_eq!(timers.idle(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_request_past_its_timeout_ends_at_the_timeout() {
        let timers = Timers::default();
        let started = Instant::now();
        let never = std::pin::pin!(std::future::pending::<()>());
        assert_eq!(timers.within(Duration::from_secs(5), never).await, Err(Elapsed));
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        assert_eq!(timers.idle(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn a_timer_taken_again_counts_from_its_new_start_whatever_it_did_before() {
        let timers = Timers::default();
        // The first use ends early; the timer goes back with its deadline at 5 s.
        assert_eq!(timers.within(Duration::from_secs(5), std::pin::pin!(async {})).await, Ok(()));
        tokio::time::sleep(Duration::from_secs(3)).await;
        // Taken again at 3 s: its deadline moves to 8 s, not the 5 s it was filed at.
        let started = Instant::now();
        assert_eq!(timers.within(Duration::from_secs(5), std::pin::pin!(std::future::pending::<()>())).await, Err(Elapsed));
        assert_eq!(started.elapsed(), Duration::from_secs(5));
        // It fired; taken again after, it waits a whole timeout once more (and a shorter one too).
        let started = Instant::now();
        assert_eq!(timers.within(Duration::from_secs(1), std::pin::pin!(std::future::pending::<()>())).await, Err(Elapsed));
        assert_eq!(started.elapsed(), Duration::from_secs(1));
        // Idle past its deadline, then taken: it still waits from its new start.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let started = Instant::now();
        let answer = std::pin::pin!(async {
            tokio::time::sleep(Duration::from_secs(3)).await;
            "in time"
        });
        assert_eq!(timers.within(Duration::from_secs(4), answer).await, Ok("in time"));
        assert_eq!(started.elapsed(), Duration::from_secs(3));
        assert_eq!(timers.idle(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn requests_at_once_each_have_their_own_timer_and_deadline() {
        let timers = std::sync::Arc::new(Timers::default());
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..5u64 {
            let timers = std::sync::Arc::clone(&timers);
            tasks.spawn(async move {
                let started = Instant::now();
                // Requests 0-2 answer at 1, 2, 3 s; 3 and 4 never do and end at the 4 s timeout.
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
        assert_eq!(
            ended,
            vec![(0, Ok(0), secs(1)), (1, Ok(1), secs(2)), (2, Ok(2), secs(3)), (3, Err(Elapsed), secs(4)), (4, Err(Elapsed), secs(4))]
        );
        assert_eq!(timers.idle(), 5);
    }

    #[tokio::test(start_paused = true)]
    async fn an_idle_timer_keeps_no_waker_of_the_task_that_used_it() {
        struct Task;
        impl std::task::Wake for Task {
            fn wake(self: std::sync::Arc<Self>) {}
        }
        let timers = Timers::default();
        let task = std::sync::Arc::new(Task);
        let waker = std::task::Waker::from(std::sync::Arc::clone(&task));
        {
            let answer = std::pin::pin!(tokio::time::sleep(Duration::from_secs(1)));
            let mut within = Box::pin(timers.within(Duration::from_secs(5), answer));
            // Waiting: the timer and the answer's sleep each hold the task's waker.
            assert!(within.as_mut().poll(&mut std::task::Context::from_waker(&waker)).is_pending());
            assert!(std::sync::Arc::strong_count(&task) > 2);
            tokio::time::advance(Duration::from_secs(1)).await;
            assert!(within.as_mut().poll(&mut std::task::Context::from_waker(&waker)).is_ready());
        }
        drop(waker);
        // Given back, the timer holds none: the task is only ours.
        assert_eq!(timers.idle(), 1);
        assert_eq!(std::sync::Arc::strong_count(&task), 1);
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
