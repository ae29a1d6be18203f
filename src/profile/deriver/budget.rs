//! The memory budget of the template table's samples.
//!
//! Counts, sketches and the number of templates are bounded by design, but a
//! sample holds values: a log whose many distinct paths carry long query
//! strings (a scanner's, a tracking pixel's) would keep kilobytes per
//! template. The deriver keeps an estimate of what its samples, examples and
//! shapes take, adding what each folded chunk brings; when the estimate
//! passes the budget it measures the table. Over budget, it first compacts
//! the table (distinct paths fold, and their samples with them); if that is
//! not enough it raises the sample level: from level 1 on, every sample keeps
//! only the values, by rising hash, whose cost adds up to [`slot_budget`],
//! which halves with each level.
//!
//! A trimmed sample is still the hash-ordered sample of all its values, so
//! the profile depends on the level reached, never on the order requests
//! came in: the level only rises, every sample is trimmed to the final level
//! when the profile or a partial is written, and a merge of partials takes
//! the highest level of its parts. Logs whose samples fit the budget (all we
//! have measured, real or generated, stay under a fifth of it) never reach
//! level 1, and their profiles are unchanged.

use super::Deriver;
use crate::profile::fold::COMPACT_AT;

/// What the table's samples may take before they are trimmed.
pub const SAMPLE_BUDGET: usize = 16 << 20;
/// The highest level: 32 bytes a sample, about one short value.
pub const MAX_LEVEL: u8 = 10;

/// The cost each sample may keep at `level` (no limit at level 0).
pub fn slot_budget(level: u8) -> usize {
    if level == 0 { usize::MAX } else { (32 << 10) >> (level.min(MAX_LEVEL) - 1) }
}

/// The deriver's account of its samples.
#[derive(Debug, Clone)]
pub struct SampleAccount {
    /// The most the table's samples can take now: measured, plus what folded since.
    estimate: usize,
    /// The budget (a test's may be smaller).
    limit: usize,
    pub level: u8,
    /// The table's size after the last compaction the budget asked for.
    compacted_at: usize,
    /// The estimate that measures the table again: the budget, or a quarter of it past the last
    /// measure when even the highest level left the table over (shapes and keys are not trimmed),
    /// so a table that cannot shrink is not measured after every chunk.
    measure_at: usize,
}

impl Default for SampleAccount {
    fn default() -> Self {
        SampleAccount { estimate: 0, limit: SAMPLE_BUDGET, level: 0, compacted_at: 0, measure_at: SAMPLE_BUDGET }
    }
}

impl Deriver {
    /// A deriver whose samples may take at most `bytes` (tests: a budget small logs reach).
    pub fn with_sample_budget(mut self, bytes: usize) -> Self {
        self.samples.limit = bytes;
        self.samples.measure_at = bytes;
        self
    }

    /// The sample level reached (0: no sample was trimmed).
    pub fn sample_level(&self) -> u8 {
        self.samples.level
    }

    /// Counts what a chunk's template brings to the table.
    pub(super) fn account(&mut self, cost: usize) {
        self.samples.estimate = self.samples.estimate.saturating_add(cost);
    }

    /// After a chunk folds: when the estimate passes the budget, measures the table and brings it under.
    pub(super) fn keep_samples_in_budget(&mut self) {
        if self.samples.estimate <= self.samples.measure_at {
            return;
        }
        // Samples refill below their cuts as chunks fold: trimmed at the level reached, they may fit.
        self.trim_samples();
        let mut cost = self.sample_cost();
        // Distinct paths fold first, which may be all it takes; once per table size, so a table
        // of paths that do not fold is not compacted again and again.
        if cost > self.samples.limit && self.templates.len() > self.samples.compacted_at.max(COMPACT_AT / 16) {
            self.compact();
            self.samples.compacted_at = self.templates.len() * 2;
            cost = self.sample_cost();
        }
        while cost > self.samples.limit && self.samples.level < MAX_LEVEL {
            self.samples.level += 1;
            self.trim_samples();
            cost = self.sample_cost();
        }
        self.samples.estimate = cost;
        self.samples.measure_at = self.samples.limit.max(cost.saturating_add(self.samples.limit / 4));
    }

    /// Raises the level to at least `level` (a partial's), trimming what is kept.
    pub(super) fn raise_sample_level(&mut self, level: u8) {
        if level > self.samples.level {
            self.samples.level = level.min(MAX_LEVEL);
            self.trim_samples();
            self.samples.estimate = self.sample_cost();
        }
    }

    /// Trims every template's samples to the level's budget (see the module doc).
    pub(super) fn trim_samples(&mut self) {
        if self.samples.level > 0 {
            let budget = slot_budget(self.samples.level);
            self.templates.iter_mut().for_each(|(_, stats)| stats.trim_samples(budget));
        }
    }

    fn sample_cost(&self) -> usize {
        self.templates.iter().map(|(key, stats)| key.len() + stats.sample_cost()).sum()
    }
}
