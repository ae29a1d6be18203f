//! A sleep with microsecond precision inside the async runtime.
//!
//! tokio's timers tick in whole milliseconds, which would show up as
//! schedule lag; a second thread with the OS's fine sleep costs two context
//! switches per wake. On Linux this is a `timerfd` registered with the
//! runtime's reactor: one wake per deadline, on the runtime's own thread,
//! and one system call (arming it; the expiry is never read). A short wait
//! while the process is busy is spun through instead of slept (`spin.rs`).
//! Elsewhere it falls back to tokio's timer.
//!
//! The loop takes its sleeper as a [`Sleeper`]: this timer in a real run,
//! tokio's own sleep ([`TokioSleeper`]) in tests under paused time.
//! Whichever it is, the loop sleeps through [`Announced`], which tells the
//! transport how long each sleep will be before it begins: responses then
//! wait in their sockets for the loop's wakes (`client/deferred.rs`).

use std::time::Instant;

/// Waits until an instant of the run's clock.
pub trait Sleeper: Send + Sync + 'static {
    fn sleep_until(&self, deadline: tokio::time::Instant) -> impl std::future::Future<Output = ()> + Send;

    /// Waits until `deadline`, when the wake after it is expected at `then`: a timer may be
    /// armed for that one now, while this one is still pending (see [`PreciseTimer`]).
    fn sleep_until_then(
        &self,
        deadline: tokio::time::Instant,
        then: Option<tokio::time::Instant>,
    ) -> impl std::future::Future<Output = ()> + Send {
        let _ = then;
        self.sleep_until(deadline)
    }
}

/// tokio's timer: millisecond ticks, and paused time in tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep_until(&self, deadline: tokio::time::Instant) -> impl std::future::Future<Output = ()> + Send {
        tokio::time::sleep_until(deadline)
    }
}

/// The loop's sleeper, telling the transport before each sleep how long it is: responses can
/// wait in their sockets for the loop's wakes, and are read as it goes to sleep (`client/deferred.rs`).
pub struct Announced<S, T> {
    pub sleeper: S,
    pub transport: T,
}

impl<S: Sleeper, T: crate::client::Transport> Sleeper for Announced<S, T> {
    async fn sleep_until(&self, deadline: tokio::time::Instant) {
        self.sleep_until_then(deadline, None).await;
    }

    async fn sleep_until_then(&self, deadline: tokio::time::Instant, then: Option<tokio::time::Instant>) {
        self.transport.will_wait(deadline.saturating_duration_since(tokio::time::Instant::now()));
        self.sleeper.sleep_until_then(deadline, then).await;
    }
}

impl Sleeper for PreciseTimer {
    async fn sleep_until(&self, deadline: tokio::time::Instant) {
        self.sleep_until_then(deadline, None).await;
    }

    async fn sleep_until_then(&self, deadline: tokio::time::Instant, then: Option<tokio::time::Instant>) {
        // A timer that fails (it does not, short of the descriptor vanishing) falls back to tokio's.
        if PreciseTimer::sleep_until(self, deadline.into_std(), then.map(tokio::time::Instant::into_std)).await.is_err() {
            tokio::time::sleep_until(deadline).await;
        }
    }
}

/// Two timers, so that the next wake's is armed while this one's is pending.
///
/// Arming a timer that fires before any other pending on the core reprograms
/// the core's timer device, and in a virtual machine that is a trap to the
/// hypervisor: on the bench's VM a sleep armed that way cost its thread
/// 19-20 µs of CPU a wake, and 9-10 µs when the timer had been armed behind
/// an earlier one (`bench/wakes.sh`). So the loop says when it expects to
/// wake after this wake ([`Sleeper::sleep_until_then`]), and that wake's
/// timer is armed now, behind this one: the interrupt that ends this sleep
/// reprograms the device for it, on the idle core, and the next sleep finds
/// its timer armed. A guess that proves wrong (the loop woke late and took
/// more) arms again, later, which reprograms nothing.
#[cfg(target_os = "linux")]
pub struct PreciseTimer {
    fds: [tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>; 2],
    /// What each timer is armed for: nanoseconds from `start`, plus one; zero when unarmed or spent.
    armed: [std::sync::atomic::AtomicU64; 2],
    /// The timer's own clock starts here: the spin gate's epochs count from it.
    start: Instant,
    /// `None` never spins (`--no-spin`).
    spin: Option<super::spin::SpinGate>,
    /// How many times a timer was armed.
    arms: std::sync::atomic::AtomicU64,
}

