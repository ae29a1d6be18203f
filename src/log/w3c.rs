//! W3C extended logs: IIS and CloudFront, which announce their columns.
//!
//! ```text
//! #Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken
//! 2022-11-07 14:29:06 ::1 GET / - 80 - ::1 Mozilla/5.0+(Windows+NT) - 200 0 0 12
//! ```
//! A `#Fields:` directive may come again mid-file (IIS writes one each time a
//! worker starts), so the parser keeps the current columns and must see the
//! lines in order. Other `#` directives are skipped; `#Date:` supplies the
//! date for logs that log only `time`. Times are UTC, as W3C logs write them.
//! Fields are separated by tabs (CloudFront) or spaces (IIS); `time-taken`
//! is milliseconds for IIS and seconds for CloudFront. User agents have `+`
//! for spaces (IIS) or are percent-encoded, even twice (CloudFront).

use super::fields::{self, Text};
use super::{LineError, LineParser, LogRecord, Parsed, trim_line};
use std::borrow::Cow;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Date,
    Time,
    Client,
    User,
    Method,
    Stem,
    Query,
    Uri,
    Status,
    Bytes,
    TimeTaken,
    /// IIS Advanced Logging's `TimeTakenMS`: milliseconds, whatever the log's family.
    TimeTakenMs,
    UserAgent,
    Referer,
    Host,
    Protocol,
    Other,
}

fn column(name: &str) -> Column {
    match name.to_ascii_lowercase().as_str() {
        // IIS Advanced Logging names them `date-local`, `time-local` (read as UTC, as every W3C time here).
        "date" | "date-local" | "date-utc" => Column::Date,
        "time" | "time-local" | "time-utc" => Column::Time,
        "c-ip" => Column::Client,
        "cs-username" => Column::User,
        "cs-method" => Column::Method,
        "cs-uri-stem" => Column::Stem,
        "cs-uri-query" => Column::Query,
        "cs-uri" => Column::Uri,
        "sc-status" => Column::Status,
        "sc-bytes" => Column::Bytes,
        "time-taken" => Column::TimeTaken,
        "timetakenms" => Column::TimeTakenMs,
        "cs(user-agent)" => Column::UserAgent,
        "cs(referer)" | "cs(referrer)" => Column::Referer,
        "cs-host" | "cs(host)" | "x-host-header" => Column::Host,
        "cs-protocol-version" | "cs-version" => Column::Protocol,
        _ => Column::Other,
    }
}

#[derive(Clone, Default)]
pub struct W3cParser {
    columns: Vec<Column>,
    /// CloudFront: `time-taken` in seconds, user agents percent-encoded.
    cloudfront: bool,
    /// `#Date:`'s day, for logs whose rows carry only a time.
    header_date: Option<(i32, u32, u32)>,
}

impl LineParser for W3cParser {
    fn parse<'a>(&mut self, line: &'a [u8]) -> Parsed<'a> {
        let line = trim_line(line);
        if line.is_empty() {
            return Parsed::Skip;
        }
        if let Some(directive) = line.strip_prefix(b"#") {
            self.directive(directive);
            return Parsed::Skip;
        }
        if self.columns.is_empty() {
            return Parsed::Reject(LineError::at(line, line, "a #Fields: directive before the first request line"));
        }
        match self.row(line) {
            Ok(record) => Parsed::Record(record),
            Err(err) => Parsed::Reject(err),
        }
    }
    fn clone_box(&self) -> Box<dyn LineParser> {
        Box::new(self.clone())
    }
    fn is_stateful(&self) -> bool {
        true
    }
}

impl W3cParser {
    fn directive(&mut self, directive: &[u8]) {
        let text = String::from_utf8_lossy(directive);
        let (name, value) = text.split_once(':').unwrap_or((&text, ""));
        match name.trim() {
            "Fields" => {
                let names: Vec<&str> = value.split_whitespace().collect();
                self.cloudfront = names.iter().any(|n| n.starts_with("x-edge-"));
                self.columns = names.into_iter().map(column).collect();
            }
            "Date" => {
                let value = value.trim().as_bytes();
                self.header_date = fields::iso_time_field(value.get(..19).unwrap_or(value))
                    .or_else(|| fields::iso_time_field(value))
                    .and_then(chrono::DateTime::from_timestamp_micros)
                    .map(|t| {
                        use chrono::Datelike;
                        (t.year(), t.month(), t.day())
                    });
            }
            _ => {}
        }
    }

