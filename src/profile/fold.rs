//! Folding as the log streams: the rules that send a high-cardinality path
//! segment to `{param}` before its template is ever stored.
//!
//! A log of blog slugs or product ids has millions of distinct paths. Keeping
//! each as a template until the end would make memory and time grow with
//! the number of distinct paths, so the deriver *compacts* whenever its
//! template table fills ([`COMPACT_AT`] and then twice what survived): it
//! runs the end-of-derive cardinality fold (`collapse.rs`) over the table,
//! and each group that folded there becomes a [`Rules`] entry: "in `GET`
//! paths of 3 segments under `/p`, every literal but these kept ones is
//! `{param}`". From then on the deriver and the worker threads route new
//! paths through the rules, so `/p/qwertyui/asdfghjklz` lands on
//! `/p/{param}/{param2}` at once, its values offered to the samples.
//!
//! The table is the bounded heavy-hitters structure: the literals kept in a
//! folded group are those that were popular when it folded (by the same
//! rule as at the end: a fifth of the group, or ten times the median and
//! 1%). The error it allows: a literal that becomes popular only after its
//! group folded stays folded, its requests counted under `{param}`. A log
//! whose templates never fill the table is folded once, at the end, exactly
//! as before.
//!
//! Rules only grow, and a worker uses the rules as they stood
//! `book::LAG` chunks before its own chunk, which the reader's
//! in-flight bound guarantees are folded by then (`book.rs`): so every thread
//! count routes every chunk alike and the profile is the same byte for byte.

use crate::bytes::Short;
use rustc_hash::{FxHashMap, FxHashSet};
use std::fmt::Write as _;
use std::sync::Arc;

/// The template table compacts when it reaches this many templates.
pub const COMPACT_AT: usize = 4096;

/// The literals a folded group keeps (shared by the two indexes of [`Rules`]).
pub type Kept = Arc<FxHashSet<String>>;
/// Whether a folded group keeps `literal`: most keep none, and then no hash of it is taken.
#[inline(always)] // per segment of every folded path
pub fn keeps(kept: &Kept, literal: &str) -> bool {
    !kept.is_empty() && kept.contains(literal)
}

/// The folded groups of one shape (`GET 3 `), by prefix (`/p`). A shape has a few, nearly
/// always, and templating asks for the group of every segment of every path of the shape:
/// up to [`SCANNED`] are found by a scan that compares lengths first (hashing the prefix
/// cost more than the scan), more by hash.
#[derive(Debug, Clone, Default)]
pub struct GroupsByPrefix {
    /// Each prefix with its words, when it has up to 16 bytes (nearly all do).
    few: Vec<(Option<Short>, String, Kept)>,
    many: FxHashMap<String, Kept>,
}

/// Groups of one shape looked up by a scan, not a hash.
const SCANNED: usize = 8;

impl GroupsByPrefix {
    #[inline]
    pub fn get(&self, prefix: &str) -> Option<&Kept> {
        if self.many.is_empty() {
            // A prefix of up to 16 bytes is compared by its words, a longer one byte by byte.
            let short = Short::of(prefix.as_bytes());
            for (words, p, kept) in &self.few {
                if short.map_or_else(|| p == prefix, |short| *words == Some(short)) {
                    return Some(kept);
                }
            }
            return None;
        }
        self.many.get(prefix)
    }

    pub fn contains_key(&self, prefix: &str) -> bool {
        self.get(prefix).is_some()
    }

    /// Files `kept` under `prefix`, replacing what was there.
    fn insert(&mut self, prefix: String, kept: Kept) {
        if !self.many.is_empty() {
            self.many.insert(prefix, kept);
        } else if let Some((_, _, there)) = self.few.iter_mut().find(|(_, p, _)| *p == prefix) {
            *there = kept;
        } else if self.few.len() < SCANNED {
            self.few.push((Short::of(prefix.as_bytes()), prefix, kept));
        } else {
            self.many = std::mem::take(&mut self.few).into_iter().map(|(_, p, kept)| (p, kept)).collect();
            self.many.insert(prefix, kept);
        }
    }
}

