//! The profile: the versioned JSON contract between `derive` and `run`.
//!
//! ```json
//! {"version": 1, "source": {"files": ["access.log"], "format": "combined", "lines": 20000,
//!  "records": 19990, "skipped": 0, "rejected": 10,
//!  "first": "1995-08-01T04:00:01Z", "last": "1995-08-01T14:59:29Z"}}
//! ```
//! Wire types live here, apart from the accumulators that build them.

mod source;

pub use source::TimeSpan;

use serde::{Deserialize, Serialize};

/// The profile schema version this build writes and reads.
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    pub version: u32,
    pub source: Source,
}

/// Where a profile came from: the logs read and what was made of their lines.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub files: Vec<String>,
    /// The format name (`combined`, `nginx`, `w3c`…); formats joined by `+` when inputs differ.
    pub format: String,
    /// Physical lines read.
    pub lines: u64,
    /// Lines parsed as requests.
    pub records: u64,
    /// Header, comment, blank and other non-request lines.
    pub skipped: u64,
    /// Lines that should have been requests but did not parse.
    pub rejected: u64,
    /// The earliest and latest request time, RFC 3339 UTC (input need not be sorted).
    pub first: Option<String>,
    pub last: Option<String>,
}
