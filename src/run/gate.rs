//! The one way out for every request, whatever its source: past the
//! `--max-rps` cap, then into one of `--connections` slots, each wait
//! bounded by the end of sending and by a stop. A request that cannot pass
//! says why ([`NotSent`]); the caller counts it.

use super::limits::{Limits, NotSent};
use super::timer::Sleeper;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::Instant;

/// Why a run is told to stop before its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    Running,
    /// Ctrl-C, SIGTERM, or the caller's shutdown.
    Interrupted,
    /// The watch saw a threshold lost, or a target refusing everything: why.
    Aborted(String),
}

impl Stop {
    pub fn reason(&self) -> NotSent {
        match self {
            Stop::Aborted(_) => NotSent::Aborted,
            _ => NotSent::Interrupted,
        }
    }
}

/// Resolves, with the reason for what is left unsent, once the run is told to stop (never, if the signal is gone).
pub async fn stopped(stop: &mut watch::Receiver<Stop>) -> NotSent {
    let reason = stop.wait_for(|s| *s != Stop::Running).await.map(|s| s.reason());
    match reason {
        Ok(reason) => reason,
        Err(_) => std::future::pending().await,
    }
}

pub struct Gate {
    pub limits: Limits,
    slots: Arc<Semaphore>,
    t0: Instant,
}

/// A request that passed: it holds its connection slot until dropped.
pub struct Passed {
    _slot: OwnedSemaphorePermit,
    /// The cap made it wait.
    pub held_back: bool,
}

impl Gate {
    pub fn new(limits: Limits, connections: usize, t0: Instant) -> Self {
        Gate { limits, slots: Arc::new(Semaphore::new(connections.max(1))), t0 }
    }

    fn at(&self, ns: u64) -> Instant {
        self.t0 + Duration::from_nanos(ns)
    }

    /// Waits for the cap and a free connection; `Err` when sending ends or the run stops first.
    pub async fn pass(&self, sleeper: &impl Sleeper, stop: &mut watch::Receiver<Stop>) -> Result<Passed, NotSent> {
        let held_back = self.pass_cap(sleeper, stop).await?;
        match self.try_slot(held_back) {
            Some(passed) => Ok(passed),
            None => self.slot(held_back, stop).await,
        }
    }

    /// Waits for the `--max-rps` cap, which charges the request once it lets it go;
    /// returns whether it held the request back. Cancel-safe: nothing is charged while it waits.
    pub async fn pass_cap(&self, sleeper: &impl Sleeper, stop: &mut watch::Receiver<Stop>) -> Result<bool, NotSent> {
        let until = self.limits.send_until_ns().map(|ns| self.at(ns));
        let mut held_back = false;
        // One limit after another: each charges the request once, when it lets it go.
        for limit in self.limits.each() {
            while let Some(wait) = limit.wait() {
                held_back = true;
                let ready = Instant::now() + wait;
                if until.is_some_and(|until| ready > until) {
                    return Err(limit.reason());
                }
                tokio::select! {
                    biased;
                    reason = stopped(stop) => return Err(reason),
                    _ = sleeper.sleep_until(ready) => {}
                }
            }
        }
        Ok(held_back)
    }

    /// A free connection now, if there is one.
    pub fn try_slot(&self, held_back: bool) -> Option<Passed> {
        Arc::clone(&self.slots).try_acquire_owned().ok().map(|permit| Passed { _slot: permit, held_back })
    }

    /// Waits for a free connection; `Err` when sending ends or the run stops first. Cancel-safe
    /// (a dropped wait gives up its place in the queue, never a connection).
    pub async fn slot(&self, held_back: bool, stop: &mut watch::Receiver<Stop>) -> Result<Passed, NotSent> {
        let until = self.limits.send_until_ns().map(|ns| self.at(ns));
        let end = async {
            match until {
                Some(until) => tokio::time::sleep_until(until).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            reason = stopped(stop) => Err(reason),
            permit = Arc::clone(&self.slots).acquire_owned() => Ok(Passed { _slot: permit.expect("the semaphore is never closed"), held_back }),
            _ = end => Err(NotSent::NoConnection),
        }
    }

    /// Waits until every slot is free again (all requests done), for `within` at most.
    pub async fn drained(&self, connections: usize, within: Duration) {
        let _ = tokio::time::timeout(within, self.slots.acquire_many(connections.max(1) as u32)).await;
    }
}
