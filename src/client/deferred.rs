//! Deferred reads: a response waits in its socket until the run's next wake,
//! and the kernel says when it arrived.
//!
//! At a steady rate the loop wakes for each batch of requests, and without
//! this each response woke the process once more, a few tens of
//! microseconds after its request went out: at 5,000 rps that was a third
//! of the wake-ups, and wake-ups were most of the CPU a request cost. A
//! connection whose reads are deferred raises its socket's low-water mark
//! (`SO_RCVLOWAT`), so a response smaller than [`LOW_WATER`] wakes nobody;
//! it is read when the loop next wakes ([`ReadTick::tick`]), and timed by
//! the kernel's receive timestamp (`SO_TIMESTAMPNS`), so its latency is when
//! it arrived, not when it was read. A connection the target closes still
//! wakes its reader (the kernel signals a closing socket at any mark).
//!
//! Reads are deferred only where that costs nothing: on cleartext HTTP/1.1,
//! while the loop says it wakes again within [`DENSE`], with connections to
//! spare. The loop says so before each of its sleeps (`run/timer.rs`); before
//! any other wait (for a connection, the end of sending) it says it will not
//! wake soon, which releases the readers waiting. A reader that finds
//! nothing after [`TRIES`] wakes, or is released, lowers the mark again and
//! waits for the socket as usual. Linux only; elsewhere nothing is deferred.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// A deferred socket wakes its reader once this much of a response is in (larger bodies are read as they come).
pub const LOW_WATER: usize = 32 * 1024;
/// Reads are deferred while the loop wakes at least this often.
pub const DENSE: Duration = Duration::from_millis(5);
/// A deferred reader looks this many times on the loop's wakes before it waits for the socket instead.
pub const TRIES: u32 = 2;
/// A request defers its read only when at least this many idle connections are left beside its own.
pub const SPARE: usize = 4;

/// The loop's wakes, as deferred readers hear them.
#[derive(Debug)]
pub struct ReadTick {
    notify: Notify,
    start: Instant,
    /// The loop last said it wakes again within [`DENSE`]. It speaks before every wait it
    /// makes (a sleep, a wait for a connection, its end), so until it speaks again it is
    /// asleep for at most that long, or awake.
    soon: AtomicBool,
    /// When the loop last said when it wakes next (nanoseconds from `start`).
    said_ns: AtomicU64,
    /// The wall-clock time of `start` (nanoseconds since 1970), taken again at each wake: the
    /// kernel stamps arrivals on the wall clock, and this turns them into the run's instants
    /// without two clock reads for each response.
    start_wall_ns: AtomicU64,
}

impl Default for ReadTick {
    fn default() -> Self {
        let tick = ReadTick {
            notify: Notify::new(),
            start: Instant::now(),
            soon: AtomicBool::new(false),
            said_ns: AtomicU64::new(0),
            start_wall_ns: AtomicU64::new(0),
        };
        tick.note_clocks();
        tick
    }
}

impl ReadTick {
    /// Notes the time on both clocks.
    fn note_clocks(&self) {
        let (since_start, wall) = (self.start.elapsed(), std::time::SystemTime::now());
        let wall_ns = wall.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
        let now = since_start.as_nanos() as u64;
        self.said_ns.store(now, Ordering::Relaxed);
        self.start_wall_ns.store(wall_ns.saturating_sub(now), Ordering::Relaxed);
    }

    /// When the loop last said when it wakes: a request written since went out after it.
    pub fn said(&self) -> Instant {
        self.start + Duration::from_nanos(self.said_ns.load(Ordering::Relaxed))
    }

    /// The instant of a wall-clock stamp (nanoseconds since 1970), as the clocks stood when
    /// the loop last said when it wakes. (A clock stepped since may put it a little after now:
    /// a latency ends at now at the latest.)
    pub fn instant_of(&self, wall_ns: u64) -> Instant {
        let since_start = wall_ns.saturating_sub(self.start_wall_ns.load(Ordering::Relaxed));
        self.start + Duration::from_nanos(since_start)
    }

    /// The loop has sent what was due and is about to sleep for `gap`: the readers waiting
    /// look at their sockets now, while it sleeps. When `gap` is longer than [`DENSE`], they
    /// stop waiting for it, and no read waits for it until it says otherwise.
    pub fn sleeps_for(&self, gap: Duration) {
        self.note_clocks();
        self.soon.store(gap <= DENSE, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    /// Whether the loop wakes soon enough for a read to wait for it: the last it said, it
    /// wakes within [`DENSE`] (or it is awake now). No clock read: this is on every request.
    pub fn dense(&self) -> bool {
        self.soon.load(Ordering::SeqCst)
    }

    /// The loop's next word ([`ReadTick::sleeps_for`]). Made before a reader looks at its socket and at
    /// [`ReadTick::dense`], it hears a wake or release that comes after the look.
    pub fn next(&self) -> tokio::sync::futures::Notified<'_> {
        self.notify.notified()
    }
}

#[cfg(target_os = "linux")]
mod sys {
    use std::mem::MaybeUninit;
    use std::os::fd::RawFd;