/// Folded groups, by `METHOD depth prefix` (`GET 3 /p`).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    groups: FxHashMap<String, Kept>,
    /// The same groups by their depth and method (a path of any other shape has no rule to
    /// meet), then by prefix: templating looks its shape up by the number it counted and the
    /// method it wrote, and a prefix as it writes the key, building no group key. A depth
    /// has a method or two. Indexed by depth up to [`DEPTHS`] (every line looks here, so no
    /// hashing); deeper shapes, which only a scanner's paths or a partial's names reach, by map.
    shapes: Vec<Methods>,
    deep_shapes: FxHashMap<usize, Methods>,
}

/// The folded groups of one depth, by method.
type Methods = Vec<(String, GroupsByPrefix)>;

/// Depths looked up by index, not by hash: past templating's one-pass paths (32 segments).
const DEPTHS: usize = 64;

impl Rules {
    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }

    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn has(&self, group: &str) -> bool {
        self.groups.contains_key(group)
    }

    /// The folded groups of `method` paths of `depth` segments (`GET 3 `), by prefix (`/p`).
    #[inline]
    pub fn prefixes(&self, method: &str, depth: usize) -> Option<&GroupsByPrefix> {
        let methods = if depth < DEPTHS { self.shapes.get(depth)? } else { self.deep_shapes.get(&depth)? };
        methods.iter().find(|(m, _)| m == method).map(|(_, groups)| groups)
    }

    /// Records that `group` folded, keeping `kept` literals; a group folds once.
    pub fn add(&mut self, group: String, kept: FxHashSet<String>) {
        if !self.groups.contains_key(&group) {
            self.insert(group, Arc::new(kept));
        }
    }

    /// Files `kept` under `group` in both indexes, replacing what was there.
    fn insert(&mut self, group: String, kept: Kept) {
        let shape = shape_of(&group);
        // A group named otherwise than `METHOD depth prefix` (a partial's) meets no path: it has no shape.
        if let Some((method, depth)) = shape.strip_suffix(' ').and_then(|shape| shape.split_once(' '))
            && let Some(depth) = canonical_depth(depth)
        {
            let prefix = group[shape.len()..].to_owned();
            let methods = if depth < DEPTHS {
                if self.shapes.len() <= depth {
                    self.shapes.resize_with(depth + 1, Vec::new);
                }
                &mut self.shapes[depth]
            } else {
                self.deep_shapes.entry(depth).or_default()
            };
            let at = match methods.iter().position(|(m, _)| m == method) {
                Some(at) => at,
                None => {
                    methods.push((method.to_owned(), GroupsByPrefix::default()));
                    methods.len() - 1
                }
            };
            methods[at].1.insert(prefix, Arc::clone(&kept));
        }
        self.groups.insert(group, kept);
    }

    /// Adds the groups `other` folded that these rules do not have yet.
    pub fn extend(&mut self, other: &Rules) {
        for (group, kept) in &other.groups {
            if !self.groups.contains_key(group) {
                self.insert(group.clone(), Arc::clone(kept));
            }
        }
    }

    /// The folded groups and their kept literals, sorted, as a partial profile keeps them.
    pub fn to_state(&self) -> Vec<(String, Vec<String>)> {
        let mut groups: Vec<(String, Vec<String>)> = self
            .groups
            .iter()
            .map(|(group, kept)| {
                let mut kept: Vec<String> = kept.iter().cloned().collect();
                kept.sort();
                (group.clone(), kept)
            })
            .collect();
        groups.sort();
        groups
    }

    /// Rules read from a partial profile.
    pub fn from_state(groups: &[(String, Vec<String>)]) -> Self {
        let mut rules = Rules::default();
        for (group, kept) in groups {
            // As a map collects: a group named twice keeps its last literals.
            rules.insert(group.clone(), Arc::new(kept.iter().cloned().collect()));
        }
        rules
    }

    /// Routes `key` (`GET /p/qwertyui`) into `out`; the positions of the
    /// literals folded go to `folded`. Returns false when no rule applies
    /// (`out` then holds scratch). Allocates nothing once `out` has grown.
    pub fn route(&self, key: &str, out: &mut String, folded: &mut Vec<usize>) -> bool {
        folded.clear();
        if self.groups.is_empty() {
            return false;
        }
        let Some(space) = memchr::memchr(b' ', key.as_bytes()) else { return false };
        let (method, path) = (&key[..space], &key[space + 1..]);
        let depth = memchr::memchr_iter(b'/', path.as_bytes()).count() + 1;
        // No group of this method and depth: no rule to meet.
        if self.prefixes(method, depth).is_none() {
            return false;
        }
        // The group key is built in `out`, which becomes the routed key when a rule applies.
        out.clear();
        out.push_str(method);
        out.push(' ');
        write_depth(out, depth);
        let prefix_from = out.len();
        let mut changed = false;
        // Segments by a byte search for the slashes (a `char` pattern's search cost a third of the
        // routing); a slash is ASCII, so every segment starts and ends on a character boundary.
        let mut start = 0;
        let ends = memchr::memchr_iter(b'/', path.as_bytes()).chain(std::iter::once(path.len()));
        for (position, end) in ends.enumerate() {
            let segment = path.get(start..end).unwrap_or_default();
            start = end + 1;
            if position > 0 {
                let replace = self.groups.get(out.as_str()).is_some_and(|kept| {
                    if super::template::is_placeholder(segment) {
                        super::template::is_shape_placeholder(segment)
                    } else {
                        !keeps(kept, segment)
                    }
                });
                if replace {
                    if !super::template::is_placeholder(segment) {
                        folded.push(position);
                    }
                    changed = true;
                }
                out.push('/');
                out.push_str(if replace { "{param}" } else { segment });
            } else {
                out.push_str(segment);
            }
        }
        if changed {
            // `METHOD depth path` → `METHOD path`.
            out.replace_range(space + 1..prefix_from, "");
        }
        changed
    }
}

