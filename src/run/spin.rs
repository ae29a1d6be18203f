//! When the loop spins through a short wait instead of sleeping.
//!
//! A sleeping thread wakes when the kernel, and in a virtual machine the
//! hypervisor, gets round to it: on a busy VM a 150 µs sleep was seen to end
//! 4-28 ms late, and near the ceiling such wakes are the schedule lag that
//! fails a rate. Spinning through the wait (yielding to the runtime, which
//! polls its sockets each time round) keeps the core and ends on time, but
//! burns whatever of the core the wait would have left idle.
//!
//! So the loop spins only where little would be left idle anyway: through
//! waits shorter than [`SPIN_UNDER`], while the process kept its cores at
//! least [`SPIN_FROM`] busy over the last [`EPOCH`], and until that falls
//! under [`SLEEP_UNDER`] (the gap keeps it from flapping). The busy share is
//! the process's CPU time less the time it spun, so spinning does not keep
//! itself going: at 5,000 rps (a seventh of a core) nothing spins, however
//! short the waits; at 48,000 rps on one core (two thirds of it) the waits
//! are spun, for about 40% more CPU a request.
//!
//! And only where sleeping has been seen to wake late. On a machine whose
//! sleeps end on time, spinning costs the loaded run its batching (each turn
//! finds a response or two where a wake finds dozens): the run bench's
//! one-core ceiling was 15-32% higher with `--no-spin` on each machine it
//! ran on after spinning came in. So the loop sleeps until [`LATE_SLEEPS`]
//! sleeps within [`LATE_WINDOW`] epochs end over [`LATE_WAKE`] late (twice
//! the schedule lag a run is judged by: no queue of the loop's own makes
//! that, a stalled core does). Then it may spin for [`SPIN_FOR`] epochs, and
//! sleeps again to see whether the machine still wakes late: a sleep over
//! `SPIN_UNDER` goes on seeing it meanwhile, and the first epoch slept
//! through puts off sleeping again if it does.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

/// Longer waits always sleep: a timer's wake costs little beside them.
pub const SPIN_UNDER: u64 = 300_000;
/// Spinning starts when the process was at least this busy (a share of its cores)...
pub const SPIN_FROM: f64 = 0.5;
/// ...and stops when it falls under this.
pub const SLEEP_UNDER: f64 = 0.3;
/// How often the busy share is taken (ns): long enough that one wake's work does not decide it.
pub const EPOCH: u64 = 20_000_000;
/// A turn of the spin that took more than this many times the quickest turn seen ran other tasks.
pub const EMPTY_TURNS_WITHIN: u64 = 2;
/// A sleep that ends this long after its deadline (ns) woke late...
pub const LATE_WAKE: u64 = 2_000_000;
/// ...and this many late within [`LATE_WINDOW`] epochs (a second) show the machine wakes late,
/// where one stall of a core (a kernel thread's turn) does not...
pub const LATE_SLEEPS: u64 = 3;
pub const LATE_WINDOW: u64 = 50;
/// ...so the loop may spin for the next [`SPIN_FOR`] epochs (ten seconds: sleeping to see
/// again costs an epoch in 500 of lag on such a machine).
pub const SPIN_FOR: u64 = 500;

/// Whether the loop spins, and the clocks it decides by. Only the loop's own task
/// touches it (a wait at a time), so relaxed loads and stores are all it needs.
#[derive(Debug)]
pub struct SpinGate {
    cores: u64,
    spinning: AtomicBool,
    /// When the current epoch began: the run's clock and the process's CPU time (ns).
    epoch_wall_ns: AtomicU64,
    epoch_cpu_ns: AtomicU64,
    /// Time spun in the current epoch (ns).
    spun_ns: AtomicU64,
    /// The quickest turn of the spin seen (ns): what a turn costs that runs nothing else.
    quickest_turn_ns: AtomicU64,
    /// Epochs judged so far.
    epochs: AtomicU64,
    /// The epoch the current window of late sleeps began in, and the late sleeps in it.
    window_epoch: AtomicU64,
    late_sleeps: AtomicU64,
    /// Spinning is allowed until this epoch (0: not yet).
    spin_until_epoch: AtomicU64,
}

