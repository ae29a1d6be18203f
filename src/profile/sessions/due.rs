//! Which open sessions a sweep must look at: their users' keys listed by the
//! stretch of log time their latest request fell in, so a sweep probes the
//! sessions that may have gone idle instead of reading the whole table.
//!
//! Log time is cut into stretches of a fixed width (a sweep's worth of the
//! clock). Every open session's key is in the list of its *home*: the stretch
//! of its latest request, or the *floor* (the stretch of the last sweep's
//! horizon) if that is later. A key is pushed when a session opens and when
//! its latest request moves to another home; a key left behind in an older
//! list is only a stale entry, which a sweep drops when its probe finds the
//! session elsewhere or gone. So a sweep whose horizon lies in stretch `h`
//! finds every session whose latest request is before the horizon in the
//! lists up to `h`: it closes exactly those, and keeps the rest of the keys it
//! took whose latest request lies in `h` itself, in `h`'s list, the new floor.

/// Emptied lists kept for reuse, at most.
const SPARE_LISTS: usize = 8;

/// The lists of keys by home stretch, and where the stretch most requests fall in lies.
#[derive(Debug)]
pub(super) struct DueLists {
    /// A stretch's width in microseconds: a whole number of milliseconds, as a session's
    /// latest request is, so that request and the request's own time share a stretch.
    width_us: i64,
    /// Live lists by stretch index, ascending; none below `floor`.
    lists: Vec<(i64, Vec<u64>)>,
    /// The stretch of the last sweep's horizon: a session whose latest request is earlier is listed here.
    floor: i64,
    /// The bounds of the stretch the latest push went to, at or above the floor, and its
    /// list's place in `lists`: most requests fall in it, and need no division.
    current_us: (i64, i64),
    current_at: usize,
    /// Whether the current stretch is above the floor (so a session moving into it from an
    /// earlier stretch changes its home).
    current_above_floor: bool,
    /// Keys in all the lists, stale ones included.
    len: usize,
    /// Emptied lists, their room kept for the stretches to come.
    spare: Vec<Vec<u64>>,
}

impl Default for DueLists {
    fn default() -> Self {
        DueLists::new(0)
    }
}

impl DueLists {
    pub(super) fn new(width_us: i64) -> Self {
        let width_us = (width_us.max(1000) / 1000) * 1000;
        DueLists {
            width_us,
            lists: Vec::new(),
            floor: i64::MIN,
            current_us: (i64::MAX, i64::MIN),
            current_at: 0,
            current_above_floor: false,
            len: 0,
            spare: Vec::new(),
        }
    }

    /// Keys in the lists, stale ones included.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    fn stretch(&self, us: i64) -> i64 {
        us.div_euclid(self.width_us)
    }

    /// Where a session whose latest request is at `us` is listed.
    fn home(&self, us: i64) -> i64 {
        self.stretch(us).max(self.floor)
    }

    /// A session opened for `key`, its latest request at `last_us`.
    #[inline(always)] // once a new session
    pub(super) fn opened(&mut self, key: u64, last_us: i64) {
        if last_us >= self.current_us.0 && last_us < self.current_us.1 {
            self.len += 1;
            self.lists[self.current_at].1.push(key);
        } else {
            self.push(key, self.home(last_us));
        }
    }

    /// `key`'s session's latest request moved later, from `from_us` to `to_us`.
    #[inline(always)] // once a request
    pub(super) fn moved(&mut self, key: u64, from_us: i64, to_us: i64) {
        let (start, end) = self.current_us;
        if to_us < start || to_us >= end {
            self.moved_across(key, from_us, to_us);
        } else if from_us < start && self.current_above_floor {
            // Into the current stretch from an earlier one, whose home (the floor, or its own
            // stretch) is below the current one.
            self.len += 1;
            self.lists[self.current_at].1.push(key);
        }
        // Else within the current stretch (the common case on a busy log): the home is the same.
    }

    #[inline(never)]
    fn moved_across(&mut self, key: u64, from_us: i64, to_us: i64) {
        let to = self.home(to_us);
        if self.home(from_us) != to {
            self.push(key, to);
        }
    }

    /// Adds `key` to the list of stretch `home` (at or above the floor), which becomes the current one.
    fn push(&mut self, key: u64, home: i64) {
        let at = match self.lists.binary_search_by_key(&home, |(stretch, _)| *stretch) {
            Ok(at) => at,
            Err(at) => {
                let list = self.spare.pop().unwrap_or_default();
                self.lists.insert(at, (home, list));
                at
            }
        };
        self.lists[at].1.push(key);
        self.len += 1;
        self.current_at = at;
        self.current_above_floor = home > self.floor;
        let start = home.saturating_mul(self.width_us);
        self.current_us = (start, start.saturating_add(self.width_us));
    }

    /// Moves the keys of every list up to the stretch of `horizon_us` into `due`, for a
    /// sweep to probe, and raises the floor to that stretch. The sweep gives back with
    /// [`DueLists::keep`] the keys of sessions it keeps whose latest request lies in it.
    pub(super) fn take_due(&mut self, horizon_us: i64, due: &mut Vec<u64>) {
        let floor = self.stretch(horizon_us).max(self.floor);
        let taken = self.lists.partition_point(|(stretch, _)| *stretch <= floor);
        for (_, mut list) in self.lists.drain(..taken) {
            self.len -= list.len();
            due.append(&mut list);
            Self::keep_room(&mut self.spare, list);
        }
        self.floor = floor;
        self.current_us = (i64::MAX, i64::MIN);
    }

    /// The end of the floor's stretch: a session kept by the sweep that raised the floor
    /// whose latest request is before it is listed at the floor (else its latest request is
    /// later, and its key is in that stretch's list already).
    pub(super) fn floor_end_us(&self) -> i64 {
        self.floor.saturating_add(1).saturating_mul(self.width_us)
    }

    /// Lists `key` at the floor again (see [`DueLists::take_due`]).
    pub(super) fn keep(&mut self, key: u64) {
        self.push(key, self.floor);
    }

    /// Keeps an emptied list's room in `spare` for a stretch to come: up to [`SPARE_LISTS`]
    /// lists of up to 16 Ki keys (128 KiB) each, so the room kept is bounded whatever the log.
    fn keep_room(spare: &mut Vec<Vec<u64>>, list: Vec<u64>) {
        if list.capacity() <= 1 << 14 && spare.len() < SPARE_LISTS {
            spare.push(list);
        }
    }

    /// Forgets every key (the table was emptied).
    pub(super) fn clear(&mut self) {
        for (_, mut list) in self.lists.drain(..) {
            list.clear();
            Self::keep_room(&mut self.spare, list);
        }
        self.len = 0;
        self.current_us = (i64::MAX, i64::MIN);
    }

    /// Lists each session of a table anew, by its key and latest request: the stale keys go.
    pub(super) fn rebuild(&mut self, sessions: impl Iterator<Item = (u64, i64)>) {
        self.clear();
        for (key, last_us) in sessions {
            self.opened(key, last_us);
        }
    }
}

#[cfg(test)]
impl DueLists {
    /// Whether `key` is in the list of the home of a latest request at `last_us`.
    pub(super) fn lists(&self, key: u64, last_us: i64) -> bool {
        let home = self.home(last_us);
        self.lists.iter().any(|(stretch, keys)| *stretch == home && keys.contains(&key))
    }

    /// The lowest stretch listed, and the floor.
    pub(super) fn lowest_and_floor(&self) -> (Option<i64>, i64) {
        (self.lists.first().map(|(stretch, _)| *stretch), self.floor)
    }
}
