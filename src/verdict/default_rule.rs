//! The default verdict: what fails a run that was given no threshold.
//!
//! A replay is meant to make staging receive production's traffic, so with
//! no threshold a run fails when staging answered materially worse than
//! production did, not only when nothing got through:
//!
//! - **a session's login failed** (`login_failed`): its users went on
//!   without being logged in, so nothing after it replayed production;
//! - **errors** (failed requests of any class) exceed production's own
//!   failed share for the same mix of endpoints by more than
//!   [`MARGIN`] (5 percentage points) plus three standard errors of that
//!   share over the requests sent;
//! - **status mismatches** (responses in a class production answered on
//!   their endpoint less than 1% of the time: a 302 where it answered 200)
//!   exceed the same margin.
//!
//! Why 5 points: staging is not production. Its data differ (an id sampled
//! from production's log may be a 404 there), and a short CI run's shares
//! are noisy; five points of the traffic is past what those explain, and
//! well under what a broken login, a missing route or a redirect loop on
//! any endpoint that matters does (the Locust example without its login
//! gave 34%). The three standard errors keep a run of a few hundred
//! requests from failing on chance. Anything stricter is a threshold away:
//! `errors<1%`, `status_mismatch<1%`.

use crate::profile::status_classes::production_error_share;
use crate::report::json::Results;

/// How far past production's own rates a run may go before the default verdict fails it.
pub const MARGIN: f64 = 0.05;

/// The allowance over `expected` for a share measured on `n` requests.
fn allowance(expected: f64, n: u64) -> f64 {
    MARGIN + 3.0 * (expected * (1.0 - expected) / n.max(1) as f64).sqrt()
}

/// Why the default verdict fails `results`, if it does (empty when it passes).
pub fn reasons(results: &Results) -> Vec<String> {
    let t = &results.totals;
    let mut reasons = Vec::new();
    if let Some(&logins) = results.failures.get("login_failed").filter(|n| **n > 0) {
        let example = results.failure_examples.get("login_failed").map_or(String::new(), |e| format!(": {e}"));
        reasons.push(format!(
            "{} failed{example}; its users went on without it (check the values given with --vars)",
            crate::units::count(logins, "session login")
        ));
    }
    if t.requests == 0 {
        return reasons;
    }
    let shares: Vec<Option<[f64; 5]>> = results.endpoints.iter().map(|e| e.production_shares()).collect();
    let production = production_error_share(results.endpoints.iter().zip(&shares).map(|(e, s)| (e.requests, s.as_ref()))).unwrap_or(0.0);
    let errors = t.failures as f64 / t.requests as f64;
    if errors > production + allowance(production, t.requests) {
        reasons.push(format!(
            "{:.1}% of requests failed where production failed {:.1}% of the same mix (the default verdict allows {:.1} points more; set thresholds to judge otherwise)",
            errors * 100.0,
            production * 100.0,
            allowance(production, t.requests) * 100.0
        ));
    }
    let mismatches = t.status_mismatches as f64 / t.requests as f64;
    if mismatches > allowance(0.0, t.requests) {
        let worst = results.endpoints.iter().max_by_key(|e| e.status_mismatches).filter(|e| e.status_mismatches > 0);
        let worst = worst.map_or(String::new(), |e| {
            format!(
                ", most on {} {} ({} of them: staging answered {}, production {})",
                e.method,
                e.path,
                e.status_mismatches,
                crate::profile::status_classes::counts_text(&e.class_counts()),
                e.production_shares().map_or("-".to_owned(), |s| crate::profile::status_classes::shares_text(&s))
            )
        });
        reasons.push(format!(
            "{:.1}% of responses came in a status class production rarely answered there{worst} (the default verdict allows {:.0}%; set thresholds to judge otherwise)",
            mismatches * 100.0,
            MARGIN * 100.0
        ));
    }
    reasons
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::json::{EndpointResult, Millis, Results, Totals};
    use std::collections::BTreeMap;

    fn results(requests: u64, failures: u64, mismatches: u64, production_errors: f64, logins_failed: u64) -> Results {
        let millis = Millis { p50: 1.0, p90: 1.0, p99: 1.0, max: 1.0, mean: 1.0 };
        let mut production = BTreeMap::new();
        production.insert("2xx".to_owned(), 1.0 - production_errors);
        if production_errors > 0.0 {
            production.insert("4xx".to_owned(), production_errors);
        }
        let endpoint = EndpointResult {
            method: "GET".into(),
            path: "/".into(),
            intended: requests,
            requests,
            failures,
            rps: 1.0,
            latency_ms: millis,
            production_latency_ms: None,
            failures_by_class: BTreeMap::new(),
            statuses: BTreeMap::new(),
            production_statuses: production,
            status_mismatches: mismatches,
            bytes: 0,
            histogram: String::new(),
        };
        let mut failures_by_class = BTreeMap::new();
        if logins_failed > 0 {
            failures_by_class.insert("login_failed".to_owned(), logins_failed);
        }
        let json = serde_json::json!({
            "version": 3, "target": "t", "started": "s", "duration_s": 1.0, "trustworthy": true, "interrupted": false,
            "warnings": [], "failures": failures_by_class, "status": {}, "latency_ms": millis, "service_ms": millis,
            "schedule_lag_ms": millis, "endpoints": [endpoint], "histograms": {},
            "totals": Totals { intended: requests, requests, not_sent: 0, failures, held_back: 0, retried: 0, synthetic: 0,
                               status_mismatches: mismatches, users: 0, steps_cut_off: 0 },
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn the_default_verdict_allows_productions_own_rates_and_five_points() {
        // (requests, failed, mismatched, production's failed share, logins failed, fails?)
        let table = [
            (1000, 0, 0, 0.0, 0, false),
            // Production failed 10%: staging at 14% is within its rate, five points and three standard errors (2.8).
            (1000, 140, 0, 0.10, 0, false),
            (1000, 190, 0, 0.10, 0, true),
            // From a clean production, 6% fails; a few hundred requests get their noise allowed.
            (1000, 60, 0, 0.0, 0, true),
            (200, 9, 0, 0.0, 0, false),
            // The Locust example without its login: 34% errors, every answer unlike production's.
            (1457, 493, 1457, 0.0, 0, true),
            // Mismatches alone: 4% passes, 6% fails.
            (1000, 0, 40, 0.0, 0, false),
            (1000, 0, 60, 0.0, 0, true),
            // One failed login fails the run, whatever the rates.
            (1000, 1, 1, 0.0, 1, true),
        ];
        for (requests, failed, mismatched, production, logins, fails) in table {
            let reasons = reasons(&results(requests, failed, mismatched, production, logins));
            assert_eq!(!reasons.is_empty(), fails, "{requests} {failed} {mismatched} {production} {logins}: {reasons:?}");
        }
        let why = reasons(&results(1457, 493, 1457, 0.0, 0));
        assert!(why[0].contains("33.8% of requests failed where production failed 0.0%"), "{why:?}");
        assert!(why[1].contains("most on GET /"), "{why:?}");
    }
}
