//! `replay derive --partial` and `replay derive --merge`: a derive's state
//! written for a later merge, and any number of such states merged into the
//! profile one derive of all their inputs would give (or into one partial,
//! for merging in stages).
//!
//! A merge reads every partial (each checked, see `profile::partial`),
//! refuses partials derived with different settings, naming the flag, puts
//! them in one order (by their first request, then their files), so any
//! order or grouping of the same partials gives the same result, and absorbs
//! them one by one into an empty deriver. Then the sessions at their edges
//! join where one partial's tail and the next one's head are one session.

use super::{DeriveConfig, DeriveError, Derived, FileReport, finish, read_inputs, source_of};
use crate::profile::Source;
use crate::profile::deriver::{Deriver, MAX_REQUESTS, SAMPLE_BUDGET};
use crate::profile::partial::{self, PARTIAL_KIND, PARTIAL_VERSION, Partial, PartialSettings};
use crate::profile::sessions::join_stretches;
use std::path::Path;
use std::sync::Arc;

/// A partial derive: the partial, and what was made of each input (for the summary).
pub struct PartialDerived {
    pub partial: Partial,
    pub files: Vec<FileReport>,
}

/// Reads `config`'s inputs into a partial profile.
pub fn derive_partial(config: &DeriveConfig) -> Result<PartialDerived, DeriveError> {
    let (mut deriver, files) = read_inputs(config, true)?;
    let span = deriver.span;
    let coverage = join_stretches(span.first_us.zip(span.last_us).into_iter().collect());
    let source = source_of(&files, span, deriver.excluded.total());
    let state = deriver.to_state(&coverage);
    let settings = PartialSettings::of(config.format.as_ref(), &config.settings);
    let partial = Partial { kind: PARTIAL_KIND.to_owned(), version: PARTIAL_VERSION, settings, source, coverage, state };
    Ok(PartialDerived { partial, files })
}

/// Partials merged: into a profile with [`Merged::into_profile`], or a partial with [`Merged::into_partial`].
pub struct Merged {
    deriver: Deriver,
    settings: PartialSettings,
    source: Source,
    coverage: Vec<(i64, i64)>,
    /// Each partial read, by file name, with its source: for the summary.
    pub inputs: Vec<(String, Source)>,
}

/// Reads and merges the partials at `paths`, holding one at a time: a first pass checks each
/// and learns its place in the merge order, a second absorbs them in that order.
pub fn merge_partials(paths: &[String]) -> Result<Merged, DeriveError> {
    merge_partials_within(paths, SAMPLE_BUDGET)
}

