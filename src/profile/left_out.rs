//! Records left out of a profile and why: no time, not a request, or the filters.

/// Records left out of a profile, by why.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeftOut {
    /// No time to place them on the curve (the format logs none, or it did not parse).
    pub untimed: u64,
    /// No method or path: not a request (a TLS probe, a bare `-`).
    pub not_requests: u64,
    /// Left out by `--since`, `--until`, `--exclude` or `--host-filter`.
    pub filtered: u64,
}

impl LeftOut {
    pub fn total(&self) -> u64 {
        self.untimed + self.not_requests + self.filtered
    }

    pub(super) fn add(&mut self, other: &LeftOut) {
        self.untimed = self.untimed.saturating_add(other.untimed);
        self.not_requests = self.not_requests.saturating_add(other.not_requests);
        self.filtered = self.filtered.saturating_add(other.filtered);
    }

    /// `3 with no time, 2 not requests, 1 by the filters`.
    pub fn describe(&self) -> String {
        let parts = [
            (self.untimed, "with no time"),
            (self.not_requests, "not requests (no method or path)"),
            (self.filtered, "by --since/--until/--exclude/--host-filter"),
        ];
        let said: Vec<String> =
            parts.iter().filter(|(n, _)| *n > 0).map(|(n, why)| format!("{} {why}", crate::units::thousands(*n))).collect();
        if said.is_empty() { "none".to_owned() } else { said.join(", ") }
    }
}
