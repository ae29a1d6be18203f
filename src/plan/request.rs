//! From a due time to a concrete request: which endpoint (by weight, the
//! segment's own mix where it has one), and its path, query and body with
//! every `{name}` filled from `--var` values or the profile's samples.
//!
//! All draws come from one seeded generator, so `--seed` reproduces the
//! sequence of requests exactly. Each template is split and each
//! placeholder bound to its values once, when the maker is built, so making
//! a request allocates only the request's own strings.
//!
//! A placeholder for a value derive redacted (`{token}`, `{code}`) that
//! `--var` does not fill gets fresh synthetic values of the real values'
//! shape (`synthetic.rs`), except in a session's login, whose credentials
//! are never made up; requests that carry one are counted as such.
//!
//! Placeholders that neither `--var` nor the profile can fill are found
//! before the run. An endpoint whose path or body needs one is left out of
//! the mix, and a query key that needs one is left off the requests that
//! carry it; both are named, as long as all of them together stand on less
//! than [`MATERIAL_SHARE`] of the traffic (a scanner's `?sig=…` in a real
//! log). Past that share, for a session's login, or with `--strict-vars`,
//! the run is refused and the error names every value to pass.

use super::RequestSpec;
use super::picker::Picker;
use super::synthetic::{Shape, fill as fill_shape};
pub use crate::profile::template::{Piece, pieces, placeholders};
use crate::profile::{Endpoint, Profile};
use crate::schedule::uniform;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::SeedableRng;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// Endpoints whose placeholders have no value are left out while together
/// they carry less than this share of requests; at or past it the run is refused.
pub const MATERIAL_SHARE: f64 = 0.01;

pub use super::vars::{Vars, vars_from_csv};

/// What fills a placeholder: values from `--var` or the profile's samples, or synthetic values of a shape.
#[derive(Debug, Clone)]
enum Values {
    /// Values given, and whether a session takes its own row of them (`--vars` rows, a login's values)
    /// rather than a draw per request.
    Given(Arc<[String]>, bool),
    Synthetic(Arc<[Shape]>),
}

/// A template's pieces: literal text, or a placeholder bound to its values.
#[derive(Debug, Clone)]
enum Part {
    Literal(String),
    Param(Values),
}

/// Splits `/users/{id}` into literals and placeholders bound by `bind`; `None` if one has no values.
fn parts(template: &str, bind: &impl Fn(&str) -> Option<Values>) -> Option<Vec<Part>> {
    let mut parts: Vec<Part> = Vec::new();
    for piece in pieces(template) {
        match piece {
            Piece::Literal(text) => match parts.last_mut() {
                Some(Part::Literal(last)) => last.push_str(text),
                _ => parts.push(Part::Literal(text.to_owned())),
            },
            Piece::Param(name) => parts.push(Part::Param(bind(name)?)),
        }
    }
    Some(parts)
}

#[derive(Debug, Clone)]
struct Query {
    key: String,
    share: f64,
    /// `None`: the key goes without a value.
    values: Option<Values>,
}

/// An endpoint ready to make requests from.
#[derive(Debug, Clone)]
struct Prepared {
    method: hyper::Method,
    /// The path template's parts; for the tail entry, each example's.
    paths: Vec<Vec<Part>>,
    query: Vec<Query>,
    body: Option<(String, Vec<Part>)>,
    /// Placeholders of the path, examples or body filled with synthetic values (for the tail, an
    /// upper bound: those of any example).
    synthetic: BTreeSet<String>,
}

/// Whether any of `parts` is filled with synthetic values.
fn has_synthetic(parts: &[Part]) -> bool {
    parts.iter().any(|p| matches!(p, Part::Param(Values::Synthetic(_))))
}

pub struct RequestMaker {
    endpoints: Vec<Prepared>,
    overall: Picker,
    /// (start_s, end_s, picker) for segments with their own mix.
    segments: Vec<(u64, u64, Picker)>,
    rng: ChaCha8Rng,
    made: u64,
    left_out: Vec<String>,
    synthetic: Vec<String>,
}

