//! `replay export --k6`: a profile as a k6 script.
//!
//! - A `ramping-arrival-rate` scenario whose stages follow the arrival curve
//!   at the speed asked: each stretch a zero-length stage (the jump) and a
//!   stage that holds its rate, so the stages add up to the curve.
//! - A weighted endpoint pick; parameters from the profile's samples;
//!   placeholders from `__ENV.REPLAY_VAR_<NAME>`, with an error naming it.
//! - Where the profile has sessions, a second scenario of users (login first,
//!   then tasks with the profile's think times), chosen with `REPLAY_SESSIONS=1`.
//! - `preAllocatedVUs` and `maxVUs` by Little's law: the peak rate times
//!   production's median (and, for the most, p99 or a second) latency.
//! - Thresholds in k6's syntax where k6 has the metric (`p99<300ms` →
//!   `http_req_duration: ['p(99)<300']`, per endpoint through its `name` tag).

use super::{Exported, python_str as js_str, think_points};
use crate::profile::{Endpoint, Profile};
use crate::verdict::threshold::{Metric, Threshold};
use std::fmt::Write;

/// k6 reshapes an arrival rate continuously; a stage of a millisecond is still one.
pub const TICK_S: f64 = 0.001;

fn endpoint(e: &Endpoint) -> String {
    let (params, query) = (super::samples_literal(e), super::query_literal(e, ("[", "]", "null")));
    let path = if e.tail { e.examples.first().map_or("/", String::as_str) } else { &e.path };
    let method = if e.method == "*" || e.method == "OTHER" { "GET" } else { &e.method };
    format!(
        "{{ name: {}, method: {}, path: {}, params: {params}, query: [{query}], body: {}, contentType: {} }}",
        js_str(&format!("{} {}", e.method, e.path)),
        js_str(method),
        js_str(path),
        e.body.as_ref().map_or("null".to_owned(), |b| js_str(&b.text)),
        e.body.as_ref().map_or("null".to_owned(), |b| js_str(&b.content_type)),
    )
}

/// A threshold in k6's syntax: (metric key, expression), or why k6 cannot judge it.
fn threshold(text: &str) -> Result<(String, String), String> {
    let t = Threshold::parse(text)?;
    if t.window.is_some() {
        return Err(format!("`{text}`: k6 judges the whole test, not windows"));
    }
    let ms = |us: f64| format!("{}", us / 1000.0);
    let op = t.condition().split(' ').next().unwrap_or("<").to_owned();
    let (metric, expression) = match t.metric {
        Metric::Quantile(q) => ("http_req_duration", format!("p({}){op}{}", q * 100.0, ms(t.limit))),
        Metric::Max => ("http_req_duration", format!("max{op}{}", ms(t.limit))),
        Metric::Mean => ("http_req_duration", format!("avg{op}{}", ms(t.limit))),
        Metric::Errors(None) => ("http_req_failed", format!("rate{op}{}", t.limit)),
        Metric::Errors(Some(_)) | Metric::NotSent | Metric::StatusMismatch | Metric::Rps => {
            return Err(format!("`{text}`: k6 has no such metric; judge it with replay"));
        }
    };
    let key = match &t.endpoint {
        Some(name) => format!("{metric}{{name:{name}}}"),
        None => metric.to_owned(),
    };
    Ok((key, expression))
}

/// `[{ target: 0, duration: '0s' }, …]`: a jump to each stretch's rate, then a hold.
fn stages(stages: &[(f64, f64)], unit: f64) -> String {
    let mut start = 0.0f64;
    let mut out = Vec::with_capacity(stages.len() * 2);
    for &(end, rate) in stages {
        let target = rate / unit;
        out.push(format!("{{ target: {target:.6}, duration: '0s' }}"));
        // Rounded at both ends, so the durations add up to the curve's length.
        let ms = ((end * 1000.0).round() - (start * 1000.0).round()) as u64;
        out.push(format!("{{ target: {target:.6}, duration: '{ms}ms' }}"));
        start = end;
    }
    format!("[{}]", out.join(", "))
}

