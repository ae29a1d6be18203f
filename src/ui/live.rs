//! The live view's picture of a run: built about once a second from the
//! run's own tally (the [`Summary`] results.json is made from, never a second
//! bookkeeping), in results.json's names and units, plus what a page draws
//! over time: the run's seconds, production's curve behind them, the top
//! endpoints' rates, the running mix distance, and which thresholds are
//! already lost. Every series is bounded, however long the run.

use crate::plan::Catalog;
use crate::report::json::{PlanFacts, Results, RunFacts, figures};
use crate::run::Summary;
use crate::verdict::watch::Watch;
use crate::verdict::{Latency, Threshold, judge_by};
use serde::Serialize;

/// Points a series holds at most; past it, neighbours merge and the step doubles.
pub const MAX_POINTS: usize = 1200;
/// Endpoints drawn as lines (the most intended first); the table has them all.
pub const MAX_LINES: usize = 12;

/// Where a run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// No run yet (`replay ui` before its first Start).
    Idle,
    Running,
    /// Its results are written: the figures are results.json's.
    Done,
}

/// The run's seconds, `step_s` to a point: requests due and sent, sent late, the worst lag, users in flight.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Seconds {
    pub step_s: u64,
    pub intended: Vec<u64>,
    pub requests: Vec<u64>,
    pub late: Vec<u64>,
    pub lag_max_ms: Vec<f64>,
    pub users: Vec<u64>,
}

/// Production's arrival curve for the window, on the run's clock (speed, rate scale and shard applied).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductionCurve {
    /// Production's time at the run's start (RFC 3339), where the profile knows it.
    pub start: Option<String>,
    /// Production seconds that pass in one second of the run.
    pub speed: f64,
    /// Run seconds to a point.
    pub step_s: f64,
    /// Requests a second, as the run is asked to send them.
    pub rps: Vec<f64>,
}

/// One endpoint drawn over time: requests sent a second, one value per `Live::lines_step_s`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub endpoint: String,
    pub rps: Vec<f64>,
}

/// Everything the page shows, as it is sent (JSON) to it and to scripts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Snapshot {
    pub phase: Phase,
    /// Seconds since the run started.
    pub elapsed_s: f64,
    /// results.json as it stands (histograms left out); when `phase` is `done`, exactly the file's figures.
    pub results: Option<Results>,
    pub seconds: Seconds,
    pub production: Option<ProductionCurve>,
    pub lines_step_s: u64,
    pub lines: Vec<Line>,
    /// Total variation distance between the mix intended and the mix sent, from 0 (the same) to 1.
    pub mix_distance: Option<f64>,
    /// Thresholds that can no longer pass, whatever the rest of the run does.
    pub lost: Vec<String>,
    /// The verdict, once it is known: `false` as soon as a threshold is lost, the final one at the end.
    pub passed: Option<bool>,
    /// Where the reports are on disk, and the files beside results.json (served under `/runs/N/`).
    pub out_dir: Option<String>,
    pub reports: Vec<String>,
    /// The number of this run among the server's runs (its reports' `/runs/N/`).
    pub run_number: Option<usize>,
    /// Why the run stopped before its end, in words (`stopped from the web view`).
    pub stopped: Option<String>,
}

impl Snapshot {
    /// Nothing running yet.
    pub fn idle() -> Self {
        Snapshot {
            phase: Phase::Idle,
            elapsed_s: 0.0,
            results: None,
            seconds: Seconds::default(),
            production: None,
            lines_step_s: 1,
            lines: Vec::new(),
            mix_distance: None,
            lost: Vec::new(),
            passed: None,
            out_dir: None,
            reports: Vec::new(),
            run_number: None,
            stopped: None,
        }
    }
}

/// What is known of a run before it starts.
pub struct Setup {
    pub run_id: String,
    pub target: String,
    pub started: String,
    pub catalog: Catalog,
    pub left_out: Vec<String>,
    pub synthetic: Vec<String>,
    pub plan: PlanFacts,
    pub thresholds: Vec<Threshold>,
    /// The most requests the run will have intended by its end.
    pub expected_requests: f64,
    pub production: Option<ProductionCurve>,
    pub out_dir: String,
    pub run_number: usize,
}

