//! Apache `LogFormat` strings, compiled into a [`Template`].
//!
//! ```text
//! %h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D
//! ```
//! Status conditions and `<`/`>` modifiers (`%!200,304{Referer}i`, `%>s`) are
//! accepted and ignored; unknown directives are opaque tokens.

use super::template::{FieldKind, Item, Template};

pub fn compile(format: &str) -> Result<Template, String> {
    let bytes = format.as_bytes();
    let mut items = Vec::new();
    let mut literal = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            literal.push(match bytes[i + 1] {
                b'n' => b'\n',
                b't' => b'\t',
                other => other,
            });
            i += 2;
            continue;
        }
        if bytes[i] != b'%' {
            literal.push(bytes[i]);
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < bytes.len() && (bytes[i] == b'<' || bytes[i] == b'>' || bytes[i] == b'!' || bytes[i] == b',' || bytes[i].is_ascii_digit())
        {
            i += 1;
        }
        let mut argument = None;
        if bytes.get(i) == Some(&b'{') {
            let close = format[i..].find('}').ok_or_else(|| format!("unclosed %{{ at byte {} of the Apache format", start + 1))?;
            argument = Some(&format[i + 1..i + close]);
            i += close + 1;
        }
        let Some(&directive) = bytes.get(i) else {
            return Err(format!("the Apache format ends inside the directive at byte {}", start + 1));
        };
        i += 1;
        if directive == b'%' {
            literal.push(b'%');
            continue;
        }
        items.push(Item::Literal(std::mem::take(&mut literal)));
        items.push(Item::Field(directive_kind(directive, argument)));
    }
    items.push(Item::Literal(literal));
    let template = Template::new(items);
    if !template.items().iter().any(|item| matches!(item, Item::Field(_))) {
        return Err("the Apache format names no %directive".into());
    }
    Ok(template)
}

fn directive_kind(directive: u8, argument: Option<&str>) -> FieldKind {
    match (directive, argument) {
        (b'h' | b'a', _) => FieldKind::RemoteAddr,
        (b'u', _) => FieldKind::User,
        (b't', None) => FieldKind::TimeClfBracketed,
        (b't', Some(arg)) => time_kind(arg),
        (b'r', _) => FieldKind::Request,
        (b'm', _) => FieldKind::Method,
        (b'U', _) => FieldKind::Path,
        (b'q', _) => FieldKind::Query,
        (b'H', _) => FieldKind::Protocol,
        (b's', _) => FieldKind::Status,
        (b'b' | b'B', _) => FieldKind::Bytes,
        (b'O', _) => FieldKind::BytesTotal,
        (b'D', _) => FieldKind::DurationMicros,
        (b'T', Some("ms")) => FieldKind::DurationMillis,
        (b'T', Some("us")) => FieldKind::DurationMicros,
        (b'T', _) => FieldKind::DurationSeconds,
        (b'v' | b'V', _) => FieldKind::Host,
        (b'i', Some(header)) => match header.to_ascii_lowercase().as_str() {
            "referer" => FieldKind::Referer,
            "user-agent" => FieldKind::UserAgent,
            "x-forwarded-for" => FieldKind::ForwardedFor,
            "host" => FieldKind::Host,
            _ => FieldKind::Opaque,
        },
        _ => FieldKind::Opaque,
    }
}

/// `%{sec}t`, `%{msec}t`, `%{usec}t`, `%{begin:%d/%b/%Y %T}t`, `%{%Y-%m-%d %H:%M:%S}t`.
fn time_kind(argument: &str) -> FieldKind {
    let pattern = argument.strip_prefix("begin:").or_else(|| argument.strip_prefix("end:")).unwrap_or(argument);
    match pattern {
        "sec" | "msec" | "usec" => FieldKind::TimeEpoch,
        "msec_frac" | "usec_frac" => FieldKind::Opaque,
        _ => FieldKind::TimeStrftime(pattern.to_owned()),
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
    fn combined_with_microseconds() {
        let r = parse(
            r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i" %D"#,
            r#"192.0.2.1 - - [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 - "http://x/" "Mozilla/4.08" 1234"#,
        );
        assert_eq!(r.client.as_deref(), Some("192.0.2.1"));
        assert_eq!((r.status, r.bytes, r.duration_us), (Some(200), None, Some(1234)));
        assert_eq!((r.referer.as_deref(), r.user_agent.as_deref()), (Some("http://x/"), Some("Mozilla/4.08")));
    }

    #[test]
    fn split_directives_and_strftime() {
        let r = parse(
            "%v:%p %a %{%Y-%m-%d %H:%M:%S}t %m %U%q %H %s %B %{ms}T",
            "www.example.com:443 ::1 2026-11-28 10:00:00 GET /search?q=x HTTP/1.1 404 12 7",
        );
        assert_eq!(r.host.as_deref(), Some("www.example.com"));
        assert_eq!(r.client.as_deref(), Some("::1"));
        assert_eq!(r.time.as_deref(), Some("2026-11-28T10:00:00Z"));
        assert_eq!((r.method.as_deref(), r.path.as_deref(), r.query.as_deref()), (Some("GET"), Some("/search"), Some("q=x")));
        assert_eq!((r.status, r.bytes, r.duration_us), (Some(404), Some(12), Some(7000)));
    }

    #[test]
    fn epoch_and_modifiers() {
        let r = parse(r#"%{sec}t %!200,304{Referer}i %<s "%r""#, r#"1700000000 - 301 "GET / HTTP/1.1""#);
        assert_eq!(r.time.as_deref(), Some("2023-11-14T22:13:20Z"));
        assert_eq!(r.status, Some(301));
        assert!(compile("100%").is_err());
        assert!(compile("%{Referer").is_err());
    }
}
