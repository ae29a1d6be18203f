//! The feed between a run and the pages watching it: the latest
//! [`Snapshot`] (its JSON made once, by the first reader, off the run's
//! threads), a change signal every stream waits on, and this server's past
//! runs. When a run ends, its last snapshot is published and the run waits,
//! briefly and boundedly, until every open stream has sent it, so a page
//! keeps the final figures even when the process exits right after.

use super::live::Snapshot;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio::sync::watch;

/// A snapshot as published: numbered, its JSON made once.
pub struct Published {
    pub seq: u64,
    pub snapshot: Snapshot,
    json: OnceLock<String>,
}

impl Published {
    /// The snapshot as JSON (results.json's names and units).
    pub fn json(&self) -> &str {
        self.json.get_or_init(|| serde_json::to_string(&self.snapshot).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}")))
    }
}

/// A run this server saw, for the list of past runs and their reports.
#[derive(Debug, Clone, Serialize)]
pub struct PastRun {
    pub number: usize,
    pub run_id: String,
    pub profile: String,
    pub target: String,
    pub started: String,
    /// Whether it passed; none while it runs.
    pub passed: Option<bool>,
    pub stopped: Option<String>,
    pub requests: u64,
    pub failures: u64,
    pub out_dir: String,
    pub reports: Vec<String>,
    #[serde(skip)]
    pub dir: PathBuf,
}

/// Streams open, and how many of them have sent the final snapshot.
#[derive(Default)]
struct Delivery {
    open: usize,
    delivered: usize,
}

/// The whole results of the run going, made on demand (histograms encoded: costly, so only when asked).
#[derive(Default)]
struct Full {
    wanted: bool,
    /// Made for the request numbered this, and what was made.
    made: Option<(u64, Arc<crate::report::json::Results>)>,
    asked: u64,
}

pub struct Feed {
    tx: watch::Sender<Arc<Published>>,
    full: Mutex<Full>,
    full_made: tokio::sync::Notify,
    runs: Mutex<Vec<PastRun>>,
    delivery: Mutex<Delivery>,
    delivered: tokio::sync::Notify,
}

impl Feed {
    pub fn new() -> Arc<Feed> {
        let (tx, _) = watch::channel(Arc::new(Published { seq: 0, snapshot: Snapshot::idle(), json: OnceLock::new() }));
        Arc::new(Feed {
            tx,
            full: Mutex::new(Full::default()),
            full_made: tokio::sync::Notify::new(),
            runs: Mutex::new(Vec::new()),
            delivery: Mutex::new(Delivery::default()),
            delivered: tokio::sync::Notify::new(),
        })
    }

    /// Publishes `snapshot` as the latest.
    pub fn publish(&self, snapshot: Snapshot) {
        let done = snapshot.phase == super::live::Phase::Done;
        self.tx.send_modify(|p| *p = Arc::new(Published { seq: p.seq + 1, snapshot, json: OnceLock::new() }));
        if done && let Ok(mut d) = self.delivery.lock() {
            d.delivered = 0;
        }
    }

    /// The latest snapshot.
    pub fn latest(&self) -> Arc<Published> {
        Arc::clone(&self.tx.borrow())
    }

    /// A receiver that wakes on every publish.
    pub fn subscribe(&self) -> watch::Receiver<Arc<Published>> {
        self.tx.subscribe()
    }

    /// Whether a page asked for the whole results of the run going (the run's observer answers with [`Feed::offer_full`]).
    pub fn full_wanted(&self) -> bool {
        self.full.lock().is_ok_and(|f| f.wanted)
    }

    /// The whole results of the run so far, as asked.
    pub fn offer_full(&self, results: crate::report::json::Results) {
        if let Ok(mut f) = self.full.lock() {
            f.wanted = false;
            f.made = Some((f.asked, Arc::new(results)));
        }
        self.full_made.notify_waiters();
    }

    /// Asks the run going for its whole results and waits for them, at most `within`.
    pub async fn full_results(&self, within: Duration) -> Option<Arc<crate::report::json::Results>> {
        let ticket = {
            let mut f = self.full.lock().ok()?;
            f.asked += 1;
            f.wanted = true;
            f.asked
        };
        let wait = async {
            loop {
                let notified = self.full_made.notified();
                if let Some((made_for, results)) = self.full.lock().ok()?.made.clone()
                    && made_for >= ticket
                {
                    return Some(results);
                }
                notified.await;
            }
        };
        tokio::time::timeout(within, wait).await.ok().flatten()
    }

    /// A stream opened; it says [`Feed::sent_final`] once it has sent a finished run's snapshot, and closes with [`Feed::closed`].
    pub fn opened(&self) {
        if let Ok(mut d) = self.delivery.lock() {
            d.open += 1;
        }
    }

    pub fn sent_final(&self) {
        if let Ok(mut d) = self.delivery.lock() {
            d.delivered += 1;
        }
        self.delivered.notify_waiters();
    }

