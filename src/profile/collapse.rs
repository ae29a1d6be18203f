//! Finishing endpoints: fold high-cardinality path segments into `{param}`,
//! cut the list to `--max-endpoints` with the tail folded into one entry, and
//! write the wire form with weights that sum to 1.
//!
//! Cardinality: templates are grouped by method, depth and the segments
//! before position `d`; where one group has more than [`MAX_LITERALS`]
//! distinct literal values at `d`, the values that are neither dominant
//! ([`KEEP_SHARE`] of the group's requests) nor popular (over
//! [`KEEP_OVER_MEDIAN`] times the median value and [`KEEP_MIN_SHARE`] of the
//! group) become `{param}`, their values kept as samples: `/users/alice`,
//! `/users/bob`… fold while `/users/me` stays. Where a position folds, the
//! shape placeholders beside it (`{id}`, `{hash}` for values that happened
//! to be all digits) fold into the same `{param}`. Positions are visited left to right, so folding one level merges
//! the subtrees below it before the next level is judged.

use super::endpoints::EndpointStats;
use super::fold::Rules;
use super::sketch::Sample;
use super::template::is_placeholder;
use super::wire::{Endpoint, QueryKey};
use std::collections::{BTreeMap, HashMap};

const MAX_LITERALS: usize = 30;
/// A literal in a folded group stays when it carries this share of the group's requests…
const KEEP_SHARE: f64 = 0.2;
/// …or this many times the median literal's and at least [`KEEP_MIN_SHARE`].
const KEEP_OVER_MEDIAN: u64 = 10;
const KEEP_MIN_SHARE: f64 = 0.01;
const TAIL_EXAMPLES: usize = 16;

mod folding;
use folding::Folding;

/// A template being finished, with the ids of the templates folded into it.
struct Entry {
    method: String,
    segments: Vec<String>,
    stats: EndpointStats,
    members: Vec<usize>,
}

/// Finished endpoints, and for every input template the index of the endpoint it ended in.
pub struct Finished {
    pub endpoints: Vec<Endpoint>,
    pub index_of: Vec<usize>,
}

pub fn finish(templates: Vec<(String, EndpointStats)>, max_endpoints: usize, seed: u64) -> Finished {
    let count = templates.len();
    let mut folding = Folding::new(templates);
    folding.fold(seed, None);
    let mut entries = folding.into_entries();
    entries.sort_by(|a, b| b.stats.count.cmp(&a.stats.count).then_with(|| key_of(a).cmp(&key_of(b))));
    let max = max_endpoints.max(1);
    // Requests with a payload for a query key go to the tail whatever their number.
    let payloads: Vec<Entry> = match entries.iter().position(|e| e.method == "*") {
        Some(at) => vec![entries.remove(at)],
        None => Vec::new(),
    };
    if entries.len() + payloads.len() > max || !payloads.is_empty() {
        let mut tail: Vec<Entry> = entries.split_off((max - 1).min(entries.len()));
        tail.extend(payloads);
        entries.push(fold_tail(tail));
    }
    let total: u64 = entries.iter().map(|e| e.stats.count).sum();
    let mut index_of = vec![0; count];
    for (i, entry) in entries.iter().enumerate() {
        for &member in &entry.members {
            index_of[member] = i;
        }
    }
    let endpoints = entries.into_iter().map(|e| to_wire(e, total)).collect();
    Finished { endpoints, index_of }
}

/// Whether a literal with `count` of its group's `total` requests stays a literal when the group folds.
fn is_popular(count: u64, total: u64, median: u64) -> bool {
    let share = count as f64 / total as f64;
    share >= KEEP_SHARE || count >= KEEP_OVER_MEDIAN * median && share >= KEEP_MIN_SHARE
}

/// Templates folded while the log streams, and for every input template the index of the one it ended in.
pub struct Compacted {
    pub templates: Vec<(String, EndpointStats)>,
    pub index_of: Vec<usize>,
}

/// Folds the template table now, as [`finish`] will, and records each group
/// that folded in `rules` (groups already there are left alone: rules only grow).
pub fn compact(templates: Vec<(String, EndpointStats)>, rules: &mut Rules, seed: u64) -> Compacted {
    let mut folding = Folding::new(templates);
    folding.fold(seed, Some(rules));
    let (templates, index_of) = folding.into_templates();
    Compacted { templates, index_of }
}

fn key_of(e: &Entry) -> String {
    format!("{} {}", e.method, e.segments.join("/"))
}

