//! A new limit is one file: a stand-in that lets requests go only in the
//! run's even seconds, registered in the run's config and held for every
//! request like `--max-rps`.

use crate::run_loop::{Stand, assert_accounted, config, planned};
use replay::plan::{Pace, PlanSettings};
use replay::run::limits::Limit;
use replay::run::{NotSent, TokioSleeper, run_plan, unobserved};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Requests wait out the run's odd seconds.
struct EvenSeconds {
    t0: Instant,
}

impl Limit for EvenSeconds {
    fn wait(&self) -> Option<Duration> {
        let elapsed = self.t0.elapsed();
        let second = elapsed.as_secs();
        (second % 2 == 1).then(|| Duration::from_secs(second + 1) - elapsed)
    }

    fn reason(&self) -> NotSent {
        NotSent::Limit("odd_second")
    }
}

#[tokio::test(start_paused = true)]
async fn a_limit_in_one_file_holds_for_every_request() {
    let settings = PlanSettings { pace: Pace::Speed(1.0), ..PlanSettings::default() };
    let stand = Stand::new(5, 5000);
    let mut config = config(64, 5000);
    config.limits.push(Arc::new(EvenSeconds { t0: Instant::now() }));
    let outcome = run_plan(
        planned("profile", &settings, std::path::Path::new("")),
        config,
        stand.clone(),
        TokioSleeper,
        std::future::pending(),
        unobserved(),
    )
    .await;
    let sent = stand.sent_ns.lock().unwrap().clone();
    assert!(sent.len() > 900, "{} sent", sent.len());
    // Nothing left in an odd second (the first few microseconds of one are the wait's rounding).
    let odd: Vec<u64> = sent.iter().copied().filter(|ns| (ns / 1_000_000_000) % 2 == 1 && ns % 1_000_000_000 > 1_000_000).collect();
    assert!(odd.is_empty(), "{} requests went out in odd seconds: {:?}", odd.len(), &odd[..odd.len().min(5)]);
    assert_accounted(&outcome.summary, "even seconds");
    assert_eq!(NotSent::Limit("odd_second").name(), "odd_second");
}
