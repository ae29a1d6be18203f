//! The deriver: log records in, a finished profile's parts out.
//!
//! Work splits in two. On worker threads, a [`ChunkDigest`] filters each
//! record, templates its path and updates that template's statistics, and
//! keeps one small event per request (time, template, hashed user). Then,
//! one chunk at a time, chunk digests fold into the [`Deriver`] in input order:
//! template statistics merge, and the events feed the arrival curve, the
//! per-window endpoint mix and the session tracker, which need input order.
//! Folding in order makes the profile the same for any thread count.
//!
//! Memory is flat: the template table compacts as it fills, folding
//! high-cardinality segments into `{param}` and routing later paths by the
//! same rules (`fold.rs`), so distinct paths cost no memory of their own; at
//! most [`MAX_TEMPLATES`] templates survive (more fold into one overflow
//! entry). Sketches and capped samples per template, a bounded arrival
//! counter, and bounded session tracking. No request is stored.

use super::TimeSpan;
use super::arrival::ArrivalCounter;
use super::collapse;
use super::endpoints::{EndpointStats, PAYLOAD_KEY, has_payload_key};
use super::fold::{COMPACT_AT, RuleBook, Rules};
pub use super::left_out::LeftOut;
use super::segments::segments;
use super::sessions::{FLOW_LEN, SessionTracker};
use super::sketch::{MAX_SAMPLED_BYTES, seeded_hash};
use super::trace::{TraceRow, TraceWriter};
use super::wire::{Arrival, Endpoint, Flow, Segment, Sessions};
use crate::log::LogRecord;
use crate::scan::Accumulator;
use rustc_hash::FxHashMap;
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

mod budget;
mod chunk_mix;
mod floors;
mod route_cache;
mod settings;
mod state;
mod templating;
pub use budget::{SAMPLE_BUDGET, slot_budget};
use chunk_mix::mix_of;
use floors::{FLOORS_EVERY, FloorBook, SampleFloors};
use route_cache::RouteCache;
pub use settings::{DEFAULT_MAX_ENDPOINTS, DEFAULT_SESSION_GAP, DeriveSettings};
pub use state::{DeriverState, MAX_REQUESTS, MixState, TemplateState};

/// Buffers handed back by folded chunks for the next ones: a fresh events
/// buffer per chunk would cost the kernel a page fault per 4 KiB, and a fresh
/// template table would be copied as it grows to its hundreds of entries.
type EventPool = Arc<Mutex<Buffers>>;

#[derive(Default)]
struct Buffers {
    events: Vec<Vec<Event>>,
    templates: Vec<Vec<(String, EndpointStats)>>,
}

pub const MAX_TEMPLATES: usize = 20_000;
// Sessions keep endpoint ids in 16 bits.
const _: () = assert!(MAX_TEMPLATES < u16::MAX as usize);
const OVERFLOW_KEY: &str = "OTHER /{overflow}";
const TOP_FLOWS: usize = 10;
/// A window's endpoint mix is its own when it differs from the whole by this much (total variation distance).
const MIX_DIFFERENCE: f64 = 0.2;
const MIX_RESOLUTION_S: i64 = 60;
const MAX_MIX_WINDOWS: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Event {
    time_us: i64,
    template: u32,
    user: u64,
}