/// Builds snapshots of one run from its tally, keeping what the tally does not: the endpoints' lines.
pub struct LiveRun {
    setup: Setup,
    watch: Watch,
    /// Endpoints drawn as lines (indices into the catalog), and each one's requests at the last sample.
    lines: Vec<(usize, u64)>,
    /// Requests a second of each line, per sample; `lines_step` samples to a point.
    points: Vec<Vec<f64>>,
    lines_step: u64,
    /// Samples folded into the last point so far.
    pending: u64,
    last_sample_s: f64,
}

impl LiveRun {
    pub fn new(setup: Setup) -> Self {
        let watch = Watch::new(setup.thresholds.clone(), true, setup.expected_requests, &setup.target);
        LiveRun { setup, watch, lines: Vec::new(), points: Vec::new(), lines_step: 1, pending: 0, last_sample_s: 0.0 }
    }

    /// The run so far as results.json would hold it, histograms encoded and the thresholds judged
    /// (for the reports a page downloads mid-run; a few milliseconds, so only when asked).
    pub fn full(&self, summary: &Summary, elapsed_s: f64) -> Results {
        let mut results = crate::report::json::results(summary, &self.facts(elapsed_s));
        results.verdict = crate::verdict::judge(&results, &self.setup.thresholds).ok();
        results
    }

    fn facts(&self, elapsed_s: f64) -> RunFacts<'_> {
        RunFacts {
            run_id: &self.setup.run_id,
            target: &self.setup.target,
            started: &self.setup.started,
            duration_s: elapsed_s,
            interrupted: false,
            catalog: &self.setup.catalog,
            left_out: &self.setup.left_out,
            synthetic: &self.setup.synthetic,
            plan: Some(self.setup.plan.clone()),
        }
    }

    /// A snapshot of the run `elapsed_s` seconds in, from `summary` (called under the tally's lock: quick).
    pub fn snapshot(&mut self, summary: &Summary, elapsed_s: f64) -> Snapshot {
        self.sample_lines(summary, elapsed_s);
        let mut results = figures(summary, &self.facts(elapsed_s));
        // The results' endpoints are the catalog's with traffic, in order: find each one's tally by name.
        let index: Vec<usize> =
            summary.endpoints.iter().enumerate().filter(|(_, e)| e.requests > 0 || e.intended > 0).map(|(i, _)| i).collect();
        results.verdict = judge_by(&results, &self.setup.thresholds, |which| {
            let h = match which {
                Latency::Overall => Some(&summary.latency),
                Latency::Endpoint(i) => index.get(i).and_then(|&e| summary.endpoints.get(e)).map(|e| &e.latency),
                Latency::Period(i) => summary.periods.get(i).map(|p| &p.latency),
            };
            h.cloned().ok_or_else(|| "no such histogram".to_owned())
        })
        .ok();
        let lost: Vec<String> = self.watch.lost(summary).into_iter().map(str::to_owned).collect();
        Snapshot {
            phase: Phase::Running,
            elapsed_s,
            // The second under way is not over: it would show as a drop.
            seconds: seconds(summary, elapsed_s.floor() as usize),
            production: self.setup.production.clone(),
            lines_step_s: self.lines_step,
            lines: self.lines(),
            mix_distance: mix_distance(summary),
            passed: if lost.is_empty() { None } else { Some(false) },
            lost,
            results: Some(results),
            out_dir: Some(self.setup.out_dir.clone()),
            reports: Vec::new(),
            run_number: Some(self.setup.run_number),
            stopped: None,
        }
    }

    /// The run is over: its figures are those of `results` (as written, from the closed `summary`), its lines as they were drawn.
    pub fn finished(&mut self, summary: &Summary, mut results: Results, reports: Vec<String>, stopped: Option<String>) -> Snapshot {
        self.sample_lines(summary, results.duration_s);
        for e in &mut results.endpoints {
            e.histogram.clear();
        }
        for p in &mut results.periods {
            p.histogram.clear();
        }
        results.histograms.clear();
        Snapshot {
            phase: Phase::Done,
            elapsed_s: results.duration_s,
            seconds: seconds(summary, usize::MAX),
            production: self.setup.production.clone(),
            lines_step_s: self.lines_step,
            lines: self.lines(),
            mix_distance: mix_distance_of(&results),
            lost: Vec::new(),
            passed: results.verdict.as_ref().map(|v| v.passed),
            results: Some(results),
            out_dir: Some(self.setup.out_dir.clone()),
            reports,
            run_number: Some(self.setup.run_number),
            stopped,
        }
    }

    fn lines(&self) -> Vec<Line> {
        self.lines
            .iter()
            .zip(&self.points)
            .map(|((endpoint, _), rps)| Line { endpoint: self.setup.catalog.name(*endpoint), rps: rps.clone() })
            .collect()
    }

    /// Adds a sample of each drawn endpoint's rate since the last; the endpoints drawn are the most intended so far.
    fn sample_lines(&mut self, summary: &Summary, elapsed_s: f64) {
        let span = elapsed_s - self.last_sample_s;
        if span < 0.5 {
            return;
        }
        self.last_sample_s = elapsed_s;
        // Endpoints join the lines as they come (a late one starts at zero); at most MAX_LINES.
        if self.lines.len() < MAX_LINES {
            let mut by_intended: Vec<(usize, u64)> =
                summary.endpoints.iter().enumerate().filter(|(_, e)| e.intended > 0).map(|(i, e)| (i, e.intended)).collect();
            by_intended.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            for (i, _) in by_intended {
                if self.lines.len() >= MAX_LINES {
                    break;
                }
                if !self.lines.iter().any(|(e, _)| *e == i) {
                    self.lines.push((i, 0));
                    self.points.push(vec![0.0; self.points.first().map_or(0, Vec::len)]);
                }
            }
        }
        let pending = self.pending;
        for ((endpoint, last), points) in self.lines.iter_mut().zip(&mut self.points) {
            let now = summary.endpoints.get(*endpoint).map_or(0, |e| e.requests);
            let rps = now.saturating_sub(*last) as f64 / span;
            *last = now;
            // A point is the mean of its samples' rates.
            match points.last_mut() {
                Some(p) if pending > 0 => *p += (rps - *p) / (pending as f64 + 1.0),
                _ => points.push(rps),
            }
        }
        self.pending = (pending + 1) % self.lines_step;
        if self.points.first().is_some_and(|p| p.len() > MAX_POINTS) {
            for points in &mut self.points {
                *points = points.chunks(2).map(|c| c.iter().sum::<f64>() / c.len() as f64).collect();
            }
            self.lines_step *= 2;
            self.pending = 0;
        }
    }
}

