//! Replaying a derived trace (`replay derive --trace trace.csv`) request by
//! request: each row's `offset_s` (divided by `--speed`) is its send time,
//! its `target` the path to send, with placeholders such as `{token}` filled
//! from `--var`. Rows are read as they are due, so a trace of any size
//! replays in flat memory; one pass before the run names its endpoints
//! (`METHOD template`) and checks every placeholder can be filled.

use crate::profile::{Arrival, Endpoint, Profile, VERSION};
use crate::request::{RequestSpec, Vars};
use crate::run::{Planned, Work};
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Whether `path` holds a trace rather than a profile: its first line is the trace header.
pub fn is_trace(path: &Path) -> bool {
    use std::io::BufRead;
    let Ok(file) = std::fs::File::open(path) else { return false };
    let mut first = String::new();
    std::io::BufReader::new(file).read_line(&mut first).is_ok() && first.starts_with("offset_s,method,template,target")
}

#[derive(Debug, serde::Deserialize)]
struct Row {
    offset_s: f64,
    method: String,
    template: String,
    target: String,
}

/// What one pass over a trace tells: its endpoints (as a profile for the report) and its length.
pub struct TraceInfo {
    pub path: PathBuf,
    pub profile: Profile,
    index: HashMap<String, usize>,
    pub last_offset_s: f64,
    pub rows: u64,
}

fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    text.split('{').skip(1).filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
}

/// Reads the trace once: endpoints, length, and placeholders nothing fills.
pub fn scan(path: &Path, vars: &Vars) -> Result<TraceInfo, String> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut index: HashMap<String, usize> = HashMap::new();
    let mut endpoints: Vec<Endpoint> = Vec::new();
    let mut missing = BTreeSet::new();
    let (mut rows, mut last_offset_s) = (0u64, 0.0f64);
    for (i, row) in reader.deserialize::<Row>().enumerate() {
        let row = row.map_err(|e| {
            format!("{}: row {}: {e}; a trace has the columns offset_s,method,template,target,session", path.display(), i + 2)
        })?;
        if !row.offset_s.is_finite() || row.offset_s < 0.0 {
            return Err(format!("{}: row {}: offset_s {} is not a time of 0 or more", path.display(), i + 2, row.offset_s));
        }
        rows += 1;
        last_offset_s = last_offset_s.max(row.offset_s);
        for name in placeholders(&row.target) {
            if !vars.contains_key(name) {
                missing.insert(name.to_owned());
            }
        }
        let key = format!("{} {}", row.method, row.template);
        let at = *index.entry(key).or_insert_with(|| {
            endpoints.push(Endpoint::new(&row.method, &row.template, 0.0));
            endpoints.len() - 1
        });
        endpoints[at].count += 1;
    }
    if !missing.is_empty() {
        let names: Vec<String> = missing.into_iter().map(|n| format!("{{{n}}}")).collect();
        return Err(format!("the trace needs values it does not hold: {}; pass them with --var name=value", names.join(", ")));
    }
    if endpoints.is_empty() {
        return Err(format!("{}: the trace has no rows", path.display()));
    }
    let total = rows as f64;
    for e in &mut endpoints {
        e.weight = e.count as f64 / total;
    }
    let profile = Profile {
        version: VERSION,
        source: None,
        endpoints,
        arrival: Arrival { bin_s: 1, counts: vec![rows] },
        segments: vec![],
        sessions: None,
    };
    Ok(TraceInfo { path: path.to_path_buf(), profile, index, last_offset_s, rows })
}

/// The trace's requests, read as they come due.
pub struct TracePlan {
    rows: csv::DeserializeRecordsIntoIter<std::fs::File, Row>,
    index: HashMap<String, usize>,
    vars: Vars,
    speed: f64,
    window: Option<(u64, u64)>,
    max_requests: Option<u64>,
    seq: u64,
}

impl TracePlan {
    pub fn new(info: &TraceInfo, vars: Vars, speed: f64, window: Option<(u64, u64)>, max_requests: Option<u64>) -> Result<Self, String> {
        let reader = csv::Reader::from_path(&info.path).map_err(|e| format!("{}: {e}", info.path.display()))?;
        Ok(TracePlan { rows: reader.into_deserialize(), index: info.index.clone(), vars, speed, window, max_requests, seq: 0 })
    }

    /// The run's length in real time, seconds.
    pub fn duration_s(info: &TraceInfo, speed: f64, window: Option<(u64, u64)>) -> f64 {
        let span = match window {
            Some((from, to)) => (to as f64).min(info.last_offset_s) - from as f64,
            None => info.last_offset_s,
        };
        span.max(0.0) / speed
    }
}

impl Iterator for TracePlan {
    type Item = Planned;

    fn next(&mut self) -> Option<Planned> {
        if self.max_requests.is_some_and(|max| self.seq >= max) {
            return None;
        }
        loop {
            let row = self.rows.next()?.ok()?;
            let from = match self.window {
                Some((from, to)) if row.offset_s < from as f64 || row.offset_s >= to as f64 => continue,
                Some((from, _)) => from as f64,
                None => 0.0,
            };
            let mut target = row.target.clone();
            for name in placeholders(&row.target).map(str::to_owned).collect::<Vec<_>>() {
                let value = self.vars.get(&name).and_then(|v| v.first()).cloned().unwrap_or_default();
                target = target.replace(&format!("{{{name}}}"), &value);
            }
            let endpoint = self.index.get(&format!("{} {}", row.method, row.template)).copied().unwrap_or(0);
            let at_ns = ((row.offset_s - from) / self.speed * 1e9) as u64;
            let spec = RequestSpec { seq: self.seq, endpoint, method: row.method, target, body: None };
            self.seq += 1;
            return Some(Planned { at_ns, work: Work::Request(spec) });
        }
    }
}
