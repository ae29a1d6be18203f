//! AWS load balancer access logs: Application Load Balancer and classic ELB.
//!
//! ```text
//! http 2018-11-08T08:15:33.779204Z app/lb/d0e5 185.25.104.250:43464 172.31.2.113:80 0.001 0.002 0.000 200 200 185 612 "GET http://host:80/ HTTP/1.1" "curl/7.58.0" - - arn:... "Root=1-..." ...
//! 2015-07-22T09:00:28.019143Z marketpalce-shop 123.242.248.130:54635 10.0.6.158:80 0.000022 0.026109 0.00002 200 200 0 699 "GET https://paytm.com:443/shop HTTP/1.1" "Mozilla/5.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2
//! ```
//! The ALB line opens with its type (`http`, `https`, `h2`, `grpcs`, `ws`,
//! `wss`); the rest lines up with the classic ELB's. The duration is the sum of
//! the three processing times; `-1` (no backend answered) leaves it unknown.
//! The status is the load balancer's, which is what the client saw.

use super::fields::{self, next_field};
use super::{LineError, LineParser, LogRecord, Parsed, trim_line};
use std::borrow::Cow;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Balancer {
    Alb,
    Elb,
}

#[derive(Clone)]
pub struct AwsParser(pub Balancer);

/// The fields up to the user agent, after the ALB's type.
const NAMES: [&str; 13] = [
    "an ISO 8601 time",
    "the load balancer's name",
    "the client ip:port",
    "the backend ip:port",
    "the request processing time",
    "the backend processing time",
    "the response processing time",
    "the load balancer's status",
    "the backend's status",
    "the received bytes",
    "the sent bytes",
    "a quoted request",
    "a quoted user agent",
];

