//! The deriver's state as a partial profile keeps it, and the merge of such
//! states into one deriver.
//!
//! Everything here adds exactly: template statistics (counters, log-binned
//! sketches, hash-ordered samples), the arrival counter's bins, the mix
//! windows and the closed sessions' summaries. A merge starts from an empty
//! deriver and absorbs each partial as the deriver folds a chunk: the
//! partial's folding rules join the deriver's, its templates are routed by
//! them (and folded when the table fills, as a derive compacts), and its
//! open sessions at the edges wait to be joined (`sessions/edges.rs`).

use super::super::TimeSpan;
use super::super::arrival::{ArrivalCounter, ArrivalState, MAX_SECOND};
use super::super::endpoints::EndpointStats;
use super::super::fold::Rules;
use super::super::sessions::SessionState;
use super::{Deriver, LeftOut, MAX_MIX_WINDOWS, MAX_TEMPLATES, MIX_RESOLUTION_S, budget};
use crate::log::request_rule;
use serde::{Deserialize, Serialize};

/// The requests of all partials merged are at most this many, so no count can overflow.
pub const MAX_REQUESTS: u64 = 1 << 50;
/// Folded groups a partial may carry.
const MAX_RULES: usize = 100_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeriverState {
    pub templates: Vec<TemplateState>,
    /// Folded groups (`GET 3 /p`) and the literals each keeps.
    pub rules: Vec<(String, Vec<String>)>,
    pub first_us: Option<i64>,
    pub last_us: Option<i64>,
    pub left_out: LeftOut,
    pub arrival: ArrivalState,
    pub mix: MixState,
    pub sessions: SessionState,
    /// The sample level reached (`budget.rs`): every sample is trimmed to it. 0, and left out, for most logs.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub sample_level: u8,
}

fn is_zero(level: &u8) -> bool {
    *level == 0
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateState {
    /// `METHOD /path/{id}`.
    pub key: String,
    pub stats: EndpointStats,
}

/// Requests per template in windows of `window_s` seconds (for each segment's own mix).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MixState {
    pub window_s: i64,
    /// (second / window_s, [(template index, count)]), rising.
    pub windows: Vec<(i64, Vec<(u32, u64)>)>,
}

impl DeriverState {
    /// Requests the state counts (kept for the profile).
    pub fn requests(&self) -> u64 {
        self.templates.iter().fold(0u64, |sum, t| sum.saturating_add(t.stats.count))
    }

    /// Checks a state read from a file: every part within derive's bounds, and parts that
    /// count the same requests agreeing. Errors name the field.
    pub fn check(&self) -> Result<(), String> {
        if self.sample_level > budget::MAX_LEVEL {
            return Err(format!("sample_level: {} (at most {})", self.sample_level, budget::MAX_LEVEL));
        }
        let templates = self.templates.len();
        if templates > MAX_TEMPLATES + 1 {
            return Err(format!("templates: {templates} (at most {})", MAX_TEMPLATES + 1));
        }
        let mut requests: u64 = 0;
        let mut keys = std::collections::HashSet::with_capacity(templates);
        for (i, t) in self.templates.iter().enumerate() {
            // What derive keys templates by: a method and a request target, or the payload tail's key.
            let well_formed = t.key == super::PAYLOAD_KEY
                || t.key.split_once(' ').is_some_and(|(method, path)| {
                    request_rule::is_token(method.as_bytes()) && request_rule::is_target_for(method.as_bytes(), path.as_bytes())
                });
            if !well_formed || t.key.len() > super::super::sketch::MAX_SAMPLED_BYTES || !keys.insert(t.key.as_str()) {
                return Err(format!("templates[{i}].key: `METHOD /path`, each once"));
            }
            if t.stats.count == 0 {
                return Err(format!("templates[{i}].stats.count: a template counts 1 request or more"));
            }
            t.stats.check().map_err(|e| format!("templates[{i}].stats.{e}"))?;
            requests = requests.saturating_add(t.stats.count);
        }
        if requests > MAX_REQUESTS {
            return Err(format!("templates: {requests} requests (at most {MAX_REQUESTS})"));
        }
        if self.rules.len() > MAX_RULES || self.rules.iter().any(|(group, kept)| group.len() > 4096 || kept.len() > MAX_TEMPLATES) {
            return Err(format!("rules: at most {MAX_RULES} groups, each keeping at most {MAX_TEMPLATES} literals"));
        }
        let in_range = |t: Option<i64>| t.is_none_or(|t| t.unsigned_abs() <= (MAX_SECOND * 1_000_000) as u64);
        match (self.first_us, self.last_us) {
            (Some(first), Some(last)) if first <= last && in_range(Some(first)) && in_range(Some(last)) => {}
            (None, None) if requests == 0 => {}
            _ => return Err("first_us, last_us: the first and last request times, in order (none only when empty)".to_owned()),
        }
        let arrival = ArrivalCounter::from_state(&self.arrival).map_err(|e| format!("arrival.{e}"))?;
        if arrival.total() != requests {
            return Err(format!("arrival: counts {} requests where the templates count {requests}", arrival.total()));
        }
        let seconds = |us: Option<i64>| us.map(|t| t.div_euclid(1_000_000));
        if arrival.first_and_last()
            != seconds(self.first_us).zip(seconds(self.last_us)).map(|(f, l)| (arrival.bin_of(f), arrival.bin_of(l)))
        {
            return Err("arrival.bins: the first and last bins are not those of first_us and last_us".to_owned());
        }
        self.mix.check(templates, requests).map_err(|e| format!("mix.{e}"))?;
        self.sessions.check(templates, requests).map_err(|e| format!("sessions.{e}"))
    }
}

