//! Endpoints: requests grouped by method and path template, with their
//! status mix, sizes, production latency, sampled parameter values and
//! query keys.
//!
//! Per request (worker threads) a path is templated by the look of each
//! segment (`path_template.rs`, `shape.rs`) and its statistics go to that
//! key, reading the templated segments where templating found them. When the profile
//! is finished, templates are collapsed further by cardinality: where many
//! distinct literal values share a prefix (`/users/alice`, `/users/bob`, …)
//! the rare ones fold into `{param}` while frequent ones (`/users/me`) stay.
//! Then the list is cut to `--max-endpoints`, the tail folding into one entry
//! that keeps sampled concrete paths.
//!
//! Memory: every statistic here is a count, a [`QuantileSketch`] or a
//! bounded [`Sample`]; query keys are capped per endpoint, and the number of
//! distinct templates is capped by the deriver.

pub use super::path_template::{template_key, template_key_routed};
use super::shape::{self, Segment};
use super::sketch::{ITEM_COST, QuantileSketch, Sample};
use super::value_shape::NamedShapes;
use crate::log::LogRecord;

/// Sampled values kept per parameter, per query key, and concrete examples kept per endpoint.
pub const PARAM_SAMPLES: usize = 16;
const QUERY_SAMPLES: usize = 8;
const EXAMPLES: usize = 4;
const MAX_QUERY_KEYS: usize = 32;
/// The deepest path segment sampled, and a file's statistics may name.
const MAX_POSITION: usize = 4096;
/// Parameters sampled per template, the lowest positions (a path with more placeholders is a
/// scanner's; a partial may carry more, from an older derive, and a merge keeps these).
const MAX_PARAMS: usize = 16;

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueryStats {
    pub key: String,
    pub count: u64,
    pub secret: bool,
    pub sample: Sample,
    /// What the key's name alone says, once judged: whether it is secret
    /// ([`shape::is_secret_key`]) and whether it is weak ([`shape::is_weak_key`]).
    #[serde(skip)]
    pub key_judged: Option<KeyName>,
}

/// A query key's name, judged once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyName {
    pub secret: bool,
    pub weak: bool,
}

/// What is known of one endpoint template.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointStats {
    pub count: u64,
    /// (status, count), sorted by status.
    pub status: Vec<(u16, u64)>,
    pub bytes: QuantileSketch,
    pub latency_us: QuantileSketch,
    /// (segment position, sampled values) for each sampled placeholder.
    pub params: Vec<(usize, Sample)>,
    pub query: Vec<QueryStats>,
    /// Concrete paths, secrets redacted, for the folded tail.
    pub examples: Sample,
    /// The shapes of redacted values, by placeholder name (`token`, `email`, a secret query key's).
    pub shapes: NamedShapes,
    /// A chunk's statistics: the floors of the run's query samples, for keys this chunk has not
    /// seen yet (see [`Floors`]). Never merged or written.
    #[serde(skip)]
    pub(crate) query_floors: Vec<(String, u64)>,
}

/// Where a template's samples stand: the [`Sample::floor`] of each parameter's sample that can
/// take no more values below it, and of the examples. A chunk's new template starts from these
/// (`deriver/floors.rs`).
#[derive(Debug)]
pub struct Floors {
    params: Vec<(usize, u64)>,
    examples: u64,
    /// By query key.
    query: Vec<(String, u64)>,
}

/// The positions of a path's segments that a template replaced, as [`template_key`] found them.
#[derive(Debug, Clone, Default)]
pub struct Positions {
    /// Segments whose values are sampled (`{id}`, `{uuid}`).
    pub sampled: Vec<usize>,
    /// Secret or personal segments (`{token}`, `{email}`): their shapes are kept, never their values.
    pub redacted: Vec<(usize, &'static str)>,
    /// Where in the path each of those segments lies, by rising position, so the statistics
    /// read them without splitting the path again. Only templating writes these: a position
    /// added later (a chunk's table compacting) leaves them short, and the path is split.
    spans: Vec<(u32, u32)>,
}

/// What a template found, not where: two templatings agree when they replaced the same segments.
impl PartialEq for Positions {
    fn eq(&self, other: &Self) -> bool {
        (&self.sampled, &self.redacted) == (&other.sampled, &other.redacted)
    }
}

impl Eq for Positions {}

impl Positions {
    pub fn clear(&mut self) {
        self.sampled.clear();
        self.redacted.clear();
        self.spans.clear();
    }

