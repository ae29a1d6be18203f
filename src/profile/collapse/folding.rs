//! The folding itself, without a copy of the table: every template's segments
//! are spans of its own key (or `{param}` once folded), its statistics stay
//! where the table held them, and a template merged into another leaves a
//! link to it. A chunk's table of 4,096 distinct slugs compacts with no
//! allocation a template beyond the values its samples take, where owned
//! segments, a new entry and a sample each had cost a dozen, and as many
//! freshly faulted pages (`compact` runs up to 16 times in a derive's first
//! megabytes: see `deriver/templating.rs`).
//!
//! The cardinality rule is described in `collapse.rs`; this file applies it.

use super::{Entry, MAX_LITERALS, is_popular};
use crate::profile::endpoints::EndpointStats;
use crate::profile::fold::{Rules, group_key};
use crate::profile::template::{is_placeholder, is_shape_placeholder};
use rustc_hash::{FxHashMap, FxHashSet};
use std::hash::{Hash, Hasher};

/// A segment: a span of its template's key, or [`PARAM`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Seg {
    start: u32,
    end: u32,
}

/// A segment folded into `{param}`.
const PARAM: Seg = Seg { start: u32::MAX, end: u32::MAX };
const PARAM_TEXT: &str = "{param}";

/// The text of `seg` in `key`.
fn text(key: &str, seg: Seg) -> &str {
    if seg == PARAM { PARAM_TEXT } else { key.get(seg.start as usize..seg.end as usize).unwrap_or("") }
}

/// A template being folded: the input template it started as (`origin`, whose key holds
/// its segments' text and whose slot its statistics), and where its segments lie.
#[derive(Debug, Clone, Copy)]
struct Folded {
    origin: u32,
    /// The method is `key[..method_end]`.
    method_end: u32,
    /// The segments are `segs[first..first + depth]`.
    first: u32,
    depth: u32,
}

/// A folded literal's offer to its template's sample, waiting until the template is read: a
/// template merged into another gives the other its value alone, and never makes a sample of
/// its own (4,095 of a table of 4,096 slugs folding into one).
#[derive(Debug, Clone, Copy)]
struct Offer {
    position: u32,
    /// The literal's span in its template's key.
    seg: Seg,
    /// The template's next waiting offer (`u32::MAX`: none).
    next: u32,
}

/// A template's waiting offers: the first and last in `offers` (`u32::MAX`: none), and how many.
#[derive(Debug, Clone, Copy)]
struct Waiting {
    first: u32,
    last: u32,
    count: u32,
}

const NONE_WAITING: Waiting = Waiting { first: u32::MAX, last: u32::MAX, count: 0 };

/// A template's waiting offers, from the one at `first`, in the order they were folded.
fn chain(offers: &[Offer], first: u32) -> impl Iterator<Item = &Offer> {
    std::iter::successors(offers.get(first as usize), |offer| offers.get(offer.next as usize))
}

/// A run of segments as text: hashed and compared by what they read, whatever key they lie in.
#[derive(Clone, Copy)]
struct Texts<'a> {
    key: &'a str,
    segs: &'a [Seg],
}

impl<'a> Texts<'a> {
    fn iter(self) -> impl Iterator<Item = &'a str> {
        self.segs.iter().map(move |&seg| text(self.key, seg))
    }
}

impl Hash for Texts<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_usize(self.segs.len());
        for t in self.iter() {
            t.hash(state);
        }
    }
}

impl PartialEq for Texts<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.segs.len() == other.segs.len() && self.iter().eq(other.iter())
    }
}

impl Eq for Texts<'_> {}

/// A template table being folded in place.
pub(super) struct Folding {
    /// Each input template's key (method, a space, the path); `OTHER /` where it had no space.
    keys: Vec<String>,
    /// The input table, its keys moved to `keys`: each template's statistics stay in its slot
    /// (a merged one's are taken by the template it joined), and [`into_templates`](Self::into_templates)
    /// writes the result back over it.
    slots: Vec<(String, EndpointStats)>,
    /// Every template's segments, a run each.
    segs: Vec<Seg>,
    /// For each input template, the input template it was merged into (itself while it stands):
    /// always an earlier one.
    joined: Vec<u32>,
    /// The templates still standing, in input order.
    folded: Vec<Folded>,
    /// Offers of folded literals not made yet, each template's in the order they were folded.
    offers: Vec<Offer>,
    /// For each input template, its offers waiting in `offers`.
    waiting: Vec<Waiting>,
    seed: u64,
    /// Whether offers wait (always, but where a test compares with offers made at once).
    defer: bool,
}

