//! JSON-lines access logs: Caddy, Envoy, Traefik, Cloudflare Logpush, Google
//! Cloud HTTP(S) load balancer (`httpRequest`) and App Engine request logs
//! (`protoPayload`), recognised by their field names, and any other JSON
//! through a user's mapping.
//!
//! ```text
//! {"ts":1716723772.6,"request":{"method":"GET","uri":"/a?b=1",...},"status":200,"size":12,"duration":0.003}
//! --format 'json:time=ts,method=verb,path=uri,status=code,duration=dur_ms'
//! ```
//! A prefix before the object (`caddy  | {...}` from docker compose) is
//! ignored. JSON objects with no request fields (a server's own messages)
//! are skipped, not rejected.

use super::fields::{self, Text};
use super::{LineError, LineParser, LogRecord, Parsed, trim_line};
use serde_json::Value;
use std::borrow::Cow;

/// How to read a duration field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Millis,
    Micros,
    Nanos,
}

/// Where each record field lives in an object: dotted paths into nested objects.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    pub name: &'static str,
    pub time: Option<String>,
    pub method: Option<String>,
    /// Path with query, or an absolute URL.
    pub path: Option<String>,
    pub query: Option<String>,
    pub protocol: Option<String>,
    pub status: Option<String>,
    pub bytes: Option<String>,
    pub duration: Option<(String, Unit)>,
    pub client: Option<String>,
    pub user: Option<String>,
    pub user_agent: Option<String>,
    pub referer: Option<String>,
    pub host: Option<String>,
}

fn s(path: &str) -> Option<String> {
    Some(path.to_owned())
}

/// The dialects recognised by their field names, in the order they are tried.
pub fn known_dialects() -> Vec<(&'static str, Mapping)> {
    vec![
        (
            "request.uri",
            Mapping {
                name: "caddy",
                time: s("ts"),
                method: s("request.method"),
                path: s("request.uri"),
                protocol: s("request.proto"),
                status: s("status"),
                bytes: s("size"),
                duration: Some(("duration".into(), Unit::Seconds)),
                client: s("request.client_ip"),
                user: s("user_id"),
                user_agent: s("request.headers.User-Agent"),
                referer: s("request.headers.Referer"),
                host: s("request.host"),
                query: None,
            },
        ),
        (
            "httpRequest.requestMethod",
            Mapping {
                name: "gcp",
                time: s("timestamp"),
                method: s("httpRequest.requestMethod"),
                path: s("httpRequest.requestUrl"),
                protocol: s("httpRequest.protocol"),
                status: s("httpRequest.status"),
                bytes: s("httpRequest.responseSize"),
                duration: Some(("httpRequest.latency".into(), Unit::Seconds)),
                client: s("httpRequest.remoteIp"),
                user_agent: s("httpRequest.userAgent"),
                referer: s("httpRequest.referer"),
                ..Mapping::default()
            },
        ),
        (
            "RequestMethod",
            Mapping {
                name: "traefik",
                time: s("StartUTC"),
                method: s("RequestMethod"),
                path: s("RequestPath"),
                protocol: s("RequestProtocol"),
                status: s("DownstreamStatus"),
                bytes: s("DownstreamContentSize"),
                duration: Some(("Duration".into(), Unit::Nanos)),
                client: s("ClientHost"),
                user: s("ClientUsername"),
                user_agent: s("request_User-Agent"),
                referer: s("request_Referer"),
                host: s("RequestHost"),
                query: None,
            },
        ),
        (
            "ClientRequestMethod",
            Mapping {
                name: "cloudflare",
                time: s("EdgeStartTimestamp"),
                method: s("ClientRequestMethod"),
                path: s("ClientRequestURI"),
                protocol: s("ClientRequestProtocol"),
                status: s("EdgeResponseStatus"),
                bytes: s("EdgeResponseBytes"),
                duration: None,
                client: s("ClientIP"),
                user_agent: s("ClientRequestUserAgent"),
                referer: s("ClientRequestReferer"),
                host: s("ClientRequestHost"),
                ..Mapping::default()
            },
        ),
        (
            "response_code",
            Mapping {
                name: "envoy-json",
                time: s("start_time"),
                method: s("method"),
                path: s("path"),
                protocol: s("protocol"),
                status: s("response_code"),
                bytes: s("bytes_sent"),
                duration: Some(("duration".into(), Unit::Millis)),
                client: s("x_forwarded_for"),
                user_agent: s("user_agent"),
                referer: s("referer"),
                host: s("authority"),
                ..Mapping::default()
            },
        ),
    ]
}

