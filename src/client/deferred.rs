//! Deferred reads: a response waits in its socket until the run's next wake,
//! and the kernel says when it arrived.
//!
//! At a steady rate the loop wakes for each batch of requests, and without
//! this each response woke the process once more, a few tens of
//! microseconds after its request went out: at 5,000 rps that was a third
//! of the wake-ups, and wake-ups were most of the CPU a request cost. A
//! connection whose reads are deferred raises its socket's low-water mark
//! (`SO_RCVLOWAT`), so a response smaller than [`LOW_WATER`] wakes nobody;
//! it is read when the loop next wakes ([`ReadTick::sleeps_for`]), and timed by
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
//! waits for the socket as usual. Nothing waits until the kernel is seen to
//! stamp arrivals ([`Stamping`]). Linux only; elsewhere nothing is deferred.

use super::next_word::{NextWord, Words};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A deferred socket wakes its reader once this much of a response is in (larger bodies are read as they come).
pub const LOW_WATER: usize = 32 * 1024;
/// Reads are deferred while the loop wakes at least this often.
pub const DENSE: Duration = Duration::from_millis(5);
/// A deferred reader looks this many times on the loop's wakes before it waits for the socket instead.
pub const TRIES: u32 = 2;
/// A request defers its read only when at least this many idle connections are left beside its own.
pub const SPARE: usize = 4;
/// How many times the clocks are read as a pair before the tightest pairing is kept.
const PAIRINGS: u32 = 3;
/// A pairing whose monotonic reads are this close (ns) is not read again.
const TIGHT_PAIRING_NS: u64 = 2_000;

/// The loop's wakes, as deferred readers hear them.
#[derive(Debug)]
pub struct ReadTick {
    words: Words,
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
    /// Whether the kernel stamps arrivals yet: until it does, no read waits.
    stamping: Stamping,
}

impl Default for ReadTick {
    fn default() -> Self {
        let tick = ReadTick {
            words: Words::default(),
            start: Instant::now(),
            soon: AtomicBool::new(false),
            said_ns: AtomicU64::new(0),
            start_wall_ns: AtomicU64::new(0),
            stamping: Stamping::new(),
        };
        tick.note_clocks();
        tick
    }
}

/// Keeps the kernel's receive stamps on for a tick's life, and says when they are.
///
/// The kernel stamps received packets only while some socket asks for it, and it turns that
/// on in a background work item after the first socket asks: the first responses on a fresh
/// connection can come unstamped, and a deferred read could then time them only when it read
/// them. So each tick holds a stamped loopback socket of its own (the count never falls to
/// zero under it), and sends itself a byte until one comes back stamped; only then may reads
/// wait. The checks back off (doubling from [`FIRST_CHECK_NS`] to [`LAST_CHECK_NS`]), so a
/// kernel that never stamps costs almost nothing.
#[derive(Debug)]
struct Stamping {
    #[cfg(target_os = "linux")]
    probe: Option<std::net::UdpSocket>,
    on: AtomicBool,
    /// When the next check is due, and the wait after it (nanoseconds from the tick's start).
    next_check_ns: AtomicU64,
    backoff_ns: AtomicU64,
}

/// The wait after the first check for stamps, doubled after each one that finds none.
const FIRST_CHECK_NS: u64 = 50_000;
/// The longest wait between two checks for stamps.
const LAST_CHECK_NS: u64 = 1_000_000_000;

impl Stamping {
    fn new() -> Self {
        Stamping {
            #[cfg(target_os = "linux")]
            probe: sys::stamped_probe().ok(),
            on: AtomicBool::new(false),
            next_check_ns: AtomicU64::new(0),
            backoff_ns: AtomicU64::new(FIRST_CHECK_NS),
        }
    }

    /// Stamping with nothing to check it with: never on.
    #[cfg(test)]
    fn unprobed() -> Self {
        Stamping {
            #[cfg(target_os = "linux")]
            probe: None,
            ..Stamping::new()
        }
    }

    fn on(&self) -> bool {
        self.on.load(Ordering::Relaxed)
    }

    /// Checks whether the kernel stamps yet, if a check is due at `now_ns`.
    fn check(&self, now_ns: u64) {
        if self.on() || now_ns < self.next_check_ns.load(Ordering::Relaxed) {
            return;
        }
        let backoff = self.backoff_ns.load(Ordering::Relaxed);
        self.next_check_ns.store(now_ns.saturating_add(backoff), Ordering::Relaxed);
        self.backoff_ns.store((backoff * 2).min(LAST_CHECK_NS), Ordering::Relaxed);
        #[cfg(target_os = "linux")]
        if self.probe.as_ref().is_some_and(sys::comes_back_stamped) {
            self.on.store(true, Ordering::Relaxed);
        }
    }
}

impl ReadTick {
    /// Notes the time on both clocks. The wall clock is read between two reads of the
    /// monotonic one and paired with their midpoint, so a stamp converts to within half their
    /// gap; a gap widened by a preemption is read again (at most [`PAIRINGS`] times, the
    /// tightest kept), so a busy machine does not shift arrivals by a time slice.
    fn note_clocks(&self) {
        let mut best: Option<(u64, u64, u64)> = None; // (gap, offset, after)
        for _ in 0..PAIRINGS {
            let before = self.start.elapsed().as_nanos() as u64;
            let wall = std::time::SystemTime::now();
            let after = self.start.elapsed().as_nanos() as u64;
            let wall_ns = wall.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
            let gap = after.saturating_sub(before);
            let offset = wall_ns.saturating_sub(before + gap / 2);
            if best.is_none_or(|(best_gap, ..)| gap < best_gap) {
                best = Some((gap, offset, after));
            }
            if gap <= TIGHT_PAIRING_NS {
                break;
            }
        }
        let Some((_, offset, after)) = best else { return };
        self.said_ns.store(after, Ordering::Relaxed);
        self.start_wall_ns.store(offset, Ordering::Relaxed);
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
        self.stamping.check(self.said_ns.load(Ordering::Relaxed));
        self.soon.store(gap <= DENSE && self.stamping.on(), Ordering::SeqCst);
        self.words.say();
    }