impl Folding {
    pub(super) fn new(mut slots: Vec<(String, EndpointStats)>) -> Folding {
        let count = slots.len();
        let mut keys = Vec::with_capacity(count);
        let mut segs = Vec::with_capacity(count * 4);
        let mut folded = Vec::with_capacity(count);
        for (origin, (key, _)) in slots.iter_mut().enumerate() {
            let mut key = std::mem::take(key);
            let space = match memchr::memchr(b' ', key.as_bytes()) {
                Some(space) => space,
                None => {
                    key = "OTHER /".to_owned();
                    "OTHER".len()
                }
            };
            let first = segs.len();
            let mut start = space + 1;
            for slash in memchr::memchr_iter(b'/', &key.as_bytes()[space + 1..]) {
                let at = space + 1 + slash;
                segs.push(Seg { start: start as u32, end: at as u32 });
                start = at + 1;
            }
            segs.push(Seg { start: start as u32, end: key.len() as u32 });
            folded.push(Folded {
                origin: origin as u32,
                method_end: space as u32,
                first: first as u32,
                depth: (segs.len() - first) as u32,
            });
            keys.push(key);
        }
        Folding {
            keys,
            slots,
            segs,
            joined: (0..count as u32).collect(),
            folded,
            offers: Vec::new(),
            waiting: vec![NONE_WAITING; count],
            seed: 0,
            defer: true,
        }
    }

    fn key(&self, f: Folded) -> &str {
        self.keys.get(f.origin as usize).map_or("", String::as_str)
    }

    fn method(&self, f: Folded) -> &str {
        self.key(f).get(..f.method_end as usize).unwrap_or("")
    }