pub fn script(profile: &Profile, exported: &Exported) -> String {
    let speed = exported.speed;
    let mut js = String::new();
    let _ = writeln!(js, "// A k6 script made by replay {} from {} at --speed {speed}.", env!("CARGO_PKG_VERSION"), exported.source);
    let _ = writeln!(js, "// Run it: REPLAY_HOST=https://staging.example.com k6 run script.js (REPLAY_SESSIONS=1 for the users scenario).");
    let _ = writeln!(js, "// Placeholders come from REPLAY_VAR_<NAME> (REPLAY_VAR_PASSWORD for {{password}}), else the profile's samples.");
    let _ = writeln!(js, "// What it cannot carry: {}.", exported.cannot_carry.join("; "));
    let mut judged = Vec::new();
    for text in &profile.thresholds {
        match threshold(text) {
            Ok(pair) => judged.push(pair),
            Err(why) => {
                let _ = writeln!(js, "// Left out: {why}.");
            }
        }
    }
    js.push_str("import http from 'k6/http';\nimport { sleep } from 'k6';\n\n");
    let drawn: Vec<&Endpoint> =
        profile.endpoints.iter().filter(|e| e.weight > 0.0 && !(e.once_per_session && profile.sessions.is_some())).collect();
    let total: f64 = drawn.iter().map(|e| e.weight).sum::<f64>().max(f64::MIN_POSITIVE);
    let _ = writeln!(js, "const ENDPOINTS = [\n{}\n];", drawn.iter().map(|e| format!("  {}", endpoint(e))).collect::<Vec<_>>().join(",\n"));
    let mut cumulative = 0.0;
    let cumulative: Vec<String> = drawn
        .iter()
        .map(|e| {
            cumulative += e.weight / total;
            format!("{cumulative:.9}")
        })
        .collect();
    let _ = writeln!(js, "const CUMULATIVE = [{}];", cumulative.join(", "));
    let login = profile.endpoints.iter().find(|e| e.once_per_session);
    let _ = writeln!(js, "const LOGIN = {};", login.map_or("null".to_owned(), endpoint));
    let sessions = profile.sessions.as_ref();
    let think = sessions.and_then(|s| s.think_time_s);
    let _ =
        writeln!(js, "const THINK = {};", think.map_or("null".to_owned(), |q| think_points(&q, speed).replace('(', "[").replace(')', "]")));
    let length = sessions.and_then(|s| s.length).map_or(1.0, |q| q.p50.max(1.0)).min(crate::plan::sessions::MAX_SESSION_STEPS as f64);
    let _ = writeln!(js, "const SESSION_LENGTH = {};", length.round() as u64);
    // Little's law: the rate times the time a request is in flight.
    let latency = |f: fn(&crate::profile::Quantiles) -> f64| -> f64 {
        profile.endpoints.iter().filter_map(|e| e.latency_ms.as_ref().map(|q| e.weight * f(q) / 1000.0)).sum::<f64>()
    };
    let (typical_s, slow_s) = (latency(|q| q.p50).max(0.1), latency(|q| q.p99).max(1.0));
    let peak = exported.stages.iter().map(|(_, r)| *r).fold(0.0, f64::max);
    let pre = ((peak * typical_s * 2.0).ceil() as u64).max(1);
    let most = ((peak * slow_s).ceil() as u64).max(pre);
    let requests = format!(
        "{{ executor: 'ramping-arrival-rate', exec: 'requests', startRate: 0, timeUnit: '1s', preAllocatedVUs: {pre}, maxVUs: {most}, stages: {} }}",
        stages(&exported.stages, 1.0)
    );
    let users = format!(
        "{{ executor: 'ramping-arrival-rate', exec: 'session', startRate: 0, timeUnit: '1s', preAllocatedVUs: {pre}, maxVUs: {most}, stages: {} }}",
        stages(&exported.stages, length)
    );
    let _ = writeln!(js, "\nexport const options = {{");
    if sessions.is_some() {
        let _ = writeln!(js, "  scenarios: __ENV.REPLAY_SESSIONS ? {{ users: {users} }} : {{ requests: {requests} }},");
    } else {
        let _ = writeln!(js, "  scenarios: {{ requests: {requests} }},");
    }
    let thresholds: Vec<String> = judged.iter().map(|(k, v)| format!("{}: [{}]", js_str(k), js_str(v))).collect();
    let _ = writeln!(js, "  thresholds: {{ {} }},\n}};", thresholds.join(", "));
    js.push_str(FUNCTIONS);
    js
}

const FUNCTIONS: &str = r#"
const HOST = (__ENV.REPLAY_HOST || '').replace(/\/$/, '');

function value(name, samples) {
  const variable = 'REPLAY_VAR_' + name.toUpperCase().replace(/-/g, '_');
  if (__ENV[variable] !== undefined) return __ENV[variable];
  if (samples && samples.length) return samples[Math.floor(Math.random() * samples.length)];
  throw new Error('the profile needs a value for {' + name + '}: set ' + variable);
}

function fill(template, samples) {
  return template.replace(/\{\{|\}\}|\{([A-Za-z0-9_-]+)\}/g, (m, name) => (m === '{{' ? '{' : m === '}}' ? '}' : value(name, samples[name])));
}

function queryString(keys) {
  const parts = [];
  for (const [key, share, samples, placeholder] of keys) {
    if (Math.random() >= share) continue;
    if (placeholder !== null) parts.push(key + '=' + value(placeholder, []));
    else if (samples.length) parts.push(key + '=' + samples[Math.floor(Math.random() * samples.length)]);
    else parts.push(key);
  }
  return parts.length ? '?' + parts.join('&') : '';
}

function draw(points) {
  const u = Math.random();
  for (let i = 1; i < points.length; i++) {
    const [q0, v0] = points[i - 1];
    const [q1, v1] = points[i];
    if (u <= q1) return q1 > q0 ? v0 + ((v1 - v0) * (u - q0)) / (q1 - q0) : v1;
  }
  return points[points.length - 1][1];
}

function send(e) {
  if (!HOST) throw new Error('set REPLAY_HOST to the target, e.g. REPLAY_HOST=https://staging.example.com');
  const url = HOST + fill(e.path, e.params) + queryString(e.query);
  const body = e.body === null ? null : fill(e.body, e.params);
  const headers = e.contentType === null ? {} : { 'Content-Type': e.contentType };
  return http.request(e.method, url, body, { headers, tags: { name: e.name } });
}

function pick() {
  const u = Math.random();
  const i = CUMULATIVE.findIndex((c) => u < c);
  return ENDPOINTS[i < 0 ? ENDPOINTS.length - 1 : i];
}

export function requests() {
  send(pick());
}

export function session() {
  let steps = SESSION_LENGTH;
  if (LOGIN !== null) {
    send(LOGIN);
    steps -= 1;
  }
  for (let i = 0; i < steps; i++) {
    if (THINK !== null) sleep(draw(THINK));
    send(pick());
  }
}
"#;