/// The run's first `over` seconds, merged by twos until they fit in [`MAX_POINTS`].
fn seconds(s: &Summary, over: usize) -> Seconds {
    let windows = &s.windows[..s.windows.len().min(over)];
    let step = windows.len().div_ceil(MAX_POINTS).max(1).next_power_of_two();
    let mut out = Seconds { step_s: step as u64, ..Seconds::default() };
    // Whole steps only: a part of one would read as a drop in the rate.
    for chunk in windows.chunks_exact(step) {
        out.intended.push(chunk.iter().map(|w| w.intended.max(w.sent)).sum());
        out.requests.push(chunk.iter().map(|w| w.sent).sum());
        out.late.push(chunk.iter().map(|w| w.late).sum());
        out.lag_max_ms.push(chunk.iter().map(|w| w.lag_max_us).max().unwrap_or(0) as f64 / 1000.0);
        out.users.push(chunk.iter().map(|w| w.users_max).max().unwrap_or(0));
    }
    out
}

/// Half the sum of the differences between each endpoint's share of the intended and of the sent.
fn distance(pairs: impl Iterator<Item = (u64, u64)> + Clone) -> Option<f64> {
    let (intended, sent) = pairs.clone().fold((0u64, 0u64), |(a, b), (i, s)| (a + i, b + s));
    if intended == 0 || sent == 0 {
        return None;
    }
    Some(pairs.map(|(i, s)| (i as f64 / intended as f64 - s as f64 / sent as f64).abs()).sum::<f64>() / 2.0)
}

fn mix_distance(s: &Summary) -> Option<f64> {
    distance(s.endpoints.iter().map(|e| (e.intended, e.requests)))
}

fn mix_distance_of(r: &Results) -> Option<f64> {
    distance(r.endpoints.iter().map(|e| (e.intended, e.requests)))
}