/// Values for `name` on endpoint `e`: `--var` first, then the profile's samples,
/// then (but for a login's credentials, or with `--strict-vars`) synthetic values of the shapes derive saw.
fn values(e: &Endpoint, vars: &Vars, name: &str, strict: bool) -> Option<Values> {
    if let Some(given) = vars.get(name).filter(|v| !v.is_empty()) {
        return Some(Values::Given(given.clone().into(), true));
    }
    if let Some(samples) = e.params.get(name).filter(|v| !v.is_empty()) {
        return Some(Values::Given(samples.clone().into(), e.once_per_session));
    }
    if e.once_per_session || strict {
        return None;
    }
    let shapes: Vec<Shape> = e.shapes.get(name)?.iter().filter_map(|s| Shape::parse(s).ok()).collect();
    (!shapes.is_empty()).then(|| Values::Synthetic(shapes.into()))
}

/// A query key sent without its value's placeholder filled is dropped from the requests that carry it.
struct DroppedKey {
    key: String,
    /// Its share of the endpoint's requests.
    share: f64,
    placeholder: String,
}

/// `e` made ready (with the query keys dropped for want of a value), or the
/// placeholders its path, body or examples need and nothing fills.
fn prepare(e: &Endpoint, vars: &Vars, strict: bool) -> Result<(Prepared, Vec<DroppedKey>), BTreeSet<String>> {
    let bind = |name: &str| values(e, vars, name, strict);
    let needs = |text: &str| placeholders(text).filter(|n| bind(n).is_none()).map(|n| format!("{{{n}}}")).collect::<BTreeSet<_>>();
    let mut missing = BTreeSet::new();
    let paths: Vec<Vec<Part>> = if e.tail && !e.examples.is_empty() {
        // The tail keeps the examples it can fill.
        let filled: Vec<Vec<Part>> = e.examples.iter().filter_map(|x| parts(x, &bind)).collect();
        if filled.is_empty() {
            e.examples.iter().for_each(|x| missing.extend(needs(x)));
        }
        filled
    } else {
        missing.extend(needs(&e.path));
        parts(&e.path, &bind).into_iter().collect()
    };
    let mut query = Vec::new();
    let mut dropped = Vec::new();
    if !e.tail {
        for q in &e.query {
            let values = match &q.placeholder {
                Some(p) => {
                    let name = p.trim_matches(['{', '}']);
                    match bind(name) {
                        Some(values) => Some(values),
                        None => {
                            dropped.push(DroppedKey { key: q.key.clone(), share: q.share, placeholder: format!("{{{name}}}") });
                            continue;
                        }
                    }
                }
                None if q.samples.is_empty() => None,
                None => Some(Values::Given(q.samples.clone().into(), false)),
            };
            query.push(Query { key: q.key.clone(), share: q.share, values });
        }
    }
    let body = match &e.body {
        Some(b) => {
            missing.extend(needs(&b.text));
            parts(&b.text, &bind).map(|p| (b.content_type.clone(), p))
        }
        None => None,
    };
    if !missing.is_empty() {
        return Err(missing);
    }
    let templates = e.examples.iter().filter(|_| e.tail).chain(std::iter::once(&e.path)).chain(e.body.iter().map(|b| &b.text));
    let synthetic = templates
        .flat_map(|t| placeholders(t).map(str::to_owned).collect::<Vec<_>>())
        .filter(|name| matches!(bind(name), Some(Values::Synthetic(_))))
        .collect();
    let method = match e.method.as_str() {
        "*" | "OTHER" => hyper::Method::GET,
        m => hyper::Method::from_bytes(m.as_bytes()).unwrap_or(hyper::Method::GET),
    };
    Ok((Prepared { method, paths, query, body, synthetic }, dropped))
}

/// What a placeholder without a value costs: the requests it is on, and what is left out for it.
struct Unfilled {
    share: f64,
    /// `{token} (in GET /a/{token})`, for the refusal.
    needs: Vec<String>,
    /// What is left out, for the run's output.
    left_out: String,
}