impl Mapping {
    /// Parses `time=ts,method=verb,path=uri,status=code,duration=dur_ms`.
    /// A duration's unit comes from a `:ms`/`:us`/`:ns`/`:s` suffix or the field
    /// name's `_ms`/`_us`/`_ns` ending, else seconds.
    pub fn parse(spec: &str) -> Result<Mapping, String> {
        let mut mapping = Mapping { name: "json", ..Mapping::default() };
        for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, path) = pair.split_once('=').ok_or_else(|| format!("`{pair}` is not key=field (e.g. time=ts)"))?;
            let path = path.trim().to_owned();
            if path.is_empty() {
                return Err(format!("`{key}=` names no field"));
            }
            let slot = match key.trim() {
                "time" => &mut mapping.time,
                "method" => &mut mapping.method,
                "path" | "uri" | "url" => &mut mapping.path,
                "query" => &mut mapping.query,
                "protocol" => &mut mapping.protocol,
                "status" => &mut mapping.status,
                "bytes" | "size" => &mut mapping.bytes,
                "client" => &mut mapping.client,
                "user" => &mut mapping.user,
                "user_agent" | "agent" => &mut mapping.user_agent,
                "referer" => &mut mapping.referer,
                "host" => &mut mapping.host,
                "duration" => {
                    mapping.duration = Some(duration_spec(&path));
                    continue;
                }
                other => {
                    return Err(format!(
                        "unknown key `{other}`; known: time, method, path, query, protocol, status, bytes, duration, client, user, user_agent, referer, host"
                    ));
                }
            };
            *slot = Some(path);
        }
        if mapping.path.is_none() && mapping.method.is_none() {
            return Err("the mapping needs at least path= or method= (e.g. json:time=ts,method=verb,path=uri)".into());
        }
        Ok(mapping)
    }
}

fn duration_spec(path: &str) -> (String, Unit) {
    let unit_of = |suffix: &str| match suffix {
        "ms" => Some(Unit::Millis),
        "us" => Some(Unit::Micros),
        "ns" => Some(Unit::Nanos),
        "s" => Some(Unit::Seconds),
        _ => None,
    };
    if let Some((field, suffix)) = path.rsplit_once(':')
        && let Some(unit) = unit_of(suffix)
    {
        return (field.to_owned(), unit);
    }
    let by_name = path.rsplit_once('_').and_then(|(_, suffix)| unit_of(suffix)).unwrap_or(Unit::Seconds);
    (path.to_owned(), by_name)
}

/// Reads JSON lines with one fixed mapping, or recognises the dialect per line.
#[derive(Clone)]
pub struct JsonParser {
    mapping: Option<Mapping>,
    dialects: Vec<(&'static str, Mapping)>,
}

impl JsonParser {
    pub fn auto() -> Self {
        JsonParser { mapping: None, dialects: known_dialects() }
    }
    pub fn with_mapping(mapping: Mapping) -> Self {
        JsonParser { mapping: Some(mapping), dialects: Vec::new() }
    }
}

fn object_of(line: &[u8]) -> Result<Value, LineError> {
    let Some(open) = memchr::memchr(b'{', line) else {
        return Err(LineError::at(line, line, "a JSON object"));
    };
    serde_json::from_slice::<Value>(&line[open..]).map_err(|e| LineError { column: open + e.column().max(1), expected: "valid JSON" })
}

impl LineParser for JsonParser {
    fn parse<'a>(&mut self, line: &'a [u8]) -> Parsed<'a> {
        let line = trim_line(line);
        if line.is_empty() {
            return Parsed::Skip;
        }
        let object = match object_of(line) {
            Ok(object) => object,
            Err(err) => return Parsed::Reject(err),
        };
        let mapping = match &self.mapping {
            Some(mapping) => mapping,
            None => match self.dialects.iter().find(|(key, _)| lookup(&object, key).is_some()) {
                Some((_, mapping)) => mapping,
                None => return Parsed::Skip,
            },
        };
        match read(&object, mapping) {
            Ok(mut record) => {
                // Caddy's console encoder writes the time before the object, not in it.
                if record.time_us.is_none() {
                    record.time_us = prefix_time(&line[..memchr::memchr(b'{', line).unwrap_or(0)]);
                }
                Parsed::Record(record)
            }
            Err(expected) => Parsed::Reject(LineError { column: 1, expected }),
        }
    }
    fn clone_box(&self) -> Box<dyn LineParser> {
        Box::new(self.clone())
    }
}

/// A time at the start of a line's prefix: RFC 3339 (`2024-01-23T23:27:57.060Z`),
/// Caddy's console `2024/01/23 23:27:57.060` (taken as UTC), or epoch seconds.
fn prefix_time(prefix: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(prefix).ok()?;
    let mut words = text.split_ascii_whitespace();
    let first = words.next()?;
    if let Some(t) = fields::iso_time_field(first.as_bytes()) {
        return Some(t);
    }
    if let Some(second) = words.next() {
        let joined = format!("{first} {second}");
        for pattern in ["%Y/%m/%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"] {
            if let Ok(t) = chrono::NaiveDateTime::parse_from_str(&joined, pattern) {
                return Some(t.and_utc().timestamp_micros());
            }
        }
    }
    first.parse::<f64>().ok().filter(|v| *v > 1e8).and_then(fields::epoch_to_us)
}