    fn set(fd: RawFd, option: libc::c_int, value: libc::c_int) -> std::io::Result<()> {
        let size = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        // SAFETY: `fd` is a socket the caller owns; the value is a c_int of the size given.
        let done = unsafe { libc::setsockopt(fd, libc::SOL_SOCKET, option, (&raw const value).cast(), size) };
        if done < 0 { Err(std::io::Error::last_os_error()) } else { Ok(()) }
    }

    /// Asks the kernel to stamp each received segment with its arrival time.
    pub fn stamp_arrivals(fd: RawFd) -> std::io::Result<()> {
        set(fd, libc::SO_TIMESTAMPNS, 1)
    }

    /// Sets how many received bytes make the socket readable.
    pub fn set_low_water(fd: RawFd, bytes: usize) -> std::io::Result<()> {
        set(fd, libc::SO_RCVLOWAT, libc::c_int::try_from(bytes).unwrap_or(libc::c_int::MAX))
    }

    /// Reads what the socket holds without waiting: the bytes, and when the last of them
    /// arrived (the kernel's stamp: wall-clock nanoseconds since 1970) if it stamped them.
    pub fn recv_stamped(fd: RawFd, into: &mut [MaybeUninit<u8>]) -> std::io::Result<(usize, Option<u64>)> {
        // Room for one SCM_TIMESTAMPNS message (a timespec), aligned for cmsghdr.
        let mut control = [0u64; 8];
        let mut iov = libc::iovec { iov_base: into.as_mut_ptr().cast(), iov_len: into.len() };
        // SAFETY: an all-zero msghdr is valid; the fields that matter are set below.
        let mut msg: libc::msghdr = unsafe { std::mem::zeroed() };
        msg.msg_iov = &raw mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&control) as _;
        // SAFETY: `msg` points at `into` (writable, its length given) and `control` (its size
        // given), both alive for the call; the kernel writes at most those lengths.
        let read = unsafe { libc::recvmsg(fd, &raw mut msg, libc::MSG_DONTWAIT) };
        if read < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok((read as usize, arrival(&msg)))
    }

    /// The arrival the kernel stamped, in wall-clock nanoseconds since 1970.
    fn arrival(msg: &libc::msghdr) -> Option<u64> {
        // SAFETY: `msg` was filled by recvmsg, and the CMSG macros walk its control buffer within its length.
        let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(msg) };
        while !cmsg.is_null() {
            // SAFETY: `cmsg` is non-null and within the control buffer (CMSG_FIRSTHDR/NXTHDR check).
            let header = unsafe { &*cmsg };
            if header.cmsg_level == libc::SOL_SOCKET && header.cmsg_type == libc::SCM_TIMESTAMPNS {
                // SAFETY: an SCM_TIMESTAMPNS message carries a timespec; read unaligned, as it may be.
                let stamp = unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast::<libc::timespec>()) };
                let (secs, nanos) = (u64::try_from(stamp.tv_sec).ok()?, u64::try_from(stamp.tv_nsec).ok()?);
                return secs.checked_mul(1_000_000_000)?.checked_add(nanos);
            }
            // SAFETY: as above.
            cmsg = unsafe { libc::CMSG_NXTHDR(msg, cmsg) };
        }
        None
    }
}

#[cfg(target_os = "linux")]
pub use sys::{recv_stamped, set_low_water, stamp_arrivals};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_are_deferred_only_while_the_loop_wakes_soon() {
        const MS: u64 = 1_000_000;
        let dense = DENSE.as_nanos() as u64;
        let tick = ReadTick::default();
        // (the loop's next sleep if it says one, then: dense?) Between its words the loop is
        // asleep for what it said, or awake (busy past its wake): either way the last word holds.
        let table: [(Option<u64>, bool, &str); 8] = [
            (None, false, "the loop has said nothing"),
            (Some(MS / 2), true, "it wakes in half a millisecond"),
            (None, true, "it is waking now"),
            (None, true, "it woke half a millisecond ago, still busy"),
            (None, true, "past its wake, not asleep again: busy, it says so before its next sleep"),
            (Some(dense), true, "a sleep of DENSE itself"),
            (Some(dense + 1), false, "a longer sleep: reads wait for the socket"),
            (Some(MS / 4), true, "a short sleep again"),
        ];
        for (sleep, dense, what) in table {
            if let Some(gap) = sleep {
                tick.sleeps_for(Duration::from_nanos(gap));
            }
            assert_eq!(tick.dense(), dense, "{what}");
        }
    }

    #[tokio::test]
    async fn a_reader_waiting_hears_the_loop_go_to_sleep() {
        // (the loop's sleep, then: do reads still wait for it?) A short sleep: the readers look
        // now and may wait again; a long one releases them to their sockets.
        for (gap, dense) in [(Duration::from_micros(500), true), (Duration::from_millis(50), false)] {
            let tick = ReadTick::default();
            let next = tick.next();
            tokio::pin!(next);
            next.as_mut().enable();
            tick.sleeps_for(gap);
            // Resolves at once: the word came after the wait was made, before it was awaited.
            tokio::time::timeout(Duration::from_secs(5), next).await.expect("heard");
            assert_eq!(tick.dense(), dense, "{gap:?}");
        }
    }
}
