//! From a due time to a concrete request: which endpoint (by weight, the
//! segment's own mix where it has one), and its path, query and body with
//! every `{name}` filled from `--var` values or the profile's samples.
//!
//! All draws come from one seeded generator, so `--seed` reproduces the
//! sequence of requests exactly. Placeholders that neither `--var` nor the
//! profile can fill are found before the run starts and reported together.

use crate::profile::{Endpoint, Profile};
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};
use std::collections::{BTreeSet, HashMap};

/// One request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestSpec {
    /// The request's number in the run, from 0.
    pub seq: u64,
    /// Index into the profile's endpoints.
    pub endpoint: usize,
    pub method: String,
    /// Path and query, ready for the request line.
    pub target: String,
    /// (content type, body)
    pub body: Option<(String, String)>,
}

/// Values for placeholders: each name has one or more values, one drawn per request.
pub type Vars = HashMap<String, Vec<String>>;

#[derive(Debug, Clone)]
enum Part {
    Literal(String),
    Param(String),
}

/// Splits `/users/{id}/x` into literals and placeholders.
fn parts(template: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else { break };
        if open > 0 {
            parts.push(Part::Literal(rest[..open].to_owned()));
        }
        parts.push(Part::Param(rest[open + 1..close].to_owned()));
        rest = &rest[close + 1..];
    }
    if !rest.is_empty() {
        parts.push(Part::Literal(rest.to_owned()));
    }
    parts
}

/// Draws an index by weight.
#[derive(Debug, Clone)]
struct Picker {
    cumulative: Vec<f64>,
}

impl Picker {
    fn new(weights: impl Iterator<Item = f64>) -> Self {
        let mut total = 0.0;
        Picker {
            cumulative: weights
                .map(|w| {
                    total += w.max(0.0);
                    total
                })
                .collect(),
        }
    }
    fn pick(&self, uniform: f64) -> usize {
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let at = self.cumulative.partition_point(|&c| c <= uniform * total);
        at.min(self.cumulative.len().saturating_sub(1))
    }
}

pub struct RequestMaker {
    endpoints: Vec<Endpoint>,
    paths: Vec<Vec<Part>>,
    overall: Picker,
    /// (start_s, end_s, picker) for segments with their own mix.
    segments: Vec<(u64, u64, Picker)>,
    vars: Vars,
    rng: ChaCha8Rng,
    made: u64,
}

impl RequestMaker {
    /// Checks that every placeholder can be filled; the error lists those that cannot.
    pub fn new(profile: &Profile, vars: Vars, seed: u64) -> Result<Self, String> {
        let endpoints = profile.endpoints.clone();
        let paths: Vec<Vec<Part>> = endpoints.iter().map(|e| parts(&e.path)).collect();
        let mut missing = BTreeSet::new();
        for (e, path_parts) in endpoints.iter().zip(&paths) {
            if e.weight <= 0.0 && !e.once_per_session {
                continue;
            }
            let mut names: Vec<String> =
                path_parts.iter().filter_map(|p| if let Part::Param(n) = p { Some(n.clone()) } else { None }).collect();
            names.extend(e.query.iter().filter_map(|q| q.placeholder.as_ref().map(|p| p.trim_matches(['{', '}']).to_owned())));
            for text in e.examples.iter().chain(e.body.as_ref().map(|b| &b.text)) {
                names.extend(parts(text).into_iter().filter_map(|p| if let Part::Param(n) = p { Some(n) } else { None }));
            }
            for name in names {
                let sampled = e.params.get(&name).is_some_and(|s| !s.is_empty());
                if !sampled && !vars.contains_key(&name) {
                    missing.insert(format!("{{{name}}} (in {} {})", e.method, e.path));
                }
            }
        }
        if !missing.is_empty() {
            let names: Vec<String> = missing.into_iter().collect();
            return Err(format!(
                "the profile needs values it does not hold: {}; pass them with --var name=value or --vars staging-values.csv",
                names.join(", ")
            ));
        }
        let name_index: HashMap<String, usize> =
            endpoints.iter().enumerate().map(|(i, e)| (format!("{} {}", e.method, e.path), i)).collect();
        let drawn = |e: &Endpoint| if e.once_per_session { 0.0 } else { e.weight };
        let overall = Picker::new(endpoints.iter().map(drawn));
        let segments = profile
            .segments
            .iter()
            .filter_map(|s| {
                let weights = s.weights.as_ref()?;
                let mut by_index = vec![0.0; endpoints.len()];
                for (name, w) in weights {
                    by_index[*name_index.get(name)?] = *w;
                }
                Some((s.start_s, s.end_s, Picker::new(by_index.into_iter())))
            })
            .collect();
        Ok(RequestMaker { endpoints, paths, overall, segments, vars, rng: ChaCha8Rng::seed_from_u64(seed ^ 0x5eed), made: 0 })
    }

