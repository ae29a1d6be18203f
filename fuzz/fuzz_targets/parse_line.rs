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