    /// Where each sampled or redacted segment lies, when templating found them all.
    pub(super) fn spans(&self) -> Option<&[(u32, u32)]> {
        (self.spans.len() == self.sampled.len() + self.redacted.len()).then_some(&self.spans)
    }

    /// Notes a segment templating replaced, at `position` and `span` of the path.
    pub(super) fn found(&mut self, (position, span): (usize, (u32, u32)), redacted: Option<&'static str>) {
        match redacted {
            Some(name) => self.redacted.push((position, name)),
            None => self.sampled.push(position),
        }
        self.spans.push(span);
    }
}

impl EndpointStats {
    /// Counts one request; `positions` are those of its path segments worth
    /// sampling and of its redacted ones, as [`template_key`] found them, and
    /// `redacted` the path's secret and personal segments, for its example (the
    /// same as `positions.redacted` but for the payload tail, which samples none).
    pub fn add(&mut self, record: &LogRecord<'_>, positions: &Positions, redacted: &[(usize, &'static str)], seed: u64) {
        self.count += 1;
        if let Some(status) = record.status {
            match self.status.binary_search_by_key(&status, |&(s, _)| s) {
                Ok(at) => self.status[at].1 += 1,
                Err(at) => self.status.insert(at, (status, 1)),
            }
        }
        if let Some(bytes) = record.bytes {
            self.bytes.add_whole(bytes);
        }
        if let Some(us) = record.duration_us {
            self.latency_us.add_whole(us);
        }
        let path = record.path.as_deref().unwrap_or(b"/");
        let mut next = positions.sampled.iter().peekable();
        let mut shaped = positions.redacted.iter().peekable();
        if let Some(spans) = positions.spans() {
            // Where templating found them: the path is not split again.
            for &(start, end) in spans {
                let Some(seg) = path.get(start as usize..end as usize) else { break };
                match (next.peek(), shaped.peek()) {
                    (Some(&&position), redacted) if redacted.is_none_or(|(other, _)| position < *other) => {
                        next.next();
                        self.offer_param(position, seg, seed);
                    }
                    (_, Some(&&(_, name))) => {
                        shaped.next();
                        self.shapes.offer(name, seg);
                    }
                    _ => break,
                }
            }
        }
        for (position, seg) in path.split(|&b| b == b'/').enumerate() {
            // Past the last position asked for (or none asked for, as for most paths) nothing is left to do.
            if next.peek().is_none() && shaped.peek().is_none() {
                break;
            }
            if next.next_if(|&&p| p == position).is_some() {
                self.offer_param(position, seg, seed);
            } else if let Some((_, name)) = shaped.next_if(|(p, _)| *p == position) {
                self.shapes.offer(name, seg);
            }
        }
        if let Some(query) = record.query.as_deref() {
            self.add_query(query, seed);
        }
        // Sampled by the raw target's hash; the redacted copy is built only when it gets in.
        let hash = super::sketch::seeded_hash(super::sketch::seeded_hash(seed, path), record.query.as_deref().unwrap_or(b""));
        let query = record.query.as_deref();
        self.examples.offer_with(EXAMPLES, hash, || shape::lossless_owned(redacted_target_known(path, query, redacted)));
    }

    /// Samples `value` as the parameter at `position` (a placeholder's, or a folded literal's).
    #[inline(always)] // once or twice a request: the parameter is nearly always there already
    pub fn offer_param(&mut self, position: usize, value: &[u8], seed: u64) {
        if let Some(sample) = self.param(position) {
            sample.offer(PARAM_SAMPLES, seed, value);
        }
    }

    /// [`offer_param`](Self::offer_param) of a literal folding into `{param}`: copied only
    /// if it gets in.
    pub fn offer_param_str(&mut self, position: usize, value: &str, seed: u64) {
        if let Some(sample) = self.param(position) {
            let hash = super::sketch::seeded_hash(seed, value.as_bytes());
            sample.offer_with(PARAM_SAMPLES, hash, || value.to_owned());
        }
    }

    /// Whether [`offer_param_str`](Self::offer_param_str) at `position` would make a sample of
    /// its own there, dropping none, once `waiting` such offers at other positions are made:
    /// then these statistics merged into others give what the offer's one value merged
    /// there would ([`merge_param_str`](Self::merge_param_str)).
    pub fn takes_fresh_param(&self, position: usize, waiting: usize) -> bool {
        position <= MAX_POSITION && self.params.len() + waiting < MAX_PARAMS && self.params.iter().all(|(p, _)| *p != position)
    }

    /// Merges in the sample of the one value `value` at `position`, as [`merge`](Self::merge)
    /// merges statistics holding it (copied only if it gets in).
    pub fn merge_param_str(&mut self, position: usize, value: &str, seed: u64) {
        if let Some(sample) = self.param(position) {
            let hash = super::sketch::seeded_hash(seed, value.as_bytes());
            sample.merge_one(PARAM_SAMPLES, hash, || value.to_owned());
        }
    }

    /// The sample of the parameter at `position`; only the [`MAX_PARAMS`] lowest positions
    /// up to [`MAX_POSITION`] are sampled, which depends on the template alone, not on the order
    /// requests came in.
    #[inline(always)]
    fn param(&mut self, position: usize) -> Option<&mut Sample> {
        // At most MAX_PARAMS, nearly always one or two: a scan finds them sooner than a search.
        match self.params.iter().position(|(p, _)| *p == position) {
            Some(at) => self.params.get_mut(at).map(|(_, sample)| sample),
            None => self.new_param(position),
        }
    }

    /// [`param`](Self::param) for a position not sampled yet: its new sample, if it is one of the lowest.
    #[inline(never)]
    fn new_param(&mut self, position: usize) -> Option<&mut Sample> {
        let at = match self.params.binary_search_by_key(&position, |(p, _)| *p) {
            Ok(at) => at,
            Err(at) if at < MAX_PARAMS && position <= MAX_POSITION => {
                self.params.insert(at, (position, Sample::default()));
                self.params.truncate(MAX_PARAMS);
                at
            }
            Err(_) => return None,
        };
        self.params.get_mut(at).map(|(_, sample)| sample)
    }

    /// Where this template's samples stand; `None` while every one can take any value.
    pub fn floors(&self) -> Option<Floors> {
        let params: Vec<(usize, u64)> = self
            .params
            .iter()
            .map(|(position, sample)| (*position, sample.floor(PARAM_SAMPLES)))
            .filter(|&(_, floor)| floor < u64::MAX)
            .collect();
        let examples = self.examples.floor(EXAMPLES);
        let query: Vec<(String, u64)> = self
            .query
            .iter()
            .map(|q| (q, q.sample.floor(QUERY_SAMPLES)))
            .filter(|&(q, floor)| !q.secret && floor < u64::MAX)
            .map(|(q, floor)| (q.key.clone(), floor))
            .collect();
        (!params.is_empty() || examples < u64::MAX || !query.is_empty()).then_some(Floors { params, examples, query })
    }

    /// Empty statistics whose samples turn away what the run's could not take (see [`Floors`]).
    /// The parameters named are sampled already, in the run's; their empty samples merge as nothing.
    pub fn below(floors: &Floors) -> EndpointStats {
        EndpointStats {
            params: floors.params.iter().map(|&(position, floor)| (position, Sample::below(floor))).collect(),
            examples: Sample::below(floors.examples),
            query_floors: floors.query.clone(),
            ..EndpointStats::default()
        }
    }

    /// The memory the samples, examples and shapes take (see [`Sample::cost`]).
    pub fn sample_cost(&self) -> usize {
        let params: usize = self.params.iter().map(|(_, s)| ITEM_COST + s.cost()).sum();
        let query: usize = self.query.iter().map(|q| ITEM_COST + q.key.len() + q.sample.cost()).sum();
        params + query + self.examples.cost() + self.shapes.cost()
    }

    /// Trims every sample and the examples to `budget` each ([`Sample::trim`]), and each
    /// placeholder's shapes to their commonest that fit it.
    pub fn trim_samples(&mut self, budget: usize) {
        self.params.iter_mut().for_each(|(_, s)| s.trim(budget));
        self.query.iter_mut().for_each(|q| q.sample.trim(budget));
        self.examples.trim(budget);
        self.shapes.trim(budget);
    }

    fn add_query(&mut self, query: &[u8], seed: u64) {
        for pair in query.split(|&b| b == b'&').filter(|p| !p.is_empty()) {
            let (key, value) = match crate::bytes::find(b'=', pair) {
                Some(eq) => (&pair[..eq], &pair[eq + 1..]),
                None => (pair, &b""[..]),
            };
            let at = match self.query.iter().position(|q| q.key.as_bytes() == key) {
                Some(at) => at,
                None if self.query.len() < MAX_QUERY_KEYS => {
                    let floor = self.query_floors.iter().find(|(k, _)| k.as_bytes() == key).map_or(u64::MAX, |&(_, floor)| floor);
                    let sample = Sample::below(floor);
                    self.query.push(QueryStats { key: shape::lossless(key).into_owned(), sample, ..QueryStats::default() });
                    self.query.len() - 1
                }
                None => continue,
            };
            let stats = &mut self.query[at];
            stats.count += 1;
            // Once secret, always: only a key not yet secret is judged, its name once.
            if !stats.secret {
                let name =
                    *stats.key_judged.get_or_insert_with(|| KeyName { secret: shape::is_secret_key(key), weak: shape::is_weak_key(key) });
                stats.secret = name.secret || shape::is_secret_for(name.weak, value);
            }
            if stats.secret {
                stats.sample = Sample::default();
                if !value.is_empty() {
                    self.shapes.offer_for_key(key, value);
                }
            } else if !value.is_empty() {
                stats.sample.offer(QUERY_SAMPLES, seed, value);
            }
        }
    }

    /// Checks statistics read from a file (a partial profile): every part within the bounds
    /// derive keeps, and no part counting more requests than the template has.
    pub fn check(&self) -> Result<(), String> {
        let count = self.count;
        let mut statuses: u64 = 0;
        for (i, &(status, n)) in self.status.iter().enumerate() {
            if n == 0 || i > 0 && self.status[i - 1].0 >= status {
                return Err(format!("status[{i}]: statuses are counted above 0, in rising order"));
            }
            statuses = statuses.saturating_add(n);
        }
        if statuses > count {
            return Err(format!("status: {statuses} statuses for {count} requests"));
        }
        self.bytes.check(count).map_err(|e| format!("bytes.{e}"))?;
        self.latency_us.check(count).map_err(|e| format!("latency_us.{e}"))?;
        for (i, (position, sample)) in self.params.iter().enumerate() {
            if *position > MAX_POSITION || i > 0 && self.params[i - 1].0 >= *position {
                return Err(format!("params[{i}]: positions rise, up to {MAX_POSITION}"));
            }
            sample.check(PARAM_SAMPLES).map_err(|e| format!("params[{i}]{e}"))?;
        }
        if self.query.len() > MAX_QUERY_KEYS {
            return Err(format!("query: {} keys (at most {MAX_QUERY_KEYS})", self.query.len()));
        }
        for (i, q) in self.query.iter().enumerate() {
            if self.query[..i].iter().any(|other| other.key == q.key) || q.key.len() > super::sketch::MAX_SAMPLED_BYTES {
                return Err(format!("query[{i}].key: each key once, at most {} bytes", super::sketch::MAX_SAMPLED_BYTES));
            }
            if q.secret && !q.sample.is_empty() {
                return Err(format!("query[{i}].sample: a secret key's values are never kept"));
            }
            q.sample.check(QUERY_SAMPLES).map_err(|e| format!("query[{i}].sample{e}"))?;
        }
        self.examples.check(EXAMPLES).map_err(|e| format!("examples{e}"))?;
        self.shapes.check().map_err(|e| format!("shapes{e}"))
    }

    pub fn merge(&mut self, other: &EndpointStats) {
        self.count += other.count;
        for &(status, n) in &other.status {
            match self.status.binary_search_by_key(&status, |&(s, _)| s) {
                Ok(at) => self.status[at].1 += n,
                Err(at) => self.status.insert(at, (status, n)),
            }
        }
        self.bytes.merge(&other.bytes);
        self.latency_us.merge(&other.latency_us);
        for (position, sample) in &other.params {
            if let Some(mine) = self.param(*position) {
                mine.merge(PARAM_SAMPLES, sample);
            }
        }
        for q in &other.query {
            match self.query.iter().position(|mine| mine.key == q.key) {
                Some(at) => {
                    let mine = &mut self.query[at];
                    mine.count = mine.count.saturating_add(q.count);
                    mine.secret |= q.secret;
                    if mine.secret {
                        mine.sample = Sample::default();
                    } else {
                        mine.sample.merge(QUERY_SAMPLES, &q.sample);
                    }
                }
                None if self.query.len() < MAX_QUERY_KEYS => self.query.push(q.clone()),
                None => {}
            }
        }
        self.examples.merge(EXAMPLES, &other.examples);
        self.shapes.merge(&other.shapes);
    }
}

