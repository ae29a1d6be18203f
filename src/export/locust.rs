//! `replay export --locust`: a profile as a runnable locustfile.
//!
//! - An `HttpUser` with one `@task` per endpoint, weighted by the mix (weights
//!   in thousandths, at least 1 for any endpoint that has a share).
//! - `on_start` logs in where the profile has a once-per-session endpoint.
//! - `wait_time` from the profile's think times (`constant`, `between`, or
//!   the profile's own distribution drawn as replay draws it), divided by the speed;
//!   without sessions, `constant_throughput(1)`: each user sends a request a second.
//! - A `LoadTestShape` that follows the arrival curve at the speed asked: per
//!   bin, the users that send its rate by Little's law (rate × the time a task
//!   takes: the think time, or a second).
//! - Parameters drawn from the profile's samples; placeholders from
//!   `REPLAY_VAR_<NAME>` environment variables, with an error naming the
//!   variable when one is needed and unset.
//! - Thresholds are checked when the test quits (Locust has no threshold
//!   language) and set the exit code.

use super::{Exported, python_str, think_points};
use crate::profile::{Endpoint, Profile};
use std::fmt::Write;

/// Locust reshapes a test once a second: stages shorter than that would be skipped.
pub const TICK_S: f64 = 1.0;

/// Locust task weights are whole numbers: shares in thousandths, at least 1 for any endpoint that has a share.
fn task_weight(weight: f64) -> u64 {
    if weight <= 0.0 { 0 } else { ((weight * 1000.0).round() as u64).max(1) }
}

fn samples(e: &Endpoint) -> String {
    super::samples_literal(e)
}

fn query(e: &Endpoint) -> String {
    format!("[{}]", super::query_literal(e, ("(", ")", "None")))
}

/// The request call for endpoint `e`, indented for a method body.
fn request(e: &Endpoint) -> String {
    let name = format!("{} {}", e.method, e.path);
    let body = match &e.body {
        Some(b) => {
            format!(", data=fill({}, {}), headers={{\"Content-Type\": {}}}", python_str(&b.text), samples(e), python_str(&b.content_type))
        }
        None => String::new(),
    };
    format!(
        "        self.client.request({}, fill({}, {}) + query_string({}), name={}{body})\n",
        python_str(if e.method == "*" || e.method == "OTHER" { "GET" } else { &e.method }),
        python_str(if e.tail { e.examples.first().map_or("/", String::as_str) } else { &e.path }),
        samples(e),
        query(e),
        python_str(&name)
    )
}

pub fn locustfile(profile: &Profile, exported: &Exported) -> String {
    let speed = exported.speed;
    let mut py = String::new();
    let _ = writeln!(py, "# A locustfile made by replay {} from {} at --speed {speed}.", env!("CARGO_PKG_VERSION"), exported.source);
    let _ = writeln!(py, "# Run it: locust -f locustfile.py --headless --host https://staging.example.com");
    let _ = writeln!(py, "# Placeholders come from REPLAY_VAR_<NAME> (REPLAY_VAR_PASSWORD for {{password}}), else the profile's samples.");
    let _ = writeln!(py, "# What it cannot carry: {}.", exported.cannot_carry.join("; "));
    py.push_str(PRELUDE);
    let think = profile.sessions.as_ref().and_then(|s| s.think_time_s);
    let cycle_s = match think {
        Some(q) => crate::plan::sessions::mean_of(Some(q), 1.0) / speed,
        None => 1.0,
    };
    let _ = writeln!(
        py,
        "\nTHINK = {}  # (quantile, seconds), drawn as replay draws it",
        think.map_or("None".to_owned(), |q| think_points(&q, speed))
    );
    let stages: Vec<String> = exported
        .stages
        .iter()
        .map(|(end_s, rps)| format!("({end_s:.3}, {})", ((rps * cycle_s).ceil() as u64).max(u64::from(*rps > 0.0))))
        .collect();
    let _ = writeln!(py, "STAGES = [{}]  # (ends at s, users): the arrival curve by Little's law", stages.join(", "));
    let _ = writeln!(py, "THRESHOLDS = [{}]", profile.thresholds.iter().map(|t| python_str(t)).collect::<Vec<_>>().join(", "));
    py.push_str("\n\nclass ReplayUser(HttpUser):\n");
    match think {
        Some(q) if q.min.is_some() && q.min == q.max => {
            let _ = writeln!(py, "    wait_time = constant({:.6})", q.p50 / speed);
        }
        Some(_) => py.push_str("    def wait_time(self):\n        return draw(THINK)\n"),
        None => py.push_str("    wait_time = constant_throughput(1)\n"),
    }
    if let Some(login) = profile.endpoints.iter().find(|e| e.once_per_session) {
        py.push_str("\n    def on_start(self):\n");
        py.push_str(&request(login));
    }
    for (i, e) in profile.endpoints.iter().enumerate() {
        let weight = task_weight(e.weight);
        if weight == 0 || (e.once_per_session && profile.sessions.is_some()) {
            continue;
        }
        let _ = write!(py, "\n    @task({weight})\n    def endpoint_{i}(self):\n");
        py.push_str(&request(e));
    }
    py.push_str(SHAPE);
    py
}

