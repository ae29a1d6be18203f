//! Feeds arbitrary bytes, as lines, to every log format's parser: none may
//! panic, and every reject must point inside the line it came from.
#![no_main]

use libfuzzer_sys::fuzz_target;
use replay::log::{Format, Parsed};

fuzz_target!(|data: &[u8]| {
    let formats = [
        Format::Combined,
        Format::Nginx(replay::log::NGINX_COMBINED.to_owned()),
        Format::Nginx("$remote_addr \"$http_x_forwarded_for\" [$time_local] \"$request\" $status $upstream_response_time".to_owned()),
        Format::Apache("%v:%p %h %l %u %{%Y-%m-%d %H:%M:%S}t \"%r\" %>s %b %D".to_owned()),
        Format::Json,
        Format::JsonMapped("time=ts,method=m,path=p,status=s,duration=d_ms".to_owned()),
        Format::Alb,
        Format::Elb,
        Format::W3c,
        Format::Haproxy,
        Format::Envoy,
        Format::Squid,
        Format::Loose(
            replay::log::loose::Layout::learn(&[br#"www.example.com 203.0.113.9 [10/Oct/2026:13:55:36 +0000] 0.138 "GET /a?b=1 HTTP/1.1" 200 512 "-" "curl/8.5""#])
                .expect("a loose layout"),
        ),
        Format::Loose(
            replay::log::loose::Layout::learn(&[br#"2026-10-10 13:55:36 1791640536.250 127.0.0.1 "GET / HTTP/1.1" 200 12"#])
                .expect("a loose layout"),
        ),
    ];
    for format in formats {
        let mut parser = format.parser().expect("built-in formats compile");
        for line in data.split(|&b| b == b'\n') {
            if let Parsed::Reject(error) = parser.parse(line) {
                assert!(error.column >= 1 && error.column <= line.len() + 1, "{format}: column {} of {}", error.column, line.len());
            }
        }
    }
});