/// A depth as [`write_depth`] writes it (`3`, never `03` or `+3`), which alone a path's shape can meet.
fn canonical_depth(text: &str) -> Option<usize> {
    let canonical = text.bytes().all(|b| b.is_ascii_digit()) && (text == "0" || !text.starts_with('0'));
    if canonical { text.parse().ok() } else { None }
}

/// `METHOD depth ` of a group's key `METHOD depth prefix`: up to its second space.
fn shape_of(group: &str) -> &str {
    let end = group.match_indices(' ').nth(1).map_or(group.len(), |(at, _)| at + 1);
    &group[..end]
}

/// Appends `depth` and a space, as a group's key holds it ([`group_key`]): routing builds group keys so.
fn write_depth(group: &mut String, depth: usize) {
    if depth < 10 {
        group.push(char::from(b'0' + depth as u8));
        group.push(' ');
    } else {
        // Writing to a String cannot fail.
        let _ = write!(group, "{depth} ");
    }
}

/// The group a path position belongs to: `METHOD depth prefix`.
pub fn group_key<'a>(method: &str, depth: usize, prefix: impl IntoIterator<Item = &'a str>) -> String {
    let mut key = format!("{method} {depth} ");
    for (i, segment) in prefix.into_iter().enumerate() {
        if i > 0 {
            key.push('/');
        }
        key.push_str(segment);
    }
    key
}

