//! Replaying a derived trace (`replay derive --trace trace.csv`) request by
//! request: each row's `offset_s` (divided by the speed) is its send time,
//! its `target` the path to send, with placeholders such as `{token}` filled
//! from `--var` or `--vars`. Rows are read as they are due, so a trace of
//! any size replays in flat memory; one pass before the run names its
//! endpoints (`METHOD template`), checks every placeholder can be filled and
//! measures the busiest second.
//!
//! ```csv
//! offset_s,method,template,target,session
//! 0.000,GET,/users/{id},/users/42,3f2a
//! ```

use super::estimate::Estimate;
use super::request::{Piece, pieces, placeholders};
use super::settings::check_rate;
use super::{Catalog, CatalogEntry, EndpointKey, PlanError, PlanSettings, Planned, PlannedRun, RequestSpec, Vars, Work, until};
use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::profile::trace::COLUMNS;

/// Whether `path` holds a trace rather than a profile: its first bytes are the trace's first four columns.
pub fn is_trace(path: &Path) -> bool {
    let header = COLUMNS[..4].join(",");
    let Ok(file) = std::fs::File::open(path) else { return false };
    let mut start = Vec::with_capacity(header.len());
    file.take(header.len() as u64).read_to_end(&mut start).is_ok() && start == header.as_bytes()
}

#[derive(Debug, serde::Deserialize)]
struct Row {
    offset_s: f64,
    method: String,
    template: String,
    target: String,
    /// The client's hash, as derive wrote it (`session`); a shard keeps each client's rows together.
    #[serde(default, rename = "session")]
    user: String,
}

/// What one pass over a trace tells: its endpoints, length and busiest second.
pub struct TraceInfo {
    pub path: PathBuf,
    pub catalog: Catalog,
    index: HashMap<EndpointKey, usize>,
    pub last_offset_s: f64,
    pub rows: u64,
    /// Rows in the busiest second of trace time (rows are in time order).
    pub peak_per_s: u64,
}

fn csv_error(path: &Path, e: &csv::Error) -> String {
    let at = e.position().map_or(String::new(), |p| format!(" row {}", p.line()));
    let what = match e.kind() {
        csv::ErrorKind::Deserialize { err, .. } => match err.field() {
            Some(i) => format!("column {} ({}): {}", i + 1, COLUMNS.get(i as usize).unwrap_or(&"?"), err.kind()),
            None => err.kind().to_string(),
        },
        csv::ErrorKind::UnequalLengths { expected_len, len, .. } => format!("{len} columns where the header has {expected_len}"),
        _ => e.to_string(),
    };
    format!("{}:{at}: {what}; a trace has the columns {}", path.display(), COLUMNS.join(","))
}

/// Reads the trace once: endpoints, length, and placeholders nothing fills.
pub fn scan(path: &Path, vars: &Vars) -> Result<TraceInfo, PlanError> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| PlanError(format!("{}: {e}", path.display())))?;
    let mut index: HashMap<EndpointKey, usize> = HashMap::new();
    let mut counts: Vec<u64> = Vec::new();
    let mut catalog = Catalog::default();
    let mut missing = BTreeSet::new();
    let (mut rows, mut last_offset_s) = (0u64, 0.0f64);
    let (mut second, mut in_second, mut peak_per_s) = (u64::MAX, 0u64, 0u64);
    for row in reader.deserialize::<Row>() {
        let row = row.map_err(|e| PlanError(csv_error(path, &e)))?;
        if !row.offset_s.is_finite() || row.offset_s < 0.0 {
            return Err(PlanError(format!("{}: row {}: offset_s {} is not a time of 0 or more", path.display(), rows + 2, row.offset_s)));
        }
        if hyper::Method::from_bytes(row.method.as_bytes()).is_err() {
            return Err(PlanError(format!("{}: row {}: `{}` is not an HTTP method", path.display(), rows + 2, row.method)));
        }
        rows += 1;
        last_offset_s = last_offset_s.max(row.offset_s);
        let s = row.offset_s as u64;
        if s != second {
            (second, in_second) = (s, 0);
        }
        in_second += 1;
        peak_per_s = peak_per_s.max(in_second);
        for name in placeholders(&row.target) {
            if !vars.contains_key(name) {
                missing.insert(format!("{{{name}}}"));
            }
        }
        let key = EndpointKey { method: row.method, path: row.template };
        let at = match index.get(&key) {
            Some(&at) => at,
            None => {
                catalog.endpoints.push(CatalogEntry::named(key.clone()));
                counts.push(0);
                index.insert(key, catalog.endpoints.len() - 1);
                catalog.endpoints.len() - 1
            }
        };
        counts[at] += 1;
    }
    if !missing.is_empty() {
        return Err(PlanError(format!(
            "the trace needs values it does not hold: {}; pass them with --var name=value or --vars staging-values.csv",
            missing.into_iter().collect::<Vec<_>>().join(", ")
        )));
    }
    if rows == 0 {
        return Err(PlanError(format!("{}: the trace has no rows", path.display())));
    }
    Ok(TraceInfo { path: path.to_path_buf(), catalog, index, last_offset_s, rows, peak_per_s })
}

impl TraceInfo {
    /// The trace time a window covers, seconds.
    fn window_s(&self, window: Option<(u64, u64)>) -> f64 {
        match window {
            Some((from, to)) => ((to as f64).min(self.last_offset_s) - from as f64).max(0.0),
            None => self.last_offset_s,
        }
    }
}

/// The trace's requests, read as they come due.
pub struct TracePlan {
    rows: csv::DeserializeRecordsIntoIter<std::fs::File, Row>,
    index: HashMap<EndpointKey, usize>,
    vars: Vars,
    speed: f64,
    window: Option<(u64, u64)>,
    seq: u64,
}