    pub fn closed(&self, had_sent_final: bool) {
        if let Ok(mut d) = self.delivery.lock() {
            d.open = d.open.saturating_sub(1);
            if had_sent_final {
                d.delivered = d.delivered.saturating_sub(1);
            }
        }
        self.delivered.notify_waiters();
    }

    fn all_delivered(&self) -> bool {
        self.delivery.lock().map_or(true, |d| d.delivered >= d.open)
    }

    fn all_closed(&self) -> bool {
        self.delivery.lock().map_or(true, |d| d.open == 0)
    }

    /// Waits until every open stream has ended (a server watching one run ends them after its last
    /// snapshot), or `within` passes: the process may then exit without cutting one short.
    pub async fn ended(&self, within: Duration) {
        self.wait_for_streams(within, Feed::all_closed).await;
    }

    /// Waits until every open stream has sent the final snapshot, or `within` passes.
    pub async fn flushed(&self, within: Duration) {
        self.wait_for_streams(within, Feed::all_delivered).await;
    }

    /// Waits until `done`, re-checked each time a stream sends the final snapshot or closes.
    async fn wait_for_streams(&self, within: Duration, done: fn(&Feed) -> bool) {
        let wait = async {
            loop {
                let notified = self.delivered.notified();
                if done(self) {
                    return;
                }
                notified.await;
            }
        };
        let _ = tokio::time::timeout(within, wait).await;
    }

    /// Adds a run to the list; returns its number.
    pub fn add_run(&self, run: PastRun) -> usize {
        let mut runs = self.runs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let number = runs.len();
        runs.push(PastRun { number, ..run });
        number
    }

    /// The number the next run will have.
    pub fn next_number(&self) -> usize {
        self.runs.lock().map_or(0, |r| r.len())
    }

    /// Updates run `number` once it is over.
    pub fn finish_run(&self, number: usize, f: impl FnOnce(&mut PastRun)) {
        if let Some(run) = self.runs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get_mut(number) {
            f(run);
        }
    }

    pub fn runs(&self) -> Vec<PastRun> {
        self.runs.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// Run `number`'s folder, and whether `file` is one of its reports.
    pub fn report_path(&self, number: usize, file: &str) -> Option<PathBuf> {
        let runs = self.runs.lock().ok()?;
        let run = runs.get(number)?;
        run.reports.iter().any(|r| r == file).then(|| run.dir.join(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_report_of_the_run_so_far_is_made_when_asked_and_only_then() {
        let feed = Feed::new();
        assert!(!feed.full_wanted());
        let asking = {
            let feed = Arc::clone(&feed);
            tokio::spawn(async move { feed.full_results(Duration::from_secs(30)).await })
        };
        // The run's observer sees the request at its next look, and answers it.
        tokio::task::yield_now().await;
        while !feed.full_wanted() {
            tokio::task::yield_now().await;
        }
        let catalog = crate::plan::Catalog::default();
        let facts = crate::report::json::RunFacts {
            run_id: "r",
            target: "http://127.0.0.1:9",
            started: "2026-12-04T10:00:00Z",
            duration_s: 1.0,
            interrupted: false,
            catalog: &catalog,
            left_out: &[],
            synthetic: &[],
            plan: None,
        };
        let results = crate::report::json::results(&crate::run::Summary::new(0), &facts);
        feed.offer_full(results.clone());
        assert!(!feed.full_wanted());
        assert_eq!(*asking.await.unwrap().unwrap(), results);
        // Nobody answering: the wait ends, with nothing.
        assert!(feed.full_results(Duration::from_millis(10)).await.is_none());
    }

    #[tokio::test]
    async fn a_finished_run_waits_for_open_streams_to_send_it_and_no_longer() {
        let feed = Feed::new();
        feed.opened();
        feed.opened();
        let mut done = Snapshot::idle();
        done.phase = super::super::live::Phase::Done;
        feed.publish(done);
        assert!(!feed.all_delivered());
        let waiter = {
            let feed = Arc::clone(&feed);
            tokio::spawn(async move { feed.flushed(Duration::from_secs(30)).await })
        };
        feed.sent_final();
        assert!(!feed.all_delivered());
        // The other stream closes without sending it: nobody is left to wait for.
        feed.closed(false);
        waiter.await.unwrap();
        assert!(feed.all_delivered());
        // Watching one run, the process waits for the streams to end, not only to have sent it.
        assert!(!feed.all_closed());
        let ending = {
            let feed = Arc::clone(&feed);
            tokio::spawn(async move { feed.ended(Duration::from_secs(30)).await })
        };
        feed.closed(true);
        ending.await.unwrap();
        assert!(feed.all_closed());
        assert_eq!(feed.latest().seq, 1);
        assert!(feed.latest().json().contains("\"phase\":\"done\""));
    }
}