/// Each version of the rules, by the number of chunks folded when it was made.
pub type RuleBook = super::book::Book<Rules>;

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(groups: &[(&str, &[&str])]) -> Rules {
        let mut rules = Rules::default();
        for (group, kept) in groups {
            rules.add((*group).to_owned(), kept.iter().map(|k| (*k).to_owned()).collect());
        }
        rules
    }

    #[test]
    fn routes_literals_left_to_right_and_keeps_the_kept() {
        let rules = rules(&[("GET 3 ", &["static"]), ("GET 3 /{param}", &[])]);
        let (mut out, mut folded) = (String::new(), Vec::new());
        let table = [
            ("GET /qwertyui/asdfghjklz", Some("GET /{param}/{param}"), vec![1, 2]),
            ("GET /static/asdfghjklz", None, vec![]),
            ("GET /abc/{id}", Some("GET /{param}/{param}"), vec![1]),
            ("GET /abc/{token}", Some("GET /{param}/{token}"), vec![1]),
            ("POST /qwertyui/asdfghjklz", None, vec![]),
            ("GET /qwertyui", None, vec![]),
            ("GET /{param}/{param}", None, vec![]),
        ];
        for (key, want, positions) in table {
            let changed = rules.route(key, &mut out, &mut folded);
            assert_eq!(changed.then_some(out.as_str()), want, "{key}");
            if changed {
                assert_eq!(folded, positions, "{key}");
            }
        }
    }

    #[test]
    fn groups_by_prefix_answer_as_a_map_before_and_after_they_outgrow_the_scan() {
        let (mut groups, mut map) = (GroupsByPrefix::default(), FxHashMap::default());
        let prefixes: Vec<String> =
            (0..20).map(|i| if i == 0 { String::new() } else { format!("/p{}", "x".repeat((i % 5) * 4)) + &i.to_string() }).collect();
        // Prefixes of up to 16 bytes are compared by their words, longer ones byte by byte.
        let near = ["/p".into(), "/pxxxx1".into(), "/q1".into(), "/".into(), "/pxxxxxxxxxxxxxxx4".into(), "/pxxxxxxxxxxxxxxxx5".into()];
        let probes: Vec<String> = prefixes.iter().cloned().chain(near).collect();
        assert!(prefixes.iter().any(|p| p.len() > 16) && prefixes.iter().any(|p| (9..=16).contains(&p.len())));
        for (i, prefix) in prefixes.iter().enumerate() {
            // Each prefix filed, and an earlier one filed again with other literals (the last filing holds).
            for prefix in [prefix, &prefixes[i / 2]] {
                let kept: Kept = Arc::new([format!("k{i}")].into_iter().collect());
                groups.insert(prefix.clone(), Arc::clone(&kept));
                map.insert(prefix.clone(), kept);
            }
            for probe in &probes {
                assert_eq!(groups.get(probe), map.get(probe), "after {i}: {probe:?}");
            }
        }
        assert!(!groups.many.is_empty() && groups.few.is_empty(), "past {SCANNED} groups, by hash");
    }

    #[test]
    fn shapes_are_found_by_method_and_depth_as_written() {
        let rules = rules(&[("GET 3 /p", &[]), ("POST 3 ", &["x"]), ("GET 12 ", &[]), ("GET 03 /q", &[]), ("GET +4 ", &[]), ("HEAD", &[])]);
        assert!(rules.prefixes("GET", 3).is_some_and(|groups| groups.contains_key("/p") && !groups.contains_key("")));
        assert!(rules.prefixes("POST", 3).is_some_and(|groups| groups.contains_key("")));
        assert!(rules.prefixes("GET", 12).is_some());
        // Depths written otherwise than a path's shape is written, and a group with no depth, meet no path.
        assert!(rules.prefixes("GET", 4).is_none());
        assert!(rules.prefixes("HEAD", 0).is_none());
        assert!(rules.prefixes("PUT", 3).is_none());
        let (mut out, mut folded) = (String::new(), Vec::new());
        assert!(!rules.route("GET /q/abc", &mut out, &mut folded), "GET 03 /q is no group of 3 segments");
        assert!(rules.route("GET /p/abc", &mut out, &mut folded));
        assert_eq!((out.as_str(), folded.as_slice()), ("GET /p/{param}", &[2][..]));
        assert_eq!(rules.len(), 6, "every group is kept, whatever its name");
    }
}