    fn row<'a>(&self, line: &'a [u8]) -> Result<LogRecord<'a>, LineError> {
        let tabbed = line.contains(&b'\t');
        let mut record = LogRecord::default();
        let (mut date, mut time): (Option<&[u8]>, Option<&[u8]>) = (None, None);
        let mut rest = line;
        for &col in &self.columns {
            let Some((value, next)) = next_value(rest, tabbed) else {
                break;
            };
            rest = next;
            let present = fields::present(value);
            match col {
                Column::Date => date = Some(value),
                Column::Time => time = Some(value),
                Column::Client => record.client = present,
                Column::User => record.user = present,
                Column::Method => record.method = present,
                Column::Stem => record.path = present,
                Column::Query => record.query = present,
                Column::Uri => {
                    // Incapsula writes `cs-uri` as host and path with no scheme: `www.example.com/page.php`.
                    let (value, host) = match memchr::memchr(b'/', value) {
                        Some(slash) if slash > 0 && !value.starts_with(b"http") && is_host(&value[..slash]) => {
                            (&value[slash..], Some(std::borrow::Cow::Borrowed(&value[..slash])))
                        }
                        _ => (value, None),
                    };
                    let (path, query, authority) = fields::split_target(value);
                    (record.path, record.query) = (path, query);
                    if record.host.is_none() {
                        record.host = host.or(authority);
                    }
                }
                Column::Status => record.status = fields::parse_u64(value).and_then(|s| u16::try_from(s).ok()),
                Column::Bytes => record.bytes = fields::parse_u64(value),
                Column::TimeTaken => {
                    record.duration_us = if self.cloudfront {
                        fields::seconds_field_us(value)
                    } else {
                        fields::seconds_field_us(value).map(|ms_as_s| ms_as_s / 1000)
                    }
                }
                Column::TimeTakenMs => record.duration_us = fields::seconds_field_us(value).map(|ms_as_s| ms_as_s / 1000),
                Column::UserAgent => record.user_agent = present.map(|ua| self.agent(ua)),
                Column::Referer => record.referer = present,
                Column::Host => record.host = present,
                Column::Protocol => record.protocol = present,
                Column::Other => {}
            }
        }
        record.time_us = Some(self.timestamp(line, date, time)?);
        Ok(record)
    }

    fn timestamp(&self, line: &[u8], date: Option<&[u8]>, time: Option<&[u8]>) -> Result<i64, LineError> {
        let time = time.ok_or_else(|| LineError::at(line, b"", "a time column"))?;
        let stamp = match (date, self.header_date) {
            (Some(date), _) => [date, b" ", time].concat(),
            (None, Some((y, m, d))) => [format!("{y:04}-{m:02}-{d:02} ").as_bytes(), time].concat(),
            (None, None) => {
                return Err(LineError::at(line, line, "a date column or a #Date: directive"));
            }
        };
        fields::iso_time_field(&stamp).ok_or_else(|| LineError::at(line, line, "a date YYYY-MM-DD and time HH:MM:SS"))
    }

    fn agent<'a>(&self, ua: Text<'a>) -> Text<'a> {
        if self.cloudfront {
            let once = percent_decode(&ua);
            return Cow::Owned(if once.windows(3).any(|w| w == b"%20") { percent_decode(&once) } else { once });
        }
        if ua.contains(&b'+') {
            return Cow::Owned(ua.iter().map(|&b| if b == b'+' { b' ' } else { b }).collect());
        }
        ua
    }
}

/// The next value: tab-separated, or space-separated with optional quotes.
fn next_value(rest: &[u8], tabbed: bool) -> Option<(&[u8], &[u8])> {
    if tabbed {
        if rest.is_empty() {
            return None;
        }
        let end = memchr::memchr(b'\t', rest).unwrap_or(rest.len());
        return Some((&rest[..end], rest.get(end + 1..).unwrap_or(b"")));
    }
    // Quoted values double a quote inside them (`" ""garbage"" w/ spaces "`), as IIS Advanced Logging writes.
    let rest = rest.trim_ascii_start();
    if let Some(body) = rest.strip_prefix(b"\"") {
        let mut at = 0;
        while let Some(offset) = memchr::memchr(b'"', &body[at..]) {
            let quote = at + offset;
            if body.get(quote + 1) == Some(&b'"') {
                at = quote + 2;
                continue;
            }
            if matches!(body.get(quote + 1), None | Some(b' ')) {
                return Some((&body[..quote], &body[quote + 1..]));
            }
            at = quote + 1;
        }
    }
    fields::next_field(rest)
}

