//! A session load sized in concurrent users, as Locust sizes a test: `N`
//! users, started `spawn_rate` a second until all walk, each replaced as it
//! finishes. By Little's law a steady `N` needs `N / D` new users a second
//! when a session lasts `D` seconds; this computes, second by second, the
//! users started (the profile's `sessions.arrival`) and the requests they
//! send (its `arrival`), so `run --sessions` keeps `N` walking and a plain run
//! sends what they would.

/// Users started and requests sent in each bin of `bin_s` seconds over `over_s` seconds.
pub struct UserCurves {
    pub starts: Vec<u64>,
    pub requests: Vec<u64>,
}

/// `users` at once, started `spawn_rate` a second (all at once without one), each walking
/// `session_s` seconds and sending `per_session` requests over them.
pub fn curves(users: u32, spawn_rate: Option<f64>, session_s: f64, per_session: f64, over_s: u64, bin_s: u32) -> UserCurves {
    let seconds = over_s as usize;
    let users = f64::from(users);
    let target = |t: f64| spawn_rate.map_or(users, |rate| (rate * t).min(users));
    // A session lasts a whole number of seconds here, at least one.
    let lasts = (session_s.round() as usize).max(1);
    let mut started = vec![0.0f64; seconds];
    for k in 0..seconds {
        let joining = target(k as f64 + if spawn_rate.is_some() { 1.0 } else { 0.0 }) - if k == 0 { 0.0 } else { target(k as f64) };
        let replacing = if k >= lasts { started[k - lasts] } else { 0.0 };
        started[k] = joining.max(0.0) + replacing;
    }
    let mut walking = 0.0;
    let per_second = per_session / lasts as f64;
    let requests: Vec<f64> = (0..seconds)
        .map(|k| {
            walking += started[k] - if k >= lasts { started[k - lasts] } else { 0.0 };
            walking * per_second
        })
        .collect();
    UserCurves { starts: binned(&started, bin_s), requests: binned(&requests, bin_s) }
}

/// Per-second amounts summed into bins, rounded so the running total stays true.
fn binned(per_second: &[f64], bin_s: u32) -> Vec<u64> {
    let (mut wanted, mut given) = (0.0f64, 0u64);
    per_second
        .chunks(bin_s.max(1) as usize)
        .map(|bin| {
            wanted += bin.iter().sum::<f64>();
            let now = (wanted.round() as u64).saturating_sub(given);
            given += now;
            now
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_ramp_at_the_spawn_rate_then_stay_at_their_number() {
        // 20 users, 2 a second, sessions of 60 s and 21 requests, over 10 minutes in 10 s bins.
        let c = curves(20, Some(2.0), 60.0, 21.0, 600, 10);
        assert_eq!(c.starts.len(), 60);
        // The first 10 s start all 20; each is replaced a minute later.
        assert_eq!((c.starts[0], c.starts[1], c.starts[6]), (20, 0, 20));
        assert_eq!(c.starts.iter().sum::<u64>(), 200, "20 users, each a minute, for ten minutes");
        // Little's law: 20 users sending 21 requests a minute is 7 a second, 70 a bin once all walk.
        assert!(c.requests[3..].iter().all(|&r| (69..=71).contains(&r)), "{:?}", c.requests);
        // Without a spawn rate, all start at once.
        assert_eq!(curves(5, None, 30.0, 10.0, 60, 1).starts[0], 5);
    }
}
