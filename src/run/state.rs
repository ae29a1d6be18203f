//! The run's shared tally: the [`Summary`], and the requests that are in
//! flight or planned but not yet due, so that when the run closes every
//! intended request is either sent or counted as not sent with a reason:
//! `intended == requests + not_sent`, exactly, however the run ends.
//!
//! A request is intended when its time comes, in every kind of run. A
//! virtual user's later steps come due one by one (after the previous
//! response and a think time); those whose time had not come when the user
//! stopped (the run ended, was stopped, or a limit cut the user short) were
//! never intended: they are counted apart as cut off, so delivery
//! (`rps>=0.99*intended`) means the same with `--sessions` as without.

use crate::client::Outcome;
use crate::run::NotSent;
use crate::run::Summary;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

struct Tally {
    summary: Summary,
    /// Intended steps of started sessions that have not come due yet.
    open_steps: u64,
    closed: bool,
}

pub struct RunState {
    tally: Mutex<Tally>,
    /// Sent, no outcome yet: raised without the lock (once per request on the hot path),
    /// lowered under it by `record`, and taken whole under it by `close`.
    in_flight: AtomicU64,
}

impl RunState {
    pub fn new(summary: Summary) -> Self {
        RunState { tally: Mutex::new(Tally { summary, open_steps: 0, closed: false }), in_flight: AtomicU64::new(0) }
    }

    fn with<R>(&self, f: impl FnOnce(&mut Tally) -> R) -> R {
        f(&mut self.tally.lock().expect("the tally lock is never poisoned: nothing panics under it"))
    }

    /// A request to `endpoint` came due at `at_ns`.
    pub fn intend(&self, at_ns: u64, endpoint: usize) {
        self.with(|t| t.summary.intend_on(at_ns, endpoint));
    }

    /// A session of `steps` requests started at `at_ns`: its first (to `endpoint`) is due, the rest will be.
    pub fn intend_session(&self, at_ns: u64, steps: u64, endpoint: usize) {
        self.with(|t| {
            t.summary.intend_on(at_ns, endpoint);
            t.summary.user_started(at_ns);
            t.open_steps += steps.saturating_sub(1);
        });
    }

    /// A session's later step, to `endpoint`, came due at `at_ns`.
    pub fn step_due(&self, at_ns: u64, endpoint: usize) {
        self.with(|t| {
            t.summary.intend_on(at_ns, endpoint);
            t.open_steps -= 1;
        });
    }

    /// A virtual user is done, its last `cut_off` steps never having come due.
    pub fn user_done(&self, at_ns: u64, cut_off: u64) {
        self.with(|t| {
            t.open_steps -= cut_off;
            t.summary.cut_off += cut_off;
            t.summary.user_done(at_ns);
        });
    }

    /// `n` due requests will not be sent.
    pub fn not_sent(&self, reason: NotSent, n: u64) {
        self.with(|t| t.summary.not_sent(reason, n));
    }

    /// A session whose first step was not sent at `at_ns`: it ends there, its later steps cut off.
    pub fn user_not_started(&self, at_ns: u64, later_steps: u64) {
        self.user_done(at_ns, later_steps);
    }

    /// A request the cap held back before it went out.
    pub fn held_back(&self) {
        self.with(|t| t.summary.held_back += 1);
    }

    /// A request is going out.
    pub fn launch(&self) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
    }

    /// What became of a request; ignored once the run has closed (it was counted as unfinished).
    pub fn record(&self, outcome: &Outcome) {
        self.with(|t| {
            if !t.closed {
                self.in_flight.fetch_sub(1, Ordering::Relaxed);
                t.summary.add(outcome);
            }
        });
    }

    /// Requests in flight.
    pub fn in_flight(&self) -> u64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// A copy for a progress report.
    pub fn peek<R>(&self, f: impl FnOnce(&Summary) -> R) -> R {
        self.with(|t| f(&t.summary))
    }

    /// Ends the tally: requests still in flight fail as unfinished; steps of users still walking
    /// that had not come due are cut off.
    pub fn close(&self) -> Summary {
        self.with(|t| {
            t.closed = true;
            let (in_flight, open) = (self.in_flight.swap(0, Ordering::Relaxed), std::mem::take(&mut t.open_steps));
            t.summary.unfinished(in_flight);
            t.summary.cut_off += open;
            t.summary.clone()
        })
    }
}