/// One chunk's work, done on a worker thread.
pub struct ChunkDigest {
    settings: Arc<DeriveSettings>,
    pool: EventPool,
    /// Requests per second, run-length coded in input order.
    seconds: Vec<(i64, u64)>,
    /// The microseconds of the last second in `seconds`.
    last_second_us: std::ops::Range<i64>,
    /// Requests per (minute, template), sorted: counted from the events when the chunk is sealed.
    mix: Vec<((i64, u32), u64)>,
    sealed: bool,
    span: TimeSpan,
    ids: FxHashMap<String, u32>,
    templates: Vec<(String, EndpointStats)>,
    events: Vec<Event>,
    /// `--trace` rows (method, redacted target), one per event, when asked for.
    trace: Vec<(String, String)>,
    excluded: LeftOut,
    key: String,
    sampled: super::endpoints::Positions,
    /// A payload line's redacted path segments, for its example.
    payload_redacted: Vec<(usize, &'static str)>,
    /// The folding rules this chunk routes paths by, and scratch space for routing.
    rules: Arc<Rules>,
    /// Where the run's samples stood: a new template's start from there.
    floors: Arc<SampleFloors>,
    routed: String,
    folded: Vec<usize>,
    /// The template count that compacts this chunk's own table (a chunk of nearly all distinct paths).
    next_compaction: usize,
    /// The templates of literal paths seen in this chunk.
    routes: RouteCache,
    /// The template the last templated line went to (its key is checked: a compaction renumbers).
    last_id: u32,
}

/// A chunk's own template table compacts when it reaches this many templates, so the
/// chunks read before the first rules reach the workers stay small too.
const CHUNK_COMPACT_AT: usize = COMPACT_AT;

impl ChunkDigest {
    fn new(settings: Arc<DeriveSettings>, pool: EventPool, rules: Arc<Rules>, floors: Arc<SampleFloors>) -> Self {
        let (events, templates) = match pool.lock() {
            Ok(mut free) => (free.events.pop(), free.templates.pop()),
            Err(_) => (None, None),
        };
        let events = events.unwrap_or_else(|| Vec::with_capacity(8192));
        ChunkDigest {
            settings,
            pool,
            seconds: Vec::new(),
            last_second_us: 0..0,
            mix: Vec::new(),
            sealed: false,
            span: TimeSpan::default(),
            ids: FxHashMap::default(),
            templates: templates.unwrap_or_default(),
            events,
            trace: Vec::new(),
            excluded: LeftOut::default(),
            key: String::new(),
            sampled: Default::default(),
            payload_redacted: Vec::new(),
            rules,
            floors,
            routed: String::new(),
            folded: Vec::new(),
            next_compaction: CHUNK_COMPACT_AT,
            routes: RouteCache::default(),
            last_id: u32::MAX,
        }
    }

    fn keep(&self, record: &LogRecord<'_>, time_us: i64) -> bool {
        let s = &self.settings;
        if s.since_us.is_some_and(|since| time_us < since) || s.until_us.is_some_and(|until| time_us >= until) {
            return false;
        }
        if let Some(wanted) = &s.host_filter {
            let host = record.host.as_deref().map(crate::log::fields::strip_port);
            if host.is_none_or(|h| !h.eq_ignore_ascii_case(wanted.as_bytes())) {
                return false;
            }
        }
        match (&s.exclude, record.path.as_deref()) {
            (Some(exclude), Some(path)) => !exclude.is_match(path),
            _ => true,
        }
    }
}

fn user_key(record: &LogRecord<'_>, seed: u64) -> u64 {
    match record.user.as_deref() {
        Some(user) => seeded_hash(seed, user),
        None => {
            let client = seeded_hash(seed, record.client.as_deref().unwrap_or(b""));
            seeded_hash(client, record.user_agent.as_deref().unwrap_or(b""))
        }
    }
}

impl Accumulator for ChunkDigest {
    type Total = Deriver;

    fn add(&mut self, record: &LogRecord<'_>) {
        let Some(time_us) = record.time_us else {
            self.excluded.untimed += 1;
            return;
        };
        // The scan passes only HTTP requests (`log::request_rule`); this is their method and target.
        let (Some(method), Some(path)) = (record.method.as_deref(), record.path.as_deref()) else {
            self.excluded.not_requests += 1;
            return;
        };
        if !self.keep(record, time_us) {
            self.excluded.filtered += 1;
            return;
        }
        let payload = record.query.as_deref().is_some_and(has_payload_key);
        // A literal path seen in this chunk is its template already (`route_cache.rs`);
        // `--trace` reads the method from the key, so it templates every line.
        let cached = if payload || self.settings.trace { None } else { self.routes.get(method, path) };
        let id = match cached {
            Some(id) => {
                self.sampled.clear();
                #[cfg(debug_assertions)]
                self.check_cached(method, path, id);
                id
            }
            None => self.template_id_of(method, path, payload),
        };
        let seed = self.settings.seed;
        let redacted = if payload { &self.payload_redacted } else { &self.sampled.redacted };
        self.templates[id as usize].1.add(record, &self.sampled, redacted, seed);
        self.events.push(Event { time_us, template: id, user: user_key(record, seed) });
        if self.settings.trace {
            let target = super::endpoints::redacted_target(path, record.query.as_deref());
            let method = self.key[..self.key.find(' ').unwrap_or(0)].to_owned();
            self.trace.push((method, super::shape::lossless_owned(target)));
        }
        // Lines come in runs of one second: a time inside the last one's microseconds needs no division.
        match self.seconds.last_mut() {
            Some((_, n)) if self.last_second_us.contains(&time_us) => *n += 1,
            _ => {
                let sec = time_us.div_euclid(1_000_000);
                self.seconds.push((sec, 1));
                let start = sec.saturating_mul(1_000_000);
                self.last_second_us = start..start.saturating_add(1_000_000);
            }
        }
        self.span.add_time(time_us);
    }