impl RequestMaker {
    /// Binds every placeholder; see the module doc for endpoints whose values are missing.
    pub fn new(profile: &Profile, vars: &Vars, seed: u64, strict: bool) -> Result<Self, String> {
        Self::build(profile, vars, seed, strict, false)
    }

    /// [`RequestMaker::new`] for virtual users: a login without values for its form is refused.
    pub fn for_sessions(profile: &Profile, vars: &Vars, seed: u64, strict: bool) -> Result<Self, String> {
        Self::build(profile, vars, seed, strict, true)
    }

    fn build(profile: &Profile, vars: &Vars, seed: u64, strict: bool, sessions: bool) -> Result<Self, String> {
        let mut endpoints = Vec::with_capacity(profile.endpoints.len());
        let mut usable = Vec::with_capacity(profile.endpoints.len());
        let mut unfilled: Vec<Unfilled> = Vec::new();
        let mut login_unfilled = false;
        let mut synthetic: BTreeMap<String, f64> = BTreeMap::new();
        for e in &profile.endpoints {
            let drawn = e.weight > 0.0 || e.once_per_session;
            let name = format!("{} {}", e.method, e.path);
            match prepare(e, vars, strict) {
                Ok((prepared, dropped)) => {
                    for d in dropped.into_iter().filter(|_| drawn) {
                        login_unfilled |= sessions && e.once_per_session;
                        unfilled.push(Unfilled {
                            share: e.weight * d.share,
                            needs: vec![format!("{} (in {name}?{}=)", d.placeholder, d.key)],
                            left_out: format!(
                                "the query key `{}` of {name} ({:.2}% of requests; no value for {})",
                                d.key,
                                e.weight * d.share * 100.0,
                                d.placeholder
                            ),
                        });
                    }
                    if drawn {
                        note_synthetic(e, &prepared, &mut synthetic);
                    }
                    endpoints.push(prepared);
                    usable.push(true);
                }
                Err(missing) => {
                    if drawn {
                        login_unfilled |= sessions && e.once_per_session;
                        let names: Vec<&str> = missing.iter().map(String::as_str).collect();
                        unfilled.push(Unfilled {
                            share: e.weight,
                            needs: missing.iter().map(|m| format!("{m} (in {name})")).collect(),
                            left_out: format!("{name} ({:.2}% of requests; no value for {})", e.weight * 100.0, names.join(", ")),
                        });
                    }
                    endpoints.push(Prepared {
                        method: hyper::Method::GET,
                        paths: vec![],
                        query: vec![],
                        body: None,
                        synthetic: BTreeSet::new(),
                    });
                    usable.push(false);
                }
            }
        }
        if let Some(refusal) = refusal(&unfilled, strict, login_unfilled) {
            return Err(refusal);
        }
        let left_out = unfilled.into_iter().map(|u| u.left_out).collect();
        let synthetic = synthetic.into_iter().map(|(name, share)| format!("{name} on {:.1}% of requests", share * 100.0)).collect();
        let (overall, segments) = pickers(profile, &usable, seed);
        Ok(RequestMaker { endpoints, overall, segments, rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed), made: 0, left_out, synthetic })
    }

    /// The endpoints left out for want of a value, each with its share and the values it needs.
    pub fn left_out(&self) -> &[String] {
        &self.left_out
    }

    /// The placeholders filled with synthetic values, each with the share of requests
    /// that carry one: `{token} on 98.0% of requests`.
    pub fn synthetic(&self) -> &[String] {
        &self.synthetic
    }

    /// The request for an endpoint drawn for profile time `profile_s`.
    pub fn next(&mut self, profile_s: u64) -> RequestSpec {
        self.next_as(profile_s, None)
    }

    /// [`RequestMaker::next`] for virtual user `user` (see [`RequestMaker::request_as`]).
    pub fn next_as(&mut self, profile_s: u64, user: Option<u64>) -> RequestSpec {
        let picker = match self.segments.iter_mut().find(|(start, end, _)| (*start..*end).contains(&profile_s)) {
            Some((_, _, picker)) => picker,
            None => &mut self.overall,
        };
        let index = picker.pick();
        self.request_as(index, user)
    }

    /// The request for endpoint `index` (a session's login, say).
    pub fn request(&mut self, index: usize) -> RequestSpec {
        self.request_as(index, None)
    }

    /// [`RequestMaker::request`] for virtual user `user`, who takes its own row of the values
    /// given per user (`--vars` rows, a login's samples) instead of a draw.
    pub fn request_as(&mut self, index: usize, user: Option<u64>) -> RequestSpec {
        let rng = &mut self.rng;
        let e = &self.endpoints[index];
        let mut target = String::with_capacity(64);
        let path = match e.paths.len() {
            0 => None,
            1 => Some(&e.paths[0]),
            n => Some(&e.paths[((uniform(rng) * n as f64) as usize).min(n - 1)]),
        };
        let mut synthetic = false;
        match path {
            Some(path) => {
                synthetic |= has_synthetic(path);
                fill(rng, user, path, &mut target);
            }
            None => target.push('/'),
        }
        let mut first = true;
        for q in &e.query {
            if uniform(rng) >= q.share {
                continue;
            }
            target.push(if first { '?' } else { '&' });
            first = false;
            target.push_str(&q.key);
            match &q.values {
                Some(Values::Given(values, per_user)) => {
                    let value = pick(rng, user.filter(|_| *per_user), values);
                    if !value.is_empty() {
                        target.push('=');
                        target.push_str(value);
                    }
                }
                Some(values @ Values::Synthetic(_)) => {
                    synthetic = true;
                    target.push('=');
                    fill_values(rng, user, values, &mut target);
                }
                None => {}
            }
        }
        let body = e.body.as_ref().map(|(content_type, parts)| {
            synthetic |= has_synthetic(parts);
            let mut text = String::new();
            fill(rng, user, parts, &mut text);
            (content_type.clone(), text)
        });
        let seq = self.made;
        self.made += 1;
        RequestSpec { seq, endpoint: index, method: e.method.clone(), target, body, synthetic }
    }
}

