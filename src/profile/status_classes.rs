//! Status classes as production answered them, and the responses that differ.
//!
//! Each endpoint's statuses fold into five classes (1xx … 5xx). A response is
//! a **status mismatch** when its class is one production answered on that
//! endpoint less than [`RARE_SHARE`] of the time: a 302 where production
//! answered 200, a 404 where it never did. Endpoints whose profile holds no
//! statuses (hand-written ones) are not judged, nor are requests that got no
//! response at all (those are failures already).

use std::collections::BTreeMap;

/// A class production answered less often than this (1%) on an endpoint is not expected of it.
pub const RARE_SHARE: f64 = 0.01;

/// `1xx` … `5xx`, by class index.
pub const CLASS_NAMES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// The class index (0 for 1xx … 4 for 5xx) of a status; `None` outside 100–599.
pub fn class_of(status: u16) -> Option<usize> {
    (100..600).contains(&status).then(|| usize::from(status / 100 - 1))
}

/// Production's share of each class, from a profile's `status` shares (`"200": 0.97`).
/// `None` when the profile holds no statuses for the endpoint.
pub fn production_shares(status: &BTreeMap<String, f64>) -> Option<[f64; 5]> {
    let mut shares = [0.0; 5];
    for (code, share) in status {
        if let Some(class) = code.parse::<u16>().ok().and_then(class_of)
            && share.is_finite()
            && *share > 0.0
        {
            shares[class] += share;
        }
    }
    let total: f64 = shares.iter().sum();
    (total > 0.0).then(|| shares.map(|s| s / total))
}

/// The classes production answered at least [`RARE_SHARE`] of the time, as a bit mask (bit i: class i).
pub fn expected_mask(shares: &[f64; 5]) -> u8 {
    shares.iter().enumerate().filter(|(_, s)| **s >= RARE_SHARE).fold(0, |mask, (i, _)| mask | (1 << i))
}

/// Whether a response with `status` is a mismatch on an endpoint that expects `mask`.
pub fn mismatched(mask: Option<u8>, status: u16) -> bool {
    match (mask, class_of(status)) {
        (Some(mask), Some(class)) => mask & (1 << class) == 0,
        (Some(_), None) => true,
        (None, _) => false,
    }
}

/// Production's failed share (4xx and 5xx) of a run's requests, from each
/// endpoint's sent requests and production's class shares; `None` when no
/// endpoint sent has production statuses.
pub fn production_error_share<'a>(endpoints: impl Iterator<Item = (u64, Option<&'a [f64; 5]>)>) -> Option<f64> {
    let (mut judged, mut failed) = (0.0, 0.0);
    for (requests, shares) in endpoints {
        if let Some(shares) = shares {
            judged += requests as f64;
            failed += requests as f64 * (shares[3] + shares[4]);
        }
    }
    (judged > 0.0).then(|| failed / judged)
}

/// `2xx 97%, 3xx 3%`: the classes with a share, for tables.
pub fn shares_text(shares: &[f64; 5]) -> String {
    let parts: Vec<String> = shares
        .iter()
        .zip(CLASS_NAMES)
        .filter(|(s, _)| **s > 0.0)
        .map(|(s, name)| match s * 100.0 {
            p if p >= 99.95 => format!("{name} 100%"),
            p if p >= 1.0 => format!("{name} {p:.0}%"),
            p => format!("{name} {p:.1}%"),
        })
        .collect();
    if parts.is_empty() { "-".to_owned() } else { parts.join(", ") }
}

/// `2xx 97%, 3xx 3%` of counts by class.
pub fn counts_text(counts: &[u64; 5]) -> String {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return "-".to_owned();
    }
    shares_text(&counts.map(|c| c as f64 / total as f64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn a_class_production_rarely_answered_is_a_mismatch() {
        // (production's statuses, staging's status, mismatch?)
        let table: [(&[(&str, f64)], u16, bool); 9] = [
            (&[("200", 1.0)], 200, false),
            (&[("200", 1.0)], 204, false),
            // The classic: a redirect to the login page where production answered 200.
            (&[("200", 1.0)], 302, true),
            (&[("200", 1.0)], 401, true),
            (&[("200", 0.95), ("404", 0.05)], 404, false),
            (&[("200", 0.95), ("404", 0.05)], 410, false),
            // Production's 0.5% of 5xx is noise, not a class it answers.
            (&[("200", 0.995), ("503", 0.005)], 503, true),
            (&[("302", 1.0)], 200, true),
            (&[("200", 1.0)], 999, true),
        ];
        for (production, answered, want) in table {
            let mask = production_shares(&status(production)).map(|s| expected_mask(&s));
            assert_eq!(mismatched(mask, answered), want, "{production:?} answered {answered}");
        }
        // No statuses in the profile: nothing to judge.
        assert!(!mismatched(production_shares(&status(&[])).map(|s| expected_mask(&s)), 302));
        assert_eq!(production_shares(&status(&[("abc", 1.0), ("200", f64::NAN)])), None);
    }

    #[test]
    fn production_error_share_weighs_endpoints_by_requests_sent() {
        let ok = [0.0, 1.0, 0.0, 0.0, 0.0];
        let some_404 = [0.0, 0.8, 0.0, 0.2, 0.0];
        let share = production_error_share([(300, Some(&ok)), (100, Some(&some_404)), (50, None)].into_iter()).unwrap();
        assert!((share - 0.05).abs() < 1e-9, "{share}");
        assert_eq!(production_error_share([(10, None)].into_iter()), None);
        assert_eq!(shares_text(&some_404), "2xx 80%, 4xx 20%");
        assert_eq!(counts_text(&[0, 964, 1, 0, 0]), "2xx 100%, 3xx 0.1%");
    }
}