impl MixState {
    fn check(&self, templates: usize, requests: u64) -> Result<(), String> {
        let window_ok = self.window_s >= MIX_RESOLUTION_S
            && self.window_s % MIX_RESOLUTION_S == 0
            && (self.window_s / MIX_RESOLUTION_S).unsigned_abs().is_power_of_two()
            && self.window_s <= MAX_SECOND;
        if !window_ok {
            return Err(format!("window_s: {} is not {MIX_RESOLUTION_S} s doubled some times", self.window_s));
        }
        if self.windows.len() > MAX_MIX_WINDOWS {
            return Err(format!("windows: {} (at most {MAX_MIX_WINDOWS})", self.windows.len()));
        }
        let mut sum: u64 = 0;
        for (i, (window, counts)) in self.windows.iter().enumerate() {
            let in_range = window.checked_mul(self.window_s).is_some_and(|s| s.unsigned_abs() <= MAX_SECOND as u64);
            if !in_range || i > 0 && self.windows[i - 1].0 >= *window {
                return Err(format!("windows[{i}]: windows rise, within {MAX_SECOND} s of 1970"));
            }
            for (j, &(t, n)) in counts.iter().enumerate() {
                if t as usize >= templates || n == 0 || j > 0 && counts[j - 1].0 >= t {
                    return Err(format!("windows[{i}][{j}]: templates of the partial, rising, counted above 0"));
                }
                sum = sum.saturating_add(n);
            }
        }
        if sum != requests {
            return Err(format!("windows: count {sum} requests where the templates count {requests}"));
        }
        Ok(())
    }
}

impl Deriver {
    /// This deriver's state, for a partial profile covering the stretches `coverage`:
    /// sessions no other stretch could extend are closed first.
    pub fn to_state(&mut self, coverage: &[(i64, i64)]) -> DeriverState {
        let sessions = self.sessions.to_state(coverage);
        self.trim_samples();
        let templates = self.templates.iter().map(|(key, stats)| TemplateState { key: key.clone(), stats: stats.clone() }).collect();
        let windows = self
            .mix
            .iter()
            .filter(|(_, counts)| !counts.is_empty())
            .map(|(&window, counts)| {
                let mut counts: Vec<(u32, u64)> = counts.iter().map(|(&t, &n)| (t, n)).collect();
                counts.sort_unstable();
                (window, counts)
            })
            .collect();
        DeriverState {
            templates,
            rules: self.rules.to_state(),
            first_us: self.span.first_us,
            last_us: self.span.last_us,
            left_out: self.excluded,
            arrival: self.arrival.to_state(),
            mix: MixState { window_s: self.mix_res, windows },
            sessions,
            sample_level: self.sample_level(),
        }
    }

    /// A partial derive: sessions at the start of its stretch are kept for a merge.
    pub fn keep_session_edges(&mut self) {
        self.sessions.keep_heads();
    }

    /// Adds a checked partial's state, as a chunk folds in: rules, templates (routed by the
    /// rules, folded when the table fills), counts, mix windows and sessions. Edges wait for
    /// [`Deriver::settle_sessions`].
    pub fn absorb(&mut self, state: &DeriverState) -> Result<(), String> {
        let rules = Rules::from_state(&state.rules);
        self.rules.extend(&rules);
        self.raise_sample_level(state.sample_level);
        let ids: Vec<u32> = state.templates.iter().map(|t| self.template(&t.key, std::borrow::Cow::Borrowed(&t.stats))).collect();
        self.excluded.add(&state.left_out);
        if let (Some(first), Some(last)) = (state.first_us, state.last_us) {
            self.span.merge(TimeSpan { first_us: Some(first), last_us: Some(last) });
        }
        self.arrival.absorb(&ArrivalCounter::from_state(&state.arrival)?);
        while self.mix_res < state.mix.window_s {
            self.coarsen_mix();
        }
        for (window, counts) in &state.mix.windows {
            for &(t, n) in counts {
                let id = ids.get(t as usize).copied().unwrap_or(0);
                self.mix_add(window * state.mix.window_s, id, n);
            }
        }
        let absorbed = self.sessions.absorb(&state.sessions, &ids);
        self.chunk_folded();
        absorbed
    }

    /// Joins the sessions at partials' edges and closes those the stretches in `coverage` complete.
    pub fn settle_sessions(&mut self, coverage: &[(i64, i64)]) {
        self.sessions.settle(coverage);
    }
}
