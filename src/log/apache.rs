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
        "sec" => FieldKind::TimeEpochIn(1_000_000),
        "msec" => FieldKind::TimeEpochIn(1_000),
        "usec" => FieldKind::TimeEpochIn(1),
        "msec_frac" => FieldKind::TimeFraction(1_000),
        "usec_frac" => FieldKind::TimeFraction(1),
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

    /// A line in a format, to parse; the fields it must give.
    struct Case {
        format: &'static str,
        line: &'static str,
        time: Option<&'static str>,
        path: Option<&'static str>,
        query: Option<&'static str>,
        status: Option<u16>,
    }

    #[test]
    fn every_time_directive_and_unquoted_fields_after_the_time() {
        let t = Some("2000-10-10T20:55:36Z");
        let cases = [
            // %t before unquoted fields, and after the request.
            Case {
                format: "%h %t %>s %D %r",
                line: "1.2.3.4 [10/Oct/2000:13:55:36 -0700] 200 1234 GET /a HTTP/1.1",
                time: t,
                path: Some("/a"),
                query: None,
                status: Some(200),
            },
            Case {
                format: "%h \"%r\" %t %>s",
                line: r#"1.2.3.4 "GET /a HTTP/1.1" [10/Oct/2000:13:55:36 -0700] 200"#,
                time: t,
                path: Some("/a"),
                query: None,
                status: Some(200),
            },
            Case {
                format: "%h %t %m %U%q %>s",
                line: "1.2.3.4 [10/Oct/2000:13:55:36 -0700] GET /a 200",
                time: t,
                path: Some("/a"),
                query: None,
                status: Some(200),
            },
            // "%U%q" with and without a query.
            Case {
                format: "%h %t \"%m %U%q %H\" %>s",
                line: r#"1.2.3.4 [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 200"#,
                time: t,
                path: Some("/a"),
                query: None,
                status: Some(200),
            },
            Case {
                format: "%h %t \"%U%q\" %>s",
                line: r#"1.2.3.4 [10/Oct/2000:13:55:36 -0700] "/a" 200"#,
                time: t,
                path: Some("/a"),
                query: None,
                status: Some(200),
            },
            Case {
                format: "%h %t \"%U%q\" %>s",
                line: r#"1.2.3.4 [10/Oct/2000:13:55:36 -0700] "/a?x=1" 200"#,
                time: t,
                path: Some("/a"),
                query: Some("x=1"),
                status: Some(200),
            },
            // Fractions join the time; a time split across %{...}t fields joins too.
            Case {
                format: "%h [%{%d/%b/%Y:%H:%M:%S}t.%{msec_frac}t %{%z}t] \"%r\" %>s",
                line: r#"1.2.3.4 [10/Oct/2000:13:55:36.250 -0700] "GET /a HTTP/1.1" 200"#,
                time: Some("2000-10-10T20:55:36.250Z"),
                path: Some("/a"),
                query: None,
                status: Some(200),
            },
            Case {
                format: "%h [%{%Y-%m-%d}t %{%H:%M:%S}t.%{usec_frac}t] \"%r\" %>s",
                line: r#"1.2.3.4 [2000-10-10 20:55:36.000125] "GET /a HTTP/1.1" 200"#,
                time: Some("2000-10-10T20:55:36.000125Z"),
                path: Some("/a"),
                query: None,
                status: Some(200),
            },
            // Epoch times in each unit.
            Case {
                format: "%{sec}t %h \"%r\" %>s",
                line: r#"971211336 1.2.3.4 "GET /a HTTP/1.1" 200"#,
                time: t,
                path: Some("/a"),
                query: None,
                status: Some(200),
            },
            Case {
                format: "%{msec}t %h \"%r\" %>s",
                line: r#"971211336000 1.2.3.4 "GET /a HTTP/1.1" 200"#,
                time: t,
                path: Some("/a"),
                query: None,
                status: Some(200),
            },
            Case {
                format: "%{usec}t %h \"%r\" %>s",
                line: r#"971211336000000 1.2.3.4 "GET /a HTTP/1.1" 200"#,
                time: t,
                path: Some("/a"),
                query: None,
                status: Some(200),
            },
            // The rest of mod_log_config's directives read as opaque tokens, never a reject.
            Case {
                format: "%h %{remote}p %v %{local}p %{c}a %t \"%r\" %>s %I %O %S %X %L %k %R %{UNIQUE_ID}e %{note}n %{Location}o %P %{tid}P %f %T %{ms}T",
                line: r#"1.2.3.4 51234 www.example.com 443 10.0.0.9 [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" 301 512 1024 1536 + Yp2Qx 0 - ZXk - https://x/ 4242 139 /var/www/a 0 12"#,
                time: t,
                path: Some("/a"),
                query: None,
                status: Some(301),
            },
        ];
        for c in cases {
            let r = parse(c.format, c.line);
            assert_eq!(r.time.as_deref(), c.time, "{}", c.format);
            assert_eq!((r.path.as_deref(), r.query.as_deref(), r.status), (c.path, c.query, c.status), "{}", c.format);
        }
    }
}