fn percent_decode(s: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        if s[i] == b'%'
            && i + 2 < s.len()
            && let (Some(h), Some(l)) = (hex(s[i + 1]), s.get(i + 2).and_then(|&c| hex(c)))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// `www.example.com` or `www.example.com:8080`: a host name with a dot, no path or query in it.
fn is_host(text: &[u8]) -> bool {
    text.contains(&b'.') && text.iter().all(|&b| b.is_ascii_alphanumeric() || b"-.:".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(lines: &[&str]) -> Vec<Result<crate::log::OwnedRecord, String>> {
        let mut p = W3cParser::default();
        lines
            .iter()
            .filter_map(|line| match p.parse(line.as_bytes()) {
                Parsed::Record(r) => Some(Ok(r.to_owned_record())),
                Parsed::Skip => None,
                Parsed::Reject(e) => Some(Err(e.to_string())),
            })
            .collect()
    }

    #[test]
    fn iis_with_repeated_headers() {
        let got = records(&[
            "2015-12-01 01:00:00 1.2.3.4 GET / - 80 - 5.6.7.8 UA - 200 0 0 15",
            "#Software: Microsoft Internet Information Services 8.5",
            "#Fields: date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-win32-status time-taken",
            "2015-12-01 01:00:00 10.0.0.1 GET /robots.txt a=1 80 - ::1 Mozilla/5.0+(compatible) - 404 0 2 15",
            "#Fields: date time cs-method cs-uri-stem sc-status",
            "2015-12-02 02:00:00 POST /x 500\r",
        ]);
        assert_eq!(got.len(), 3);
        assert!(got[0].as_ref().unwrap_err().contains("#Fields:"));
        let r = got[1].as_ref().unwrap();
        assert_eq!(r.time.as_deref(), Some("2015-12-01T01:00:00Z"));
        assert_eq!((r.path.as_deref(), r.query.as_deref(), r.client.as_deref()), (Some("/robots.txt"), Some("a=1"), Some("::1")));
        assert_eq!((r.user_agent.as_deref(), r.status, r.duration_us), (Some("Mozilla/5.0 (compatible)"), Some(404), Some(15_000)));
        let r = got[2].as_ref().unwrap();
        assert_eq!((r.method.as_deref(), r.status), (Some("POST"), Some(500)));
    }

    #[test]
    fn cloudfront_tabs_and_encoded_agents() {
        let got = records(&[
            "#Version: 1.0",
            "#Fields: date time x-edge-location sc-bytes c-ip cs-method cs(Host) cs-uri-stem sc-status cs(Referer) cs(User-Agent) cs-uri-query cs(Cookie) x-edge-result-type x-edge-request-id x-host-header cs-protocol cs-bytes time-taken",
            "2018-11-07\t00:12:08\tFRA53\t376\t3.120.138.129\tGET\td3.cloudfront.net\t/n.json\t302\t-\tMozilla/5.0%2520(compatible;%2520bingbot/2.0)\t-\t-\tLambda\tPsDv\td3.cloudfront.net\thttps\t337\t0.394",
        ]);
        let r = got[0].as_ref().unwrap();
        assert_eq!(r.user_agent.as_deref(), Some("Mozilla/5.0 (compatible; bingbot/2.0)"));
        assert_eq!((r.bytes, r.duration_us, r.host.as_deref()), (Some(376), Some(394_000), Some("d3.cloudfront.net")));
    }

    #[test]
    fn time_only_rows_take_the_date_directive() {
        let got = records(&[
            "#Date: 2001-05-02 17:42:15",
            "#Fields: time c-ip cs-method cs-uri-stem sc-status",
            "17:42:15 172.16.255.255 [1]USER anonymous 331",
        ]);
        assert_eq!(got[0].as_ref().unwrap().time.as_deref(), Some("2001-05-02T17:42:15Z"));
    }
}
