//! How a chunk turns a request's method and path into a template of its own
//! table when the literal-path cache (`route_cache.rs`) does not know it:
//! templating routed by the rules the chunk was given, the lookup in the
//! chunk's table, and compaction when that table fills (a chunk of nearly all
//! distinct paths, read before the first rules reached it). Debug builds
//! check routing and every cache hit against templating from scratch.

use super::{CHUNK_COMPACT_AT, ChunkDigest};
use crate::profile::collapse;
use crate::profile::endpoints::{PAYLOAD_KEY, template_key_routed};
use std::sync::Arc;

impl ChunkDigest {
    /// Folds this chunk's templates by cardinality, adding what it learns to
    /// the chunk's rules; events follow the new numbering (the mix is counted from them).
    pub(super) fn compact(&mut self) {
        let mut rules = (*self.rules).clone();
        let compacted = collapse::compact(std::mem::take(&mut self.templates), &mut rules, self.settings.seed);
        self.rules = Arc::new(rules);
        self.routes.clear();
        self.templates = compacted.templates;
        self.next_compaction = (self.templates.len() * 2).max(CHUNK_COMPACT_AT);
        self.ids = self.templates.iter().enumerate().map(|(id, (key, _))| (key.clone(), id as u32)).collect();
        let renumber = |t: u32| compacted.index_of[t as usize] as u32;
        for event in &mut self.events {
            event.template = renumber(event.template);
        }
    }

    /// Debug builds: the key routed as it is built is the key the rules route
    /// [`template_key`](crate::profile::endpoints::template_key)'s to, and no key in the
    /// table is one the rules would route elsewhere (so looking a key up only
    /// once routed finds what looking it up first unrouted found).
    #[cfg(debug_assertions)]
    pub(super) fn check_routing(&mut self, method: &[u8], path: &[u8]) {
        let (mut key, mut positions) = (String::new(), Default::default());
        crate::profile::endpoints::template_key(method, path, &mut key, &mut positions);
        if self.ids.contains_key(key.as_str()) {
            assert_eq!(key, self.key, "a table key the rules route elsewhere");
        }
        let (mut routed, mut folded) = (String::new(), Vec::new());
        if self.rules.route(&key, &mut routed, &mut folded) {
            for position in folded {
                if let Err(at) = positions.sampled.binary_search(&position) {
                    positions.sampled.insert(at, position);
                }
            }
            key = routed;
        }
        assert_eq!((&key, &positions), (&self.key, &self.sampled), "routing {path:?}");
    }

    /// Templates `method path` into `self.key` and `self.sampled` and returns its local id;
    /// a payload line's template is the payload tail. A literal template is remembered.
    pub(super) fn template_id_of(&mut self, method: &[u8], path: &[u8], payload: bool) -> u32 {
        template_key_routed(method, path, Some(&self.rules), &mut self.key, &mut self.sampled);
        #[cfg(debug_assertions)]
        self.check_routing(method, path);
        if payload {
            self.key.clear();
            self.key.push_str(PAYLOAD_KEY);
            // The tail samples nothing of the path, but its example still hides the path's secrets.
            std::mem::swap(&mut self.payload_redacted, &mut self.sampled.redacted);
            self.sampled.clear();
        }
        let id = self.template_id();
        if !payload && self.sampled.sampled.is_empty() && self.sampled.redacted.is_empty() {
            self.routes.insert(method, path, id);
        }
        id
    }

    /// Debug builds: a cached template is the one templating from scratch finds.
    #[cfg(debug_assertions)]
    pub(super) fn check_cached(&mut self, method: &[u8], path: &[u8], id: u32) {
        let (mut key, mut positions) = (String::new(), Default::default());
        template_key_routed(method, path, Some(&self.rules), &mut key, &mut positions);
        assert_eq!(self.ids.get(key.as_str()), Some(&id), "cached template of {path:?}");
        assert_eq!(positions, crate::profile::endpoints::Positions::default(), "cached template of {path:?}");
    }

    /// The local id of the template in `self.key` (routed by the rules as it was built).
    pub(super) fn template_id(&mut self) -> u32 {
        // Lines of one template come in runs (a burst on one endpoint, a log of distinct slugs
        // that fold alike): the last line's template is checked by its key before the table is.
        if self.templates.get(self.last_id as usize).is_some_and(|(key, _)| *key == self.key) {
            debug_assert_eq!(self.ids.get(self.key.as_str()), Some(&self.last_id), "the last template of {}", self.key);
            return self.last_id;
        }
        let id = self.look_up_or_add();
        self.last_id = id;
        id
    }

    /// The local id of the template in `self.key`, added to the table if it is new.
    fn look_up_or_add(&mut self) -> u32 {
        if let Some(&id) = self.ids.get(self.key.as_str()) {
            return id;
        }
        if self.templates.len() >= self.next_compaction {
            self.compact();
            self.route_key();
            if let Some(&id) = self.ids.get(self.key.as_str()) {
                return id;
            }
        }
        let id = self.templates.len() as u32;
        self.ids.insert(self.key.clone(), id);
        self.templates.push((self.key.clone(), self.floors.new_stats(&self.key)));
        id
    }

    /// Routes `self.key` by the rules; the folded positions join the sampled ones. Returns whether it changed.
    pub(super) fn route_key(&mut self) -> bool {
        if !self.rules.route(&self.key, &mut self.routed, &mut self.folded) {
            return false;
        }
        std::mem::swap(&mut self.key, &mut self.routed);
        for &position in &self.folded {
            if let Err(at) = self.sampled.sampled.binary_search(&position) {
                self.sampled.sampled.insert(at, position);
            }
        }
        true
    }
}