impl SpinGate {
    /// A gate for a process with `cores` cores, whose clocks read `wall_ns` and `cpu_ns` now.
    pub fn new(cores: u64, wall_ns: u64, cpu_ns: u64) -> Self {
        SpinGate {
            cores: cores.max(1),
            spinning: AtomicBool::new(false),
            epoch_wall_ns: AtomicU64::new(wall_ns),
            epoch_cpu_ns: AtomicU64::new(cpu_ns),
            spun_ns: AtomicU64::new(0),
            quickest_turn_ns: AtomicU64::new(u64::MAX),
            epochs: AtomicU64::new(0),
            window_epoch: AtomicU64::new(0),
            late_sleeps: AtomicU64::new(0),
            spin_until_epoch: AtomicU64::new(0),
        }
    }

    /// Whether to spin through a wait of `wait_ns` that begins at `wall_ns`; `cpu_ns` reads the
    /// process's CPU time, and is called only when an epoch ends.
    pub fn spins(&self, wait_ns: u64, wall_ns: u64, cpu_ns: impl FnOnce() -> u64) -> bool {
        if wait_ns >= SPIN_UNDER {
            return false;
        }
        let began = self.epoch_wall_ns.load(Ordering::Relaxed);
        let wall = wall_ns.saturating_sub(began);
        if wall >= EPOCH {
            let cpu_now = cpu_ns();
            let cpu = cpu_now.saturating_sub(self.epoch_cpu_ns.load(Ordering::Relaxed));
            let share = busy_share(wall, cpu, self.spun_ns.load(Ordering::Relaxed), self.cores);
            let spinning = self.spinning.load(Ordering::Relaxed);
            let epoch = self.epochs.load(Ordering::Relaxed) + 1;
            self.epochs.store(epoch, Ordering::Relaxed);
            let wakes_late = self.wakes_late(epoch);
            self.spinning.store(decide(spinning, share) && wakes_late, Ordering::Relaxed);
            self.epoch_wall_ns.store(wall_ns, Ordering::Relaxed);
            self.epoch_cpu_ns.store(cpu_now, Ordering::Relaxed);
            self.spun_ns.store(0, Ordering::Relaxed);
        }
        self.spinning.load(Ordering::Relaxed)
    }

    /// A sleep ended `late_ns` after its deadline.
    pub fn woke(&self, late_ns: u64) {
        if late_ns > LATE_WAKE {
            let late = self.late_sleeps.load(Ordering::Relaxed);
            self.late_sleeps.store(late + 1, Ordering::Relaxed);
        }
    }

    /// Late sleeps in the current window.
    #[cfg(test)]
    pub fn late_sleeps_seen(&self) -> u64 {
        self.late_sleeps.load(Ordering::Relaxed)
    }

    /// Whether the machine has been seen to wake sleeps late, as epoch `epoch` ends: the
    /// window's late sleeps allow spinning for [`SPIN_FOR`] epochs from here.
    fn wakes_late(&self, epoch: u64) -> bool {
        if self.late_sleeps.load(Ordering::Relaxed) >= LATE_SLEEPS {
            self.spin_until_epoch.store(epoch + SPIN_FOR, Ordering::Relaxed);
            self.late_sleeps.store(0, Ordering::Relaxed);
            self.window_epoch.store(epoch, Ordering::Relaxed);
        } else if epoch >= self.window_epoch.load(Ordering::Relaxed) + LATE_WINDOW {
            self.late_sleeps.store(0, Ordering::Relaxed);
            self.window_epoch.store(epoch, Ordering::Relaxed);
        }
        epoch < self.spin_until_epoch.load(Ordering::Relaxed)
    }

    /// A turn of the spin took `ns`. A turn that ran nothing else (within [`EMPTY_TURNS_WITHIN`]
    /// times the quickest) was all spinning; one that ran other tasks counts as their work, but
    /// for a quickest turn's worth.
    pub fn turned(&self, ns: u64) {
        let quickest = self.quickest_turn_ns.load(Ordering::Relaxed).min(ns);
        self.quickest_turn_ns.store(quickest, Ordering::Relaxed);
        let spinning = if ns <= quickest.saturating_mul(EMPTY_TURNS_WITHIN) { ns } else { quickest };
        let spun = self.spun_ns.load(Ordering::Relaxed);
        self.spun_ns.store(spun.saturating_add(spinning), Ordering::Relaxed);
    }
}