/// Follows a dotted path; the first element of an array stands for the array
/// (Caddy logs each header as a list of values).
fn lookup<'v>(object: &'v Value, path: &str) -> Option<&'v Value> {
    let mut value = object;
    for key in path.split('.') {
        value = value.get(key)?;
        if let Value::Array(items) = value {
            value = items.first()?;
        }
    }
    (!value.is_null()).then_some(value)
}

fn text(value: &Value) -> Option<Text<'static>> {
    let bytes = match value {
        Value::String(s) => s.clone().into_bytes(),
        Value::Number(n) => n.to_string().into_bytes(),
        Value::Bool(b) => b.to_string().into_bytes(),
        _ => return None,
    };
    (!bytes.is_empty() && bytes != b"-").then_some(Cow::Owned(bytes))
}

fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().trim_end_matches(['s', 'm', 'u', 'n']).parse().ok(),
        _ => None,
    }
}

fn read<'a>(object: &Value, m: &Mapping) -> Result<LogRecord<'a>, &'static str> {
    let get = |path: &Option<String>| path.as_deref().and_then(|p| lookup(object, p));
    let mut record = LogRecord::default();
    if let Some(time) = get(&m.time) {
        record.time_us = Some(match time {
            Value::String(s) => fields::iso_time_field(s.as_bytes())
                .or_else(|| s.parse::<f64>().ok().and_then(fields::epoch_to_us))
                .ok_or("a time field holding RFC 3339 or an epoch number")?,
            other => number(other).and_then(fields::epoch_to_us).ok_or("a time field holding RFC 3339 or an epoch number")?,
        });
    }
    record.method = get(&m.method).and_then(text);
    if let Some(target) = get(&m.path).and_then(text) {
        let (path, query, host) = fields::split_target(&target);
        let own = |t: Option<Text<'_>>| t.map(|t| Cow::Owned(t.into_owned()));
        (record.path, record.query, record.host) = (own(path), own(query), own(host));
    }
    if let Some(query) = get(&m.query).and_then(text) {
        record.query = Some(query);
    }
    record.protocol = get(&m.protocol).and_then(text);
    if let Some(status) = get(&m.status) {
        let code = number(status).filter(|c| (0.0..1000.0).contains(c)).ok_or("a numeric status")?;
        record.status = Some(code as u16);
    }
    record.bytes = get(&m.bytes).and_then(number).filter(|b| *b >= 0.0).map(|b| b as u64);
    if let Some((path, unit)) = &m.duration {
        record.duration_us = lookup(object, path).and_then(|v| duration_us(v, *unit));
    }
    let client = get(&m.client).and_then(text).map(|c| {
        let first = c.split(|&b| b == b',').next().unwrap_or(&c).trim_ascii();
        Cow::Owned(fields::strip_port(first).to_vec())
    });
    record.client = client;
    record.user = get(&m.user).and_then(text);
    record.user_agent = get(&m.user_agent).and_then(text);
    record.referer = get(&m.referer).and_then(text);
    if let Some(host) = get(&m.host).and_then(text) {
        record.host = Some(host);
    }
    Ok(record)
}