    /// Counts the chunk's mix from its events, a run of one minute at a time, on the worker.
    fn seal(&mut self) {
        if std::mem::replace(&mut self.sealed, true) {
            return;
        }
        self.mix = mix_of(&self.events, self.templates.len());
    }

    fn fold_into(mut self, total: &mut Deriver) {
        self.seal();
        total.adopt(&self.rules);
        // The chunk's statistics are its own to give: a template re-routed at the fold samples into them, uncopied.
        let local_to_global: Vec<u32> =
            self.templates.iter_mut().map(|(key, stats)| total.template(key, Cow::Owned(std::mem::take(stats)))).collect();
        total.excluded.add(&self.excluded);
        total.span.merge(self.span);
        for &(sec, n) in &self.seconds {
            total.arrival.add(sec, n);
        }
        for &((minute, template), n) in &self.mix {
            total.mix_add(minute * MIX_RESOLUTION_S, local_to_global[template as usize], n);
        }
        // The session table is bigger than the cache: ask for each user's
        // slot a few events ahead, so the lookups overlap.
        const AHEAD: usize = 8;
        for (i, event) in self.events.iter().enumerate() {
            if let Some(next) = self.events.get(i + AHEAD) {
                total.sessions.prefetch(next.user);
            }
            total.sessions.add(event.user, event.time_us, local_to_global[event.template as usize]);
        }
        if let Some(trace) = &mut total.trace {
            for (event, (method, target)) in self.events.iter().zip(self.trace) {
                let key = &self.templates[event.template as usize].0;
                let template = key[key.find(' ').map_or(0, |sp| sp + 1)..].to_owned();
                trace.push(TraceRow { time_us: event.time_us, method, template, target, user: event.user });
            }
        }
        let (mut events, mut templates) = (self.events, self.templates);
        events.clear();
        templates.clear();
        if let Ok(mut free) = self.pool.lock() {
            free.events.push(events);
            free.templates.push(templates);
        }
        total.chunk_folded();
    }
}

/// The whole run's state, folded into by one worker at a time (`scan/order.rs`).
pub struct Deriver {
    settings: Arc<DeriveSettings>,
    pool: EventPool,
    ids: FxHashMap<String, u32>,
    templates: Vec<(String, EndpointStats)>,
    pub span: TimeSpan,
    pub excluded: LeftOut,
    arrival: ArrivalCounter,
    /// Requests per template in each window of `mix_res` seconds.
    mix: BTreeMap<i64, FxHashMap<u32, u64>>,
    mix_res: i64,
    sessions: SessionTracker,
    trace: Option<TraceWriter>,
    /// Folding as the log streams: the rules so far, each version as published to the workers,
    /// chunks folded so far (over all inputs), and the table size that triggers the next compaction.
    rules: Rules,
    book: Arc<RuleBook>,
    /// Where the samples stand, as published to the workers (`deriver/floors.rs`).
    floors: Arc<FloorBook>,
    folded_chunks: u64,
    next_compaction: usize,
    routed: String,
    folded: Vec<usize>,
    /// What the samples take, against their budget (`budget.rs`).
    samples: budget::SampleAccount,
}

/// What the deriver makes of it all.
pub struct DerivedParts {
    pub endpoints: Vec<Endpoint>,
    pub arrival: Arrival,
    pub segments: Vec<Segment>,
    pub sessions: Option<Sessions>,
    /// `--trace`: rows written and rows that came too late for time order, or the write error.
    pub trace: Option<Result<(u64, u64), csv::Error>>,
}

impl Deriver {
    /// A deriver; with `trace`, the per-request timeline is written there as CSV.
    pub fn new(settings: Arc<DeriveSettings>, trace: Option<Box<dyn std::io::Write + Send>>) -> Self {
        let sessions = SessionTracker::new(settings.session_gap_s);
        let settings = Arc::new(DeriveSettings { trace: trace.is_some(), ..(*settings).clone() });
        Deriver {
            settings,
            pool: EventPool::default(),
            ids: FxHashMap::default(),
            templates: Vec::new(),
            span: TimeSpan::default(),
            excluded: LeftOut::default(),
            arrival: ArrivalCounter::default(),
            mix: BTreeMap::new(),
            mix_res: MIX_RESOLUTION_S,
            sessions,
            trace: trace.map(TraceWriter::new),
            rules: Rules::default(),
            book: Arc::default(),
            floors: Arc::default(),
            folded_chunks: 0,
            next_compaction: COMPACT_AT,
            routed: String::new(),
            folded: Vec::new(),
            samples: budget::SampleAccount::default(),
        }
    }

