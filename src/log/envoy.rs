//! Envoy's default text access-log format.
//!
//! ```text
//! [2019-02-12T18:37:42.921Z] "GET /httpbin/ip HTTP/1.1" 200 - 0 43 217 216 "172.17.0.5" "curl/7.59.0" "c62ec130-..." "httpbin.org" "52.87.35.92:80"
//! ```
//! That is `[%START_TIME%] "%REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% %PROTOCOL%" %RESPONSE_CODE%
//! %RESPONSE_FLAGS% %BYTES_RECEIVED% %BYTES_SENT% %DURATION% %RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%
//! "%REQ(X-FORWARDED-FOR)%" "%REQ(USER-AGENT)%" "%REQ(X-REQUEST-ID)%" "%REQ(:AUTHORITY)%" "%UPSTREAM_HOST%"`.
//! Fields added by later Envoy versions after these are ignored; a prefix
//! before the `[` (Ambassador's `ACCESS `) is dropped. TCP-proxy lines
//! (`"- - -" 0`) carry no HTTP request and are skipped.

use super::template::{FieldKind, Item, Template};
use super::{LineParser, Parsed, trim_line};

#[derive(Clone)]
pub struct EnvoyParser(Template);

impl Default for EnvoyParser {
    fn default() -> Self {
        use FieldKind::*;
        let lit = |s: &str| Item::Literal(s.as_bytes().to_vec());
        let f = Item::Field;
        EnvoyParser(Template::new(vec![
            lit("["),
            f(TimeIso),
            lit("] \""),
            f(Request),
            lit("\" "),
            f(Status),
            lit(" "),
            f(Opaque),
            lit(" "),
            f(Opaque),
            lit(" "),
            f(Bytes),
            lit(" "),
            f(DurationMillis),
            lit(" "),
            f(Opaque),
            lit(" \""),
            f(ForwardedFor),
            lit("\" \""),
            f(UserAgent),
            lit("\" \""),
            f(Opaque),
            lit("\" \""),
            f(Host),
            lit("\""),
        ]))
    }
}

impl LineParser for EnvoyParser {
    fn parse<'a>(&mut self, line: &'a [u8]) -> Parsed<'a> {
        let line = trim_line(line);
        if line.is_empty() {
            return Parsed::Skip;
        }
        let line = match memchr::memchr(b'[', line) {
            Some(open) if open > 0 && open < 64 => &line[open..],
            _ => line,
        };
        let tcp = line.get(line.iter().position(|&b| b == b'"').unwrap_or(0)..).is_some_and(|r| r.starts_with(b"\"- - -\""));
        if tcp {
            return Parsed::Skip;
        }
        self.0.parse(line)
    }
    fn clone_box(&self) -> Box<dyn LineParser> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_format() {
        let mut p = EnvoyParser::default();
        let Parsed::Record(r) = p.parse(br#"ACCESS [2019-02-12T18:37:42.921Z] "GET /httpbin/ip HTTP/1.1" 200 - 0 43 217 216 "172.17.0.5" "curl/7.59.0" "c62e" "httpbin.org" "52.87.35.92:80""#) else { panic!() };
        let r = r.to_owned_record();
        assert_eq!(r.time.as_deref(), Some("2019-02-12T18:37:42.921Z"));
        assert_eq!(
            (r.method.as_deref(), r.path.as_deref(), r.status, r.bytes, r.duration_us),
            (Some("GET"), Some("/httpbin/ip"), Some(200), Some(43), Some(217_000))
        );
        assert_eq!(
            (r.client.as_deref(), r.user_agent.as_deref(), r.host.as_deref()),
            (Some("172.17.0.5"), Some("curl/7.59.0"), Some("httpbin.org"))
        );
        assert_eq!(p.parse(br#"[2019-04-06T06:20:05.972Z] "- - -" 0 UF,URX 0 0 0 - "-" "-" "-" "-" "127.0.0.1:9200""#), Parsed::Skip);
        let Parsed::Record(r) = p.parse(
            br#"[2025-10-01T13:46:14.808Z] "OPTIONS /g.S/Stream HTTP/1.1" 200 - 0 0 0 - "-" "Mozilla/5.0" "a387" "localhost:8080" "-""#,
        ) else {
            panic!()
        };
        assert_eq!((r.duration_us, r.client), (Some(0), None));
        assert!(matches!(p.parse(b"[2019-02-12T18:37:42.921Z] GET"), Parsed::Reject(_)));
    }
}