/// Production's curve behind a run of `profile` planned as `plan` (speed, rate scale, window, shard).
pub fn production_curve(profile: &crate::profile::Profile, plan: &PlanFacts) -> Option<ProductionCurve> {
    let bin_s = f64::from(profile.arrival.bin_s.max(1));
    let counts = &profile.arrival.counts;
    let span_s = counts.len() as f64 * bin_s;
    let (from, to) = plan.window.map_or((0.0, span_s), |(a, b)| (a as f64, (b as f64).min(span_s)));
    if counts.is_empty() || to <= from || plan.speed <= 0.0 || !plan.speed.is_finite() {
        return None;
    }
    let run_s = (to - from) / plan.speed;
    let step_s = (run_s / MAX_POINTS as f64).max(1.0);
    let share = plan.shard.map_or(1.0, |s| 1.0 / f64::from(s.count.max(1)));
    // Requests before profile second `t`, spreading each bin evenly over its width.
    let mut before = Vec::with_capacity(counts.len() + 1);
    before.push(0.0);
    for &n in counts {
        before.push(before.last().copied().unwrap_or(0.0) + n as f64);
    }
    let cumulative = |t: f64| {
        let t = t.clamp(0.0, span_s);
        let bin = ((t / bin_s) as usize).min(counts.len().saturating_sub(1));
        before[bin] + counts[bin] as f64 * ((t - bin as f64 * bin_s) / bin_s).clamp(0.0, 1.0)
    };
    // Each point is the mean rate over its step, as the run's seconds are counted.
    let points = (run_s / step_s).ceil() as usize;
    let rps = (0..points)
        .map(|k| {
            let (a, b) = (from + k as f64 * step_s * plan.speed, (from + (k + 1) as f64 * step_s * plan.speed).min(to));
            let run_width = (b - a) / plan.speed;
            if run_width <= 0.0 { 0.0 } else { (cumulative(b) - cumulative(a)) * plan.rate_scale * share / run_width }
        })
        .collect();
    let start = profile
        .source
        .as_ref()
        .and_then(|s| s.first.as_deref())
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| (t + chrono::Duration::milliseconds((from * 1000.0) as i64)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    Some(ProductionCurve { start, speed: plan.speed, step_s, rps })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Outcome;
    use crate::plan::{CatalogEntry, EndpointKey};

    fn setup(endpoints: usize) -> Setup {
        Setup {
            run_id: "r".into(),
            target: "http://127.0.0.1:9".into(),
            started: "2026-12-04T10:00:00Z".into(),
            catalog: Catalog {
                endpoints: (0..endpoints).map(|i| CatalogEntry::named(EndpointKey::new("GET", &format!("/e{i}")))).collect(),
            },
            left_out: Vec::new(),
            synthetic: Vec::new(),
            plan: PlanFacts {
                source: "p.json".into(),
                unit: "requests".into(),
                speed: 1.0,
                rate_scale: 1.0,
                window: None,
                seed: 1,
                length_s: Some(10.0),
                max_rps: None,
                max_requests: None,
                connections: 10,
                timeout_ms: 1000,
                segments: Vec::new(),
                shard: None,
            },
            thresholds: vec![Threshold::parse("max<5ms").unwrap(), Threshold::parse("p99<1s").unwrap()],
            expected_requests: 100.0,
            production: None,
            out_dir: "out".into(),
            run_number: 0,
        }
    }

    fn sent(s: &mut Summary, endpoint: usize, at_ms: u64, latency_ms: u64) {
        s.intend_on(at_ms * 1_000_000, endpoint);
        s.add(&Outcome {
            endpoint,
            intended_ns: at_ms * 1_000_000,
            sent_ns: at_ms * 1_000_000,
            done_ns: (at_ms + latency_ms) * 1_000_000,
            status: Some(200),
            failure: None,
            detail: None,
            retried: false,
            synthetic: false,
            to_login: false,
            bytes: 0,
        });
    }

    #[test]
    fn a_snapshot_holds_the_tallys_figures_and_knows_a_lost_threshold() {
        let mut live = LiveRun::new(setup(3));
        let mut s = Summary::new(3);
        for i in 0..40 {
            sent(&mut s, (i % 2) as usize, i * 25, 2);
        }
        s.intend_on(999_000_000, 2);
        s.not_sent(crate::run::NotSent::NoConnection, 1);
        let snap = live.snapshot(&s, 1.0);
        let r = snap.results.as_ref().unwrap();
        assert_eq!((r.totals.intended, r.totals.requests, r.totals.not_sent), (41, 40, 1));
        assert_eq!(r.endpoints.iter().map(|e| (e.intended, e.requests)).collect::<Vec<_>>(), [(20, 20), (20, 20), (1, 0)]);
        // Intended 20/20/1 of 41 against sent 20/20/0 of 40.
        let d = snap.mix_distance.unwrap();
        assert!((d - 1.0 / 41.0).abs() < 1e-9, "{d}");
        let verdict = r.verdict.as_ref().unwrap();
        assert!(verdict.thresholds.iter().all(|j| j.passed), "{verdict:?}");
        assert!(snap.lost.is_empty() && snap.passed.is_none());
        assert_eq!(snap.seconds.intended.iter().sum::<u64>(), 41);
        // One request over 5 ms loses `max<5ms` for good: the verdict is known.
        sent(&mut s, 0, 1500, 9);
        let snap = live.snapshot(&s, 2.0);
        assert_eq!(snap.lost, ["max<5ms"]);
        assert_eq!(snap.passed, Some(false));
        assert!(!snap.results.unwrap().verdict.unwrap().thresholds[0].passed);
    }

    #[test]
    fn series_stay_bounded_however_long_the_run() {
        let mut live = LiveRun::new(setup(MAX_LINES + 5));
        let mut s = Summary::new(MAX_LINES + 5);
        for second in 0..(3 * MAX_POINTS as u64) {
            for e in 0..MAX_LINES + 5 {
                sent(&mut s, e, second * 1000 + e as u64, 1);
            }
            live.sample_lines(&s, second as f64 + 1.0);
        }
        let snap = live.snapshot(&s, 3.0 * MAX_POINTS as f64 + 1.0);
        assert_eq!(snap.lines.len(), MAX_LINES);
        assert!(snap.lines.iter().all(|l| l.rps.len() <= MAX_POINTS && l.rps.len() > MAX_POINTS / 4), "{}", snap.lines[0].rps.len());
        assert!(snap.lines_step_s >= 2);
        // One request a second to each endpoint, whatever the step.
        let mid = snap.lines[0].rps[snap.lines[0].rps.len() / 2];
        assert!((mid - 1.0).abs() < 1e-9, "{mid}");
        assert!(snap.seconds.intended.len() <= MAX_POINTS && snap.seconds.step_s >= 2);
        let whole = snap.seconds.intended.len() as u64 * snap.seconds.step_s;
        assert_eq!(snap.seconds.intended.iter().sum::<u64>(), whole * (MAX_LINES as u64 + 5));
    }

    #[test]
    fn production_curve_is_on_the_runs_clock() {
        let mut profile: crate::profile::Profile = serde_json::from_str(
            &std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles/steady.json")).unwrap(),
        )
        .unwrap();
        profile.arrival.bin_s = 60;
        profile.arrival.counts = vec![600, 1200, 600, 60];
        profile.source = Some(crate::profile::Source {
            files: Vec::new(),
            format: "combined".into(),
            lines: 0,
            records: 0,
            not_requests: 0,
            skipped: 0,
            rejected: 0,
            excluded: 0,
            first: Some("2026-11-28T09:00:00Z".into()),
            last: None,
        });
        let mut plan = setup(1).plan;
        plan.speed = 60.0;
        plan.window = Some((60, 180));
        let curve = production_curve(&profile, &plan).unwrap();
        // Two minutes at 60x is two seconds: 20 and 10 requests a production second, 60 times as many a run second.
        assert_eq!(curve.rps, [1200.0, 600.0]);
        // A point is its step's mean: half a bin of 20 a second and half of 10 is 15.
        plan.window = Some((90, 210));
        assert_eq!(production_curve(&profile, &plan).unwrap().rps, [900.0, 330.0]);
        assert_eq!(curve.start.as_deref(), Some("2026-11-28T09:01:00Z"));
    }
}