fn fold_tail(tail: Vec<Entry>) -> Entry {
    let mut folded = Entry { method: "*".into(), segments: vec!["*".into()], stats: EndpointStats::default(), members: Vec::new() };
    let mut examples = Sample::default();
    for e in tail {
        let params = std::mem::take(&mut folded.stats.params);
        folded.stats.merge(&EndpointStats { params: Vec::new(), query: Vec::new(), ..e.stats.clone() });
        folded.stats.params = params;
        examples.merge(TAIL_EXAMPLES, &e.stats.examples);
        folded.stats.shapes.merge(&e.stats.shapes);
        folded.members.extend(e.members);
    }
    folded.stats.examples = examples;
    folded
}

/// Lists by placeholder name: sampled values (`params`) or shapes (`shapes`).
type ByName = BTreeMap<String, Vec<String>>;

/// Names each placeholder uniquely (`{id}`, `{id2}`) and pairs sampled ones
/// with their values, redacted ones with their values' shapes.
fn name_params(e: &Entry) -> (String, ByName, ByName) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut params = BTreeMap::new();
    let mut shapes = BTreeMap::new();
    let mut path = Vec::with_capacity(e.segments.len());
    for (position, segment) in e.segments.iter().enumerate() {
        if !is_placeholder(segment) {
            path.push(segment.clone());
            continue;
        }
        let base = &segment[1..segment.len() - 1];
        let n = seen.entry(base.to_owned()).or_insert(0);
        *n += 1;
        let name = if *n == 1 { base.to_owned() } else { format!("{base}{n}") };
        if let Some((_, sample)) = e.stats.params.iter().find(|(p, _)| *p == position) {
            params.insert(name.clone(), sample.values());
        } else if let Some(seen) = e.stats.shapes.get(base) {
            shapes.insert(name.clone(), seen.top());
        }
        path.push(format!("{{{name}}}"));
    }
    let path = if e.method == "*" { "*".to_owned() } else { path.join("/") };
    (path, params, shapes)
}

