//! Profiles made from a shape instead of logs, for services with no logs yet
//! (`replay profile --shape ramp --from 10 --to 500 --over 10m --endpoint 'GET /'`).
//!
//! The curve is computed exactly (no noise) in bins, and its segments are
//! found by the same detection `derive` uses, so a synthetic profile reads
//! like a derived one.

use super::segments::segments;
use super::wire::{Arrival, Body, Endpoint, Flow, Profile, Quantiles, Sessions, VERSION};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// `rps` throughout.
    Steady { rps: f64 },
    /// A straight climb (or fall) from `from` to `to`.
    Ramp { from: f64, to: f64 },
    /// `rps`, with bursts of `peak` for `burst_s` seconds every `every_s` seconds.
    Bursty { rps: f64, peak: f64, every_s: u64, burst_s: u64 },
    /// A day's curve: lowest (`from`) at 04:00, highest (`to`) at 16:00.
    Daily { from: f64, to: f64 },
    /// `users` walking at once, started `spawn_rate` a second (see `users.rs`).
    Users { users: u32, spawn_rate: Option<f64> },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SynthSpec {
    pub shape: Shape,
    pub over_s: u64,
    pub bin_s: u32,
    /// (`METHOD /path`, relative weight)
    pub endpoints: Vec<(String, f64)>,
    /// A `METHOD /path` sent once at the start of each session, with a form body.
    pub login: Option<String>,
    pub think: super::think::Think,
    /// Requests a session makes after its login, drawn by weight (a Locust user's tasks, repeated).
    pub session_requests: usize,
}

fn rate_at(shape: Shape, t: f64, over: f64) -> f64 {
    match shape {
        Shape::Steady { rps } => rps,
        Shape::Ramp { from, to } => from + (to - from) * t / over,
        Shape::Bursty { rps, peak, every_s, burst_s } => {
            let phase = t as u64 % every_s.max(1);
            // The first burst comes half a period in, so the curve opens at its baseline.
            if (every_s / 2..every_s / 2 + burst_s).contains(&phase) { peak } else { rps }
        }
        // Users are sized by Little's law in `users.rs`, not by a rate.
        Shape::Users { .. } => 0.0,
        Shape::Daily { from, to } => {
            let hour = (t / 3600.0) % 24.0;
            let phase = (hour - 4.0) / 24.0 * std::f64::consts::TAU;
            from + (to - from) * (1.0 - phase.cos()) / 2.0
        }
    }
}

fn split_endpoint(spec: &str) -> Result<(String, String), String> {
    let (method, path) = spec.trim().split_once(' ').ok_or_else(|| format!("`{spec}` is not `METHOD /path`, e.g. 'GET /users/{{id}}'"))?;
    let path = path.trim();
    if !path.starts_with('/') || method.is_empty() || !method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(format!("`{spec}` is not `METHOD /path`, e.g. 'GET /users/{{id}}'"));
    }
    Ok((method.to_ascii_uppercase(), path.to_owned()))
}

/// `GET /=2` → (`GET /`, 2); the weight defaults to 1.
pub fn parse_endpoint(spec: &str) -> Result<(String, f64), String> {
    let (name, weight) = match spec.rsplit_once('=') {
        Some((name, w)) if w.trim().parse::<f64>().is_ok() => (name, w.trim().parse::<f64>().unwrap_or(1.0)),
        _ => (spec, 1.0),
    };
    if !(weight.is_finite() && weight >= 0.0) {
        return Err(format!("`{spec}`: the weight must be 0 or more"));
    }
    let (method, path) = split_endpoint(name)?;
    Ok((format!("{method} {path}"), weight))
}

pub fn synthesize(spec: &SynthSpec) -> Result<Profile, String> {
    if spec.endpoints.is_empty() {
        return Err("give at least one --endpoint, e.g. --endpoint 'GET /'".into());
    }
    if spec.bin_s == 0 || spec.over_s < u64::from(spec.bin_s) {
        return Err(format!("--over ({} s) must be at least one bin ({} s)", spec.over_s, spec.bin_s));
    }
    let bins = spec.over_s.div_ceil(u64::from(spec.bin_s)) as usize;
    let bin = f64::from(spec.bin_s);
    let per_session = (spec.session_requests + usize::from(spec.login.is_some())) as f64;
    let session_s = spec.session_requests as f64 * spec.think.mean_s();
    let user_curves = match spec.shape {
        Shape::Users { users, spawn_rate } => {
            Some(super::users::curves(users, spawn_rate, session_s, per_session, spec.over_s, spec.bin_s))
        }
        _ => None,
    };
    let counts: Vec<u64> = match &user_curves {
        Some(c) => c.requests.clone(),
        None => {
            (0..bins).map(|i| (rate_at(spec.shape, (i as f64 + 0.5) * bin, spec.over_s as f64).max(0.0) * bin).round() as u64).collect()
        }
    };
    let total: f64 = spec.endpoints.iter().map(|(_, w)| w).sum();
    if total <= 0.0 {
        return Err("all endpoint weights are zero".into());
    }
    let mut endpoints: Vec<Endpoint> = spec.endpoints.iter().map(|(name, w)| endpoint(name, w / total, false)).collect::<Result<_, _>>()?;
    let mut sessions = None;
    if spec.login.is_some() || user_curves.is_some() {
        // Every session opens with the login, if there is one; its other requests are drawn by
        // weight, as a Locust user picks its tasks, for the session's length.
        let mut steps = Vec::new();
        if let Some(login) = &spec.login {
            let mut login_endpoint = endpoint(login, 0.0, true)?;
            login_endpoint.body = Some(Body {
                content_type: "application/x-www-form-urlencoded".into(),
                text: "username={username}&password={password}".into(),
            });
            // Sample values, so the profile runs as made; `--vars` gives staging's own users.
            login_endpoint.params.insert("username".into(), (1..=5).map(|i| format!("replay-user-{i}")).collect());
            login_endpoint.params.insert("password".into(), vec!["replay-password".into()]);
            steps.push(format!("{} {}", login_endpoint.method, login_endpoint.path));
            endpoints.push(login_endpoint);
        }
        let constant = |v: f64| Quantiles { min: Some(v), p10: Some(v), p25: Some(v), max: Some(v), ..Quantiles::new(v, v, v) };
        sessions = Some(Sessions {
            key: "synthetic".into(),
            gap_s: 1800,
            count: 0,
            arrival: user_curves.as_ref().map(|c| Arrival { bin_s: spec.bin_s, counts: c.starts.clone() }),
            length: Some(constant(per_session)),
            duration_s: Some(constant(session_s)),
            think_time_s: Some(spec.think.quantiles()),
            time_resolution_s: None,
            flows: if steps.is_empty() { vec![] } else { vec![Flow { steps, count: 0, share: 1.0 }] },
        });
    }
    let segments = segments(&counts, spec.bin_s);
    Ok(Profile {
        version: VERSION,
        source: None,
        endpoints,
        arrival: Arrival { bin_s: spec.bin_s, counts },
        segments,
        sessions,
        thresholds: Vec::new(),
    })
}

