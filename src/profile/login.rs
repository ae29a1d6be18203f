//! The login a log's sessions open with, and the form it sends.
//!
//! A login is a POST whose path reads as one (`/login`, `/signin`,
//! `/auth/...`, `/session`, `/oauth/token`…), that opens nine in ten of the
//! sessions it appears in, appears once in each, and opens at least ten
//! sessions of more than one request. A POST that opens sessions but is
//! named otherwise (`/papi/v1/expresscart/verify`) is not taken for one: a
//! login changes how `run --sessions` starts each user and what it refuses
//! to run without.
//!
//! Logs hold no bodies, so a derived login gets a form template with named
//! placeholders: `--login-form` when given, else the field names its logged
//! query keys show (`?email=…&pass=…`), else
//! `username={username}&password={password}`. `run --sessions` refuses to
//! start users without values for them (see `plan::request`).

use super::wire::{Body, Endpoint, Sessions};
use std::collections::BTreeMap;

/// The form a login sends when nothing names its fields.
pub const DEFAULT_FORM: &str = "username={username}&password={password}";

const FORM_TYPE: &str = "application/x-www-form-urlencoded";

/// Words in a path that make a POST read as a login.
const LOGIN_WORDS: [&str; 10] = ["login", "log-in", "log_in", "logon", "signin", "sign-in", "sign_in", "auth", "session", "token"];

/// Field names that hold a user's name, and those that hold a password, as query keys show them.
const USER_FIELDS: [&str; 7] = ["username", "user", "login", "email", "user_name", "userid", "account"];
const PASSWORD_FIELDS: [&str; 5] = ["password", "pass", "passwd", "pwd", "secret"];

/// Whether `path` reads as a login page or API (`/login`, `/users/sign_in`, `/oauth/token`).
pub fn looks_like_login(path: &str) -> bool {
    let path = path.split(['?', '#']).next().unwrap_or(path).to_ascii_lowercase();
    LOGIN_WORDS.iter().any(|w| path.contains(w))
}

/// The login among a profile's flows (see the module doc), as `METHOD /template`.
pub fn find_login(sessions: &Sessions) -> Option<String> {
    let mut stats: BTreeMap<&str, (u64, u64, u64)> = BTreeMap::new(); // (containing, opening, repeated)
    for flow in sessions.flows.iter().filter(|f| f.steps.len() > 1) {
        for (i, step) in flow.steps.iter().enumerate() {
            if flow.steps[..i].contains(step) {
                continue;
            }
            let entry = stats.entry(step.as_str()).or_default();
            entry.0 += flow.count;
            entry.1 += if i == 0 { flow.count } else { 0 };
            entry.2 += if flow.steps.iter().filter(|s| *s == step).count() > 1 { flow.count } else { 0 };
        }
    }
    stats
        .into_iter()
        .filter(|(name, (containing, opening, repeated))| {
            name.strip_prefix("POST ").is_some_and(looks_like_login)
                && *opening >= 10
                && *opening * 10 >= *containing * 9
                && *repeated * 20 <= *containing
        })
        .max_by_key(|(_, (_, opening, _))| *opening)
        .map(|(name, _)| name.to_owned())
}

/// The body `login` sends: `form` (from `--login-form`) when given, else
/// the fields its query keys name, else [`DEFAULT_FORM`]. A form that
/// opens with `{` is sent as JSON.
pub fn login_body(login: &Endpoint, form: Option<&str>) -> Body {
    let text = match form {
        Some(form) => form.to_owned(),
        None => {
            let named = |fields: &[&str]| {
                login.query.iter().map(|q| q.key.to_ascii_lowercase()).find(|k| fields.contains(&k.as_str())).map(|k| k.to_owned())
            };
            match (named(&USER_FIELDS), named(&PASSWORD_FIELDS)) {
                (Some(user), Some(password)) => format!("{user}={{{user}}}&{password}={{{password}}}"),
                _ => DEFAULT_FORM.to_owned(),
            }
        }
    };
    let content_type = if text.trim_start().starts_with('{') { "application/json" } else { FORM_TYPE };
    Body { content_type: content_type.to_owned(), text }
}

