//! How each endpoint's production latency and status classes changed, for
//! the endpoints both profiles have, beside the requests each figure rests on.

use crate::profile::status_classes::{production_shares, shares_text};
use crate::profile::{Endpoint, Profile};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EndpointChange {
    pub endpoint: String,
    pub base_count: u64,
    pub new_count: u64,
    /// Production latency p50 and p99, milliseconds, where both profiles hold it.
    pub p50_ms: Option<(f64, f64)>,
    pub p99_ms: Option<(f64, f64)>,
    /// Status classes in each (`2xx 97%, 3xx 3%`), where both hold statuses and they differ by a point or more.
    pub statuses: Option<(String, String)>,
}

fn by_name(p: &Profile) -> BTreeMap<String, &Endpoint> {
    p.endpoints.iter().map(|e| (format!("{} {}", e.method, e.path), e)).collect()
}

/// A profile's status classes over all its requests (each endpoint's by its weight); none without statuses.
fn classes(p: &Profile) -> Option<[f64; 5]> {
    let mut total = [0.0; 5];
    for e in &p.endpoints {
        if let Some(shares) = production_shares(&e.status) {
            for (t, s) in total.iter_mut().zip(shares) {
                *t += e.weight * s;
            }
        }
    }
    let sum: f64 = total.iter().sum();
    (sum > 0.0).then(|| total.map(|t| t / sum))
}

/// The total variation distance between the two profiles' status classes over all requests.
pub fn status_distance(base: &Profile, new: &Profile) -> Option<f64> {
    let (a, b) = (classes(base)?, classes(new)?);
    Some(a.iter().zip(&b).map(|(x, y)| (x - y).abs()).sum::<f64>() / 2.0)
}

pub fn diff(base: &Profile, new: &Profile) -> Vec<EndpointChange> {
    let (a, b) = (by_name(base), by_name(new));
    let mut out = Vec::new();
    for (name, x) in &a {
        let Some(y) = b.get(name) else { continue };
        let pair = |f: fn(&crate::profile::Quantiles) -> f64| Some((f(x.latency_ms.as_ref()?), f(y.latency_ms.as_ref()?)));
        let statuses = match (production_shares(&x.status), production_shares(&y.status)) {
            (Some(s), Some(t)) if s.iter().zip(&t).any(|(p, q)| (p - q).abs() >= 0.01) => Some((shares_text(&s), shares_text(&t))),
            _ => None,
        };
        out.push(EndpointChange {
            endpoint: name.clone(),
            base_count: x.count,
            new_count: y.count,
            p50_ms: pair(|q| q.p50),
            p99_ms: pair(|q| q.p99),
            statuses,
        });
    }
    out
}