    /// Makes the accumulator for chunk `seq` of the next input, on any thread.
    pub fn chunk_maker(&self) -> impl Fn(u64) -> ChunkDigest + Sync + use<> {
        let (settings, pool, book) = (Arc::clone(&self.settings), Arc::clone(&self.pool), Arc::clone(&self.book));
        let floors = Arc::clone(&self.floors);
        let first = self.folded_chunks;
        move |seq| {
            let index = first + seq;
            ChunkDigest::new(Arc::clone(&settings), Arc::clone(&pool), book.for_chunk(index), floors.for_chunk(index))
        }
    }

    /// Takes the rules a chunk learned compacting its own table, and hands them to later chunks.
    fn adopt(&mut self, rules: &Rules) {
        if rules.len() > self.rules.len() || !rules.is_empty() && self.rules.is_empty() {
            let before = self.rules.len();
            self.rules.extend(rules);
            if self.rules.len() > before {
                self.book.publish(self.folded_chunks, Arc::new(self.rules.clone()));
            }
        }
    }

    /// Called after each chunk is folded: compacts the template table when it is full.
    fn chunk_folded(&mut self) {
        self.folded_chunks += 1;
        if self.templates.len() >= self.next_compaction {
            self.compact();
        }
        self.keep_samples_in_budget();
        if self.folded_chunks.is_multiple_of(FLOORS_EVERY) {
            self.floors.publish(self.folded_chunks, Arc::new(SampleFloors::of(&self.templates)));
        }
    }

    /// Folds the template table by cardinality, learns the rules that did it,
    /// renumbers the templates (sessions and mix windows follow) and publishes the rules.
    fn compact(&mut self) {
        let learned = self.rules.len();
        let compacted = collapse::compact(std::mem::take(&mut self.templates), &mut self.rules, self.settings.seed);
        self.templates = compacted.templates;
        self.next_compaction = (self.templates.len() * 2).max(COMPACT_AT);
        self.ids = self.templates.iter().enumerate().map(|(id, (key, _))| (key.clone(), id as u32)).collect();
        let renumber = |t: u32| compacted.index_of[t as usize] as u32;
        for counts in self.mix.values_mut() {
            let mut merged: FxHashMap<u32, u64> = FxHashMap::default();
            for (&t, &n) in counts.iter() {
                *merged.entry(renumber(t)).or_default() += n;
            }
            *counts = merged;
        }
        self.sessions.renumber(&compacted.index_of);
        if self.rules.len() > learned {
            self.book.publish(self.folded_chunks, Arc::new(self.rules.clone()));
        }
    }

    /// Requests kept for the profile so far.
    pub fn requests(&self) -> u64 {
        self.templates.iter().map(|(_, s)| s.count).sum()
    }