const PRELUDE: &str = r#"
import os
import random
import re

from locust import HttpUser, LoadTestShape, constant, constant_throughput, events, task

PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([A-Za-z0-9_-]+)\}")


def value(name, samples):
    given = os.environ.get("REPLAY_VAR_" + name.upper().replace("-", "_"))
    if given is not None:
        return given
    if samples:
        return random.choice(samples)
    raise RuntimeError("the profile needs a value for {%s}: set REPLAY_VAR_%s" % (name, name.upper().replace("-", "_")))


def fill(template, samples):
    def one(m):
        if m.group(0) == "{{":
            return "{"
        if m.group(0) == "}}":
            return "}"
        return value(m.group(1), samples.get(m.group(1), []))
    return PLACEHOLDER.sub(one, template)


def query_string(keys):
    parts = []
    for key, share, samples, placeholder in keys:
        if random.random() >= share:
            continue
        if placeholder is not None:
            parts.append(key + "=" + value(placeholder, []))
        elif samples:
            parts.append(key + "=" + random.choice(samples))
        else:
            parts.append(key)
    return ("?" + "&".join(parts)) if parts else ""


def draw(points):
    u = random.random()
    for (q0, v0), (q1, v1) in zip(points, points[1:]):
        if u <= q1:
            return v0 + (v1 - v0) * (u - q0) / (q1 - q0) if q1 > q0 else v1
    return points[-1][1]
"#;

const SHAPE: &str = r#"

class ReplayShape(LoadTestShape):
    """Users per bin of the arrival curve; the test ends with the curve."""

    def tick(self):
        elapsed = self.get_run_time()
        for end_s, users in STAGES:
            if elapsed < end_s:
                return (users, max(users, 1))
        return None


@events.quitting.add_listener
def judge(environment, **_kwargs):
    """Locust has no threshold language: the profile's thresholds are checked here and set the exit code."""
    stats = environment.stats.total
    for threshold in THRESHOLDS:
        m = re.fullmatch(r"\s*(p\d+(?:\.\d+)?|errors)\s*<\s*([\d.]+)\s*(ms|s|%)\s*", threshold)
        if not m:
            print("replay: threshold %r is not one Locust can judge; judge it with replay" % threshold)
            continue
        metric, limit, unit = m.group(1), float(m.group(2)), m.group(3)
        if metric == "errors":
            measured, holds = stats.fail_ratio * 100, stats.fail_ratio * 100 < limit
        else:
            measured = stats.get_response_time_percentile(float(metric[1:]) / 100)
            holds = measured < limit * (1000 if unit == "s" else 1)
        if not holds:
            print("replay: threshold %s failed: measured %.1f" % (threshold, measured))
            environment.process_exit_code = 1
"#;