/// Why a run cannot start for want of values, if it cannot: values missing on a material share
/// of requests, for a session's login, or with `--strict-vars`. The error names every one.
fn refusal(unfilled: &[Unfilled], strict: bool, login_unfilled: bool) -> Option<String> {
    let share: f64 = unfilled.iter().map(|u| u.share).sum();
    if unfilled.is_empty() || !(strict || login_unfilled || share >= MATERIAL_SHARE) {
        return None;
    }
    let needs: BTreeSet<&String> = unfilled.iter().flat_map(|u| &u.needs).collect();
    let needs = needs.into_iter().map(String::as_str).collect::<Vec<_>>().join(", ");
    if login_unfilled && !strict {
        return Some(format!(
            "the sessions' login needs values the profile does not hold (logs keep no bodies): {needs}; \
             give each user's with --vars users.csv (a header naming them, one row per user; user k logs in with row k) \
             or --var name=value"
        ));
    }
    let why = if strict { "(--strict-vars)".to_owned() } else { format!("on {:.1}% of requests", share * 100.0) };
    Some(format!("the profile needs values it does not hold {why}: {needs}; pass them with --var name=value or --vars staging-values.csv"))
}

/// The draw for the timeline outside segments with their own mix, and one for each of those,
/// over the endpoints that are `usable` and drawn by weight.
fn pickers(profile: &Profile, usable: &[bool], seed: u64) -> (Picker, Vec<(u64, u64, Picker)>) {
    // A hand-written login (weight 0) is only sent first in sessions; one found in the logs is drawn by its share.
    let drawn = |i: usize, w: f64| {
        let e = &profile.endpoints[i];
        if usable[i] && !(e.once_per_session && e.weight <= 0.0) { w } else { 0.0 }
    };
    let own_mixes = super::mix::own_mixes(profile);
    // Each picker's sequence starts at a point of the seed's choosing.
    let mut starts = ChaCha8Rng::seed_from_u64(seed ^ 0x9e37);
    let overall =
        Picker::new(super::mix::residual_mix(profile, &own_mixes).into_iter().enumerate().map(|(i, w)| drawn(i, w)), uniform(&mut starts));
    let segments = own_mixes
        .iter()
        .filter_map(|(s, shares)| {
            let weights: Vec<f64> = shares.iter().enumerate().map(|(i, w)| drawn(i, *w)).collect();
            weights.iter().any(|&w| w > 0.0).then(|| (s.start_s, s.end_s, Picker::new(weights.into_iter(), uniform(&mut starts))))
        })
        .collect();
    (overall, segments)
}

