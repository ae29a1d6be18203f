//! Which mix each stretch of the timeline draws from: a segment's own, or,
//! outside those, what the log had there, so a burst's endpoints are not counted twice.

use crate::profile::{Profile, Segment};
use std::collections::HashMap;

/// The mix of the timeline outside the segments that have their own: the
/// profile's counts less what those segments hold (their requests on the
/// arrival curve times their shares), so the whole replay reproduces the
/// whole log instead of counting those segments' endpoints twice. A profile
/// without counts (hand-written) keeps its weights.
pub fn residual_mix(profile: &Profile, own_mixes: &[(&Segment, Vec<f64>)]) -> Vec<f64> {
    let weights: Vec<f64> = profile.endpoints.iter().map(|e| e.weight).collect();
    if own_mixes.is_empty() || profile.endpoints.iter().all(|e| e.count == 0) {
        return weights;
    }
    let bin_s = u64::from(profile.arrival.bin_s.max(1));
    let in_segment = |s: &Segment| -> f64 {
        let (from, to) = ((s.start_s / bin_s) as usize, (s.end_s.div_ceil(bin_s) as usize).min(profile.arrival.counts.len()));
        profile.arrival.counts.get(from..to).map_or(0.0, |c| c.iter().map(|&n| n as f64).sum())
    };
    let mut residual: Vec<f64> = profile.endpoints.iter().map(|e| e.count as f64).collect();
    for (segment, shares) in own_mixes {
        let requests = in_segment(segment);
        for (r, share) in residual.iter_mut().zip(shares) {
            *r -= share * requests;
        }
    }
    let residual: Vec<f64> = residual.into_iter().map(|r| r.max(0.0)).collect();
    if residual.iter().sum::<f64>() > 0.0 { residual } else { weights }
}

/// The segments with their own mix, each with every endpoint's share of its requests.
pub fn own_mixes(profile: &Profile) -> Vec<(&Segment, Vec<f64>)> {
    let name_index: HashMap<(&str, &str), usize> =
        profile.endpoints.iter().enumerate().map(|(i, e)| ((e.method.as_str(), e.path.as_str()), i)).collect();
    profile
        .segments
        .iter()
        .filter_map(|s| {
            let weights = s.weights.as_ref()?;
            let mut shares = vec![0.0; profile.endpoints.len()];
            for (name, w) in weights {
                let (method, path) = name.split_once(' ')?;
                shares[*name_index.get(&(method, path))?] = w.max(0.0);
            }
            let total: f64 = shares.iter().sum();
            (total > 0.0).then(|| (s, shares.into_iter().map(|w| w / total).collect()))
        })
        .collect()
}
