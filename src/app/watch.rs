//! A run watched in the browser: the live view set up before the run
//! (its entry among the server's runs, production's curve), a snapshot
//! published about once a second from the run's tally, a Stop from the
//! page that ends the run as Ctrl-C does, and the final snapshot, made
//! from the results as written, sent before the run returns.

use crate::plan::PlannedRun;
use crate::report::json::{PlanFacts, Results};
use crate::run::Summary;
use crate::ui::feed::{Feed, PastRun};
use crate::ui::live::{LiveRun, ProductionCurve, Setup, Snapshot};
use crate::verdict::Threshold;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a finished run waits for the pages watching it to receive its last snapshot. A page
/// that reads has it at once and the wait ends then; the bound is for one that stopped reading.
/// Two seconds cut a reading page's stream when the machine was loaded (seen under the full
/// test suite on two cores), and the page never showed the run's end.
const FLUSH_WITHIN: Duration = Duration::from_secs(10);
/// Snapshots are published this often at most.
const EVERY_S: f64 = 0.95;

/// What a watched run is given besides its plan.
pub struct Watching {
    pub feed: Arc<Feed>,
    pub production: Option<ProductionCurve>,
    /// The profile, as the page names it.
    pub profile: String,
    /// A Stop pressed on the page.
    pub stop: Option<tokio::sync::oneshot::Receiver<()>>,
}

/// The live side of one run, from its start to its last snapshot.
pub struct Live {
    feed: Arc<Feed>,
    run: Arc<Mutex<LiveRun>>,
    number: usize,
    stopped_by_page: Arc<AtomicBool>,
    page_stop: Option<tokio::sync::oneshot::Receiver<()>>,
    /// The page can start and stop runs (`replay ui`): its streams outlive this run.
    page_stop_given: bool,
}

/// What the live view is told of a run before it starts.
pub struct Known<'a> {
    pub planned: &'a PlannedRun,
    pub plan: &'a PlanFacts,
    pub thresholds: &'a [Threshold],
    pub run_id: &'a str,
    pub target: &'a str,
    pub started: &'a str,
    pub out: &'a Path,
}

impl Live {
    /// Adds the run to the server's list and publishes its first (empty) snapshot.
    pub fn start(watching: Watching, known: Known<'_>) -> Live {
        let Watching { feed, production, profile, stop } = watching;
        let number = feed.add_run(PastRun {
            number: 0,
            run_id: known.run_id.to_owned(),
            profile,
            target: known.target.to_owned(),
            started: known.started.to_owned(),
            passed: None,
            stopped: None,
            requests: 0,
            failures: 0,
            out_dir: known.out.display().to_string(),
            reports: Vec::new(),
            dir: known.out.to_path_buf(),
        });
        let planned = known.planned;
        let mut run = LiveRun::new(Setup {
            run_id: known.run_id.to_owned(),
            target: known.target.to_owned(),
            started: known.started.to_owned(),
            catalog: planned.catalog.clone(),
            left_out: planned.left_out.clone(),
            synthetic: planned.synthetic.clone(),
            plan: known.plan.clone(),
            thresholds: known.thresholds.to_vec(),
            expected_requests: planned.expected_requests,
            production,
            out_dir: known.out.display().to_string(),
            run_number: number,
        });
        feed.publish(run.snapshot(&Summary::new(planned.catalog.endpoints.len()), 0.0));
        let page_stop_given = stop.is_some();
        Live { feed, run: Arc::new(Mutex::new(run)), number, stopped_by_page: Arc::default(), page_stop: stop, page_stop_given }
    }

    /// The observer the run calls about twice a second: a snapshot each second.
    pub fn observer(&self) -> impl FnMut(&Summary, f64) + Send + 'static {
        let (feed, run) = (Arc::clone(&self.feed), Arc::clone(&self.run));
        let mut published = 0.0;
        move |summary: &Summary, elapsed: f64| {
            // A page asked for a report of the run so far (stats.csv mid-run, as Locust offers it).
            if feed.full_wanted()
                && let Ok(run) = run.lock()
            {
                feed.offer_full(run.full(summary, elapsed));
            }
            if elapsed - published < EVERY_S {
                return;
            }
            published = elapsed;
            if let Ok(mut run) = run.lock() {
                feed.publish(run.snapshot(summary, elapsed));
            }
        }
    }

    /// A future that resolves when Stop is pressed on the page (never, when there is no page to press it on).
    pub fn page_stop(&mut self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let stop = self.page_stop.take();
        let flag = Arc::clone(&self.stopped_by_page);
        async move {
            let pressed = match stop {
                Some(stop) => stop.await.is_ok(),
                None => false,
            };
            if !pressed {
                // The page is gone without a Stop: nothing will stop the run from here.
                return std::future::pending().await;
            }
            flag.store(true, Ordering::Relaxed);
        }
    }

    /// Why the run stopped early, when the page stopped it.
    pub fn stopped(&self, after_s: f64) -> Option<String> {
        self.stopped_by_page
            .load(Ordering::Relaxed)
            .then(|| format!("stopped from the web view after {}", crate::units::human_duration(after_s)))
    }

    /// Publishes the finished run (its figures those of `results`, as written) and waits, briefly, for the pages to have it:
    /// under `replay ui`, until every page was sent it; watching one run, until every page's stream has ended.
    pub fn finish(self, runtime: &tokio::runtime::Runtime, summary: &Summary, results: &Results, stopped: Option<String>) {
        let reports: Vec<String> = crate::report::WRITERS.iter().map(|w| w.file.to_owned()).collect();
        let snapshot: Snapshot = match self.run.lock() {
            Ok(mut run) => run.finished(summary, results.clone(), reports.clone(), stopped.clone()),
            Err(_) => return,
        };
        let passed = results.verdict.as_ref().map(|v| v.passed);
        self.feed.finish_run(self.number, |r| {
            r.passed = passed;
            r.stopped = stopped;
            r.requests = results.totals.requests;
            r.failures = results.totals.failures;
            r.reports = reports;
        });
        self.feed.publish(snapshot);
        if self.page_stop_given {
            runtime.block_on(self.feed.flushed(FLUSH_WITHIN));
        } else {
            runtime.block_on(self.feed.ended(FLUSH_WITHIN));
        }
    }
}