#[cfg(target_os = "linux")]
impl PreciseTimer {
    /// A timer whose short waits are spun through while the process is busy, if `spin`.
    pub fn new(spin: bool) -> std::io::Result<Self> {
        // The runtime has a worker a core (`app/run.rs`): the busy share is of them all.
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get() as u64);
        let spin = spin.then(|| super::spin::SpinGate::new(cores, 0, super::spin::process_cpu_ns()));
        Ok(PreciseTimer { fds: [timerfd()?, timerfd()?], armed: Default::default(), start: Instant::now(), spin, arms: Default::default() })
    }

    /// An instant as the `armed` marks hold it.
    fn mark(&self, at: Instant) -> u64 {
        (at.saturating_duration_since(self.start).as_nanos() as u64).saturating_add(1)
    }

    /// Arms timer `which` to fire `after` from now, for the instant marked `mark`.
    fn arm(&self, which: usize, mark: u64, after: std::time::Duration) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        use std::sync::atomic::Ordering::Relaxed;
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec { tv_sec: after.as_secs() as libc::time_t, tv_nsec: after.subsec_nanos() as libc::c_long },
        };
        // SAFETY: the descriptor is our timerfd; `spec` is a valid itimerspec; the old value is not asked for.
        // Arming also zeroes the count of expirations, so the descriptor is unreadable until this one.
        if unsafe { libc::timerfd_settime(self.fds[which].get_ref().as_raw_fd(), 0, &spec, std::ptr::null_mut()) } < 0 {
            self.armed[which].store(0, Relaxed);
            return Err(std::io::Error::last_os_error());
        }
        self.armed[which].store(mark, Relaxed);
        self.arms.fetch_add(1, Relaxed);
        Ok(())
    }

    /// Returns at `deadline` (at once if it has passed), never before it. `then`, the wake
    /// expected after this one, has its timer armed now, behind this one's.
    pub async fn sleep_until(&self, deadline: Instant, then: Option<Instant>) -> std::io::Result<()> {
        use std::sync::atomic::Ordering::Relaxed;
        // Closer than this, a timer costs more than the wait it would measure.
        const NOT_WORTH_A_TIMER: std::time::Duration = std::time::Duration::from_micros(20);
        loop {
            let now = Instant::now();
            let Some(remaining) = deadline.checked_duration_since(now).filter(|d| *d > NOT_WORTH_A_TIMER) else {
                // Still let the tasks beside this one run: the caller loops on us.
                tokio::task::yield_now().await;
                return Ok(());
            };
            if let Some(gate) = &self.spin
                && gate.spins(remaining.as_nanos() as u64, (now - self.start).as_nanos() as u64, super::spin::process_cpu_ns)
            {
                spin_until(gate, deadline).await;
                return Ok(());
            }
            let mark = self.mark(deadline);
            let ahead = then.filter(|t| *t > deadline).map(|t| (t, self.mark(t)));
            // The timer the last sleep armed ahead for this deadline, or one armed now (the
            // other, if that one holds `then` already).
            let this = match self.armed.iter().position(|a| a.load(Relaxed) == mark) {
                Some(this) => this,
                None => {
                    let this = usize::from(ahead.is_some_and(|(_, then_mark)| self.armed[0].load(Relaxed) == then_mark));
                    self.arm(this, mark, remaining)?;
                    this
                }
            };
            if let Some((then, then_mark)) = ahead
                && self.armed[1 - this].load(Relaxed) != then_mark
            {
                self.arm(1 - this, then_mark, then.saturating_duration_since(now))?;
            }
            let mut guard = self.fds[this].readable().await?;
            // The expiry is not read (arming again resets it): its readiness is forgotten instead,
            // and the clock, not the readiness, says whether the deadline has come. A readiness left
            // from an earlier timer (a wait that was dropped, a guess that was wrong) finds it has
            // not, and arms again.
            guard.clear_ready();
            self.armed[this].store(0, Relaxed);
            let woke = Instant::now();
            if woke >= deadline {
                if let Some(gate) = &self.spin {
                    gate.woke(woke.saturating_duration_since(deadline).as_nanos() as u64);
                }
                return Ok(());
            }
        }
    }
}

