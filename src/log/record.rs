//! `LogRecord`: one request as a log line told it, borrowed from the line.
//!
//! Every format parser produces this one shape. Fields the log did not carry
//! are `None`, never a made-up value: a Common Log Format line has no user
//! agent, an IIS line has no response size unless `sc-bytes` is logged.
//! Text fields are raw bytes (logs are not always UTF-8) and borrow from the
//! line unless an escape had to be undone.

use serde::Serialize;
use std::borrow::Cow;

/// A text field: borrowed from the line, owned only when unescaped.
pub type Text<'a> = Cow<'a, [u8]>;

/// One parsed request line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogRecord<'a> {
    /// When the request arrived (or was logged), microseconds since the Unix epoch, UTC.
    pub time_us: Option<i64>,
    pub method: Option<Text<'a>>,
    /// The path without its query string, as logged (still percent-encoded).
    pub path: Option<Text<'a>>,
    /// The query string without its leading `?`.
    pub query: Option<Text<'a>>,
    /// `HTTP/1.1`, `HTTP/2.0`…; `None` for HTTP/0.9 requests that name none.
    pub protocol: Option<Text<'a>>,
    pub status: Option<u16>,
    /// Response bytes sent to the client (body bytes where the log tells them apart).
    pub bytes: Option<u64>,
    /// Time taken to serve the request, microseconds.
    pub duration_us: Option<u64>,
    /// The client address (the original client when a forwarded-for list is logged).
    pub client: Option<Text<'a>>,
    /// The authenticated user, where logged.
    pub user: Option<Text<'a>>,
    pub user_agent: Option<Text<'a>>,
    pub referer: Option<Text<'a>>,
    /// The virtual host or authority the request was addressed to.
    pub host: Option<Text<'a>>,
}

impl LogRecord<'_> {
    /// A copy that owns its text, for tests, golden files and `replay parse`.
    pub fn to_owned_record(&self) -> OwnedRecord {
        fn text(field: &Option<Text<'_>>) -> Option<String> {
            field.as_ref().map(|bytes| String::from_utf8_lossy(bytes).into_owned())
        }
        OwnedRecord {
            time: self.time_us.map(format_time_us),
            method: text(&self.method),
            path: text(&self.path),
            query: text(&self.query),
            protocol: text(&self.protocol),
            status: self.status,
            bytes: self.bytes,
            duration_us: self.duration_us,
            client: text(&self.client),
            user: text(&self.user),
            user_agent: text(&self.user_agent),
            referer: text(&self.referer),
            host: text(&self.host),
        }
    }
}

/// A record that owns its fields, serialisable as one JSON object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct OwnedRecord {
    pub time: Option<String>,
    pub method: Option<String>,
    pub path: Option<String>,
    pub query: Option<String>,
    pub protocol: Option<String>,
    pub status: Option<u16>,
    pub bytes: Option<u64>,
    pub duration_us: Option<u64>,
    pub client: Option<String>,
    pub user: Option<String>,
    pub user_agent: Option<String>,
    pub referer: Option<String>,
    pub host: Option<String>,
}

/// RFC 3339 in UTC with as many fractional digits as the value needs.
pub fn format_time_us(time_us: i64) -> String {
    use chrono::{DateTime, SecondsFormat};
    match DateTime::from_timestamp_micros(time_us) {
        Some(time) => time.to_rfc3339_opts(SecondsFormat::AutoSi, true),
        None => format!("@{time_us}us"),
    }
}
