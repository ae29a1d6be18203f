//! What `run` and `plan` replay: the source at the request's path, opened
//! by `plan::open` with the `--vars` file merged under `--var`, and its
//! thresholds with the request's, checked against its endpoints.

use crate::cli::RunRequest;
use crate::plan::{Catalog, Vars, WorkSource, request::vars_from_csv};

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

/// Opens the request's source, with every value its placeholders may take.
pub fn open(request: &mut RunRequest) -> anyhow::Result<Box<dyn WorkSource>> {
    request.plan.vars = vars(request)?;
    Ok(crate::plan::open(&request.source, request.sessions, &request.plan.vars)?)
}

/// The thresholds of a run: `--threshold`s and the source's own, each parsed and checked
/// against the run's endpoints before any traffic.
pub fn thresholds(source: &dyn WorkSource, request: &RunRequest, catalog: &Catalog) -> anyhow::Result<Vec<crate::verdict::Threshold>> {
    let thresholds = crate::verdict::parse_all(source.thresholds().iter().chain(&request.thresholds)).map_err(anyhow::Error::msg)?;
    let names: Vec<String> = catalog.endpoints.iter().map(|e| e.key.to_string()).collect();
    crate::verdict::check_endpoints(&thresholds, &names).map_err(anyhow::Error::msg)?;
    Ok(thresholds)
}
