//! Generated format strings against the template engine: random Apache
//! `LogFormat` and nginx `log_format` strings built from the directive
//! tables, each with lines whose every value is known, parsed back and
//! compared. A test-only module: a seeded, repeatable fuzz of the engine.

use super::Parsed;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// What a generated line must read as.
#[derive(Debug, Default, Clone, PartialEq)]
struct Want {
    client: Option<String>,
    time: Option<String>,
    method: Option<String>,
    path: Option<String>,
    query: Option<String>,
    status: Option<u16>,
    bytes: Option<u64>,
    duration_us: Option<u64>,
    user_agent: Option<String>,
    host: Option<String>,
}

/// One field of a format: its directive in each dialect, and a value it writes.
struct Field {
    apache: &'static str,
    nginx: &'static str,
    write: fn(&mut ChaCha8Rng, &mut Want) -> String,
}

fn pick(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    rng.next_u64() % n
}

fn fields() -> Vec<Field> {
    vec![
        Field {
            apache: "%h",
            nginx: "$remote_addr",
            write: |r, w| {
                let ip = format!("10.{}.{}.{}", pick(r, 256), pick(r, 256), pick(r, 256));
                w.client = Some(ip.clone());
                ip
            },
        },
        Field {
            apache: "%t",
            nginx: "[$time_local]",
            write: |r, w| {
                let (d, h, m, s) = (1 + pick(r, 28), pick(r, 24), pick(r, 60), pick(r, 60));
                w.time = Some(format!("2024-03-{d:02}T{h:02}:{m:02}:{s:02}Z"));
                format!("[{d:02}/Mar/2024:{h:02}:{m:02}:{s:02} +0000]")
            },
        },
        Field {
            apache: "\"%r\"",
            nginx: "\"$request\"",
            write: |r, w| {
                let method = ["GET", "POST", "PUT", "DELETE"][pick(r, 4) as usize];
                let path = format!("/p{}/x{}", pick(r, 1000), pick(r, 10));
                let query = (pick(r, 2) == 0).then(|| format!("a={}&b=c", pick(r, 100)));
                (w.method, w.path, w.query) = (Some(method.into()), Some(path.clone()), query.clone());
                format!("\"{method} {path}{} HTTP/1.1\"", query.map_or(String::new(), |q| format!("?{q}")))
            },
        },
        Field {
            apache: "%>s",
            nginx: "$status",
            write: |r, w| {
                let s = [200u16, 204, 301, 404, 500][pick(r, 5) as usize];
                w.status = Some(s);
                s.to_string()
            },
        },
        Field {
            apache: "%b",
            nginx: "$body_bytes_sent",
            write: |r, w| {
                let b = pick(r, 100_000);
                w.bytes = Some(b);
                b.to_string()
            },
        },
        Field {
            apache: "%D",
            nginx: "$request_time",
            write: |r, w| {
                let ms = pick(r, 5000);
                w.duration_us = Some(ms * 1000);
                // Apache logs microseconds; nginx seconds with millisecond resolution: both the same duration.
                format!("{}", ms * 1000)
            },
        },
        Field {
            apache: "\"%{User-Agent}i\"",
            nginx: "\"$http_user_agent\"",
            write: |r, w| {
                let ua = format!("Mozilla/5.0 (X11; rv:{}) Gecko", pick(r, 130));
                w.user_agent = Some(ua.clone());
                format!("\"{ua}\"")
            },
        },
        Field {
            apache: "%v",
            nginx: "$host",
            write: |r, w| {
                let host = format!("h{}.example.com", pick(r, 9));
                w.host = Some(host.clone());
                host
            },
        },
        // Opaque directives a real config uses: skipped, never a reject.
        Field { apache: "%{remote}p", nginx: "$remote_port", write: |r, _| (1024 + pick(r, 60000)).to_string() },
        Field { apache: "%X", nginx: "$connection_requests", write: |r, _| ["+", "-", "X"][pick(r, 3) as usize].to_string() },
        Field { apache: "%I", nginx: "$request_length", write: |r, _| pick(r, 9000).to_string() },
        Field { apache: "\"%{Referer}i\"", nginx: "\"$http_referer\"", write: |r, _| format!("\"https://r{}.example/\"", pick(r, 5)) },
        Field { apache: "%{UNIQUE_ID}e", nginx: "$request_id", write: |r, _| format!("{:016x}", r.next_u64()) },
    ]
}

/// Runs `formats` random formats of each dialect with `lines` lines each; panics naming the first mismatch.
fn run(formats: usize, lines: usize) {
    let mut rng = ChaCha8Rng::seed_from_u64(20261202);
    let table = fields();
    for dialect in ["apache", "nginx"] {
        for _ in 0..formats {
            // A time and a request always; then any of the rest, in any order, with the time or request anywhere.
            let mut chosen: Vec<usize> = vec![1, 2];
            for i in 0..table.len() {
                if i != 1 && i != 2 && pick(&mut rng, 2) == 0 {
                    chosen.push(i);
                }
            }
            for i in (1..chosen.len()).rev() {
                let j = pick(&mut rng, i as u64 + 1) as usize;
                chosen.swap(i, j);
            }
            let separators = [" ", " - ", " | "];
            let sep: Vec<&str> = (0..chosen.len()).map(|_| separators[pick(&mut rng, 3) as usize]).collect();
            let mut format = String::new();
            for (k, &i) in chosen.iter().enumerate() {
                if k > 0 {
                    format.push_str(sep[k]);
                }
                format.push_str(if dialect == "apache" { table[i].apache } else { table[i].nginx });
            }
            // nginx logs $request_time in seconds.
            let spec = format!("{dialect}:{format}");
            let mut parser = spec.parse::<super::Format>().unwrap_or_else(|e| panic!("{spec}: {}", e.reason)).parser().unwrap();
            for _ in 0..lines {
                let mut want = Want::default();
                let mut line = String::new();
                for (k, &i) in chosen.iter().enumerate() {
                    if k > 0 {
                        line.push_str(sep[k]);
                    }
                    let mut value = (table[i].write)(&mut rng, &mut want);
                    if dialect == "nginx" && i == 5 {
                        value = format!("{:.3}", want.duration_us.unwrap() as f64 / 1e6);
                    }
                    line.push_str(&value);
                }
                let Parsed::Record(r) = parser.parse(line.as_bytes()) else {
                    panic!("{spec}\n{line}\n{:?}", parser.parse(line.as_bytes()))
                };
                let r = r.to_owned_record();
                let got = Want {
                    client: r.client,
                    time: r.time,
                    method: r.method,
                    path: r.path,
                    query: r.query,
                    status: r.status,
                    bytes: r.bytes,
                    duration_us: r.duration_us,
                    user_agent: r.user_agent,
                    host: r.host,
                };
                assert_eq!(got, want, "{spec}\n{line}");
            }
        }
    }
}

#[test]
fn generated_formats_read_back_every_field() {
    run(400, 4);
}