fn endpoint(name: &str, weight: f64, once_per_session: bool) -> Result<Endpoint, String> {
    let (method, path) = split_endpoint(name)?;
    Ok(Endpoint { once_per_session, ..Endpoint::new(&method, &path, weight) })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::SegmentKind;

    fn spec(shape: Shape, over_s: u64, bin_s: u32) -> SynthSpec {
        SynthSpec {
            shape,
            over_s,
            bin_s,
            endpoints: vec![("GET /".into(), 2.0), ("GET /profile".into(), 1.0)],
            login: None,
            think: crate::profile::think::Think { min_s: 3.0, max_s: 3.0 },
            session_requests: 20,
        }
    }

    #[test]
    fn shapes_give_their_curves_and_segments() {
        let steady = synthesize(&spec(Shape::Steady { rps: 10.0 }, 600, 60)).unwrap();
        assert_eq!(steady.arrival.counts, vec![600; 10]);
        assert_eq!(steady.segments.iter().map(|s| s.kind).collect::<Vec<_>>(), [SegmentKind::Steady]);
        let ramp = synthesize(&spec(Shape::Ramp { from: 10.0, to: 500.0 }, 600, 1)).unwrap();
        assert_eq!((ramp.arrival.counts[0], ramp.arrival.counts[599]), (10, 500));
        assert_eq!(ramp.segments.iter().map(|s| s.kind).collect::<Vec<_>>(), [SegmentKind::Ramp]);
        let bursty = synthesize(&spec(Shape::Bursty { rps: 20.0, peak: 200.0, every_s: 300, burst_s: 10 }, 600, 1)).unwrap();
        assert_eq!(bursty.arrival.counts.iter().filter(|&&c| c == 200).count(), 20);
        assert!(bursty.segments.iter().all(|s| s.kind == SegmentKind::Bursty));
        let daily = synthesize(&spec(Shape::Daily { from: 5.0, to: 100.0 }, 86_400, 60)).unwrap();
        let counts = &daily.arrival.counts;
        assert_eq!(counts.len(), 1440);
        let peak = counts.iter().enumerate().max_by_key(|(_, c)| **c).unwrap().0;
        assert!((950..=970).contains(&peak), "peak bin {peak}");
        assert!((steady.endpoints[0].weight - 2.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn login_is_once_per_session_with_a_form() {
        let mut s = spec(Shape::Steady { rps: 1.0 }, 60, 1);
        s.login = Some("POST /login".into());
        let profile = synthesize(&s).unwrap();
        let login = profile.endpoints.iter().find(|e| e.path == "/login").unwrap();
        assert!(login.once_per_session && login.body.is_some() && login.weight == 0.0);
        assert!(login.params["username"].len() == 5 && login.params["password"] == ["replay-password"], "the form runs without --var");
        // A session opens with the login, then repeats its tasks by weight for its length, as a Locust user.
        let sessions = profile.sessions.unwrap();
        assert_eq!(sessions.flows[0].steps, ["POST /login"]);
        assert_eq!((sessions.length.unwrap().p50, sessions.length.unwrap().min), (21.0, Some(21.0)));
        assert_eq!(sessions.think_time_s.unwrap().min, Some(3.0));
    }

    #[test]
    fn bad_specs_say_what_to_write() {
        assert!(parse_endpoint("/nomethod").unwrap_err().contains("METHOD /path"));
        assert_eq!(parse_endpoint("get /a=2.5").unwrap(), ("GET /a".to_owned(), 2.5));
        assert_eq!(parse_endpoint("GET /a?b=c").unwrap(), ("GET /a?b=c".to_owned(), 1.0));
        let mut s = spec(Shape::Steady { rps: 1.0 }, 10, 60);
        assert!(synthesize(&s).unwrap_err().contains("--over"));
        s.endpoints.clear();
        s.over_s = 600;
        assert!(synthesize(&s).unwrap_err().contains("--endpoint"));
    }
}
