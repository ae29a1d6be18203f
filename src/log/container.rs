//! Access logs as container runtimes store them: each line wrapped by the
//! runtime, the server's own line inside.
//!
//! ```text
//! Docker json-file:  {"log":"10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] \"GET / HTTP/1.1\" 200 5\n","stream":"stdout","time":"2026-10-10T13:55:36.1Z"}
//! CRI (containerd):  2026-10-10T13:55:36.123456789Z stdout F 10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET / HTTP/1.1" 200 5
//! ```
//!
//! Kubernetes nodes keep pod logs this way (`/var/log/pods/…`), and log
//! shippers forward the Docker form with the line under `message`. The
//! wrapper is recognised from the first lines; the line inside is read by
//! the format detected (or given as `--format docker:combined`,
//! `--format cri:nginx:…`) for it. A line the runtime split (CRI's `P`,
//! partial) or a wrapper around something else is skipped.

use super::{Handed, LineError, LineParser, LogRecord, Parsed, Text};
use serde::Deserialize;
use std::borrow::Cow;

/// How a runtime wraps a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrapper {
    /// Docker's json-file driver: `{"log": "…\n", "stream": "stdout", "time": "…"}` (`message` for `log` once shipped).
    DockerJson,
    /// The CRI format of containerd and CRI-O: `<RFC 3339 time> <stream> <F|P> <line>`.
    Cri,
}

impl Wrapper {
    pub fn name(self) -> &'static str {
        match self {
            Wrapper::DockerJson => "docker",
            Wrapper::Cri => "cri",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Wrapper::DockerJson => "Docker json-file lines",
            Wrapper::Cri => "CRI (containerd) lines",
        }
    }
}

#[derive(Deserialize)]
struct DockerLine {
    log: Option<String>,
    message: Option<String>,
    stream: Option<String>,
    time: Option<String>,
}

/// The line inside `line`, if `wrapper` wraps it; `Ok(None)` for a line the wrapper holds but that
/// is no whole log line (a CRI partial), `Err` when `line` is not of that wrapper at all.
pub fn unwrap(wrapper: Wrapper, line: &[u8]) -> Result<Option<Cow<'_, [u8]>>, &'static str> {
    match wrapper {
        Wrapper::DockerJson => {
            let parsed: DockerLine = serde_json::from_slice(line).map_err(|_| "a Docker json-file line")?;
            if parsed.stream.is_none() && parsed.time.is_none() {
                return Err("a Docker json-file line (with `stream` or `time`)");
            }
            let text = parsed.log.or(parsed.message).ok_or("a Docker json-file line (with `log` or `message`)")?;
            let text = text.trim_end_matches(['\n', '\r']);
            Ok(Some(Cow::Owned(text.as_bytes().to_vec())))
        }
        Wrapper::Cri => {
            let mut parts = line.splitn(4, |&b| b == b' ');
            let (Some(time), Some(stream), Some(tag), Some(rest)) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
                return Err("a CRI line: <time> <stream> <F|P> <line>");
            };
            if super::fields::iso_time_field(time).is_none() || !matches!(stream, b"stdout" | b"stderr") {
                return Err("a CRI line: <time> <stream> <F|P> <line>");
            }
            match tag {
                b"F" => Ok(Some(Cow::Borrowed(rest))),
                b"P" => Ok(None),
                _ => Err("a CRI line's F or P tag"),
            }
        }
    }
}

/// Which wrapper, if any, wraps most of `sample`.
pub fn detect(sample: &[&[u8]]) -> Option<Wrapper> {
    let lines: Vec<&[u8]> = sample.iter().map(|l| l.trim_ascii()).filter(|l| !l.is_empty()).collect();
    [Wrapper::DockerJson, Wrapper::Cri]
        .into_iter()
        .find(|&w| !lines.is_empty() && lines.iter().filter(|l| unwrap(w, l).is_ok()).count() * 10 >= lines.len() * 9)
}

