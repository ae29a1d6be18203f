//! How the endpoint mix changed: the total variation distance between the
//! two mixes, and per endpoint its share in each and whether the change is
//! beyond what the two sample sizes explain (a two-proportion test at three
//! standard errors), so a profile of a thousand requests does not cry wolf.

use crate::profile::Profile;
use serde::Serialize;
use std::collections::BTreeMap;

/// An endpoint's share in each profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Share {
    pub endpoint: String,
    pub base: f64,
    pub new: f64,
    /// The change is more than three standard errors of the two shares' difference.
    pub beyond_noise: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MixDiff {
    /// Total variation distance: half the sum of the shares' differences, from 0 (the same) to 1.
    pub distance: f64,
    /// What sampling noise alone gives, on average, for profiles of these sizes.
    pub noise: f64,
    /// Every endpoint of either, largest change first.
    pub shares: Vec<Share>,
}

impl MixDiff {
    /// The distance is beyond noise: more than twice what noise alone gives, and some endpoint's change is.
    pub fn beyond_noise(&self) -> bool {
        self.distance > 2.0 * self.noise && self.shares.iter().any(|s| s.beyond_noise)
    }
}

/// Endpoint shares by `METHOD /path`, and the requests they rest on (the counts derive saw; a
/// hand-written profile's curve total, whose shares are exact, stands in).
fn shares(p: &Profile) -> (BTreeMap<String, f64>, f64) {
    let counted: u64 = p.endpoints.iter().map(|e| e.count).sum();
    let size = if counted > 0 { counted as f64 } else { p.arrival.counts.iter().sum::<u64>().max(1) as f64 * 1e6 };
    let total: f64 = p.endpoints.iter().map(|e| e.weight).sum::<f64>().max(f64::MIN_POSITIVE);
    let mut by_name = BTreeMap::new();
    for e in &p.endpoints {
        *by_name.entry(format!("{} {}", e.method, e.path)).or_default() += e.weight / total;
    }
    (by_name, size)
}

pub fn diff(base: &Profile, new: &Profile) -> MixDiff {
    let ((a, n1), (b, n2)) = (shares(base), shares(new));
    let names: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let mut out: Vec<Share> = Vec::with_capacity(names.len());
    let (mut distance, mut noise) = (0.0, 0.0);
    for name in names {
        let (p1, p2) = (a.get(name).copied().unwrap_or(0.0), b.get(name).copied().unwrap_or(0.0));
        let pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
        let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
        distance += (p1 - p2).abs() / 2.0;
        noise += se * (2.0 / std::f64::consts::PI).sqrt() / 2.0;
        out.push(Share { endpoint: name.clone(), base: p1, new: p2, beyond_noise: (p1 - p2).abs() > 3.0 * se + 1e-9 });
    }
    out.sort_by(|x, y| (y.new - y.base).abs().total_cmp(&(x.new - x.base).abs()).then_with(|| x.endpoint.cmp(&y.endpoint)));
    MixDiff { distance, noise, shares: out }
}