    fn uniform(&mut self) -> f64 {
        (self.rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn choose<'a>(&mut self, values: &'a [String]) -> &'a str {
        let i = ((self.uniform() * values.len() as f64) as usize).min(values.len().saturating_sub(1));
        values.get(i).map_or("", String::as_str)
    }

    fn value(&mut self, endpoint: usize, name: &str) -> String {
        if let Some(values) = self.vars.get(name).cloned() {
            return self.choose(&values).to_owned();
        }
        let samples = self.endpoints[endpoint].params.get(name).cloned().unwrap_or_default();
        self.choose(&samples).to_owned()
    }

    fn fill(&mut self, endpoint: usize, parts: &[Part]) -> String {
        let mut out = String::new();
        for part in parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Param(name) => {
                    let value = self.value(endpoint, name);
                    out.push_str(&value);
                }
            }
        }
        out
    }

    /// The request for an endpoint drawn for profile time `profile_s`.
    pub fn next(&mut self, profile_s: u64) -> RequestSpec {
        let u = self.uniform();
        let picker =
            self.segments.iter().find(|(start, end, _)| (*start..*end).contains(&profile_s)).map(|(_, _, p)| p).unwrap_or(&self.overall);
        let index = picker.pick(u);
        self.request(index)
    }

    /// The request for endpoint `index` (a session's login, say).
    pub fn request(&mut self, index: usize) -> RequestSpec {
        let e = &self.endpoints[index];
        let (method, tail) = (e.method.clone(), e.tail);
        let mut target = if tail && !e.examples.is_empty() {
            let examples = e.examples.clone();
            let example = self.choose(&examples).to_owned();
            self.fill(index, &parts(&example))
        } else {
            let parts = self.paths[index].clone();
            self.fill(index, &parts)
        };
        if !tail {
            let query = self.endpoints[index].query.clone();
            let mut first = true;
            for q in &query {
                if self.uniform() >= q.share {
                    continue;
                }
                let value = match &q.placeholder {
                    Some(p) => self.value(index, p.trim_matches(['{', '}'])),
                    None if q.samples.is_empty() => String::new(),
                    None => self.choose(&q.samples).to_owned(),
                };
                target.push(if first { '?' } else { '&' });
                first = false;
                target.push_str(&q.key);
                if !value.is_empty() {
                    target.push('=');
                    target.push_str(&value);
                }
            }
        }
        let method = if method == "*" || method == "OTHER" { "GET".to_owned() } else { method };
        let body = self.endpoints[index].body.clone().map(|b| {
            let text = self.fill(index, &parts(&b.text));
            (b.content_type, text)
        });
        let seq = self.made;
        self.made += 1;
        RequestSpec { seq, endpoint: index, method, target, body }
    }
}

/// Reads `--vars`: a CSV whose header names placeholders; each column's values are drawn from.
pub fn vars_from_csv(path: &std::path::Path) -> Result<Vars, String> {
    let mut reader = csv::Reader::from_path(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let headers: Vec<String> = reader.headers().map_err(|e| format!("{}: {e}", path.display()))?.iter().map(str::to_owned).collect();
    let mut vars: Vars = HashMap::new();
    for (line, row) in reader.records().enumerate() {
        let row = row.map_err(|e| format!("{}: row {}: {e}", path.display(), line + 2))?;
        for (name, value) in headers.iter().zip(row.iter()) {
            if !value.is_empty() {
                vars.entry(name.clone()).or_default().push(value.to_owned());
            }
        }
    }
    Ok(vars)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::load::parse;

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
        let mut maker = RequestMaker::new(&profile, vars(&[("token", "T"), ("username", "u"), ("password", "p")]), 7).unwrap();
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
    }

    #[test]
    fn missing_values_are_named_before_the_run() {
        let profile = parse(PROFILE, "p.json").unwrap();
        let err = RequestMaker::new(&profile, vars(&[]), 7).err().unwrap();
        for name in ["{token} (in GET /users/{id})", "{username}", "--var"] {
            assert!(err.contains(name), "{err}");
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_requests() {
        let profile = parse(PROFILE, "p.json").unwrap();
        let v = vars(&[("token", "T"), ("username", "u"), ("password", "p")]);
        let a: Vec<_> = {
            let mut m = RequestMaker::new(&profile, v.clone(), 1).unwrap();
            (0..50).map(|_| m.next(0)).collect()
        };
        let b: Vec<_> = {
            let mut m = RequestMaker::new(&profile, v, 1).unwrap();
            (0..50).map(|_| m.next(0)).collect()
        };
        assert_eq!(a, b);
    }
}