    /// The first `len` segments of `f`.
    fn texts(&self, f: Folded, len: usize) -> Texts<'_> {
        let first = f.first as usize;
        Texts { key: self.key(f), segs: self.segs.get(first..first + len.min(f.depth as usize)).unwrap_or(&[]) }
    }

    fn segment(&self, f: Folded, position: usize) -> &str {
        self.segs.get(f.first as usize + position).map_or("", |&seg| text(self.key(f), seg))
    }

    /// Folds position by position, left to right, merging templates that became equal;
    /// each group that folds is recorded in `rules`, if given.
    pub(super) fn fold(&mut self, seed: u64, mut rules: Option<&mut Rules>) {
        self.seed = seed;
        let depth = self.folded.iter().map(|f| f.depth as usize).max().unwrap_or(0);
        for position in 1..depth {
            // Keys start distinct (merged once at the first position, in case): only a fold makes two equal.
            if self.fold_position(position, rules.as_deref_mut()) || position == 1 {
                self.merge_equal();
            }
        }
    }

    /// Folds position `position`; returns whether any template changed there.
    fn fold_position(&mut self, position: usize, rules: Option<&mut Rules>) -> bool {
        let seed = self.seed;
        let Judgement { group_of, literal_count, judged, mut kept } = self.judge(position, rules.as_deref());
        let mut folded = vec![false; judged.len()];
        let mut changed = false;
        for (i, f) in self.folded.iter().enumerate() {
            let Some((total, median)) = judged.get(group_of[i] as usize).copied().flatten() else { continue };
            let at = f.first as usize + position;
            let (Some(key), Some(&seg)) = (self.keys.get(f.origin as usize), self.segs.get(at)) else { continue };
            let literal = text(key, seg);
            if is_placeholder(literal) || is_popular(literal_count[i], total, median) {
                continue;
            }
            let origin = f.origin as usize;
            if let (Some((_, stats)), Some(waiting)) = (self.slots.get_mut(origin), self.waiting.get_mut(origin)) {
                if self.defer && stats.takes_fresh_param(position, waiting.count as usize) {
                    let index = self.offers.len() as u32;
                    self.offers.push(Offer { position: position as u32, seg, next: u32::MAX });
                    match self.offers.get_mut(waiting.last as usize) {
                        Some(last) => last.next = index,
                        None => waiting.first = index,
                    }
                    waiting.last = index;
                    waiting.count += 1;
                } else {
                    Self::make_offers(&self.offers, waiting, stats, key, seed);
                    stats.offer_param_str(position, literal, seed);
                }
            }
            self.segs[at] = PARAM;
            folded[group_of[i] as usize] = true;
            changed = true;
        }
        if let Some(rules) = rules {
            for (kept, _) in kept.iter_mut().zip(&folded).filter(|(_, folded)| **folded) {
                if let Some((key, literals)) = kept.take() {
                    rules.add(key, literals);
                }
            }
        }
        for (i, f) in self.folded.iter().enumerate() {
            if !folded.get(group_of[i] as usize).copied().unwrap_or(false) {
                continue;
            }
            let at = f.first as usize + position;
            let (Some(key), Some(seg)) = (self.keys.get(f.origin as usize), self.segs.get_mut(at)) else { continue };
            let segment = text(key, *seg);
            if is_placeholder(segment) && is_shape_placeholder(segment) {
                *seg = PARAM;
            }
        }
        changed
    }

    /// What position `position`'s groups make of each template, worked out before anything changes.
    fn judge(&self, position: usize, rules: Option<&Rules>) -> Judgement {
        let count = self.folded.len();
        let mut groups: FxHashMap<(&str, u32, Texts<'_>), u32> = FxHashMap::default();
        // Each distinct (group, literal) once, with its requests; each template's by its index. Nearly one
        // a template where a table compacts (distinct slugs): sized once, not grown a dozen times.
        let mut literal_ids: FxHashMap<(u32, &str), u32> = FxHashMap::with_capacity_and_hasher(count, Default::default());
        let mut literals: Vec<(u32, &str, u64)> = Vec::with_capacity(count);
        let mut literal_of = vec![u32::MAX; count];
        let mut group_of = vec![u32::MAX; count];
        let mut first_of_group: Vec<Folded> = Vec::new();
        for (i, &f) in self.folded.iter().enumerate().filter(|(_, f)| f.depth as usize > position) {
            let next = groups.len() as u32;
            let g = *groups.entry((self.method(f), f.depth, self.texts(f, position))).or_insert(next);
            if g == next {
                first_of_group.push(f);
            }
            group_of[i] = g;
            let literal = self.segment(f, position);
            if !is_placeholder(literal) {
                let id = *literal_ids.entry((g, literal)).or_insert_with(|| {
                    literals.push((g, literal, 0));
                    (literals.len() - 1) as u32
                });
                let requests = self.slots.get(f.origin as usize).map_or(0, |(_, stats)| stats.count);
                if let Some(entry) = literals.get_mut(id as usize) {
                    entry.2 += requests;
                }
                literal_of[i] = id;
            }
        }
        let mut counts: Vec<Vec<u64>> = vec![Vec::new(); groups.len()];
        for &(g, _, n) in &literals {
            counts[g as usize].push(n);
        }
        let mut judged = vec![None; groups.len()];
        let mut kept: Vec<Option<(String, FxHashSet<String>)>> = vec![None; groups.len()];
        for ((counts, &first), (judged, kept)) in counts.iter_mut().zip(&first_of_group).zip(judged.iter_mut().zip(kept.iter_mut())) {
            if counts.len() <= MAX_LITERALS {
                continue;
            }
            let key = group_key(self.method(first), first.depth as usize, self.texts(first, position).iter());
            if rules.is_some_and(|r| r.has(&key)) {
                continue;
            }
            counts.sort_unstable();
            let (total, median) = (counts.iter().sum(), counts[counts.len() / 2]);
            *judged = Some((total, median));
            *kept = Some((key, Default::default()));
        }
        for &(g, literal, n) in &literals {
            if let (Some((total, median)), Some((_, set))) = (judged[g as usize], kept[g as usize].as_mut())
                && is_popular(n, total, median)
            {
                set.insert(literal.to_owned());
            }
        }
        let literal_count = literal_of.iter().map(|&id| literals.get(id as usize).map_or(0, |&(_, _, n)| n)).collect();
        Judgement { group_of, literal_count, judged, kept }
    }

    /// Merges templates whose keys became equal into the first of them, in order.
    fn merge_equal(&mut self) {
        let first: Vec<usize> = {
            let mut at: FxHashMap<(&str, Texts<'_>), usize> = FxHashMap::with_capacity_and_hasher(self.folded.len(), Default::default());
            self.folded
                .iter()
                .enumerate()
                .map(|(i, &f)| *at.entry((self.method(f), self.texts(f, f.depth as usize))).or_insert(i))
                .collect()
        };
        if first.iter().enumerate().all(|(i, &f)| i == f) {
            return;
        }
        let mut standing: Vec<Folded> = Vec::with_capacity(self.folded.len());
        let mut new_index = vec![0; self.folded.len()];
        for (i, &f) in self.folded.iter().enumerate() {
            if first[i] == i {
                new_index[i] = standing.len();
                standing.push(f);
                continue;
            }
            let target = standing[new_index[first[i]]].origin as usize;
            let origin = f.origin as usize;
            // The target came first, so its slot is an earlier one.
            if target < origin && origin < self.slots.len() {
                let (before, after) = self.slots.split_at_mut(origin);
                if let (Some((_, into)), Some((_, merged)), Some(key), Some(merged_key)) =
                    (before.get_mut(target), after.first_mut(), self.keys.get(target), self.keys.get(origin))
                {
                    if let Some(waiting) = self.waiting.get_mut(target) {
                        Self::make_offers(&self.offers, waiting, into, key, self.seed);
                    }
                    into.merge(merged);
                    // The merged template's waiting offers, as merging the samples they would have made.
                    for offer in chain(&self.offers, self.waiting.get(origin).map_or(u32::MAX, |w| w.first)) {
                        into.merge_param_str(offer.position as usize, text(merged_key, offer.seg), self.seed);
                    }
                    // Its statistics live on in the target's: what it held is freed now.
                    *merged = EndpointStats::default();
                }
                if let Some(waiting) = self.waiting.get_mut(origin) {
                    *waiting = NONE_WAITING;
                }
            }
            if let Some(joined) = self.joined.get_mut(origin) {
                *joined = target as u32;
            }
        }
        self.folded = standing;
    }

    /// Makes a template's waiting offers to its statistics, in the order they were folded.
    fn make_offers(offers: &[Offer], waiting: &mut Waiting, stats: &mut EndpointStats, key: &str, seed: u64) {
        for offer in chain(offers, waiting.first) {
            stats.offer_param_str(offer.position as usize, text(key, offer.seg), seed);
        }
        *waiting = NONE_WAITING;
    }

    /// Takes a standing template's statistics, its waiting offers made.
    fn take_stats(&mut self, origin: usize) -> EndpointStats {
        let (Some((_, stats)), Some(waiting), Some(key)) =
            (self.slots.get_mut(origin), self.waiting.get_mut(origin), self.keys.get(origin))
        else {
            return EndpointStats::default();
        };
        Self::make_offers(&self.offers, waiting, stats, key, self.seed);
        std::mem::take(stats)
    }

    /// For each input template, the index its standing template got from `slot_of` (the standing
    /// template's index among them).
    fn index_of(&self, slot_of: impl Fn(usize) -> usize) -> Vec<usize> {
        let mut index_of = vec![0; self.joined.len()];
        for (i, f) in self.folded.iter().enumerate() {
            if let Some(slot) = index_of.get_mut(f.origin as usize) {
                *slot = slot_of(i);
            }
        }
        // A template joined an earlier one, whose index is set by the time it is read.
        for id in 0..self.joined.len() {
            let joined = self.joined[id] as usize;
            if joined != id {
                index_of[id] = index_of.get(joined).copied().unwrap_or(0);
            }
        }
        index_of
    }

    /// The key of a standing template: its input key where nothing in it folded.
    fn key_of(&mut self, f: Folded) -> String {
        let texts = self.texts(f, f.depth as usize);
        if !texts.segs.contains(&PARAM) {
            return self.keys.get_mut(f.origin as usize).map(std::mem::take).unwrap_or_default();
        }
        let method = self.method(f);
        let mut key = String::with_capacity(self.key(f).len() + 8);
        key.push_str(method);
        key.push(' ');
        for (i, t) in texts.iter().enumerate() {
            if i > 0 {
                key.push('/');
            }
            key.push_str(t);
        }
        key
    }

    /// The folded table, written over the input table, and for every input template the index
    /// of the one it ended in.
    pub(super) fn into_templates(mut self) -> (Vec<(String, EndpointStats)>, Vec<usize>) {
        let index_of = self.index_of(|i| i);
        let standing = std::mem::take(&mut self.folded);
        for (i, &f) in standing.iter().enumerate() {
            let stats = self.take_stats(f.origin as usize);
            let key = self.key_of(f);
            // Standing templates keep input order, so slot `i` is the template's own or one already read.
            if let Some(slot) = self.slots.get_mut(i) {
                *slot = (key, stats);
            }
        }
        self.slots.truncate(standing.len());
        (self.slots, index_of)
    }

    /// The folded templates as entries with owned segments and their members, for finishing.
    pub(super) fn into_entries(mut self) -> Vec<Entry> {
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); self.folded.len()];
        for (id, slot) in self.index_of(|i| i).into_iter().enumerate() {
            if let Some(members) = members.get_mut(slot) {
                members.push(id);
            }
        }
        let standing = std::mem::take(&mut self.folded);
        let mut entries = Vec::with_capacity(standing.len());
        for (f, members) in standing.into_iter().zip(members) {
            let method = self.method(f).to_owned();
            let segments = self.texts(f, f.depth as usize).iter().map(str::to_owned).collect();
            let stats = self.take_stats(f.origin as usize);
            entries.push(Entry { method, segments, stats, members });
        }
        entries
    }
}

/// What position `p`'s groups make of each template, worked out before anything changes.
struct Judgement {
    /// Each template's group at the position (`u32::MAX`: too short to have one).
    group_of: Vec<u32>,
    /// Each template's literal's requests in its group (0 for a placeholder).
    literal_count: Vec<u64>,
    /// Per group: (total, median) when the group has too many literals and no rule yet.
    judged: Vec<Option<(u64, u64)>>,
    /// Per judged group: its rule's key and the literals it keeps.
    kept: Vec<Option<(String, FxHashSet<String>)>>,
}

#[cfg(test)]
#[path = "folding_tests.rs"]
mod tests;