fn to_wire(e: Entry, total: u64) -> Endpoint {
    let count = e.stats.count;
    let share = |n: u64, of: u64| if of == 0 { 0.0 } else { (n as f64 / of as f64 * 1e6).round() / 1e6 };
    let (path, params, mut shapes) = name_params(&e);
    let mut query: Vec<QueryKey> = e
        .stats
        .query
        .iter()
        .map(|q| QueryKey {
            key: q.key.clone(),
            share: share(q.count, count),
            samples: if q.secret { Vec::new() } else { q.sample.values() },
            // A secret key only ever logged with no value (`?phone`) goes without one: nothing to fill.
            placeholder: q
                .secret
                .then(|| super::shape::placeholder_for(q.key.as_bytes()))
                .filter(|p| e.stats.shapes.get(&p[1..p.len() - 1]).is_some()),
        })
        .collect();
    query.sort_by(|a, b| b.share.total_cmp(&a.share).then_with(|| a.key.cmp(&b.key)));
    // Secret query keys' values, and the tail's examples' placeholders, by name.
    let named = query.iter().filter_map(|q| q.placeholder.as_deref()).map(|p| p[1..p.len() - 1].to_owned());
    let in_examples: Vec<String> = if e.method == "*" {
        e.stats.examples.values().iter().flat_map(|x| super::template::placeholders(x).map(str::to_owned).collect::<Vec<_>>()).collect()
    } else {
        Vec::new()
    };
    for name in named.chain(in_examples) {
        if let Some(seen) = e.stats.shapes.get(&name) {
            shapes.entry(name).or_insert_with(|| seen.top());
        }
    }
    let status_total: u64 = e.stats.status.iter().map(|(_, n)| n).sum();
    Endpoint {
        method: e.method.clone(),
        path,
        weight: if total == 0 { 0.0 } else { count as f64 / total as f64 },
        count,
        params,
        shapes,
        query,
        status: e.stats.status.iter().map(|&(s, n)| (s.to_string(), share(n, status_total))).collect(),
        bytes: e.stats.bytes.whole_summary(),
        latency_ms: e.stats.latency_us.summary(0.001),
        body: None,
        once_per_session: false,
        tail: e.method == "*",
        examples: if e.method == "*" { e.stats.examples.values() } else { Vec::new() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stats(count: u64) -> EndpointStats {
        EndpointStats { count, ..EndpointStats::default() }
    }

    #[test]
    fn many_rare_literals_fold_and_frequent_ones_stay() {
        let mut templates = vec![("GET /users/me".to_owned(), stats(500)), ("GET /users/{id}".to_owned(), stats(300))];
        for i in 0..40 {
            templates.push((format!("GET /users/user{i}x/posts"), stats(10)));
        }
        templates.push(("GET /users/admin/posts".to_owned(), stats(400)));
        templates.push(("GET /about".to_owned(), stats(5)));
        let finished = finish(templates, 200, 7);
        let paths: Vec<(&str, u64)> = finished.endpoints.iter().map(|e| (e.path.as_str(), e.count)).collect();
        assert_eq!(
            paths,
            [("/users/me", 500), ("/users/admin/posts", 400), ("/users/{param}/posts", 400), ("/users/{id}", 300), ("/about", 5)]
        );
        assert_eq!(finished.endpoints[2].params["param"].len(), 16);
        assert_eq!(finished.index_of[5], 2);
        let sum: f64 = finished.endpoints.iter().map(|e| e.weight).sum();
        assert!((sum - 1.0).abs() < 1e-9);
    }

    #[test]
    fn digits_beside_folded_literals_fold_with_them() {
        // Hashed directories: `a2`, `f0`… are literals, `12`, `47` look like ids.
        let mut templates: Vec<(String, EndpointStats)> = (0..40).map(|i| (format!("GET /t/{:02x}x/img", i + 160), stats(3))).collect();
        templates.push(("GET /t/{id}/img".to_owned(), stats(30)));
        templates.push(("GET /t/{token}/img".to_owned(), stats(1)));
        let finished = finish(templates, 200, 7);
        let paths: Vec<(&str, u64)> = finished.endpoints.iter().map(|e| (e.path.as_str(), e.count)).collect();
        assert_eq!(paths, [("/t/{param}/img", 150), ("/t/{token}/img", 1)]);
    }

    #[test]
    fn few_literals_stay_as_they_are() {
        let templates = (0..25).map(|i| (format!("GET /api/resource{i}"), stats(1 + i))).collect();
        let finished = finish(templates, 200, 7);
        assert_eq!(finished.endpoints.len(), 25);
        assert!(finished.endpoints.iter().all(|e| !e.path.contains('{')));
    }

    #[test]
    fn the_tail_folds_into_one_entry_with_examples() {
        let templates: Vec<(String, EndpointStats)> = (0..10)
            .map(|i| {
                let mut s = stats(100 - i);
                s.examples.offer(4, 7, format!("/x{i}?a=1").as_bytes());
                (format!("GET /x{i}"), s)
            })
            .collect();
        let finished = finish(templates, 4, 7);
        assert_eq!(finished.endpoints.len(), 4);
        let tail = &finished.endpoints[3];
        assert!(tail.tail && tail.method == "*" && tail.path == "*");
        assert_eq!(tail.count, (91..=97).sum::<u64>());
        assert_eq!(tail.examples.len(), 7);
        assert_eq!(finished.index_of[9], 3);
    }

    #[test]
    fn payload_requests_go_to_the_tail_even_under_the_cap() {
        let mut payload = stats(3);
        payload.examples.offer(4, 7, b"/shell?cd+/tmp;rm+-rf+*");
        let templates = vec![("GET /a".to_owned(), stats(10)), ("* *".to_owned(), payload), ("GET /b".to_owned(), stats(5))];
        let finished = finish(templates, 200, 7);
        let paths: Vec<(&str, u64, bool)> = finished.endpoints.iter().map(|e| (e.path.as_str(), e.count, e.tail)).collect();
        assert_eq!(paths, [("/a", 10, false), ("/b", 5, false), ("*", 3, true)]);
        assert_eq!(finished.endpoints[2].examples, ["/shell?cd+/tmp;rm+-rf+*"]);
        assert_eq!(finished.index_of, [0, 2, 1]);
    }

    #[test]
    fn repeated_placeholders_get_distinct_names() {
        let mut s = stats(3);
        s.offer_param(2, b"7", 1);
        s.offer_param(4, b"9", 1);
        let finished = finish(vec![("GET /a/{id}/b/{id}".to_owned(), s)], 200, 7);
        assert_eq!(finished.endpoints[0].path, "/a/{id}/b/{id2}");
        assert_eq!(finished.endpoints[0].params["id2"], ["9"]);
    }
}