impl LineParser for AwsParser {
    fn parse<'a>(&mut self, line: &'a [u8]) -> Parsed<'a> {
        let line = trim_line(line);
        if line.is_empty() {
            return Parsed::Skip;
        }
        let mut rest = line;
        if self.0 == Balancer::Alb {
            match next_field(rest) {
                Some((b"http" | b"https" | b"h2" | b"grpcs" | b"ws" | b"wss", next)) => rest = next,
                _ => {
                    return Parsed::Reject(LineError::at(line, rest, "a request type such as http or h2"));
                }
            }
        }
        let mut f: [&[u8]; 13] = [b""; 13];
        for (i, slot) in f.iter_mut().enumerate() {
            // The user agent is missing on some truncated lines; everything before it is not.
            match next_field(rest) {
                Some((field, next)) => {
                    *slot = field;
                    rest = next;
                }
                None if i == 12 => break,
                None => return Parsed::Reject(LineError::at(line, rest, NAMES[i])),
            }
        }
        let Some(time) = fields::iso_time_field(f[0]) else {
            return Parsed::Reject(LineError::at(line, line, NAMES[0]));
        };
        let Ok((_, status)) = fields::status(f[7]) else {
            return Parsed::Reject(LineError { column: 1, expected: NAMES[7] });
        };
        let request = fields::split_request(Cow::Borrowed(f[11]));
        let timers = [f[4], f[5], f[6]].map(fields::seconds_field_us);
        let duration_us = timers.iter().try_fold(0, |sum, t| t.map(|t| sum + t));
        Parsed::Record(LogRecord {
            time_us: Some(time),
            method: request.method,
            path: request.path,
            query: request.query,
            protocol: request.protocol,
            host: request.host,
            status,
            bytes: fields::parse_u64(f[10]),
            duration_us,
            client: fields::present(fields::strip_known_port(f[2])),
            user: None,
            user_agent: fields::present(f[12]),
            referer: None,
        })
    }
    fn clone_box(&self) -> Box<dyn LineParser> {
        Box::new(self.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(b: Balancer, line: &str) -> crate::log::OwnedRecord {
        match AwsParser(b).parse(line.as_bytes()) {
            Parsed::Record(r) => r.to_owned_record(),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn alb_lines() {
        let r = parse(
            Balancer::Alb,
            r#"h2 2019-06-18T21:36:23.594569Z app/cg/d36d 10.10.10.23:5132 10.0.10.254:9000 0.001 0.002 0.003 200 200 485 1287 "GET https://cg.example.com:443/m.html?x=1 HTTP/2.0" "Mozilla/5.0" ECDHE TLSv1.2 arn:aws "Root=1-5d" "-" "-" 0 2019-06-18T21:36:35.592000Z "forward" "-" "-""#,
        );
        assert_eq!(r.time.as_deref(), Some("2019-06-18T21:36:23.594569Z"));
        assert_eq!(
            (r.method.as_deref(), r.path.as_deref(), r.query.as_deref(), r.host.as_deref()),
            (Some("GET"), Some("/m.html"), Some("x=1"), Some("cg.example.com:443"))
        );
        assert_eq!((r.status, r.bytes, r.duration_us, r.client.as_deref()), (Some(200), Some(1287), Some(6000), Some("10.10.10.23")));
        // An IPv6 client loses its port like an IPv4 one: one client, one identity.
        let r = parse(
            Balancer::Alb,
            r#"https 2019-06-18T21:36:23.594569Z app/cg/d36d 2601:646:8b00:2ef0:ac2e:45ff:fe18:6bbc:50599 10.0.10.254:9000 0.001 0.002 0.003 200 200 485 1287 "GET https://cg.example.com:443/ HTTP/1.1" "curl/8" ECDHE TLSv1.2 arn:aws "Root=1-5d" "-" "-" 0 2019-06-18T21:36:35.592000Z "forward" "-" "-""#,
        );
        assert_eq!(r.client.as_deref(), Some("2601:646:8b00:2ef0:ac2e:45ff:fe18:6bbc"));
        let r = parse(
            Balancer::Alb,
            r#"http 2018-11-08T08:15:33.779204Z app/W/d0 185.25.104.250:43464 - -1 -1 -1 460 - 185 0 "- - -" "-" - -"#,
        );
        assert_eq!((r.status, r.duration_us, r.method, r.user_agent), (Some(460), None, None, None));
    }

    #[test]
    fn elb_lines() {
        let r = parse(
            Balancer::Elb,
            r#"2015-07-22T09:00:28.019143Z shop 123.242.248.130:54635 10.0.6.158:80 0.000022 0.026109 0.00002 200 200 0 699 "GET https://paytm.com:443/shop/x?q="><script>alert(1)</script> HTTP/1.1" "Mozilla/5.0" ECDHE-RSA TLSv1.2"#,
        );
        assert_eq!(r.query.as_deref(), Some("q=\"><script>alert(1)</script>"));
        assert_eq!((r.status, r.bytes, r.duration_us), (Some(200), Some(699), Some(26_151)));
        let r =
            parse(Balancer::Elb, r#"2015-07-22T09:00:28.019143Z shop 1.2.3.4:1 - -1 -1 -1 504 0 0 0 "GET http://h:80/ HTTP/1.1" "-" - -"#);
        assert_eq!((r.status, r.duration_us), (Some(504), None));
        assert!(
            matches!(AwsParser(Balancer::Elb).parse(b"2015-07-22T09:00:28.019143Z shop 1.2.3"), Parsed::Reject(e) if e.expected == "the backend ip:port")
        );
        assert!(matches!(AwsParser(Balancer::Alb).parse(b"2015-07-22T09:00:28.019143Z shop"), Parsed::Reject(_)));
    }

    #[test]
    fn alb_entries_of_every_kind_the_documentation_shows() {
        // (line, method, path, status, bytes sent, duration µs, client)
        let tail = r#""Root=1-58337262-36d228ad5d99923122bbe354" "-" "-" 0 2018-07-02T22:22:48.364000Z "forward" "-" "-" "10.0.0.1:80" "200" "-" "-""#;
        let table: [(String, Option<&str>, Option<&str>, Option<u16>, Option<u64>, Option<u64>, Option<&str>); 6] = [
            // HTTP
            (
                format!(
                    r#"http 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.000 0.001 0.000 200 200 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 {tail}"#
                ),
                Some("GET"),
                Some("/"),
                Some(200),
                Some(366),
                Some(1000),
                Some("192.168.131.39"),
            ),
            // HTTPS
            (
                format!(
                    r#"https 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 10.0.0.1:80 0.086 0.048 0.037 200 200 0 57 "GET https://www.example.com:443/ HTTP/1.1" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 {tail}"#
                ),
                Some("GET"),
                Some("/"),
                Some(200),
                Some(57),
                Some(171_000),
                Some("192.168.131.39"),
            ),
            // HTTP/2
            (
                format!(
                    r#"h2 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.1.252:48160 10.0.0.66:9000 0.000 0.002 0.000 200 200 5 257 "GET https://10.0.2.105:773/ HTTP/2.0" "curl/7.46.0" ECDHE-RSA-AES128-GCM-SHA256 TLSv1.2 arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 {tail}"#
                ),
                Some("GET"),
                Some("/"),
                Some(200),
                Some(257),
                Some(2000),
                Some("10.0.1.252"),
            ),
            // WebSockets
            (
                format!(
                    r#"ws 2018-07-02T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 10.0.0.140:40914 10.0.1.192:8010 0.001 0.003 0.000 101 101 218 587 "GET http://10.0.0.30:80/ HTTP/1.1" "-" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 {tail}"#
                ),
                Some("GET"),
                Some("/"),
                Some(101),
                Some(587),
                Some(4000),
                Some("10.0.0.140"),
            ),
            // Lambda target that failed: no target, timers -1, the 502 is the load balancer's.
            (
                format!(
                    r#"http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - 0.000 0.001 0.000 502 - 34 366 "GET http://www.example.com:80/ HTTP/1.1" "curl/7.46.0" - - arn:aws:elasticloadbalancing:us-east-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067 {tail}"#
                ),
                Some("GET"),
                Some("/"),
                Some(502),
                Some(366),
                Some(1000),
                Some("192.168.131.39"),
            ),
            // A request the load balancer could not read: timers -1, no request line.
            (
                format!(
                    r#"http 2018-11-30T22:23:00.186641Z app/my-loadbalancer/50dc6c495c0c9188 192.168.131.39:2817 - -1 -1 -1 400 - 0 0 "- http://www.example.com:80- -" "-" - - - {tail}"#
                ),
                None,
                None,
                Some(400),
                Some(0),
                None,
                Some("192.168.131.39"),
            ),
        ];
        for (line, method, path, status, bytes, duration, client) in table {
            let r = parse(Balancer::Alb, &line);
            assert_eq!((r.method.as_deref(), r.path.as_deref(), r.status), (method, path, status), "{line}");
            assert_eq!((r.bytes, r.duration_us, r.client.as_deref()), (bytes, duration, client), "{line}");
        }
    }
}
