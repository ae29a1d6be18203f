//! Reading access logs: from one line of bytes to a [`LogRecord`].
//!
//! A [`Format`] names a log family (from `--format` or detection); it builds a
//! [`LineParser`], which turns each line into [`Parsed`]: a record, a line to
//! skip (headers, comments, a proxy's own messages), or a reject that says
//! which column broke and what was expected there. nom stays inside this
//! module: callers see only these types.

mod aws;
mod clf;
mod clf_common;
pub mod container;

mod apache;
mod envoy;
pub mod fields;
mod format;
mod haproxy;
mod json;
pub mod loose;
mod nginx;
mod record;
pub mod request_rule;
mod squid;
mod template;
#[cfg(test)]
mod template_gen;
mod w3c;

pub mod detect;
pub use detect::{Detection, detect};
pub use format::{FORMAT_HELP, Format, FormatError, NGINX_COMBINED};
pub use record::{LogRecord, OwnedRecord, Text, format_time_us};
pub use request_rule::NotRequest;

/// What one line turned out to be.
// A record is returned by value on the per-line path; boxing it would cost an allocation a line.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed<'a> {
    Record(LogRecord<'a>),
    /// Not a request: a header, a comment, a blank line, a server's own message.
    Skip,
    Reject(LineError),
}

/// What one line turned out to be, its record (if it was one) already handed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Handed {
    Record,
    Skip,
    Reject(LineError),
}

/// Why a line that should have been a request did not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineError {
    /// 1-based byte column where parsing stopped.
    pub column: usize,
    pub expected: &'static str,
}

impl LineError {
    /// The error at the position where `rest` starts inside `line`.
    pub fn at(line: &[u8], rest: &[u8], expected: &'static str) -> Self {
        LineError { column: line.len().saturating_sub(rest.len()) + 1, expected }
    }

    fn from_nom(line: &[u8], err: nom::Err<fields::FieldError<'_>>) -> Self {
        match err {
            nom::Err::Error(e) | nom::Err::Failure(e) => LineError::at(line, e.input, e.expected),
            nom::Err::Incomplete(_) => LineError::at(line, b"", "more input"),
        }
    }
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "expected {} at column {}", self.expected, self.column)
    }
}

/// Parses the lines of one log family.
///
/// Parsers may keep state between lines (W3C logs announce their columns in
/// `#Fields:` lines); such parsers report [`LineParser::is_stateful`] and are
/// fed their lines in order by a single worker.
pub trait LineParser: Send {
    /// Parses one line, without its line terminator.
    fn parse<'a>(&mut self, line: &'a [u8]) -> Parsed<'a>;
    /// [`parse`](Self::parse) for the per-line path: a record is handed to `take` where it
    /// was built, not returned. A record is some 270 bytes, and returning it through
    /// [`Parsed`] copied it once or twice a line; the hot parsers build it in place.
    fn parse_and_take(&mut self, line: &[u8], take: &mut dyn FnMut(&LogRecord<'_>)) -> Handed {
        match self.parse(line) {
            Parsed::Record(record) => {
                take(&record);
                Handed::Record
            }
            Parsed::Skip => Handed::Skip,
            Parsed::Reject(error) => Handed::Reject(error),
        }
    }
    /// A fresh parser of the same format, for another worker thread.
    fn clone_box(&self) -> Box<dyn LineParser>;
    fn is_stateful(&self) -> bool {
        false
    }
}

/// Removes a trailing `\r`, and an export's extra pair of quotes wrapped around
/// the whole line (`"1.2.3.4 - - [...] "GET / HTTP/1.1" 200 1 "-" "ua""`).
pub fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.trim_ascii_start()
}