/// The share of `cores` the process kept busy over `wall_ns`, not counting its spinning.
pub fn busy_share(wall_ns: u64, cpu_ns: u64, spun_ns: u64, cores: u64) -> f64 {
    cpu_ns.saturating_sub(spun_ns) as f64 / (wall_ns.max(1) as f64 * cores.max(1) as f64)
}

/// Whether to spin through the next epoch, given whether the loop spins now and how busy it was.
pub fn decide(spinning: bool, share: f64) -> bool {
    if spinning { share >= SLEEP_UNDER } else { share >= SPIN_FROM }
}

/// The process's CPU time, all threads (ns): one system call, taken once an epoch.
#[cfg(target_os = "linux")]
pub fn process_cpu_ns() -> u64 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid timespec for the call to fill.
    if unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut now) } != 0 {
        return 0;
    }
    (now.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(now.tv_nsec as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    /// A gate on `cores` cores that has seen sleeps wake late: it may spin for [`SPIN_FOR`] epochs.
    fn late_gate(cores: u64) -> SpinGate {
        let gate = SpinGate::new(cores, 0, 0);
        for _ in 0..LATE_SLEEPS {
            gate.woke(LATE_WAKE + 1);
        }
        gate
    }

    #[test]
    fn the_busy_share_leaves_out_the_spinning_and_counts_every_core() {
        let cases: &[(u64, u64, u64, u64, f64)] = &[
            // (wall, cpu, spun, cores, share)
            (20 * MS, 3 * MS, 0, 1, 0.15),
            (20 * MS, 20 * MS, 8 * MS, 1, 0.6),
            (20 * MS, 20 * MS, 20 * MS, 1, 0.0),
            (20 * MS, 30 * MS, 0, 2, 0.75),
            // More spun than used (clocks of different grain) is idle, never negative.
            (20 * MS, 1 * MS, 2 * MS, 1, 0.0),
            (0, 0, 0, 0, 0.0),
        ];
        for &(wall, cpu, spun, cores, share) in cases {
            let got = busy_share(wall, cpu, spun, cores);
            assert!((got - share).abs() < 1e-9, "wall {wall} cpu {cpu} spun {spun} cores {cores}: {got}");
        }
    }

    /// Epochs of a run on one core: (the loop's work in the epoch as a share of it, the wait
    /// it asks for) → whether it spins through that wait at the epoch's end. The gate is fed
    /// the clocks a process doing that work would show, spinning through its idle time
    /// whenever the gate said so.
    #[test]
    fn a_loaded_loop_spins_through_short_waits_and_a_light_one_never_does() {
        let epochs: &[(f64, u64, bool)] = &[
            // 5,000 rps: a seventh of the core. Short waits (no batch window) still sleep.
            (0.14, 200_000, false),
            (0.14, 150_000, false),
            // The load rises past half the core: short waits are spun...
            (0.66, 150_000, true),
            // ...long ones never, however loaded.
            (0.70, SPIN_UNDER, false),
            // Spinning fills the core, yet the work alone decides: 40% keeps it spinning...
            (0.40, 150_000, true),
            (0.35, 100_000, true),
            // ...and under 30% it sleeps again, not to spin again until half the core is busy.
            (0.25, 100_000, false),
            (0.45, 100_000, false),
            (0.50, 100_000, true),
        ];
        let gate = late_gate(1);
        let (mut wall, mut cpu) = (0u64, 0u64);
        let mut spinning = false;
        for (i, &(work, wait, spins)) in epochs.iter().enumerate() {
            // The epoch: its work, and its idle time spun (in empty turns of 1 µs) or slept.
            let worked = (work * EPOCH as f64) as u64;
            cpu += worked;
            if spinning {
                let idle = EPOCH - worked;
                for _ in 0..idle / 1_000 {
                    gate.turned(1_000);
                }
                cpu += idle;
            }
            wall += EPOCH;
            let got = gate.spins(wait, wall, || cpu);
            assert_eq!(got, spins, "epoch {i}: work {work}, wait {wait} ns");
            if wait < SPIN_UNDER {
                spinning = got;
            }
        }
    }

    #[test]
    fn the_share_is_taken_once_an_epoch_and_a_turn_that_ran_other_tasks_counts_as_work() {
        let gate = late_gate(1);
        let mut read = 0;
        // Within the first epoch the CPU clock is not read: the gate keeps its last word (sleep).
        assert!(!gate.spins(100_000, EPOCH - 1, || {
            read += 1;
            EPOCH
        }));
        assert_eq!(read, 0);
        // A full epoch of CPU: spin.
        assert!(gate.spins(100_000, EPOCH, || {
            read += 1;
            EPOCH
        }));
        assert_eq!(read, 1);
        // The next epoch is all spinning: empty turns of 1 µs, each then a turn of 3 µs that ran
        // another task. The long turns are work but for 1 µs each: half the core, and it goes on.
        for _ in 0..EPOCH / 4_000 {
            gate.turned(1_000);
            gate.turned(3_000);
        }
        assert!(gate.spins(100_000, 2 * EPOCH, || 2 * EPOCH));
        // Within twice the quickest, a turn ran nothing: all spinning, no work, and it sleeps.
        for _ in 0..EPOCH / 2_000 {
            gate.turned(2_000);
        }
        assert!(!gate.spins(100_000, 3 * EPOCH, || 3 * EPOCH));
    }

    #[test]
    fn the_quickest_turn_is_learnt_so_a_slow_first_turn_does_not_count_later_empty_ones_as_work() {
        let gate = late_gate(1);
        assert!(gate.spins(100_000, EPOCH, || EPOCH));
        // A first turn that ran a task (50 µs), then empty turns of 1 µs: once the quickest is
        // known they are all spinning, and the epoch (less the one task) was idle.
        gate.turned(50_000);
        for _ in 0..(EPOCH - 50_000) / 1_000 {
            gate.turned(1_000);
        }
        assert!(!gate.spins(100_000, 2 * EPOCH, || 2 * EPOCH));
    }

    /// Epochs of a busy loop (its whole core, short waits): (sleeps that ended over
    /// [`LATE_WAKE`] late in the epoch, whether it spins as the epoch ends).
    #[test]
    fn a_busy_loop_spins_only_where_sleeps_have_been_seen_to_wake_late() {
        let mut epochs: Vec<(u64, bool)> = vec![
            // Sleeps end on time, or over 2 ms late but two in a second (a core stalled by a
            // kernel thread now and then): the loop sleeps, however busy.
            (0, false),
            (1, false),
            (1, false),
        ];
        // A second on, its window is new: one more late sleep is not three in a window.
        epochs.extend(std::iter::repeat_n((0, false), LATE_WINDOW as usize - 3));
        epochs.extend([(1, false), (0, false)]);
        // Three in a window: the machine wakes late, and the loop spins...
        epochs.push((3, true));
        // ...for SPIN_FOR epochs, with no late sleep seen meanwhile (it sleeps through none)...
        epochs.extend(std::iter::repeat_n((0, true), SPIN_FOR as usize - 1));
        // ...then sleeps to see again: on time, so it goes on sleeping...
        epochs.extend([(0, false), (0, false)]);
        // ...and where it wakes late again (a long wait slept through), it spins again.
        epochs.extend([(2, false), (1, true), (0, true)]);
        let gate = SpinGate::new(1, 0, 0);
        let mut spinning = false;
        for (i, &(late, spins)) in epochs.iter().enumerate() {
            for _ in 0..late {
                gate.woke(LATE_WAKE + 1);
            }
            // A sleep just on the line is not late.
            gate.woke(LATE_WAKE);
            // The whole epoch worked, or spun: the work alone is half the core either way.
            if spinning {
                for _ in 0..EPOCH / 2 / 1_000 {
                    gate.turned(1_000);
                }
            }
            let epoch = i as u64 + 1;
            let got = gate.spins(100_000, epoch * EPOCH, || epoch * EPOCH);
            assert_eq!(got, spins, "epoch {epoch}: {late} late sleeps");
            spinning = got;
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn the_process_cpu_clock_moves_with_work() {
        let before = process_cpu_ns();
        assert!(before > 0);
        let (started, mut x) = (std::time::Instant::now(), 0u64);
        while process_cpu_ns() == before && started.elapsed() < std::time::Duration::from_secs(2) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        assert!(process_cpu_ns() > before);
    }
}