/// Checks a `--login-form` template: it names at least one placeholder, and its placeholders are names.
pub fn check_form(form: &str) -> Result<(), String> {
    let names: Vec<&str> = super::template::placeholders(form).collect();
    if names.is_empty() {
        return Err(format!(
            "--login-form `{form}` names no value to fill; write the fields with placeholders, e.g. '{DEFAULT_FORM}' or '{{\"email\": \"{{email}}\", \"password\": \"{{password}}\"}}'"
        ));
    }
    Ok(())
}

/// Marks the login of `sessions` among `endpoints` as sent once per session, with its form.
/// Returns its name, if there is one.
pub fn mark(endpoints: &mut [Endpoint], sessions: Option<&Sessions>, form: Option<&str>) -> Option<String> {
    let login = sessions.and_then(find_login)?;
    for e in endpoints.iter_mut().filter(|e| format!("{} {}", e.method, e.path) == login) {
        e.once_per_session = true;
        if e.body.is_none() {
            e.body = Some(login_body(e, form));
        }
        // The form's values come from `--vars`, never from what the log's query held.
        e.query.retain(|q| q.placeholder.is_none());
    }
    Some(login)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::profile::wire::{Flow, QueryKey};

    fn sessions(flows: &[(&[&str], u64)]) -> Sessions {
        Sessions {
            key: "user".into(),
            gap_s: 1800,
            count: flows.iter().map(|f| f.1).sum(),
            arrival: None,
            length: None,
            duration_s: None,
            think_time_s: None,
            time_resolution_s: None,
            flows: flows
                .iter()
                .map(|(steps, count)| Flow { steps: steps.iter().map(|s| s.to_string()).collect(), count: *count, share: 0.0 })
                .collect(),
        }
    }

    #[test]
    fn a_login_is_a_post_named_as_one_that_opens_its_sessions() {
        let table: [(&[&str], Option<&str>); 6] = [
            (&["POST /login", "GET /"], Some("POST /login")),
            (&["POST /users/sign_in", "GET /"], Some("POST /users/sign_in")),
            (&["POST /oauth/token", "GET /api"], Some("POST /oauth/token")),
            // Opens every session, but is not named as a login (a real log's cart check).
            (&["POST /papi/v1/expresscart/verify", "GET /"], None),
            (&["GET /login", "GET /"], None),
            (&["GET /", "POST /login"], None),
        ];
        for (steps, want) in table {
            assert_eq!(find_login(&sessions(&[(steps, 20)])).as_deref(), want, "{steps:?}");
        }
        // Fewer than ten sessions open with it: not enough to tell.
        assert_eq!(find_login(&sessions(&[(&["POST /login", "GET /"], 9)])), None);
        // Repeated within its sessions: a form post, not a login.
        assert_eq!(find_login(&sessions(&[(&["POST /login", "GET /", "POST /login"], 20)])), None);
        assert!(!looks_like_login("/papi/v1/expresscart/verify") && looks_like_login("/api/v2/Auth/Login?next=/"));
    }

    #[test]
    fn the_form_names_the_fields_the_log_shows_or_the_classic_ones() {
        let mut login = Endpoint::new("POST", "/login", 0.01);
        assert_eq!(login_body(&login, None).text, DEFAULT_FORM);
        assert_eq!(login_body(&login, None).content_type, FORM_TYPE);
        for key in ["email", "pass", "next"] {
            login.query.push(QueryKey { key: key.into(), share: 1.0, samples: vec![], placeholder: Some(format!("{{{key}}}")) });
        }
        assert_eq!(login_body(&login, None).text, "email={email}&pass={pass}");
        let json = login_body(&login, Some(r#"{"user": "{user}", "pin": "{pin}"}"#));
        assert_eq!((json.content_type.as_str(), json.text.as_str()), ("application/json", r#"{"user": "{user}", "pin": "{pin}"}"#));
        assert!(check_form("user=a&pass=b").unwrap_err().contains("names no value"));
        assert!(check_form("user={user}").is_ok());
        let mut endpoints = vec![login, Endpoint::new("GET", "/", 0.99)];
        let found = mark(&mut endpoints, Some(&sessions(&[(&["POST /login", "GET /"], 20)])), None);
        assert_eq!(found.as_deref(), Some("POST /login"));
        assert!(endpoints[0].once_per_session && endpoints[0].body.is_some() && !endpoints[1].once_per_session);
        // The logged credentials' query keys go: the form carries them.
        assert_eq!(endpoints[0].query.len(), 0);
    }
}