    fn template(&mut self, key: &str, mut stats: Cow<'_, EndpointStats>) -> u32 {
        self.account(key.len() + stats.sample_cost());
        // Most of a chunk's templates are in the table already: one lookup settles them.
        if let Some(&id) = self.ids.get(key) {
            self.templates[id as usize].1.merge(&stats);
            return id;
        }
        if self.rules.route(key, &mut self.routed, &mut self.folded) {
            // Rules learned since the chunk was routed: fold it now, its literals offered as samples
            // (a partial's borrowed statistics are copied for it; a chunk's are its own).
            let stats_mut = stats.to_mut();
            let path = memchr::memchr(b' ', key.as_bytes()).and_then(|space| key.as_bytes().get(space + 1..)).unwrap_or_default();
            // Split as bytes: a `char` pattern's search cost twice the rest of the loop.
            for (position, segment) in path.split(|&b| b == b'/').enumerate() {
                if self.folded.contains(&position) {
                    stats_mut.offer_param(position, segment, self.settings.seed);
                }
            }
            let routed = std::mem::take(&mut self.routed);
            let id = self.template(&routed, stats);
            self.routed = routed;
            return id;
        }
        // A key longer than a partial may carry (a path of 64 KB) joins the overflow, as templates past the cap do.
        let key = if self.templates.len() < MAX_TEMPLATES && key.len() <= MAX_SAMPLED_BYTES { key } else { OVERFLOW_KEY };
        let id = match self.ids.get(key) {
            Some(&id) => id,
            None => {
                let id = self.templates.len() as u32;
                self.ids.insert(key.to_owned(), id);
                self.templates.push((key.to_owned(), EndpointStats::default()));
                id
            }
        };
        self.templates[id as usize].1.merge(&stats);
        id
    }

    fn mix_add(&mut self, sec: i64, template: u32, n: u64) {
        *self.mix.entry(sec.div_euclid(self.mix_res)).or_default().entry(template).or_default() += n;
        if self.mix.len() > MAX_MIX_WINDOWS {
            self.coarsen_mix();
        }
    }

    /// Doubles the mix windows' width.
    fn coarsen_mix(&mut self) {
        self.mix_res *= 2;
        let mut coarse: BTreeMap<i64, FxHashMap<u32, u64>> = BTreeMap::new();
        for (window, counts) in std::mem::take(&mut self.mix) {
            let target = coarse.entry(window.div_euclid(2)).or_default();
            for (t, n) in counts {
                *target.entry(t).or_default() += n;
            }
        }
        self.mix = coarse;
    }

    pub fn finish(mut self) -> DerivedParts {
        self.trim_samples();
        let settings = Arc::clone(&self.settings);
        let finished = collapse::finish(std::mem::take(&mut self.templates), settings.max_endpoints, settings.seed);
        let (arrival, start) = self.arrival.finish(settings.bin_s);
        let mut segments = segments(&arrival.counts, arrival.bin_s);
        self.segment_weights(&mut segments, start, &finished);
        self.sessions.finish();
        let sessions = self.sessions_wire(&finished, start, &arrival);
        let mut endpoints = finished.endpoints;
        super::login::mark(&mut endpoints, sessions.as_ref(), settings.login_form.as_deref());
        let trace = self.trace.take().map(TraceWriter::finish);
        DerivedParts { endpoints, arrival, segments, sessions, trace }
    }

    fn segment_weights(&self, segments: &mut [Segment], start: i64, finished: &collapse::Finished) {
        if segments.len() < 2 {
            return;
        }
        let overall: Vec<f64> = finished.endpoints.iter().map(|e| e.weight).collect();
        for segment in segments.iter_mut() {
            let (from, to) = (start + segment.start_s as i64, start + segment.end_s as i64);
            let mut counts = vec![0u64; overall.len()];
            for (&window, templates) in self.mix.range(from.div_euclid(self.mix_res)..=(to - 1).div_euclid(self.mix_res)) {
                let window_start = window * self.mix_res;
                if window_start + self.mix_res <= from || window_start >= to {
                    continue;
                }
                for (&t, &n) in templates {
                    counts[finished.index_of[t as usize]] += n;
                }
            }
            let total: u64 = counts.iter().sum();
            if total == 0 {
                continue;
            }
            let mix: Vec<f64> = counts.iter().map(|&n| n as f64 / total as f64).collect();
            let distance: f64 = mix.iter().zip(&overall).map(|(a, b)| (a - b).abs()).sum::<f64>() / 2.0;
            // The distance sampling noise alone gives a window of `total` requests.
            let noise: f64 =
                overall.iter().map(|p| (2.0 * p * (1.0 - p) / (std::f64::consts::PI * total as f64)).sqrt()).sum::<f64>() / 2.0;
            if distance >= MIX_DIFFERENCE + 2.0 * noise {
                let weights = finished
                    .endpoints
                    .iter()
                    .zip(&mix)
                    .filter(|(_, w)| **w > 0.0)
                    .map(|(e, w)| (format!("{} {}", e.method, e.path), (w * 1e6).round() / 1e6))
                    .collect();
                segment.weights = Some(weights);
            }
        }
    }

