//! The templates of a chunk's recent literal paths, by the raw request.
//!
//! Real logs repeat a few paths endlessly (`POST /login`, `/favicon.ico`,
//! the static bundles, a health check): a third of a busy shop's lines. Such
//! a path's template is the path itself, and within a chunk the same method
//! and path always come out as the same template, so templating it again
//! (classifying each segment, routing it through the folding rules, looking
//! the key up) is wasted work. This cache remembers, in a small
//! direct-mapped table keyed by the raw method and path, the template id of
//! each path whose template has no placeholder. Paths with placeholders
//! (ids, slugs a rule folds) are never stored, so a log of distinct paths
//! pays one hash and one compare a line and never fills the table.
//!
//! What the cache answers is what templating answers: the chunk's rules and
//! ids only change when its table compacts, and compacting clears the
//! cache. Debug builds check every hit against templating from scratch.

use rustc_hash::FxHasher;
use std::hash::Hasher;

/// Slots in the table (a power of two): enough for the literal paths of a chunk that repeat.
const SLOTS: usize = 512;
/// Longer requests are templated each time (they are rarely the ones that repeat).
const MAX_BYTES: usize = 256;

#[derive(Default)]
pub struct RouteCache {
    slots: Vec<Slot>,
}

#[derive(Default)]
struct Slot {
    hash: u64,
    template: u32,
    method_len: usize,
    /// The method, then the path; empty for a slot never filled.
    request: Vec<u8>,
}

/// Spreads requests over the slots; a compare of the whole request settles a match.
/// Read from the lengths and the path's first and last eight bytes only, where
/// repeated paths and distinct ones differ (a slug, a bundle's hash, an id), so
/// a long path costs no more than a short one.
fn hash(method: &[u8], path: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    hasher.write_u64((method.len() as u64) << 32 | path.len() as u64);
    hasher.write_u64(word(method));
    hasher.write_u64(word(path));
    hasher.write_u64(word(path.get(path.len().saturating_sub(8)..).unwrap_or_default()));
    hasher.finish()
}

/// The first eight bytes of `bytes` (fewer, zero-padded), as a number.
fn word(bytes: &[u8]) -> u64 {
    match bytes.first_chunk::<8>() {
        Some(first) => u64::from_le_bytes(*first),
        None => bytes.iter().rev().fold(0, |word, &b| word << 8 | u64::from(b)),
    }
}

fn slot_of(hash: u64) -> usize {
    // Fx's high bits are its best mixed.
    (hash >> (64 - SLOTS.trailing_zeros())) as usize
}

impl RouteCache {
    /// The template of `method path` if it is a literal path seen since the last [`clear`](Self::clear).
    pub fn get(&self, method: &[u8], path: &[u8]) -> Option<u32> {
        if method.len() + path.len() > MAX_BYTES || self.slots.is_empty() {
            return None;
        }
        let hash = hash(method, path);
        let slot = self.slots.get(slot_of(hash))?;
        let request = slot.request.as_slice();
        let same = slot.hash == hash
            && slot.method_len == method.len()
            && request.get(..method.len()) == Some(method)
            && request.get(method.len()..) == Some(path);
        same.then_some(slot.template)
    }

    /// Remembers that `method path` is the literal template `template`.
    pub fn insert(&mut self, method: &[u8], path: &[u8], template: u32) {
        if method.len() + path.len() > MAX_BYTES {
            return;
        }
        if self.slots.is_empty() {
            self.slots.resize_with(SLOTS, Slot::default);
        }
        let hash = hash(method, path);
        if let Some(slot) = self.slots.get_mut(slot_of(hash)) {
            slot.hash = hash;
            slot.template = template;
            slot.method_len = method.len();
            slot.request.clear();
            slot.request.extend_from_slice(method);
            slot.request.extend_from_slice(path);
        }
    }

    /// Forgets every path: the templates were renumbered or the rules changed.
    pub fn clear(&mut self) {
        for slot in &mut self.slots {
            slot.request.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_only_what_it_was_told_until_cleared() {
        let mut cache = RouteCache::default();
        assert_eq!(cache.get(b"GET", b"/login"), None);
        cache.insert(b"GET", b"/login", 3);
        cache.insert(b"POST", b"/login", 4);
        assert_eq!(cache.get(b"GET", b"/login"), Some(3));
        assert_eq!(cache.get(b"POST", b"/login"), Some(4));
        // The same bytes split otherwise are another request.
        assert_eq!(cache.get(b"GE", b"T/login"), None);
        assert_eq!(cache.get(b"GET", b"/logi"), None);
        let long = vec![b'a'; MAX_BYTES];
        cache.insert(b"GET", &long, 5);
        assert_eq!(cache.get(b"GET", &long), None);
        cache.clear();
        assert_eq!(cache.get(b"GET", b"/login"), None);
        // Many paths: each answer is the last told for that path, or none.
        for i in 0..5000u32 {
            cache.insert(b"GET", format!("/p{i}").as_bytes(), i);
        }
        let mut found = 0;
        for i in 0..5000u32 {
            if let Some(t) = cache.get(b"GET", format!("/p{i}").as_bytes()) {
                assert_eq!(t, i);
                found += 1;
            }
        }
        assert!(found > 0 && found <= SLOTS, "{found}");
    }
}
