//! Format detection: every known family reads the first lines of a file and
//! the one that makes the most requests of them wins.
//!
//! Scoring whole samples (up to a thousand lines) rather than the first line
//! keeps a few odd lines at the top (a banner, a truncated first line) from
//! deciding. When even the best family rejects nearly every line, detection
//! fails and says what it tried, so the user can pass `--format`.

use super::{Format, LineError, Parsed};

/// How one format fared on a sample.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trial {
    pub format: Format,
    pub records: usize,
    pub skipped: usize,
    pub rejected: usize,
    /// The first reject: 1-based line within the sample, and why.
    pub first_reject: Option<(usize, LineError)>,
}

impl Trial {
    /// Runs `format` over `lines`.
    pub fn run(format: Format, lines: &[&[u8]]) -> Trial {
        let mut parser = format.parser().expect("built-in formats compile");
        let mut trial = Trial { format, records: 0, skipped: 0, rejected: 0, first_reject: None };
        let mut with_agent = 0;
        for (i, line) in lines.iter().enumerate() {
            match parser.parse(line) {
                Parsed::Record(r) => {
                    trial.records += 1;
                    with_agent += usize::from(r.user_agent.is_some() || r.referer.is_some());
                }
                Parsed::Skip => trial.skipped += 1,
                Parsed::Reject(e) => {
                    trial.rejected += 1;
                    trial.first_reject.get_or_insert((i + 1, e));
                }
            }
        }
        if trial.format == Format::Combined && with_agent == 0 {
            trial.format = Format::Common;
        }
        trial
    }

    /// No line is a request, or fewer than one in ten that should be parses.
    pub fn mostly_fails(&self) -> bool {
        self.records == 0 || self.rejected > 9 * self.records
    }
}

/// The outcome of detection on a sample.
#[derive(Debug, Clone)]
pub struct Detection {
    pub best: Trial,
    /// Every family tried, best first.
    pub trials: Vec<Trial>,
}

/// Tries every family that needs no format string on `lines`.
pub fn detect(lines: &[&[u8]]) -> Detection {
    let candidates = [Format::Combined, Format::W3c, Format::Haproxy, Format::Alb, Format::Elb, Format::Envoy, Format::Json, Format::Squid];
    let mut trials: Vec<Trial> = candidates.into_iter().map(|f| Trial::run(f, lines)).collect();
    // Most records first; among equals, fewest rejects, then the list order above.
    trials.sort_by_key(|t| (std::cmp::Reverse(t.records), t.rejected));
    Detection { best: trials[0].clone(), trials }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect_text(text: &str) -> Format {
        let lines: Vec<&[u8]> = text.lines().map(str::as_bytes).collect();
        detect(&lines).best.format
    }

    #[test]
    fn families_are_told_apart() {
        let table = [
            (r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326"#, Format::Common),
            (r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.0" 200 2326 "-" "curl""#, Format::Combined),
            ("#Fields: date time cs-method cs-uri-stem sc-status\n2015-12-01 01:00:00 GET / 200", Format::W3c),
            (
                r#"Feb  2 04:05:24 h haproxy[1]: 1.2.3.4:5 [02/Feb/2012:04:05:24.385] f b/s 0/0/0/1/4 404 638 - - CD-- 0/0/0/0/0 0/0 "GET / HTTP/1.0""#,
                Format::Haproxy,
            ),
            (
                r#"http 2018-11-08T08:15:33.779204Z app/W/d0 1.2.3.4:4 5.6.7.8:80 0.1 0.1 0.1 200 200 1 2 "GET http://h:80/ HTTP/1.1" "ua" - -"#,
                Format::Alb,
            ),
            (
                r#"2015-07-22T09:00:28.019143Z shop 1.2.3.4:5 6.7.8.9:80 0.1 0.1 0.1 200 200 0 699 "GET https://h:443/ HTTP/1.1" "ua" - -"#,
                Format::Elb,
            ),
            (r#"[2019-02-12T18:37:42.921Z] "GET /ip HTTP/1.1" 200 - 0 43 217 216 "1.2.3.4" "curl" "c6" "h" "5.6.7.8:80""#, Format::Envoy),
            (r#"{"ts":1.7e9,"request":{"method":"GET","uri":"/"},"status":200}"#, Format::Json),
            (
                "1286536308.779    180 192.168.0.224 TCP_MISS/200 411 GET http://www.google.com/ - DIRECT/209.85.135.104 text/html",
                Format::Squid,
            ),
        ];
        for (text, want) in table {
            assert_eq!(detect_text(text), want, "{text}");
        }
    }

    #[test]
    fn a_few_odd_first_lines_do_not_fool_it() {
        let mut text = String::from("garbage banner\n{\"not\": \"a request\"}\n#Fields: nothing\n");
        for _ in 0..20 {
            text.push_str("1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] \"GET / HTTP/1.0\" 200 1 \"-\" \"ua\"\n");
        }
        assert_eq!(detect_text(&text), Format::Combined);
    }

    #[test]
    fn nonsense_mostly_fails() {
        let lines: Vec<&[u8]> = vec![b"hello world"; 50];
        assert!(detect(&lines).best.mostly_fails());
    }

    #[test]
    fn lines_no_family_fits_are_rejected_not_misread() {
        // Each must leave detection failing (the user is told to pass --format), not read as something else.
        let table = [
            // Apache `%h %{remote}p %v %{local}p %t ...`: a port where Combined wants the client.
            r#"1.2.3.4 51234 www.example.com 443 [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1 "-" "ua""#,
            // A bare number as the client.
            r#"12345 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" 200 1"#,
            // A status that is not one.
            r#"1.2.3.4 - - [10/Oct/2000:13:55:36 -0700] "GET / HTTP/1.1" OK 1"#,
            // A log line of a program, not of requests.
            "2024-01-01 10:00:00 INFO started worker 3",
        ];
        for line in table {
            let lines: Vec<&[u8]> = vec![line.as_bytes(); 20];
            let detection = detect(&lines);
            assert!(detection.best.mostly_fails(), "{line}: read as {} ({} records)", detection.best.format, detection.best.records);
        }
    }

    #[test]
    fn a_forwarded_for_list_decides_the_client_whether_detected_or_given() {
        let given: Format = r#"nginx:$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent" "$http_x_forwarded_for""#.parse().unwrap();
        for (line, client) in [
            (r#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "curl" "203.0.113.9, 10.0.0.7""#, "203.0.113.9"),
            (r#"10.0.0.1 - - [10/Oct/2000:13:55:36 +0000] "GET / HTTP/1.1" 200 1 "-" "curl" "-""#, "10.0.0.1"),
        ] {
            let lines: Vec<&[u8]> = vec![line.as_bytes()];
            let detected = detect(&lines).best.format;
            for format in [detected, given.clone()] {
                let mut parser = format.parser().unwrap();
                let Parsed::Record(r) = parser.parse(line.as_bytes()) else { panic!("{format}: {line}") };
                assert_eq!(r.client.as_deref(), Some(client.as_bytes()), "{format}: {line}");
            }
        }
    }
}
