//! What a bug costs a run: never its results.
//!
//! Should making a planned request or sending one panic (a bug: no input
//! should reach one), the panic is caught where it happens: the plan ends
//! there, a send becomes a failed request (`other`, "internal error"), the
//! run stops as aborted, and the results measured so far are written as for
//! any early stop. The process then exits 4 (internal error, see README's
//! exit codes), so CI tells a bug from a failed gate. The release build
//! unwinds (`panic = "unwind"`) for this.
//!
//! For the tests that prove it, `REPLAY_TEST_FAULT=plan:N` panics while
//! making the N-th planned item and `REPLAY_TEST_FAULT=send:N` in the N-th
//! send. It is read once; without it the guard costs one branch a request.

use crate::client::{CookieJar, Failure, Outcome, Transport};
use crate::plan::{Planned, RequestSpec};
use futures_util::FutureExt;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// The first internal error of a run, in words.
#[derive(Debug, Clone, Default)]
pub struct InternalError(Arc<Mutex<Option<String>>>);

impl InternalError {
    fn set(&self, what: String) {
        if let Ok(mut first) = self.0.lock() {
            first.get_or_insert(what);
        }
    }

    /// The first internal error, if there was one.
    pub fn get(&self) -> Option<String> {
        self.0.lock().ok().and_then(|e| e.clone())
    }
}

/// The text of a caught panic.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic with no message".to_owned())
}

/// Where a test asks for a deliberate fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    Plan(u64),
    Send(u64),
}

fn fault() -> Option<Fault> {
    static FAULT: OnceLock<Option<Fault>> = OnceLock::new();
    *FAULT.get_or_init(|| {
        let text = std::env::var("REPLAY_TEST_FAULT").ok()?;
        let (at, n) = text.split_once(':')?;
        let n = n.parse().ok()?;
        match at {
            "plan" => Some(Fault::Plan(n)),
            "send" => Some(Fault::Send(n)),
            _ => None,
        }
    })
}

/// Counts toward a deliberate fault; panics when `which` reaches its N-th call.
fn maybe_fault(which: fn(u64) -> Fault, counter: &AtomicU64) {
    if let Some(f) = fault() {
        let n = counter.fetch_add(1, Ordering::Relaxed) + 1;
        if f == which(n) {
            panic!("deliberate fault for a test (REPLAY_TEST_FAULT={f:?})");
        }
    }
}

/// A plan whose items are made under a guard: a panic ends the plan there and is kept as the run's internal error.
pub struct GuardedPlan<I> {
    inner: I,
    error: InternalError,
    done: bool,
    made: AtomicU64,
}

impl<I> GuardedPlan<I> {
    pub fn new(inner: I, error: InternalError) -> Self {
        GuardedPlan { inner, error, done: false, made: AtomicU64::new(0) }
    }
}

impl<I: Iterator<Item = Planned>> Iterator for GuardedPlan<I> {
    type Item = Planned;

    fn next(&mut self) -> Option<Planned> {
        if self.done {
            return None;
        }
        let (inner, made) = (&mut self.inner, &self.made);
        match std::panic::catch_unwind(AssertUnwindSafe(|| {
            maybe_fault(Fault::Plan, made);
            inner.next()
        })) {
            Ok(item) => item,
            Err(payload) => {
                self.done = true;
                self.error.set(format!("while planning a request: {}", message(payload.as_ref())));
                None
            }
        }
    }
}

/// Sends `spec` under a guard: a panic becomes a failed request and the run's internal error.
pub async fn send<T: Transport>(
    transport: &T,
    spec: &RequestSpec,
    intended_ns: u64,
    now_ns: impl Fn() -> u64 + Send + Copy,
    jar: Option<&mut CookieJar>,
    error: &InternalError,
) -> Outcome {
    static SENT: AtomicU64 = AtomicU64::new(0);
    let sending = async {
        maybe_fault(Fault::Send, &SENT);
        transport.send(spec, intended_ns, now_ns, jar).await
    };
    match AssertUnwindSafe(sending).catch_unwind().await {
        Ok(outcome) => outcome,
        Err(payload) => {
            error.set(format!("while sending a request: {}", message(payload.as_ref())));
            let now = now_ns();
            Outcome {
                endpoint: spec.endpoint,
                intended_ns,
                sent_ns: now,
                done_ns: now,
                status: None,
                failure: Some(Failure::Other),
                detail: Some("internal error (a bug in replay)".to_owned()),
                retried: false,
                bytes: 0,
                synthetic: spec.synthetic,
                to_login: false,
            }
        }
    }
}