impl Iterator for TracePlan {
    type Item = Planned;

    fn next(&mut self) -> Option<Planned> {
        loop {
            let row = self.rows.next()?.ok()?;
            let from = match self.window {
                Some((from, to)) if row.offset_s < from as f64 || row.offset_s >= to as f64 => continue,
                Some((from, _)) => from as f64,
                None => 0.0,
            };
            let seq = self.seq;
            self.seq += 1;
            // A client's rows share a shard key, so a shard keeps each client whole.
            let client = if row.user.is_empty() { seq } else { crate::profile::sketch::seeded_hash(0, row.user.as_bytes()) };
            let mut target = String::with_capacity(row.target.len());
            for piece in pieces(&row.target) {
                match piece {
                    Piece::Literal(text) => target.push_str(text),
                    Piece::Param(name) => target.push_str(self.vars.get(name).and_then(|v| v.first()).map_or("", String::as_str)),
                }
            }
            let key = EndpointKey { method: row.method, path: row.template };
            let endpoint = self.index.get(&key).copied().unwrap_or(0);
            let method = hyper::Method::from_bytes(key.method.as_bytes()).unwrap_or(hyper::Method::GET);
            let at_ns = ((row.offset_s - from) / self.speed * 1e9) as u64;
            let spec = RequestSpec { seq, endpoint, method, target, body: None, synthetic: false };
            return Some(Planned { at_ns, shard_key: client, work: Work::Request(spec) });
        }
    }
}

fn timeline(info: &TraceInfo, settings: &PlanSettings) -> Result<super::settings::Timeline, PlanError> {
    if settings.rate_scale != 1.0 || settings.looped {
        return Err(PlanError(
            "a trace is replayed request by request: --rate-scale and --loop do not apply to it; use --speed, --duration and --window"
                .into(),
        ));
    }
    if let Some((from, _)) = settings.window
        && from as f64 > info.last_offset_s
    {
        return Err(PlanError(format!(
            "--window starts after the trace's last row ({})",
            crate::units::human_duration(info.last_offset_s)
        )));
    }
    let timeline = settings.timeline(info.window_s(settings.window))?;
    check_rate(info.peak_per_s as f64 * timeline.speed, "requests a second")?;
    // The last row is due at the end: the run ends just after it.
    Ok(super::settings::Timeline { end_ns: timeline.end_ns.map(|end| end + 1), ..timeline })
}

pub fn plan(info: &TraceInfo, settings: &PlanSettings) -> Result<PlannedRun, PlanError> {
    let timeline = timeline(info, settings)?;
    let reader = csv::Reader::from_path(&info.path).map_err(|e| PlanError(format!("{}: {e}", info.path.display())))?;
    let plan = TracePlan {
        rows: reader.into_deserialize(),
        index: info.index.clone(),
        vars: settings.vars.clone(),
        speed: timeline.speed,
        window: settings.window,
        seq: 0,
    };
    Ok(PlannedRun {
        plan: until(plan, timeline.end_ns),
        catalog: info.catalog.clone(),
        end_ns: timeline.end_ns,
        unit: "requests",
        left_out: vec![],
        synthetic: vec![],
        speed: timeline.speed,
        segments: vec![],
        expected_requests: info.rows as f64,
    })
}

/// `replay plan` for a trace: its rows in the window and its busiest second at the speed.
pub fn estimate(info: &TraceInfo, settings: &PlanSettings) -> Result<Estimate, PlanError> {
    let timeline = timeline(info, settings)?;
    let share = if info.last_offset_s > 0.0 { info.window_s(settings.window) / info.last_offset_s } else { 1.0 };
    Ok(Estimate {
        duration_s: timeline.end_ns.map(|ns| ns as f64 / 1e9),
        requests: info.rows as f64 * share.min(1.0),
        users: None,
        users_at_once: None,
        peak_rps: info.peak_per_s as f64 * timeline.speed,
        speed: timeline.speed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Shard;

    #[test]
    fn shards_of_a_trace_keep_each_client_whole_and_together_send_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("trace.csv");
        let mut csv = String::from("offset_s,method,template,target,session\n");
        for i in 0..300 {
            csv.push_str(&format!("{}.{:03},GET,/u/{{id}},/u/{i},{:016x}\n", i / 100, i % 100 * 10, i % 7 * 0x1111));
        }
        std::fs::write(&path, csv).unwrap();
        let info = scan(&path, &Vars::new()).unwrap();
        let rows = |shard: Option<Shard>| -> Vec<(u64, String)> {
            let settings = PlanSettings { shard, ..PlanSettings::default() };
            // Sharding is applied by `build`, for every source alike.
            crate::plan::build(&crate::plan::Trace(&info), &settings)
                .unwrap()
                .plan
                .map(|p| match p.work {
                    Work::Request(spec) => (spec.seq, spec.target),
                    Work::Session(_) => unreachable!("a trace plans requests"),
                })
                .collect()
        };
        let whole = rows(None);
        let mut union = Vec::new();
        let mut owner: HashMap<u64, u32> = HashMap::new();
        for index in 0..3 {
            for (seq, target) in rows(Some(Shard { index, count: 3 })) {
                // Row i belongs to client i % 7: each client's rows all go to one shard.
                let client = target.trim_start_matches("/u/").parse::<u64>().unwrap() % 7;
                assert_eq!(*owner.entry(client).or_insert(index), index, "client {client} split across shards");
                union.push((seq, target));
            }
        }
        union.sort();
        assert_eq!(union, whole);
        assert!(owner.values().collect::<BTreeSet<_>>().len() > 1, "the clients spread over the shards");
    }
}
