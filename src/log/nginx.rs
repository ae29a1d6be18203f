//! nginx `log_format` strings, compiled into a [`Template`].
//!
//! ```text
//! $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time
//! ```
//! Variables are `$name` or `${name}`; unknown ones are opaque tokens.

use super::template::{FieldKind, Item, Template};

pub fn compile(format: &str) -> Result<Template, String> {
    // `log_format main escape=json '{...}'`: the escaping option may come with the string.
    let format = ["escape=json", "escape=default", "escape=none"]
        .iter()
        .find_map(|option| format.trim_start().strip_prefix(option))
        .map_or(format, str::trim_start);
    let format = format.strip_prefix('\'').and_then(|f| f.strip_suffix('\'')).unwrap_or(format);
    let bytes = format.as_bytes();
    let mut items = Vec::new();
    let mut literal = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'$' {
            literal.push(bytes[i]);
            i += 1;
            continue;
        }
        let (name, next) = if bytes.get(i + 1) == Some(&b'{') {
            let close = format[i..].find('}').ok_or_else(|| format!("unclosed ${{ at byte {} of the nginx format", i + 1))?;
            (&format[i + 2..i + close], i + close + 1)
        } else {
            let len = bytes[i + 1..].iter().take_while(|b| b.is_ascii_alphanumeric() || **b == b'_').count();
            (&format[i + 1..i + 1 + len], i + 1 + len)
        };
        if name.is_empty() {
            return Err(format!("a lone $ at byte {} of the nginx format: variables are written $name", i + 1));
        }
        items.push(Item::Literal(std::mem::take(&mut literal)));
        items.push(Item::Field(variable(name)));
        i = next;
    }
    items.push(Item::Literal(literal));
    let template = Template::new(items);
    if !template.items().iter().any(|item| matches!(item, Item::Field(_))) {
        return Err("the nginx format names no $variable".into());
    }
    Ok(template)
}