/// The key of requests whose query holds a payload for a key (a scanner's
/// shell command): they go to the tail, replayed from their examples.
pub const PAYLOAD_KEY: &str = "* *";

/// Whether any key of `query` is a payload rather than a name. Every query of a log passes
/// here: a key of plain name bytes is taken by a table look a byte, and only a key with other
/// bytes (an escape, a payload) goes to [`shape::is_payload_key`]; a value is skipped by a search.
pub fn has_payload_key(query: &[u8]) -> bool {
    let mut rest = query;
    loop {
        let plain = shape::name_bytes(rest);
        let key_end = match rest.get(plain) {
            None | Some(b'=' | b'&') => plain,
            Some(_) => plain + rest[plain..].iter().position(|&b| b == b'=' || b == b'&').unwrap_or(rest.len() - plain),
        };
        let key = &rest[..key_end];
        if !key.is_empty() && (key_end > plain || key.len() > shape::MAX_NAME) && shape::is_payload_key(key) {
            return true;
        }
        match memchr::memchr(b'&', &rest[key_end..]) {
            Some(amp) => rest = &rest[key_end + amp + 1..],
            None => return false,
        }
    }
}

/// The concrete path and query with every secret replaced by its placeholder.
pub fn redacted_target(path: &[u8], query: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(path.len() + query.map_or(0, |q| q.len() + 1));
    for (i, seg) in path.split(|&b| b == b'/').enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        match shape::classify(seg) {
            s @ (Segment::Email | Segment::Token) => out.extend_from_slice(s.placeholder().as_bytes()),
            _ => shape::extend_literal(&mut out, seg),
        }
    }
    push_redacted_query(&mut out, query);
    out
}

