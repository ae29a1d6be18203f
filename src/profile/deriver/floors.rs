//! Sample floors: where the run's samples stand, told to the chunks.
//!
//! A chunk's statistics start empty, so each of its templates' samples takes
//! in its first values and then, more and more rarely, values of smaller
//! hashes, each copied, kept and merged, only for nearly all of them to be
//! dropped where the chunk folds into the run's sample, full long since.
//! Every [`FLOORS_EVERY`] chunks the fold therefore publishes each
//! template's [`Floors`]: the hash from which its run-wide samples take no
//! value. A chunk's new template starts from its floors and turns such values
//! away by their hash alone.
//!
//! Exact: a run's sample of a template only ever gains values (chunks merge
//! in, compactions merge templates), so a value at or past a floor has `k`
//! values of smaller hashes beside it for good and is never kept; the samples
//! come out the same. Floors reach chunks through a [`Book`], so every thread
//! count gives every chunk the same ones.

use super::super::book::Book;
use super::super::endpoints::{EndpointStats, Floors};
use rustc_hash::FxHashMap;

/// The fold publishes floors after every this many chunks.
pub const FLOORS_EVERY: u64 = 8;

/// The floors of every template with a sample that can take no more values past some hash.
#[derive(Debug, Default)]
pub struct SampleFloors {
    by_key: FxHashMap<String, Floors>,
}

pub type FloorBook = Book<SampleFloors>;

impl SampleFloors {
    /// The floors of `templates`, the run's table.
    pub fn of(templates: &[(String, EndpointStats)]) -> SampleFloors {
        let by_key = templates.iter().filter_map(|(key, stats)| Some((key.clone(), stats.floors()?))).collect();
        SampleFloors { by_key }
    }