fn variable(name: &str) -> FieldKind {
    match name {
        "remote_addr" | "realip_remote_addr" => FieldKind::RemoteAddr,
        "http_x_forwarded_for" | "proxy_add_x_forwarded_for" => FieldKind::ForwardedFor,
        "remote_user" => FieldKind::User,
        "time_local" => FieldKind::TimeClf,
        "time_iso8601" => FieldKind::TimeIso,
        "msec" => FieldKind::TimeEpoch,
        "request" => FieldKind::Request,
        "request_method" => FieldKind::Method,
        "request_uri" => FieldKind::Target,
        "uri" | "document_uri" => FieldKind::Path,
        "args" | "query_string" => FieldKind::Query,
        "is_args" => FieldKind::IsArgs,
        "server_protocol" => FieldKind::Protocol,
        "status" => FieldKind::Status,
        "body_bytes_sent" => FieldKind::Bytes,
        "bytes_sent" => FieldKind::BytesTotal,
        "request_time" => FieldKind::DurationSeconds,
        "upstream_response_time" => FieldKind::UpstreamSeconds,
        "host" | "http_host" | "server_name" => FieldKind::Host,
        "http_referer" => FieldKind::Referer,
        "http_user_agent" => FieldKind::UserAgent,
        _ => FieldKind::Opaque,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{LineParser, Parsed};

    fn parse(format: &str, line: &str) -> crate::log::OwnedRecord {
        let mut t = compile(format).unwrap();
        match t.parse(line.as_bytes()) {
            Parsed::Record(r) => r.to_owned_record(),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn combined_with_request_time() {
        let r = parse(
            r#"$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" $request_time"#,
            r#"10.1.2.3 - alice [10/Oct/2000:13:55:36 -0700] "POST /login?next=%2F HTTP/1.1" 302 0 "-" "curl/8.0" 0.042"#,
        );
        assert_eq!(r.client.as_deref(), Some("10.1.2.3"));
        assert_eq!(r.user.as_deref(), Some("alice"));
        assert_eq!(r.time.as_deref(), Some("2000-10-10T20:55:36Z"));
        assert_eq!((r.method.as_deref(), r.path.as_deref(), r.query.as_deref()), (Some("POST"), Some("/login"), Some("next=%2F")));
        assert_eq!((r.status, r.bytes, r.duration_us), (Some(302), Some(0), Some(42_000)));
        assert_eq!((r.referer, r.user_agent.as_deref()), (None, Some("curl/8.0")));
    }

    #[test]
    fn split_variables_and_iso_time() {
        let r = parse(
            "${time_iso8601} $request_method $uri?$args $server_protocol $status $bytes_sent $upstream_response_time $host",
            "2026-11-28T10:00:00+01:00 GET /users/7?x=1 HTTP/2.0 200 512 0.003, 0.004 api.example.com",
        );
        assert_eq!(r.time.as_deref(), Some("2026-11-28T09:00:00Z"));
        assert_eq!((r.method.as_deref(), r.path.as_deref(), r.query.as_deref()), (Some("GET"), Some("/users/7"), Some("x=1")));
        assert_eq!((r.bytes, r.duration_us, r.host.as_deref()), (Some(512), Some(7_000), Some("api.example.com")));
    }

    #[test]
    fn forwarded_for_wins_over_the_proxy_address() {
        let f = r#"$remote_addr "$http_x_forwarded_for" [$time_local] "$request" $status $body_bytes_sent"#;
        let r = parse(f, r#"10.0.0.1 "203.0.113.9, 10.0.0.7" [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1"#);
        assert_eq!(r.client.as_deref(), Some("203.0.113.9"));
        let r = parse(f, r#"10.0.0.1 "-" [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1"#);
        assert_eq!(r.client.as_deref(), Some("10.0.0.1"));
    }

    #[test]
    fn bad_format_strings() {
        assert!(compile("just text").unwrap_err().contains("no $variable"));
        assert!(compile("$remote_addr ${time").unwrap_err().contains("unclosed"));
        assert!(compile("$ x").unwrap_err().contains("lone $"));
    }

    #[test]
    fn empty_values_json_formats_and_args() {
        // `$http_host` logged empty (no Host header): the line starts with a space.
        let r = parse(
            r#"$http_host $remote_addr [$time_local] "$request" $status"#,
            r#" 10.0.0.1 [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200"#,
        );
        assert_eq!((r.host, r.client.as_deref(), r.status), (None, Some("10.0.0.1"), Some(200)));
        // escape=json, quoted and unquoted values, a JSON escape inside.
        let json = r#"escape=json '{"time":"$time_iso8601","ip":"$remote_addr","method":"$request_method","uri":"$request_uri","status":$status,"bytes":$body_bytes_sent,"rt":$request_time,"ua":"$http_user_agent"}'"#;
        let r = parse(
            json,
            r#"{"time":"2024-03-01T10:00:00+00:00","ip":"203.0.113.5","method":"GET","uri":"/a?b=1","status":404,"bytes":12,"rt":0.005,"ua":"Mozilla \"x\" \u00e9"}"#,
        );
        assert_eq!(
            (r.client.as_deref(), r.method.as_deref(), r.path.as_deref(), r.query.as_deref()),
            (Some("203.0.113.5"), Some("GET"), Some("/a"), Some("b=1"))
        );
        assert_eq!((r.status, r.bytes, r.duration_us, r.user_agent.as_deref()), (Some(404), Some(12), Some(5000), Some("Mozilla \"x\" é")));
        // `$uri$is_args$args`, with and without a query.
        let f = r#"$remote_addr "$request_method $uri$is_args$args" $status"#;
        let r = parse(f, r#"10.0.0.1 "GET /s?q=1" 200"#);
        assert_eq!((r.path.as_deref(), r.query.as_deref()), (Some("/s"), Some("q=1")));
        let r = parse(f, r#"10.0.0.1 "GET /s" 200"#);
        assert_eq!((r.path.as_deref(), r.query.as_deref()), (Some("/s"), None));
    }
}