/// [`merge_partials`] with samples held to `sample_budget` bytes (see [`DeriveConfig::sample_budget`]).
pub fn merge_partials_within(paths: &[String], sample_budget: usize) -> Result<Merged, DeriveError> {
    struct Seen {
        name: String,
        order: (Option<i64>, Option<i64>, u64),
        source: Source,
        coverage: Vec<(i64, i64)>,
    }
    let mut seen: Vec<Seen> = Vec::with_capacity(paths.len());
    let mut settings: Option<(String, PartialSettings)> = None;
    let mut requests: u64 = 0;
    for path in paths {
        let partial = partial::load(Path::new(path)).map_err(DeriveError::Partial)?;
        requests = requests.saturating_add(partial.state.requests());
        match &settings {
            Some((first, earlier)) => {
                let differences = earlier.differences(&partial.settings);
                if !differences.is_empty() {
                    return Err(DeriveError::PartialsDiffer {
                        first: first.clone(),
                        other: path.clone(),
                        differences: differences.join("; "),
                    });
                }
            }
            None => settings = Some((path.clone(), partial.settings.clone())),
        }
        let order = (partial.state.first_us, partial.state.last_us, partial.state.requests());
        seen.push(Seen { name: path.clone(), order, source: partial.source, coverage: partial.coverage });
    }
    if requests > MAX_REQUESTS {
        return Err(DeriveError::Partial(format!(
            "the partials hold {requests} requests in all, more than one profile holds ({MAX_REQUESTS})"
        )));
    }
    let Some((_, settings)) = settings else {
        return Err(DeriveError::Partial("no partials to merge".to_owned()));
    };
    let derive_settings = settings.to_settings().map_err(DeriveError::Partial)?;
    seen.sort_by(|a, b| a.order.cmp(&b.order).then_with(|| a.source.files.cmp(&b.source.files)));
    let mut deriver = Deriver::new(Arc::new(derive_settings), None).with_sample_budget(sample_budget);
    // Sessions settle as each partial joins, against the stretches read so far, so the open
    // ones held stay those at the edge of what has been read (bounded), not every partial's.
    let mut read: Vec<(i64, i64)> = Vec::new();
    for s in &seen {
        let partial = partial::load(Path::new(&s.name)).map_err(DeriveError::Partial)?;
        if partial.settings != settings || partial.source != s.source {
            return Err(DeriveError::Partial(format!("{}: changed while it was being merged", s.name)));
        }
        deriver.absorb(&partial.state).map_err(|e| DeriveError::Partial(format!("{}: {e}", s.name)))?;
        read = join_stretches(read.into_iter().chain(s.coverage.iter().copied()).collect());
        deriver.settle_sessions(&read);
    }
    let source = merged_source(seen.iter().map(|s| &s.source), &deriver);
    let inputs = seen.into_iter().map(|s| (s.name, s.source)).collect();
    Ok(Merged { deriver, settings, source, coverage: read, inputs })
}

/// The sources of the partials, in merge order, as one derive of all their inputs would record them.
fn merged_source<'a>(sources: impl Iterator<Item = &'a Source>, deriver: &Deriver) -> Source {
    let mut merged = Source {
        files: Vec::new(),
        format: String::new(),
        lines: 0,
        records: 0,
        not_requests: 0,
        skipped: 0,
        rejected: 0,
        excluded: deriver.excluded.total(),
        first: deriver.span.first_us.map(crate::log::format_time_us),
        last: deriver.span.last_us.map(crate::log::format_time_us),
    };
    let mut formats: Vec<&str> = Vec::new();
    for s in sources {
        merged.files.extend(s.files.iter().cloned());
        formats.extend(s.format.split('+').filter(|f| !f.is_empty()));
        merged.lines = merged.lines.saturating_add(s.lines);
        merged.records = merged.records.saturating_add(s.records);
        merged.not_requests = merged.not_requests.saturating_add(s.not_requests);
        merged.skipped = merged.skipped.saturating_add(s.skipped);
        merged.rejected = merged.rejected.saturating_add(s.rejected);
    }
    formats.dedup();
    merged.format = formats.join("+");
    merged
}

impl Merged {
    /// Requests the merged partials hold.
    pub fn requests(&self) -> u64 {
        self.deriver.requests()
    }

    /// The merge as one partial, for merging again with others.
    pub fn into_partial(mut self) -> Partial {
        let state = self.deriver.to_state(&self.coverage);
        Partial {
            kind: PARTIAL_KIND.to_owned(),
            version: PARTIAL_VERSION,
            settings: self.settings,
            source: self.source,
            coverage: self.coverage,
            state,
        }
    }

    /// The finished profile.
    pub fn into_profile(self, config: &DeriveConfig) -> Result<Derived, DeriveError> {
        if self.deriver.requests() == 0 {
            let files = self.inputs.iter().map(|(name, _)| name.clone()).collect::<Vec<_>>().join(", ");
            if self.source.records == 0 {
                return Err(DeriveError::NoRequests { files, not_http: " (their partials hold none)".to_owned() });
            }
            return Err(super::all_excluded(files, self.source.records, self.deriver.excluded));
        }
        finish(self.deriver, self.source, Vec::new(), config)
    }
}
