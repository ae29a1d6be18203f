//! One abstraction for every source of work a run replays: a profile's
//! requests, its virtual users (`--sessions`), or a derived trace. Each is a
//! [`WorkSource`] (its endpoints, `replay plan`'s estimate, the plan itself);
//! [`open`] picks one for a path, so the commands never match on the kind.
//! A new source (a HAR file) is a file implementing the trait and a line in
//! [`open`].

use super::estimate::Estimate;
use super::trace::TraceInfo;
use super::{Catalog, PlanError, PlanSettings, PlannedRun, Vars};
use crate::profile::Profile;
use std::borrow::Borrow;
use std::path::Path;

/// A source of work for a run.
pub trait WorkSource {
    /// The endpoints its work points into.
    fn catalog(&self) -> Catalog;
    /// What `replay plan` says of a run of it with `settings`, without drawing a request.
    fn estimate(&self, settings: &PlanSettings) -> Result<Estimate, PlanError>;
    /// Its whole plan with `settings` (sharding is applied by [`super::build`]).
    fn plan(&self, settings: &PlanSettings) -> Result<PlannedRun, PlanError>;
    /// Thresholds it carries (a profile's own).
    fn thresholds(&self) -> &[String] {
        &[]
    }
    /// Production's median latency over its mix, seconds, where it knows it (0 otherwise).
    fn production_latency_s(&self) -> f64 {
        0.0
    }
    /// The profile it replays, where it is one (a trace is not): production's curve, for the live view.
    fn profile(&self) -> Option<&Profile> {
        None
    }
    /// How many users walking at once its traffic corresponds to, where it knows its sessions.
    fn users_at_once(&self, _settings: &PlanSettings) -> Option<f64> {
        None
    }
}

/// A profile's requests, each on its own (the open model).
pub struct Requests<P: Borrow<Profile>>(pub P);
/// A profile's virtual users (`--sessions`).
pub struct Users<P: Borrow<Profile>>(pub P);
/// A derived trace, row by row.
pub struct Trace<T: Borrow<TraceInfo>>(pub T);

fn profile_latency_s(profile: &Profile) -> f64 {
    profile.endpoints.iter().filter_map(|e| e.latency_ms.map(|l| e.weight * l.p50 / 1000.0)).sum()
}

impl<P: Borrow<Profile>> WorkSource for Requests<P> {
    fn catalog(&self) -> Catalog {
        Catalog::of_profile(self.0.borrow())
    }
    fn estimate(&self, settings: &PlanSettings) -> Result<Estimate, PlanError> {
        super::profile::estimate(self.0.borrow(), settings)
    }
    fn plan(&self, settings: &PlanSettings) -> Result<PlannedRun, PlanError> {
        super::profile::plan(self.0.borrow(), settings)
    }
    fn thresholds(&self) -> &[String] {
        &self.0.borrow().thresholds
    }
    fn production_latency_s(&self) -> f64 {
        profile_latency_s(self.0.borrow())
    }
    fn profile(&self) -> Option<&Profile> {
        Some(self.0.borrow())
    }
    fn users_at_once(&self, settings: &PlanSettings) -> Option<f64> {
        let profile = self.0.borrow();
        profile.sessions.as_ref()?;
        super::sessions::estimate(profile, settings).ok()?.users_at_once
    }
}

impl<P: Borrow<Profile>> WorkSource for Users<P> {
    fn catalog(&self) -> Catalog {
        Catalog::of_profile(self.0.borrow())
    }
    fn estimate(&self, settings: &PlanSettings) -> Result<Estimate, PlanError> {
        super::sessions::estimate(self.0.borrow(), settings)
    }
    fn plan(&self, settings: &PlanSettings) -> Result<PlannedRun, PlanError> {
        super::sessions::plan(self.0.borrow(), settings)
    }
    fn thresholds(&self) -> &[String] {
        &self.0.borrow().thresholds
    }
    fn production_latency_s(&self) -> f64 {
        profile_latency_s(self.0.borrow())
    }
    fn profile(&self) -> Option<&Profile> {
        Some(self.0.borrow())
    }
}

impl<T: Borrow<TraceInfo>> WorkSource for Trace<T> {
    fn catalog(&self) -> Catalog {
        self.0.borrow().catalog.clone()
    }
    fn estimate(&self, settings: &PlanSettings) -> Result<Estimate, PlanError> {
        super::trace::estimate(self.0.borrow(), settings)
    }
    fn plan(&self, settings: &PlanSettings) -> Result<PlannedRun, PlanError> {
        super::trace::plan(self.0.borrow(), settings)
    }
}

/// The source at `path`: a trace (by its header) or a profile, whose requests or,
/// with `sessions`, virtual users a run replays. `vars` are checked against a trace's placeholders.
pub fn open(path: &Path, sessions: bool, vars: &Vars) -> Result<Box<dyn WorkSource>, PlanError> {
    if super::trace::is_trace(path) {
        if sessions {
            return Err(PlanError("--sessions plays a profile's users; a trace already holds each request: leave out --sessions".into()));
        }
        return Ok(Box::new(Trace(super::trace::scan(path, vars)?)));
    }
    let profile = crate::profile::load::load(path).map_err(|e| PlanError(e.to_string()))?;
    Ok(if sessions { Box::new(Users(profile)) } else { Box::new(Requests(profile)) })
}
