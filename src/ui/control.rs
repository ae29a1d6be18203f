//! Starting runs from the page: the form's fields, their translation into
//! the command line a person would type (so a target or a threshold from
//! the browser passes the same validation as one from a shell), and the
//! [`Control`] the server calls, which the `replay ui` command implements.

use serde::{Deserialize, Serialize};

/// The form on the page, as it posts it (every field text, as typed).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Form {
    /// One of the profiles the server was given, by its position in the list.
    pub profile: usize,
    pub host: String,
    #[serde(default)]
    pub speed: String,
    #[serde(default)]
    pub duration: String,
    #[serde(default)]
    pub window: String,
    #[serde(default)]
    pub rate_scale: String,
    #[serde(default)]
    pub max_rps: String,
    /// One threshold a line.
    #[serde(default)]
    pub thresholds: String,
    #[serde(default)]
    pub sessions: bool,
}

/// Fields at most this long: a form is small.
const MAX_FIELD: usize = 4096;

impl Form {
    /// The flags after `replay run PROFILE` this form stands for, or what is wrong with it.
    pub fn flags(&self) -> Result<Vec<String>, String> {
        let mut flags = Vec::new();
        let fields = [
            ("target", &self.host, "--host"),
            ("speed", &self.speed, "--speed"),
            ("duration", &self.duration, "--duration"),
            ("window", &self.window, "--window"),
            ("rate scale", &self.rate_scale, "--rate-scale"),
            ("max rps", &self.max_rps, "--max-rps"),
        ];
        for (name, value, flag) in fields {
            let value = value.trim();
            if value.len() > MAX_FIELD {
                return Err(format!("{name}: longer than {MAX_FIELD} characters"));
            }
            if value.starts_with('-') {
                return Err(format!("{name}: `{value}` is not a value (it starts with `-`)"));
            }
            if !value.is_empty() {
                flags.push(flag.to_owned());
                flags.push(value.to_owned());
            }
        }
        if self.host.trim().is_empty() {
            return Err("target: give the URL to replay against (http://127.0.0.1:8080)".to_owned());
        }
        if self.thresholds.len() > MAX_FIELD {
            return Err(format!("thresholds: longer than {MAX_FIELD} characters"));
        }
        for line in self.thresholds.lines().map(str::trim).filter(|l| !l.is_empty()) {
            flags.push("--threshold".to_owned());
            flags.push(line.to_owned());
        }
        if self.sessions {
            flags.push("--sessions".to_owned());
        }
        Ok(flags)
    }
}

/// What the page may choose from, and what it starts with.
#[derive(Debug, Clone, Serialize)]
pub struct Choices {
    pub profiles: Vec<String>,
    /// The target given on the command line, if any.
    pub host: Option<String>,
}

/// Why a Start was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StartError {
    /// A run is going: one at a time.
    #[error("a run is already going ({0}); stop it or wait for it to end")]
    Busy(String),
    /// The form or what it names is wrong, in words.
    #[error("{0}")]
    Invalid(String),
}

/// What the server asks of whoever runs the replays.
pub trait Control: Send + Sync {
    fn choices(&self) -> Choices;
    /// `replay plan`'s figures for the form, or why it would be refused.
    fn plan(&self, form: &Form) -> Result<String, String>;
    /// Starts a run of the form; its run id.
    fn start(&self, form: &Form) -> Result<String, StartError>;
    /// Stops the run going, as Ctrl-C does; false when none is.
    fn stop(&self) -> bool;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_becomes_the_flags_a_person_would_type() {
        let form = Form {
            profile: 0,
            host: " http://127.0.0.1:8080 ".into(),
            speed: "60".into(),
            window: "1h..2h".into(),
            thresholds: "p99<300ms\n\n errors<1% \n".into(),
            sessions: true,
            ..Form::default()
        };
        assert_eq!(
            form.flags().unwrap(),
            [
                "--host",
                "http://127.0.0.1:8080",
                "--speed",
                "60",
                "--window",
                "1h..2h",
                "--threshold",
                "p99<300ms",
                "--threshold",
                "errors<1%",
                "--sessions"
            ]
        );
        let sneaky = Form { host: "http://x".into(), speed: "--insecure".into(), ..Form::default() };
        assert!(sneaky.flags().unwrap_err().contains("starts with `-`"));
        assert!(Form::default().flags().unwrap_err().starts_with("target:"));
    }
}