/// A duration as a number in `unit`, or a string with its own suffix (`"0.012s"`, `"12ms"`).
fn duration_us(value: &Value, unit: Unit) -> Option<u64> {
    let (amount, unit) = match value {
        Value::String(s) => {
            let s = s.trim();
            let (digits, unit) = if let Some(d) = s.strip_suffix("ms") {
                (d, Unit::Millis)
            } else if let Some(d) = s.strip_suffix("us").or_else(|| s.strip_suffix("µs")) {
                (d, Unit::Micros)
            } else if let Some(d) = s.strip_suffix("ns") {
                (d, Unit::Nanos)
            } else if let Some(d) = s.strip_suffix('s') {
                (d, Unit::Seconds)
            } else {
                (s, unit)
            };
            (digits.parse::<f64>().ok()?, unit)
        }
        other => (number(other)?, unit),
    };
    if amount.is_nan() || amount < 0.0 {
        return None;
    }
    let us = match unit {
        Unit::Seconds => amount * 1e6,
        Unit::Millis => amount * 1e3,
        Unit::Micros => amount,
        Unit::Nanos => amount / 1e3,
    };
    Some(us.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::OwnedRecord;

    fn parse(parser: &mut JsonParser, line: &str) -> OwnedRecord {
        match parser.parse(line.as_bytes()) {
            Parsed::Record(r) => r.to_owned_record(),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn dialects() {
        let mut p = JsonParser::auto();
        let caddy = parse(
            &mut p,
            r#"caddy  | {"ts":1716723772.6014807,"request":{"client_ip":"10.10.10.117","proto":"HTTP/3.0","method":"GET","host":"m.net:400","uri":"/a?b=1","headers":{"User-Agent":["fb/1.1"]}},"status":200,"size":5,"duration":0.25}"#,
        );
        assert_eq!((caddy.method.as_deref(), caddy.path.as_deref(), caddy.query.as_deref()), (Some("GET"), Some("/a"), Some("b=1")));
        assert_eq!((caddy.status, caddy.bytes, caddy.duration_us), (Some(200), Some(5), Some(250_000)));
        assert_eq!(
            (caddy.client.as_deref(), caddy.user_agent.as_deref(), caddy.host.as_deref()),
            (Some("10.10.10.117"), Some("fb/1.1"), Some("m.net:400"))
        );
        assert_eq!(caddy.time.as_deref(), Some("2024-05-26T11:42:52.601481Z"));
        // Caddy's console encoder: the time stands before the object, tab-separated, and not in it.
        let console = parse(
            &mut p,
            "2024/01/23 23:27:57.060\tinfo\thttp.log.access.log0\thandled request\t{\"request\":{\"remote_ip\":\"127.0.0.1\",\"method\":\"GET\",\"host\":\"localhost\",\"uri\":\"/x\"},\"status\":200,\"size\":3,\"duration\":0.001}",
        );
        assert_eq!((console.time.as_deref(), console.path.as_deref()), (Some("2024-01-23T23:27:57.060Z"), Some("/x")));
        assert_eq!(prefix_time(b"2024-01-23T23:27:57Z info "), Some(1_706_052_477_000_000));
        assert_eq!(prefix_time(b"caddy  | "), None);

        let gcp = parse(
            &mut p,
            r#"{"httpRequest":{"requestMethod":"GET","requestUrl":"http://pics.example.com/c.jpg?x=1","status":304,"responseSize":"157","remoteIp":"89.160.20.156:4040","latency":"0.012s"},"timestamp":"2020-06-08T23:41:30.078651Z"}"#,
        );
        assert_eq!(
            (gcp.host.as_deref(), gcp.path.as_deref(), gcp.query.as_deref()),
            (Some("pics.example.com"), Some("/c.jpg"), Some("x=1"))
        );
        assert_eq!(
            (gcp.status, gcp.bytes, gcp.duration_us, gcp.client.as_deref()),
            (Some(304), Some(157), Some(12_000), Some("89.160.20.156"))
        );

        let cf = parse(
            &mut p,
            r#"{"ClientIP":"89.163.242.206","ClientRequestHost":"www.example.com","ClientRequestMethod":"GET","ClientRequestURI":"/","EdgeResponseBytes":12480,"EdgeResponseStatus":200,"EdgeStartTimestamp":1712790000100000000}"#,
        );
        assert_eq!(cf.time.as_deref(), Some("2024-04-10T23:00:00.100Z"));

        let traefik = parse(
            &mut p,
            r#"{"RequestMethod":"POST","RequestPath":"/login","DownstreamStatus":302,"Duration":1500000,"StartUTC":"2026-01-01T00:00:00.5Z","ClientHost":"1.2.3.4"}"#,
        );
        assert_eq!((traefik.duration_us, traefik.time.as_deref()), (Some(1500), Some("2026-01-01T00:00:00.500Z")));

        assert_eq!(p.parse(br#"caddy  | {"level":"info","ts":1761019822.3,"msg":"server running"}"#), Parsed::Skip);
        assert!(matches!(p.parse(b"{not json"), Parsed::Reject(_)));
    }

    #[test]
    fn user_mapping() {
        let mapping = Mapping::parse("time=ts,method=verb,path=uri,status=code,duration=dur_ms,client=who.ip").unwrap();
        let mut p = JsonParser::with_mapping(mapping);
        let r = parse(&mut p, r#"{"ts":"2026-11-28T10:00:00Z","verb":"PUT","uri":"/x/1","code":"201","dur_ms":12.5,"who":{"ip":"::1"}}"#);
        assert_eq!((r.method.as_deref(), r.path.as_deref(), r.status, r.duration_us), (Some("PUT"), Some("/x/1"), Some(201), Some(12_500)));
        assert_eq!(r.client.as_deref(), Some("::1"));
        assert!(matches!(p.parse(br#"{"ts":"soon","verb":"GET"}"#), Parsed::Reject(e) if e.expected.starts_with("a time field")));
        assert!(Mapping::parse("time=ts,verb").unwrap_err().contains("key=field"));
        assert!(Mapping::parse("color=red,path=p").unwrap_err().contains("unknown key `color`"));
        assert!(Mapping::parse("time=ts").unwrap_err().contains("path="));
    }
}