/// A timer descriptor, registered with the runtime's reactor.
#[cfg(target_os = "linux")]
fn timerfd() -> std::io::Result<tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>> {
    use std::os::fd::FromRawFd;
    // SAFETY: timerfd_create returns a new descriptor (or -1), which we own from here on.
    let raw = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
    if raw < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `raw` is a valid descriptor that nothing else owns.
    let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
    // SAFETY: the OwnedFd stays open, and is the same descriptor, for as long as the AsyncFd holds it.
    unsafe { tokio::io::unix::AsyncFd::register_with_interest(owned, tokio::io::Interest::READABLE) }.map_err(std::io::Error::from)
}

/// Yields to the runtime until `deadline`: each turn runs the tasks that are ready and polls
/// the sockets, without arming the timer or leaving the core. `gate` hears how long each took.
#[cfg(target_os = "linux")]
async fn spin_until(gate: &super::spin::SpinGate, deadline: Instant) {
    let mut before = Instant::now();
    while before < deadline {
        tokio::task::yield_now().await;
        let after = Instant::now();
        gate.turned(after.saturating_duration_since(before).as_nanos() as u64);
        before = after;
    }
}

#[cfg(not(target_os = "linux"))]
pub struct PreciseTimer;

#[cfg(not(target_os = "linux"))]
impl PreciseTimer {
    pub fn new(_spin: bool) -> std::io::Result<Self> {
        Ok(PreciseTimer)
    }
    pub async fn sleep_until(&self, deadline: Instant, _then: Option<Instant>) -> std::io::Result<()> {
        tokio::time::sleep_until(deadline.into()).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;
    use std::time::Duration;

    #[tokio::test]
    async fn wakes_close_to_the_deadline() {
        // The timer itself: no spinning, however loaded the machine running the tests is.
        let timer = PreciseTimer::new(false).unwrap();
        let mut worst = Duration::ZERO;
        for _ in 0..20 {
            let deadline = Instant::now() + Duration::from_micros(300);
            PreciseTimer::sleep_until(&timer, deadline, None).await.unwrap();
            let late = Instant::now().saturating_duration_since(deadline);
            assert!(Instant::now() >= deadline);
            worst = worst.max(late);
        }
        // Far finer than tokio's millisecond ticks, with room for a busy machine.
        assert!(worst < Duration::from_millis(20), "{worst:?}");
        PreciseTimer::sleep_until(&timer, Instant::now() - Duration::from_millis(1), None).await.unwrap();
    }

    /// How long until each of the two timers fires; zero when it is not armed.
    fn armed(timer: &PreciseTimer) -> [Duration; 2] {
        use std::os::fd::AsRawFd;
        timer.fds.each_ref().map(|fd| {
            let mut now = libc::itimerspec {
                it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
                it_value: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            };
            // SAFETY: the descriptor is the timer's timerfd; `now` is a valid itimerspec to fill.
            assert_eq!(unsafe { libc::timerfd_gettime(fd.get_ref().as_raw_fd(), &mut now) }, 0);
            Duration::new(now.it_value.tv_sec as u64, now.it_value.tv_nsec as u32)
        })
    }

    /// How long until the sooner of the two timers fires; zero when neither is armed.
    fn armed_for(timer: &PreciseTimer) -> Duration {
        armed(timer).into_iter().filter(|d| !d.is_zero()).min().unwrap_or_default()
    }

    /// Polls a wait once, as the loop's first poll of it would, and says whether it is still pending.
    fn first_poll(wait: std::pin::Pin<&mut impl Future<Output = std::io::Result<()>>>) -> bool {
        wait.poll(&mut std::task::Context::from_waker(std::task::Waker::noop())).is_pending()
    }

    /// A timer whose gate has judged the process `busy` (its cores full) or idle, over an epoch
    /// that ends far in the future: the gate does not judge again during a test, whatever the
    /// machine's stalls or the other tests' load.
    fn judged(busy: bool) -> PreciseTimer {
        const FAR: u64 = 1 << 50;
        let timer = PreciseTimer::new(true).unwrap();
        let gate = timer.spin.as_ref().unwrap();
        // A machine seen to wake sleeps late.
        for _ in 0..super::super::spin::LATE_SLEEPS {
            gate.woke(super::super::spin::LATE_WAKE + 1);
        }
        let spun = gate.spins(100_000, FAR, || super::super::spin::process_cpu_ns() + if busy { FAR * 64 } else { 0 });
        assert_eq!(spun, busy);
        timer
    }

    #[tokio::test]
    async fn a_busy_process_spins_through_a_short_wait_and_an_idle_one_sleeps_on_the_timer() {
        use super::super::spin::SPIN_UNDER;
        // Idle: a short wait arms the timer.
        let idle = judged(false);
        let mut wait = std::pin::pin!(PreciseTimer::sleep_until(&idle, Instant::now() + Duration::from_micros(200), None));
        assert!(first_poll(wait.as_mut()));
        assert!(armed_for(&idle) > Duration::ZERO);
        wait.await.unwrap();

        // Busy: the same wait is spun through.
        let busy = judged(true);
        let deadline = Instant::now() + Duration::from_micros(200);
        let mut wait = std::pin::pin!(PreciseTimer::sleep_until(&busy, deadline, None));
        assert!(first_poll(wait.as_mut()));
        assert_eq!(armed_for(&busy), Duration::ZERO, "a spun wait arms no timer");
        wait.await.unwrap();
        assert!(Instant::now() >= deadline, "a spun wait never ends early");
        // A long wait sleeps on the timer even so.
        let long = Duration::from_nanos(SPIN_UNDER) + Duration::from_millis(1);
        let mut wait = std::pin::pin!(PreciseTimer::sleep_until(&busy, Instant::now() + long, None));
        assert!(first_poll(wait.as_mut()));
        assert!(armed_for(&busy) > Duration::ZERO);
        // `--no-spin`: no gate, so every wait sleeps on the timer.
        assert!(PreciseTimer::new(false).unwrap().spin.is_none());
    }

    #[tokio::test]
    async fn a_sleep_that_wakes_late_tells_the_gate() {
        use super::super::spin::LATE_WAKE;
        let timer = judged(false);
        let gate = timer.spin.as_ref().unwrap();
        let seen = gate.late_sleeps_seen();
        // Armed, then the thread kept busy past the deadline by more than LATE_WAKE (a core
        // the machine did not give back in time): the wake that follows is late. (Which wakes
        // are late enough to count is `spin.rs`'s to test.)
        let deadline = Instant::now() + Duration::from_micros(200);
        let mut wait = std::pin::pin!(PreciseTimer::sleep_until(&timer, deadline, None));
        assert!(first_poll(wait.as_mut()));
        while Instant::now() < deadline + Duration::from_nanos(LATE_WAKE) + Duration::from_millis(1) {
            std::hint::spin_loop();
        }
        wait.await.unwrap();
        assert_eq!(gate.late_sleeps_seen() - seen, 1);
    }

    #[tokio::test]
    async fn a_sleep_arms_the_next_wakes_timer_behind_its_own() {
        use std::sync::atomic::Ordering::Relaxed;
        let timer = PreciseTimer::new(false).unwrap();
        let ms = Duration::from_millis;
        let start = Instant::now();
        // Far enough apart that a busy machine's late wake does not reach the next.
        let wakes = [start + ms(5), start + ms(100), start + ms(200)];
        PreciseTimer::sleep_until(&timer, wakes[0], Some(wakes[1])).await.unwrap();
        assert!(Instant::now() >= wakes[0]);
        assert_eq!(timer.arms.load(Relaxed), 2, "this wake's timer, and the next's behind it");
        let [a, b] = armed(&timer);
        let left = wakes[1] - Instant::now();
        assert!(a.is_zero() != b.is_zero(), "one timer spent, the other armed for the next wake: {a:?} {b:?}");
        let next = a.max(b);
        assert!(next >= left && next <= left + ms(20), "armed for the next wake, never before it: {next:?}, {left:?} left");
        // The next sleep finds its timer armed, and arms only the one after.
        PreciseTimer::sleep_until(&timer, wakes[1], Some(wakes[2])).await.unwrap();
        assert!(Instant::now() >= wakes[1]);
        assert_eq!(timer.arms.load(Relaxed), 3, "the next wake's timer was armed already");
        assert!(!armed_for(&timer).is_zero(), "the wake after is armed");
        // The last wake: none foreseen after it, nothing more armed.
        PreciseTimer::sleep_until(&timer, wakes[2], None).await.unwrap();
        assert_eq!(timer.arms.load(Relaxed), 3);
        assert_eq!(armed_for(&timer), Duration::ZERO);
    }

    #[tokio::test]
    async fn a_wrong_guess_never_ends_a_sleep_early() {
        let timer = PreciseTimer::new(false).unwrap();
        let ms = Duration::from_millis;
        // (the next sleep's deadline after the guess, what it guesses next) The guessed wake's
        // timer fires while a later deadline, or one with nothing guessed after it, is awaited.
        for then in [Some(ms(12)), None] {
            let start = Instant::now();
            PreciseTimer::sleep_until(&timer, start + ms(2), Some(start + ms(4))).await.unwrap();
            let deadline = start + ms(8);
            PreciseTimer::sleep_until(&timer, deadline, then.map(|t| start + t)).await.unwrap();
            assert!(Instant::now() >= deadline, "woke {:?} early", deadline - Instant::now());
        }
        // The guessed wake's timer fires while the loop is busy past it, and the reactor marks it
        // readable; a later sleep that finds a timer armed on that descriptor again must not take
        // the old readiness for its own.
        let start = Instant::now();
        PreciseTimer::sleep_until(&timer, start + ms(2), Some(start + ms(4))).await.unwrap();
        let fired = timer.armed.iter().position(|a| a.load(std::sync::atomic::Ordering::Relaxed) != 0).expect("the guess armed");
        drop(timer.fds[fired].readable().await.unwrap());
        let (late, later) = (Instant::now() + ms(3), Instant::now() + ms(6));
        PreciseTimer::sleep_until(&timer, late, Some(later)).await.unwrap();
        assert!(Instant::now() >= late);
        PreciseTimer::sleep_until(&timer, later, None).await.unwrap();
        assert!(Instant::now() >= later, "woke {:?} early", later - Instant::now());
    }

    #[tokio::test]
    async fn a_readiness_left_by_a_dropped_wait_never_ends_the_next_one_early() {
        let timer = PreciseTimer::new(false).unwrap();
        // A wait dropped before its deadline (a stop won the select): its timer still fires...
        let mut dropped = std::pin::pin!(PreciseTimer::sleep_until(&timer, Instant::now() + Duration::from_micros(300), None));
        let once = dropped.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
        assert!(once.is_pending());
        drop(dropped);
        // ...and the reactor marks the descriptor readable, which nobody takes.
        drop(timer.fds[0].readable().await.unwrap());
        for wait in [Duration::from_millis(5), Duration::from_micros(500)] {
            let deadline = Instant::now() + wait;
            PreciseTimer::sleep_until(&timer, deadline, None).await.unwrap();
            assert!(Instant::now() >= deadline, "woke {:?} early", deadline - Instant::now());
        }
    }
}
