//! How sessions changed: the share of sessions that log in, session length
//! and think time quantiles, and the top flows' shares, where both profiles
//! have sessions.

use crate::profile::{Profile, Quantiles};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SessionsDiff {
    /// Sessions that open with the login, in each (where a profile has one).
    pub login_share: (Option<f64>, Option<f64>),
    /// Requests per session, p50 and p90, in each.
    pub length: Option<((f64, f64), (f64, f64))>,
    /// Think time p50 and p90, seconds, in each.
    pub think_s: Option<((f64, f64), (f64, f64))>,
    /// The base's top flows with their share in each.
    pub flows: Vec<(String, f64, f64)>,
}

fn login_share(p: &Profile) -> Option<f64> {
    let login = p.endpoints.iter().find(|e| e.once_per_session)?;
    let name = format!("{} {}", login.method, login.path);
    let sessions = p.sessions.as_ref()?;
    Some(sessions.flows.iter().filter(|f| f.steps.first() == Some(&name)).map(|f| f.share).sum())
}

/// `new`'s think times are multiplied by `speed` (a replay's log plays them that much faster).
pub fn diff(base: &Profile, new: &Profile, speed: f64) -> Option<SessionsDiff> {
    let (a, b) = (base.sessions.as_ref()?, new.sessions.as_ref()?);
    let pair = |q: Option<Quantiles>| q.map(|q| (q.p50, q.p90));
    let both = |x: Option<(f64, f64)>, y: Option<(f64, f64)>| Some((x?, y?));
    let flows = a
        .flows
        .iter()
        .take(5)
        .map(|f| {
            let in_new = b.flows.iter().find(|g| g.steps == f.steps).map_or(0.0, |g| g.share);
            (f.steps.join(" → "), f.share, in_new)
        })
        .collect();
    Some(SessionsDiff {
        login_share: (login_share(base), login_share(new)),
        length: both(pair(a.length), pair(b.length)),
        think_s: both(pair(a.think_time_s), pair(b.think_time_s).map(|(p50, p90)| (p50 * speed, p90 * speed))),
        flows,
    })
}