fn choose<'a>(rng: &mut ChaCha8Rng, values: &'a [String]) -> &'a str {
    let i = ((uniform(rng) * values.len() as f64) as usize).min(values.len().saturating_sub(1));
    values.get(i).map_or("", String::as_str)
}

/// User `user`'s row of `values`, or a draw.
fn pick<'a>(rng: &mut ChaCha8Rng, user: Option<u64>, values: &'a [String]) -> &'a str {
    match user {
        Some(user) if !values.is_empty() => &values[(user % values.len() as u64) as usize],
        _ => choose(rng, values),
    }
}

fn fill_values(rng: &mut ChaCha8Rng, user: Option<u64>, values: &Values, out: &mut String) {
    match values {
        Values::Given(values, per_user) => out.push_str(pick(rng, user.filter(|_| *per_user), values)),
        Values::Synthetic(shapes) => {
            let i = ((uniform(rng) * shapes.len() as f64) as usize).min(shapes.len().saturating_sub(1));
            if let Some(shape) = shapes.get(i) {
                fill_shape(shape, rng, out);
            }
        }
    }
}

fn fill(rng: &mut ChaCha8Rng, user: Option<u64>, parts: &[Part], out: &mut String) {
    for part in parts {
        match part {
            Part::Literal(text) => out.push_str(text),
            Part::Param(values) => fill_values(rng, user, values, out),
        }
    }
}

/// Adds the placeholders `e` fills with synthetic values to `synthetic`, with the share of requests they are on.
fn note_synthetic(e: &Endpoint, prepared: &Prepared, synthetic: &mut BTreeMap<String, f64>) {
    for name in &prepared.synthetic {
        *synthetic.entry(format!("{{{name}}}")).or_default() += e.weight;
    }
    for q in prepared.query.iter().filter(|q| matches!(q.values, Some(Values::Synthetic(_)))) {
        let name = e.query.iter().find(|k| k.key == q.key).and_then(|k| k.placeholder.clone()).unwrap_or_else(|| format!("{{{}}}", q.key));
        *synthetic.entry(name).or_default() += e.weight * q.share;
    }
}

#[cfg(test)]
mod tests {

    use super::*;
    use crate::profile::load::parse;
    use std::collections::HashMap;