    /// Whether the loop wakes soon enough for a read to wait for it: the last it said, it
    /// wakes within [`DENSE`] (or it is awake now), and the kernel stamps arrivals. No clock
    /// read: this is on every request.
    pub fn dense(&self) -> bool {
        self.soon.load(Ordering::SeqCst)
    }

    /// A tick whose kernel stamps are on: checked until they are (the kernel turns them on in
    /// the background). Elsewhere than on Linux, taken as on.
    #[cfg(test)]
    pub(crate) fn stamped() -> Self {
        let tick = ReadTick::default();
        let since = Instant::now();
        while !tick.stamping.on() {
            if cfg!(not(target_os = "linux")) {
                tick.stamping.on.store(true, Ordering::Relaxed);
            }
            assert!(since.elapsed() < Duration::from_secs(10), "the kernel never stamped an arrival");
            tick.stamping.check(u64::MAX);
            std::thread::yield_now();
        }
        tick
    }

    /// The loop's next word ([`ReadTick::sleeps_for`]). Made before a reader looks at its socket and at
    /// [`ReadTick::dense`], it hears a wake or release that comes after the look.
    pub fn next(&self) -> NextWord<'_> {
        self.words.next()
    }

    /// How many words the loop has said: noted before a look, for [`ReadTick::poll_word_after`].
    pub fn words_said(&self) -> u64 {
        self.words.count()
    }

    /// The loop's first word after `seen` words, polled by hand (a reader inside a stream's
    /// `poll_read`, which cannot hold a [`NextWord`]).
    pub fn poll_word_after(&self, seen: u64, filed: &mut bool, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        self.words.poll_after(seen, filed, cx)
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

    /// A loopback socket that sends to itself, its arrivals stamped.
    pub fn stamped_probe() -> std::io::Result<std::net::UdpSocket> {
        let probe = std::net::UdpSocket::bind("127.0.0.1:0")?;
        probe.connect(probe.local_addr()?)?;
        probe.set_nonblocking(true)?;
        stamp_arrivals(std::os::fd::AsRawFd::as_raw_fd(&probe))?;
        Ok(probe)
    }

    /// Sends the probe a byte and reads what it holds: whether anything came back stamped.
    pub fn comes_back_stamped(probe: &std::net::UdpSocket) -> bool {
        let _ = probe.send(&[0]);
        let fd = std::os::fd::AsRawFd::as_raw_fd(probe);
        let mut byte = [MaybeUninit::new(0u8)];
        // A byte a late delivery left behind is read by the next check; a few at most.
        (0..4).map_while(|_| recv_stamped(fd, &mut byte).ok()).any(|(_, stamp)| stamp.is_some())
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
        let tick = ReadTick::stamped();
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
            let tick = ReadTick::stamped();
            let next = tick.next();
            tick.sleeps_for(gap);
            // Resolves at once: the word came after the wait was made, before it was awaited.
            tokio::time::timeout(Duration::from_secs(5), next).await.expect("heard");
            assert_eq!(tick.dense(), dense, "{gap:?}");
        }
    }

    #[test]
    fn no_read_waits_until_the_kernel_is_seen_to_stamp() {
        let tick = ReadTick::default();
        tick.stamping.on.store(false, Ordering::Relaxed);
        tick.stamping.next_check_ns.store(u64::MAX, Ordering::Relaxed);
        tick.sleeps_for(Duration::from_micros(500));
        assert!(!tick.dense(), "a short sleep, but arrivals may come unstamped");
        tick.stamping.on.store(true, Ordering::Relaxed);
        tick.sleeps_for(Duration::from_micros(500));
        assert!(tick.dense(), "stamped: reads may wait");
    }

    #[test]
    fn checks_for_stamps_back_off() {
        let stamping = Stamping::unprobed();
        // (a loop's word at this time: when the next check is due after it) Each check waits
        // twice as long as the one before for the next; a word before that checks nothing.
        let f = FIRST_CHECK_NS;
        let table: [(u64, u64); 6] =
            [(0, f), (f / 5, f), (f, f + 2 * f), (2 * f, 3 * f), (3 * f, 3 * f + 4 * f), (1_000_000_000_000, 1_000_000_000_000 + 8 * f)];
        for (now, due) in table {
            stamping.check(now);
            assert_eq!(stamping.next_check_ns.load(Ordering::Relaxed), due, "a word at {now} ns");
        }
        for word in 1..=64 {
            stamping.check(1_000_000_000_000 + word * 2 * LAST_CHECK_NS);
        }
        assert_eq!(stamping.backoff_ns.load(Ordering::Relaxed), LAST_CHECK_NS, "the wait stops growing");
        assert!(!stamping.on(), "nothing to send on, nothing seen stamped");
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn a_tick_sees_the_kernel_stamp_its_probe() {
        assert!(ReadTick::stamped().stamping.probe.is_some());
    }
}