    /// New statistics for the template `key`: below its floors when it has some.
    pub fn new_stats(&self, key: &str) -> EndpointStats {
        match self.by_key.get(key) {
            Some(floors) => EndpointStats::below(floors),
            None => EndpointStats::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::book::LAG;
    use super::super::{DeriveSettings, Deriver};
    use super::FLOORS_EVERY;
    use crate::log::LogRecord;
    use crate::profile::endpoints::{EndpointStats, Positions, template_key_routed};
    use crate::scan::Accumulator;
    use rand_chacha::rand_core::{Rng, SeedableRng};
    use std::borrow::Cow;
    use std::sync::Arc;

    /// Requests to templates of few and of many distinct values, with queries and examples.
    fn targets() -> Vec<(String, Option<String>)> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        (0..6000)
            .map(|i| {
                let n = rng.next_u64();
                match i % 5 {
                    0 => (format!("/users/{}", n % 5000), None),
                    1 => (format!("/orders/{}/items/{}", n % 7, n % 40), Some(format!("page={}", n % 3))),
                    2 => ("/search".to_owned(), Some(format!("q=w{}&sort=s{}", n % 900, n % 20))),
                    // Fewer values than a sample keeps, each new one coming later than the last.
                    4 => (format!("/reports{}/{}", n % 8, i / 1200), Some(format!("day={}x{}", n % 8, i / 400))),
                    _ => (format!("/static/{}.css", n % 12), None),
                }
            })
            .collect()
    }

    /// The run's samples, as text: every template's parameters, query samples and examples.
    fn derive(requests: &[(String, Option<String>)], chunk_len: usize) -> (String, usize) {
        let mut deriver = Deriver::new(Arc::new(DeriveSettings::default()), None);
        let maker = deriver.chunk_maker();
        let mut floored = 0;
        for (seq, chunk_requests) in requests.chunks(chunk_len).enumerate() {
            let mut chunk = maker(seq as u64);
            floored += usize::from(!chunk.floors.by_key.is_empty());
            for (i, (path, query)) in chunk_requests.iter().enumerate() {
                let record = LogRecord {
                    time_us: Some(1_700_000_000_000_000 + (seq * chunk_len + i) as i64 * 1000),
                    method: Some(Cow::Borrowed(b"GET")),
                    path: Some(Cow::Borrowed(path.as_bytes())),
                    query: query.as_deref().map(|q| Cow::Borrowed(q.as_bytes())),
                    ..LogRecord::default()
                };
                chunk.add(&record);
            }
            chunk.seal();
            chunk.fold_into(&mut deriver);
        }
        let samples = deriver.templates.iter().map(|(key, s)| format!("{key}: {:?} {:?} {:?}\n", s.params, s.query, s.examples)).collect();
        (samples, floored)
    }

    #[test]
    fn chunks_started_below_the_floors_give_the_samples_one_chunk_gives() {
        let requests = targets();
        let (whole, floored) = derive(&requests, requests.len());
        assert_eq!(floored, 0, "a first chunk has no floors");
        assert!(whole.contains("/users/{id}") && whole.contains("/reports7/{id}") && whole.contains("page"), "{whole}");
        for chunk_len in [40, 97, 150] {
            let (chunked, floored) = derive(&requests, chunk_len);
            assert_eq!(chunked, whole, "chunks of {chunk_len}");
            // The first floors come with the folding of chunk FLOORS_EVERY - 1, for chunks LAG on from there.
            let chunks = requests.len().div_ceil(chunk_len);
            assert_eq!(
                floored,
                chunks - (LAG + FLOORS_EVERY - 1) as usize,
                "chunks of {chunk_len}: {floored} of {chunks} started from floors"
            );
        }
    }

    /// One template's statistics fed chunk by chunk, each chunk's started below the floors the
    /// run's had one chunk before, hold what statistics fed every request hold. 64 templates,
    /// whose parameter, query and target values keep arriving, fewer or more than a sample keeps:
    /// a floor set too low shows in some of them.
    #[test]
    fn statistics_started_below_the_floors_merge_into_those_of_every_request() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let mut floored = 0;
        for t in 0..64usize {
            let distinct = [3, 6, 12, 40, 500][t % 5];
            // Values arrive over the run: the i-th request's is new, or one seen before.
            let values: Vec<usize> = (0..400usize).map(|i| (i * distinct / 400).saturating_sub(rng.next_u64() as usize % 3)).collect();
            let requests: Vec<(String, String)> =
                values.iter().map(|v| (format!("/t{t}/{v}"), format!("k=t{t}v{v}&s=t{t}x{}", v / 3))).collect();
            let feed = |stats: &mut EndpointStats, (path, query): &(String, String)| {
                let (mut key, mut positions) = (String::new(), Positions::default());
                template_key_routed(b"GET", path.as_bytes(), None, &mut key, &mut positions);
                let record = LogRecord {
                    path: Some(Cow::Borrowed(path.as_bytes())),
                    query: Some(Cow::Borrowed(query.as_bytes())),
                    ..LogRecord::default()
                };
                stats.add(&record, &positions, &positions.redacted, 7);
            };
            let mut whole = EndpointStats::default();
            requests.iter().for_each(|r| feed(&mut whole, r));
            let (mut run, mut floors) = (EndpointStats::default(), None);
            for chunk_requests in requests.chunks(25) {
                let mut chunk = floors.as_ref().map_or_else(EndpointStats::default, EndpointStats::below);
                floored += usize::from(floors.is_some());
                chunk_requests.iter().for_each(|r| feed(&mut chunk, r));
                floors = run.floors();
                run.merge(&chunk);
            }
            let samples = |s: &EndpointStats| format!("{:?} {:?} {:?}", s.params, s.query, s.examples);
            assert_eq!(samples(&run), samples(&whole), "template {t}, {distinct} values");
            assert!(!whole.params.is_empty() && !whole.query.is_empty(), "template {t}");
        }
        assert!(floored > 64 * 8, "{floored} chunks started from floors");
    }
}