    fn sessions_wire(&self, finished: &collapse::Finished, start: i64, arrival: &Arrival) -> Option<Sessions> {
        let t = &self.sessions;
        if t.count == 0 {
            return None;
        }
        // Flows are counted by endpoint index and named only for the few kept: 50,000 flows
        // named step by step would be the largest allocation of the whole derive.
        let mut flows: FxHashMap<([usize; FLOW_LEN], u8), u64> = FxHashMap::default();
        for ((steps, len), &n) in &t.flows {
            let mut endpoints = [usize::MAX; FLOW_LEN];
            for (endpoint, &step) in endpoints.iter_mut().zip(&steps[..usize::from(*len)]) {
                *endpoint = finished.index_of.get(usize::from(step)).copied().unwrap_or(usize::MAX);
            }
            *flows.entry((endpoints, *len)).or_default() += n;
        }
        // Flows are ranked among sessions of more than one request, so a log full of one-request
        // visitors (bots, health checks) still shows its real multi-step flows.
        let any_multi = flows.keys().any(|(_, len)| *len > 1);
        let mut flows: Vec<(([usize; FLOW_LEN], u8), u64)> = flows.into_iter().filter(|((_, len), _)| !any_multi || *len > 1).collect();
        // Shares are of every such session, those whose flow found no room in the table included,
        // so they do not depend on which flows came first.
        let overflow = if any_multi { t.other_multi } else { t.other_flows };
        let ranked_among: u64 = (flows.iter().map(|(_, n)| n).sum::<u64>() + overflow).max(1);
        flows.sort_unstable_by(|a, b| b.1.cmp(&a.1));
        // Ties at the cut are broken by name, so keep every flow as common as the last one kept.
        let cut = flows.get(TOP_FLOWS.saturating_sub(1)).map_or(0, |(_, n)| *n);
        flows.retain(|(_, n)| *n >= cut);
        let name = |e: usize| finished.endpoints.get(e).map_or_else(|| "OTHER /".to_owned(), |e| format!("{} {}", e.method, e.path));
        let mut flows: Vec<(Vec<String>, u64)> =
            flows.into_iter().map(|((steps, len), n)| (steps[..usize::from(len)].iter().map(|&e| name(e)).collect(), n)).collect();
        flows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let bin_s = i64::from(arrival.bin_s);
        let starts = Arrival { bin_s: arrival.bin_s, counts: t.starts.curve(start, bin_s, arrival.counts.len()) };
        Some(Sessions {
            key: "user, else client+agent (hashed)".to_owned(),
            gap_s: self.settings.session_gap_s,
            count: t.count,
            arrival: Some(starts),
            length: t.length.whole_full_summary(),
            duration_s: t.duration_ms.full_summary(0.001),
            think_time_s: t.think_ms.full_summary(0.001),
            time_resolution_s: (!t.subsecond).then_some(1),
            flows: flows
                .into_iter()
                .take(TOP_FLOWS)
                .map(|(steps, count)| Flow { steps, count, share: (count as f64 / ranked_among as f64 * 1e6).round() / 1e6 })
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::LogRecord;
    use std::borrow::Cow;

    /// Times on both sides of second boundaries, before 1970 and after, in order and coming
    /// back: each second's count is the number of lines in it, the runs in input order.
    #[test]
    fn a_chunk_counts_each_second_of_its_lines() {
        let deriver = Deriver::new(Arc::new(DeriveSettings::default()), None);
        let mut chunk = deriver.chunk_maker()(0);
        let times = [0, 999_999, 1_000_000, 1_000_001, 1_999_999, 2_000_000, 1_500_000, -1, -1_000_000, -1_000_001, 5_000_000];
        for time_us in times {
            let record = LogRecord {
                time_us: Some(time_us),
                method: Some(Cow::Borrowed(b"GET")),
                path: Some(Cow::Borrowed(b"/")),
                ..LogRecord::default()
            };
            chunk.add(&record);
        }
        assert_eq!(chunk.seconds, [(0, 2), (1, 3), (2, 1), (1, 1), (-1, 2), (-2, 1), (5, 1)]);
    }
}
