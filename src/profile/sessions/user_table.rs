//! The open sessions' table: open addressing keyed by the user's hash, one
//! 32-byte slot a session, with lookups that can be prefetched and removal
//! that leaves no tombstones.

use super::Open;

/// Open sessions by user key: open addressing with linear probing, 32-byte
/// slots aligned two to a cache line, so a lookup costs one memory access
/// and can be prefetched. Keys are already well-mixed hashes; 0 marks an
/// empty slot. At most [`MAX_ACTIVE`](super::MAX_ACTIVE) sessions at half
/// load: 512 Ki slots, 16 MiB.
#[derive(Debug, Default)]
pub(super) struct UserTable {
    pub(super) slots: Vec<Slot>,
    len: usize,
}

#[derive(Debug, Clone, Copy, Default)]
#[repr(align(32))]
pub(super) struct Slot {
    pub(super) key: u64,
    pub(super) open: Open,
}

impl UserTable {
    pub(super) fn stored(key: u64) -> u64 {
        if key == 0 { 0x9e37_79b9_7f4a_7c15 } else { key }
    }

    fn home(&self, key: u64) -> usize {
        key as usize & (self.slots.len() - 1)
    }

    /// Asks the cache for `key`'s home slot.
    pub(super) fn prefetch(&self, key: u64) {
        if let Some(slot) = self.slots.get(self.home_of(key)) {
            prefetch(slot);
        }
    }

    /// [`prefetch`](Self::prefetch), and the slot after the home when it lies in the next cache
    /// line: removing an entry reads on past it (the hole's probe run).
    pub(super) fn prefetch_run(&self, key: u64) {
        let home = self.home_of(key);
        if let Some(slot) = self.slots.get(home) {
            prefetch(slot);
        }
        if home % 2 == 1
            && let Some(slot) = self.slots.get((home + 1) & self.slots.len().wrapping_sub(1))
        {
            prefetch(slot);
        }
    }

    /// The home slot of a key as given (not yet [`stored`](Self::stored)); 0 while the table has no slots.
    fn home_of(&self, key: u64) -> usize {
        if self.slots.is_empty() { 0 } else { self.home(Self::stored(key)) }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    fn find(&self, key: u64) -> Result<usize, usize> {
        let mut at = self.home(key);
        loop {
            match self.slots[at].key {
                0 => return Err(at),
                k if k == key => return Ok(at),
                _ => at = (at + 1) & (self.slots.len() - 1),
            }
        }
    }

    /// The slot holding `key` (`Ok`), or the empty one it would take (`Err`); `None` while the
    /// table has no slots.
    pub(super) fn locate(&self, key: u64) -> Option<Result<usize, usize>> {
        (!self.slots.is_empty()).then(|| self.find(Self::stored(key)))
    }

    /// Adds `key`, which is not in the table, at `empty` (the slot [`locate`](Self::locate)
    /// gave) unless the table must grow first (then its slot is found again): a new user's
    /// slot is looked for once, not once to miss and again to insert.
    pub(super) fn insert_new(&mut self, key: u64, empty: Option<usize>, open: Open) {
        let key = Self::stored(key);
        let at = match empty {
            Some(at) if (self.len + 1) * 2 <= self.slots.len() => at,
            _ => {
                self.grow();
                match self.find(key) {
                    Ok(at) | Err(at) => at,
                }
            }
        };
        self.slots[at] = Slot { key, open };
        self.len += 1;
    }

    /// Inserts or replaces; returns what was there.
    pub(super) fn insert(&mut self, key: u64, open: Open) -> Option<Open> {
        if (self.len + 1) * 2 > self.slots.len() {
            self.grow();
        }
        let key = Self::stored(key);
        match self.find(key) {
            Ok(at) => Some(std::mem::replace(&mut self.slots[at].open, open)),
            Err(at) => {
                self.slots[at] = Slot { key, open };
                self.len += 1;
                None
            }
        }
    }

    fn grow(&mut self) {
        let capacity = (self.slots.len() * 2).max(1024);
        let old = std::mem::replace(&mut self.slots, vec![Slot::default(); capacity]);
        self.len = 0;
        for slot in old.into_iter().filter(|s| s.key != 0) {
            let at = self.find(slot.key).unwrap_err();
            self.slots[at] = slot;
            self.len += 1;
        }
    }

    /// Removes the entry at slot `at` (one [`locate`](Self::locate) found), returning it with its
    /// stored key; the hole is filled by shifting back the entries after it that may stand there
    /// (no tombstones, no rebuild of the entries that stay), so every other key stays findable.
    pub(super) fn take_at(&mut self, at: usize) -> (u64, Open) {
        let Slot { key, open } = self.slots[at];
        self.delete_at(at);
        (key, open)
    }

    /// The entries, in slot order.
    pub(super) fn iter(&self) -> impl Iterator<Item = (u64, &Open)> {
        self.slots.iter().filter(|s| s.key != 0).map(|s| (s.key, &s.open))
    }

    /// Empties slot `hole` and closes the gap in its probe run.
    fn delete_at(&mut self, mut hole: usize) {
        let mask = self.slots.len() - 1;
        self.len -= 1;
        let mut next = (hole + 1) & mask;
        while self.slots[next].key != 0 {
            // The entry at `next` may move to `hole` unless its home lies after the hole (cyclically).
            let from_home = next.wrapping_sub(self.home(self.slots[next].key)) & mask;
            if from_home >= next.wrapping_sub(hole) & mask {
                self.slots[hole] = self.slots[next];
                hole = next;
            }
            next = (next + 1) & mask;
        }
        self.slots[hole] = Slot::default();
    }

    /// Empties the table, returning its entries in slot order.
    pub(super) fn drain(&mut self) -> Vec<(u64, Open)> {
        self.len = 0;
        self.slots.iter_mut().filter(|s| s.key != 0).map(|s| (std::mem::take(&mut s.key), s.open)).collect()
    }
}

/// A hint that `slot` will be read soon.
fn prefetch(slot: &Slot) {
    let slot: *const Slot = slot;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: a prefetch is a hint; SSE is part of every x86_64 target.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(slot.cast());
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = slot;
}