/// [`redacted_target`] of a path whose secret and personal segments [`template_key`] found
/// already (`redacted`: their positions and names), so its segments are not classified again.
/// A target that is not a path (`*`, `host:443`) is classified as [`redacted_target`] does.
fn redacted_target_known(path: &[u8], query: Option<&[u8]>, redacted: &[(usize, &str)]) -> Vec<u8> {
    if !path.starts_with(b"/") {
        return redacted_target(path, query);
    }
    let mut out = Vec::with_capacity(path.len() + query.map_or(0, |q| q.len() + 1));
    let mut next = redacted.iter().peekable();
    for (i, seg) in path.split(|&b| b == b'/').enumerate() {
        if i > 0 {
            out.push(b'/');
        }
        match next.next_if(|(p, _)| *p == i) {
            Some((_, name)) => {
                out.push(b'{');
                out.extend_from_slice(name.as_bytes());
                out.push(b'}');
            }
            None => shape::extend_literal(&mut out, seg),
        }
    }
    push_redacted_query(&mut out, query);
    debug_assert_eq!(out, redacted_target(path, query), "the redacted positions of {path:?}");
    out
}

/// Appends `?query` with each secret or personal value replaced by its placeholder.
fn push_redacted_query(out: &mut Vec<u8>, query: Option<&[u8]>) {
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        out.push(b'?');
        for (i, pair) in query.split(|&b| b == b'&').enumerate() {
            if i > 0 {
                out.push(b'&');
            }
            match memchr::memchr(b'=', pair) {
                Some(eq) if shape::is_secret_pair(&pair[..eq], &pair[eq + 1..]) => {
                    shape::extend_literal(out, &pair[..=eq]);
                    out.extend_from_slice(shape::placeholder_for(&pair[..eq]).as_bytes());
                }
                _ => shape::extend_literal(out, pair),
            }
        }
    }
}

#[cfg(test)]
#[path = "endpoints_tests.rs"]
mod tests;