    const PROFILE: &str = r#"{"version": 1,
        "endpoints": [
            {"method": "GET", "path": "/users/{id}", "weight": 3, "params": {"id": ["7", "8"]},
             "query": [{"key": "tab", "share": 1.0, "samples": ["posts"]}, {"key": "token", "share": 1.0, "placeholder": "{token}"}]},
            {"method": "GET", "path": "/", "weight": 1},
            {"method": "POST", "path": "/login", "weight": 0, "once_per_session": true,
             "body": {"content_type": "application/x-www-form-urlencoded", "text": "username={username}&password={password}"}}
        ],
        "arrival": {"bin_s": 60, "counts": [10, 10]},
        "segments": [{"kind": "steady", "start_s": 60, "end_s": 120, "rps": 1, "weights": {"GET /": 1.0}}]}"#;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs.iter().map(|(k, v)| (k.to_string(), vec![v.to_string()])).collect()
    }

    #[test]
    fn fills_paths_queries_and_bodies() {
        let profile = parse(PROFILE, "p.json").unwrap();
        let mut maker = RequestMaker::new(&profile, &vars(&[("token", "T"), ("username", "u"), ("password", "p")]), 7, false).unwrap();
        let mut seen = HashMap::new();
        for _ in 0..4000 {
            let r = maker.next(0);
            *seen.entry(r.target.clone()).or_insert(0) += 1;
            assert_ne!(r.endpoint, 2, "a once-per-session endpoint is not drawn by weight");
        }
        let users = seen.iter().filter(|(t, _)| t.starts_with("/users/")).map(|(_, n)| n).sum::<i32>();
        assert!((2850..3150).contains(&users), "weight 3 of 4: {users}");
        assert!(seen.contains_key("/users/7?tab=posts&token=T") && seen.contains_key("/users/8?tab=posts&token=T"), "{seen:?}");
        // The second segment has its own mix: only GET /.
        assert!((0..100).all(|_| maker.next(90).target == "/"));
        let login = maker.request(2);
        assert_eq!((login.method.as_str(), login.body.unwrap().1.as_str()), ("POST", "username=u&password=p"));
        assert_eq!(placeholders("/a/{x}/b/{y}").collect::<Vec<_>>(), ["x", "y"]);
        // A log's own braces are written doubled and come back as braces; junk in braces is text.
        let literal =
            |t: &str| pieces(t).map(|p| if let Piece::Literal(l) = p { l.to_owned() } else { format!("<{p:?}>") }).collect::<String>();
        assert_eq!(literal("/sra_{{BA19-CD49}}/x"), "/sra_{BA19-CD49}/x");
        assert_eq!(literal("/cgi?x=${{IFS}}"), "/cgi?x=${IFS}");
        assert_eq!(literal("/%24{%40print(md5(x))}"), "/%24{%40print(md5(x))}");
        assert_eq!(literal("/a/{id"), "/a/{id");
        assert_eq!(placeholders("/{{id}}/{id}").collect::<Vec<_>>(), ["id"]);
    }

    #[test]
    fn a_login_is_never_given_made_up_credentials() {
        // Shapes derive saw for the login's form values are there, but a login takes only given values.
        let text = PROFILE.replace(
            r#""once_per_session": true,"#,
            r#""once_per_session": true, "shapes": {"username": ["{lower:5}"], "password": ["{alnum:12}"]},"#,
        );
        let profile = parse(&text, "p.json").unwrap();
        let err = RequestMaker::for_sessions(&profile, &vars(&[("token", "T")]), 7, false).err().unwrap();
        assert!(err.contains("{username} (in POST /login)") && err.contains("{password} (in POST /login)"), "{err}");
        assert!(err.contains("one row per user"), "{err}");
        // A plain run never sends a hand-written login (weight 0): nothing to refuse.
        assert!(RequestMaker::new(&profile, &vars(&[("token", "T")]), 7, false).is_ok());
        // The same shapes on an ordinary endpoint fill it.
        let ordinary = text.replace(r#""once_per_session": true, "#, "");
        let mut maker = RequestMaker::new(&parse(&ordinary, "p.json").unwrap(), &vars(&[("token", "T")]), 7, false).unwrap();
        let login = maker.request(2);
        assert!(
            login.synthetic && regex::Regex::new("^username=[a-z]{5}&password=[a-zA-Z0-9]{12}$").unwrap().is_match(&login.body.unwrap().1)
        );
    }

    #[test]
    fn missing_values_are_named_before_the_run() {
        let profile = parse(PROFILE, "p.json").unwrap();
        let err = RequestMaker::new(&profile, &vars(&[]), 7, false).err().unwrap();
        for name in ["{token} (in GET /users/{id}?token=)", "{username}", "--var"] {
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn rare_unfilled_placeholders_leave_their_endpoint_out_and_strict_refuses() {
        let rare = r#"{"version": 1,
            "endpoints": [{"method": "GET", "path": "/", "weight": 995},
                          {"method": "GET", "path": "/cgi-bin/{IFS}", "weight": 5},
                          {"method": "GET", "path": "/x/{junk}", "weight": 0}],
            "arrival": {"bin_s": 1, "counts": [10]}}"#;
        let profile = parse(rare, "r.json").unwrap();
        let mut maker = RequestMaker::new(&profile, &Vars::new(), 7, false).unwrap();
        assert_eq!(maker.left_out().len(), 1, "{:?}", maker.left_out());
        assert!(maker.left_out()[0].contains("GET /cgi-bin/{IFS} (0.50% of requests; no value for {IFS})"), "{:?}", maker.left_out());
        assert!((0..2000).all(|_| maker.next(0).target == "/"));
        let err = RequestMaker::new(&profile, &Vars::new(), 7, true).err().unwrap();
        assert!(err.contains("{IFS} (in GET /cgi-bin/{IFS})") && err.contains("--strict-vars"), "{err}");
        // Past the material share, the run is refused.
        let material = parse(&rare.replace("995", "95"), "m.json").unwrap();
        let err = RequestMaker::new(&material, &Vars::new(), 7, false).err().unwrap();
        assert!(err.contains("on 5.0% of requests"), "{err}");
        // A query key without a value goes without the key, on the share of requests that carry it.
        let query = r#"{"version": 1,
            "endpoints": [{"method": "GET", "path": "/search", "weight": 1,
                           "query": [{"key": "q", "share": 1.0, "samples": ["x"]}, {"key": "sig", "share": 0.005, "placeholder": "{sig}"}]}],
            "arrival": {"bin_s": 1, "counts": [10]}}"#;
        let mut maker = RequestMaker::new(&parse(query, "q.json").unwrap(), &Vars::new(), 7, false).unwrap();
        assert!(
            maker.left_out()[0].contains("the query key `sig` of GET /search (0.50% of requests; no value for {sig})"),
            "{:?}",
            maker.left_out()
        );
        assert!((0..1000).all(|_| maker.next(0).target == "/search?q=x"));
    }

    #[test]
    fn outside_its_own_segments_the_timeline_draws_what_was_left_there() {
        // A burst of /burst (600 requests in the first minute) and a quiet /page minute after it.
        let text = r#"{"version": 1,
            "endpoints": [{"method": "GET", "path": "/burst", "weight": 0.5, "count": 600},
                          {"method": "GET", "path": "/page", "weight": 0.5, "count": 600}],
            "arrival": {"bin_s": 60, "counts": [600, 600]},
            "segments": [{"kind": "bursty", "start_s": 0, "end_s": 60, "baseline_rps": 1, "peak_rps": 10, "weights": {"GET /burst": 1.0}},
                         {"kind": "steady", "start_s": 60, "end_s": 120, "rps": 10}]}"#;
        let profile = parse(text, "b.json").unwrap();
        let mut maker = RequestMaker::new(&profile, &Vars::new(), 7, false).unwrap();
        let mut burst = 0;
        for i in 0..1200u64 {
            burst += u32::from(maker.next(if i < 600 { 0 } else { 60 }).target == "/burst");
        }
        // The whole replay holds what the log held: 600 of each, not 900 bursts.
        assert_eq!(burst, 600);
    }

    #[test]
    fn the_same_seed_gives_the_same_requests() {
        let profile = parse(PROFILE, "p.json").unwrap();
        let v = vars(&[("token", "T"), ("username", "u"), ("password", "p")]);
        let a: Vec<_> = {
            let mut m = RequestMaker::new(&profile, &v, 1, false).unwrap();
            (0..50).map(|_| m.next(0)).collect()
        };
        let b: Vec<_> = {
            let mut m = RequestMaker::new(&profile, &v, 1, false).unwrap();
            (0..50).map(|_| m.next(0)).collect()
        };
        assert_eq!(a, b);
    }
}
