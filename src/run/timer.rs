//! A sleep with microsecond precision inside the async runtime.
//!
//! tokio's timers tick in whole milliseconds, which would show up as
//! schedule lag; a second thread with the OS's fine sleep costs two context
//! switches per wake. On Linux this is a `timerfd` registered with the
//! runtime's reactor: one wake per deadline, on the runtime's own thread.
//! Elsewhere it falls back to tokio's timer.
//!
//! The loop takes its sleeper as a [`Sleeper`]: this timer in a real run,
//! tokio's own sleep ([`TokioSleeper`]) in tests under paused time.

use std::time::Instant;

/// Waits until an instant of the run's clock.
pub trait Sleeper: Send + Sync + 'static {
    fn sleep_until(&self, deadline: tokio::time::Instant) -> impl std::future::Future<Output = ()> + Send;
}

/// tokio's timer: millisecond ticks, and paused time in tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioSleeper;

impl Sleeper for TokioSleeper {
    fn sleep_until(&self, deadline: tokio::time::Instant) -> impl std::future::Future<Output = ()> + Send {
        tokio::time::sleep_until(deadline)
    }
}

impl Sleeper for PreciseTimer {
    async fn sleep_until(&self, deadline: tokio::time::Instant) {
        // A timer that fails (it does not, short of the descriptor vanishing) falls back to tokio's.
        if PreciseTimer::sleep_until(self, deadline.into_std()).await.is_err() {
            tokio::time::sleep_until(deadline).await;
        }
    }
}

#[cfg(target_os = "linux")]
pub struct PreciseTimer {
    fd: tokio::io::unix::AsyncFd<std::os::fd::OwnedFd>,
}

#[cfg(target_os = "linux")]
impl PreciseTimer {
    pub fn new() -> std::io::Result<Self> {
        use std::os::fd::FromRawFd;
        // SAFETY: timerfd_create returns a new descriptor (or -1), which we own from here on.
        let raw = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_NONBLOCK | libc::TFD_CLOEXEC) };
        if raw < 0 {
            return Err(std::io::Error::last_os_error());
        }
        // SAFETY: `raw` is a valid descriptor that nothing else owns.
        let owned = unsafe { std::os::fd::OwnedFd::from_raw_fd(raw) };
        // SAFETY: the OwnedFd stays open, and is the same descriptor, for as long as the AsyncFd holds it.
        let fd = unsafe { tokio::io::unix::AsyncFd::register_with_interest(owned, tokio::io::Interest::READABLE) }
            .map_err(std::io::Error::from)?;
        Ok(PreciseTimer { fd })
    }

    /// Returns at `deadline` (at once if it has passed).
    pub async fn sleep_until(&self, deadline: Instant) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        // Closer than this, a timer costs more than the wait it would measure.
        const NOT_WORTH_A_TIMER: std::time::Duration = std::time::Duration::from_micros(20);
        let Some(remaining) = deadline.checked_duration_since(Instant::now()).filter(|d| *d > NOT_WORTH_A_TIMER) else {
            // Still let the tasks beside this one run: the caller loops on us.
            tokio::task::yield_now().await;
            return Ok(());
        };
        let fd = self.fd.get_ref().as_raw_fd();
        let spec = libc::itimerspec {
            it_interval: libc::timespec { tv_sec: 0, tv_nsec: 0 },
            it_value: libc::timespec { tv_sec: remaining.as_secs() as libc::time_t, tv_nsec: remaining.subsec_nanos() as libc::c_long },
        };
        // SAFETY: `fd` is our timerfd; `spec` is a valid itimerspec; the old value is not asked for.
        if unsafe { libc::timerfd_settime(fd, 0, &spec, std::ptr::null_mut()) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        loop {
            let mut guard = self.fd.readable().await?;
            let read = guard.try_io(|inner| {
                let mut expirations = [0u8; 8];
                // SAFETY: reading 8 bytes from our timerfd into an 8-byte buffer.
                let n = unsafe { libc::read(inner.get_ref().as_raw_fd(), expirations.as_mut_ptr().cast(), 8) };
                if n < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
            });
            match read {
                Ok(result) => {
                    // The expiry is consumed: forget the readiness, so the next
                    // wait does not wake at once only to find nothing to read.
                    guard.clear_ready();
                    return result;
                }
                Err(_would_block) => continue,
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub struct PreciseTimer;

#[cfg(not(target_os = "linux"))]
impl PreciseTimer {
    pub fn new() -> std::io::Result<Self> {
        Ok(PreciseTimer)
    }
    pub async fn sleep_until(&self, deadline: Instant) -> std::io::Result<()> {
        tokio::time::sleep_until(deadline.into()).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn wakes_close_to_the_deadline() {
        let timer = PreciseTimer::new().unwrap();
        let mut worst = Duration::ZERO;
        for _ in 0..20 {
            let deadline = Instant::now() + Duration::from_micros(300);
            PreciseTimer::sleep_until(&timer, deadline).await.unwrap();
            let late = Instant::now().saturating_duration_since(deadline);
            assert!(Instant::now() >= deadline);
            worst = worst.max(late);
        }
        // Far finer than tokio's millisecond ticks, with room for a busy machine.
        assert!(worst < Duration::from_millis(20), "{worst:?}");
        PreciseTimer::sleep_until(&timer, Instant::now() - Duration::from_millis(1)).await.unwrap();
    }
}
