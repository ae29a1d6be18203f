//! What `run` and `plan` replay: a profile or a trace, loaded and checked,
//! with the `--vars` file merged under `--var`, planned with the request's settings.

use crate::cli::RunRequest;
use crate::plan::trace::{self, TraceInfo};
use crate::plan::{PlannedRun, Source, Vars, build, request::vars_from_csv};
use crate::profile::{Profile, load};

/// A loaded source of work.
pub enum Loaded {
    Profile(Box<Profile>),
    Trace(TraceInfo),
}

/// `--var` values over those of `--vars FILE`.
pub fn vars(request: &RunRequest) -> anyhow::Result<Vars> {
    let mut vars = match &request.vars_file {
        Some(path) => vars_from_csv(path).map_err(anyhow::Error::msg)?,
        None => Vars::new(),
    };
    for (name, values) in &request.plan.vars {
        vars.insert(name.clone(), values.clone());
    }
    Ok(vars)
}

/// Loads the request's profile or trace, with every value its placeholders may take.
pub fn load(request: &mut RunRequest) -> anyhow::Result<Loaded> {
    request.plan.vars = vars(request)?;
    if trace::is_trace(&request.source) {
        if request.sessions {
            anyhow::bail!("--sessions plays a profile's users; a trace already holds each request: leave out --sessions");
        }
        return Ok(Loaded::Trace(trace::scan(&request.source, &request.plan.vars)?));
    }
    Ok(Loaded::Profile(Box::new(load::load(&request.source)?)))
}

/// The run of a loaded source.
pub fn plan(loaded: &Loaded, request: &RunRequest) -> anyhow::Result<PlannedRun> {
    let source = match loaded {
        Loaded::Profile(profile) if request.sessions => Source::Sessions(profile),
        Loaded::Profile(profile) => Source::Profile(profile),
        Loaded::Trace(info) => Source::Trace(info),
    };
    Ok(build(source, &request.plan)?)
}

/// The thresholds of a run: `--threshold`s and the profile's own, each parsed and checked
/// against the run's endpoints before any traffic.
pub fn thresholds(loaded: &Loaded, request: &RunRequest, catalog: &crate::plan::Catalog) -> anyhow::Result<Vec<crate::verdict::Threshold>> {
    let from_profile = match loaded {
        Loaded::Profile(p) => p.thresholds.clone(),
        Loaded::Trace(_) => Vec::new(),
    };
    let thresholds = crate::verdict::parse_all(from_profile.iter().chain(&request.thresholds)).map_err(anyhow::Error::msg)?;
    let names: Vec<String> = catalog.endpoints.iter().map(|e| e.key.to_string()).collect();
    crate::verdict::check_endpoints(&thresholds, &names).map_err(anyhow::Error::msg)?;
    Ok(thresholds)
}