fn owned(text: Option<Text<'_>>) -> Option<Text<'static>> {
    text.map(|t| Cow::Owned(t.into_owned()))
}

/// A record that owns its text: the line it came from was unwrapped into a buffer of its own.
fn into_owned(r: LogRecord<'_>) -> LogRecord<'static> {
    LogRecord {
        time_us: r.time_us,
        method: owned(r.method),
        path: owned(r.path),
        query: owned(r.query),
        protocol: owned(r.protocol),
        status: r.status,
        bytes: r.bytes,
        duration_us: r.duration_us,
        client: owned(r.client),
        user: owned(r.user),
        user_agent: owned(r.user_agent),
        referer: owned(r.referer),
        host: owned(r.host),
    }
}

/// Unwraps each line and reads it with the inner format's parser.
pub struct WrappedParser {
    pub wrapper: Wrapper,
    pub inner: Box<dyn LineParser>,
}

impl WrappedParser {
    /// The line inside `line`'s wrapper, or what `line` is when it holds none: a skip, or a
    /// reject that names the wrapper's column.
    fn inner_of<'a>(&self, line: &'a [u8]) -> Result<Cow<'a, [u8]>, Handed> {
        let trimmed = super::trim_line(line);
        if trimmed.is_empty() {
            return Err(Handed::Skip);
        }
        match unwrap(self.wrapper, trimmed) {
            Err(expected) => Err(Handed::Reject(LineError::at(line, trimmed, expected))),
            Ok(None) => Err(Handed::Skip),
            Ok(Some(inner)) => Ok(inner),
        }
    }
}

impl LineParser for WrappedParser {
    fn parse<'a>(&mut self, line: &'a [u8]) -> Parsed<'a> {
        match self.inner_of(line) {
            Err(Handed::Reject(error)) => Parsed::Reject(error),
            Err(_) => Parsed::Skip,
            Ok(Cow::Borrowed(inner)) => self.inner.parse(inner),
            Ok(Cow::Owned(inner)) => match self.inner.parse(&inner) {
                Parsed::Record(record) => Parsed::Record(into_owned(record)),
                Parsed::Skip => Parsed::Skip,
                // The column counts inside the unwrapped line: where in it the inner format broke.
                Parsed::Reject(error) => Parsed::Reject(error),
            },
        }
    }

    /// The inner format's record, handed on as it reads it: an unwrapped line that had to be
    /// unescaped is read from its copy, which outlives the handing.
    fn parse_and_take(&mut self, line: &[u8], take: &mut dyn FnMut(&LogRecord<'_>)) -> Handed {
        match self.inner_of(line) {
            Ok(inner) => self.inner.parse_and_take(&inner, take),
            Err(handed) => handed,
        }
    }

    fn clone_box(&self) -> Box<dyn LineParser> {
        Box::new(WrappedParser { wrapper: self.wrapper, inner: self.inner.clone_box() })
    }

    fn is_stateful(&self) -> bool {
        self.inner.is_stateful()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::Format;

    #[test]
    fn lines_inside_runtime_wrappers_read_as_their_own_format() {
        let inner = r#"10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET /a?b=1 HTTP/1.1" 200 5 "-" "curl/8""#;
        let docker = serde_json::json!({"log": format!("{inner}\n"), "stream": "stdout", "time": "2026-10-10T13:55:36.1Z"}).to_string();
        let shipped = serde_json::json!({"message": format!("{inner}\n"), "stream": "stdout", "kubernetes": {"pod": "x"}}).to_string();
        let cri = format!("2026-10-10T13:55:36.123456789Z stdout F {inner}");
        for (line, wrapper) in
            [(docker.as_str(), Wrapper::DockerJson), (shipped.as_str(), Wrapper::DockerJson), (cri.as_str(), Wrapper::Cri)]
        {
            assert_eq!(detect(&[line.as_bytes()]), Some(wrapper), "{line}");
            let mut parser = WrappedParser { wrapper, inner: Format::Combined.parser().unwrap() };
            let Parsed::Record(r) = parser.parse(line.as_bytes()) else { panic!("{line}") };
            let r = r.to_owned_record();
            assert_eq!(
                (r.path.as_deref(), r.query.as_deref(), r.status, r.user_agent.as_deref()),
                (Some("/a"), Some("b=1"), Some(200), Some("curl/8"))
            );
        }
        // A CRI partial line is skipped; a line of another kind is rejected; plain lines are no wrapper.
        let mut parser = WrappedParser { wrapper: Wrapper::Cri, inner: Format::Combined.parser().unwrap() };
        assert_eq!(parser.parse(b"2026-10-10T13:55:36Z stdout P 10.0.0.1 - - [10/Oct"), Parsed::Skip);
        assert!(matches!(parser.parse(b"hello there"), Parsed::Reject(_)));
        assert_eq!(detect(&[inner.as_bytes()]), None);
        assert_eq!(detect(&[br#"{"message": "app started", "level": "info"}"#.as_slice()]), None);
    }
}
