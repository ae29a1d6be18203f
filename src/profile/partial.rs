//! The partial profile: the mergeable state of a derive, for deriving a
//! fleet's logs on many machines (`replay derive --partial`, then
//! `replay derive --merge`).
//!
//! ```json
//! {"kind": "replay derive partial", "version": 1, "settings": {...}, "source": {...},
//!  "coverage": [[first_us, last_us]], "state": {"templates": [...], "arrival": {...}, "sessions": {...}}}
//! ```
//! A partial holds what the deriver holds before it finishes: the template
//! table with each template's counters, sketches and samples, the folding
//! rules, the arrival counter's bins, the mix windows and the sessions'
//! summaries with the sessions open at its edges. It is versioned on its own
//! ([`PARTIAL_VERSION`]); the settings that shape a profile travel with it,
//! and partials derived with different ones are refused, naming the flag.
//!
//! A partial is untrusted input like any file: it is read under a size bound
//! (gzip or plain), and every part is checked against derive's own bounds
//! before anything is merged, so a hostile one gets an error naming the
//! field, never a panic or unbounded memory.

use super::deriver::{DeriveSettings, DeriverState};
use super::wire::Source;
use serde::{Deserialize, Serialize};
use std::io::{Read as _, Write};
use std::path::Path;

pub const PARTIAL_KIND: &str = "replay derive partial";
pub const PARTIAL_VERSION: u32 = 1;
/// A partial is at most this large once inflated: 20,000 templates with full samples and
/// 400,000 open sessions fit.
pub const MAX_PARTIAL_BYTES: u64 = 512 << 20;
/// Files named in one partial's source, at most.
const MAX_FILES: usize = 1_000_000;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Partial {
    pub kind: String,
    pub version: u32,
    pub settings: PartialSettings,
    pub source: Source,
    /// The stretches of time read, first to last request (microseconds), joined where they touch.
    pub coverage: Vec<(i64, i64)>,
    pub state: DeriverState,
}

/// What shapes a derived profile beyond its inputs: partials merge only when these agree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartialSettings {
    /// `--format`, when forced (else detected per file).
    pub format: Option<String>,
    pub since_us: Option<i64>,
    pub until_us: Option<i64>,
    pub exclude: Option<String>,
    pub host_filter: Option<String>,
    pub max_endpoints: usize,
    pub session_gap_s: u64,
    pub bin_s: Option<u32>,
    pub seed: u64,
    pub login_form: Option<String>,
}

impl PartialSettings {
    pub fn of(format: Option<&crate::log::Format>, s: &DeriveSettings) -> Self {
        PartialSettings {
            format: format.map(ToString::to_string),
            since_us: s.since_us,
            until_us: s.until_us,
            exclude: s.exclude.as_ref().map(|r| r.as_str().to_owned()),
            host_filter: s.host_filter.clone(),
            max_endpoints: s.max_endpoints,
            session_gap_s: s.session_gap_s,
            bin_s: s.bin_s,
            seed: s.seed,
            login_form: s.login_form.clone(),
        }
    }

    /// The derive settings these stand for.
    pub fn to_settings(&self) -> Result<DeriveSettings, String> {
        let exclude = match &self.exclude {
            Some(pattern) => Some(regex::bytes::Regex::new(pattern).map_err(|e| format!("exclude: {e}"))?),
            None => None,
        };
        if self.max_endpoints == 0 || self.session_gap_s == 0 || self.session_gap_s > MAX_GAP_S || self.bin_s == Some(0) {
            return Err(format!("max_endpoints, session_gap_s, bin_s: above 0, and a gap of at most {MAX_GAP_S} s"));
        }
        if let Some(form) = &self.login_form {
            super::login::check_form(form).map_err(|e| format!("login_form: {e}"))?;
        }
        Ok(DeriveSettings {
            since_us: self.since_us,
            until_us: self.until_us,
            exclude,
            host_filter: self.host_filter.clone(),
            max_endpoints: self.max_endpoints,
            session_gap_s: self.session_gap_s,
            bin_s: self.bin_s,
            seed: self.seed,
            trace: false,
            login_form: self.login_form.clone(),
        })
    }

    /// How `other` differs, flag by flag: `--session-gap: 30 m here, 10 m there`.
    pub fn differences(&self, other: &PartialSettings) -> Vec<String> {
        fn said<T: std::fmt::Debug>(value: &Option<T>) -> String {
            value.as_ref().map_or_else(|| "not given".to_owned(), |v| format!("{v:?}"))
        }
        let mut out = Vec::new();
        let mut differ = |flag: &str, here: String, there: String| {
            if here != there {
                out.push(format!("{flag}: {here} here, {there} there"));
            }
        };
        differ("--format", said(&self.format), said(&other.format));
        differ("--since", said(&self.since_us.map(crate::log::format_time_us)), said(&other.since_us.map(crate::log::format_time_us)));
        differ("--until", said(&self.until_us.map(crate::log::format_time_us)), said(&other.until_us.map(crate::log::format_time_us)));
        differ("--exclude", said(&self.exclude), said(&other.exclude));
        differ("--host-filter", said(&self.host_filter), said(&other.host_filter));
        differ("--max-endpoints", self.max_endpoints.to_string(), other.max_endpoints.to_string());
        let gap = |s: u64| crate::units::human_duration(s as f64);
        differ("--session-gap", gap(self.session_gap_s), gap(other.session_gap_s));
        differ("--bin", said(&self.bin_s.map(|b| gap(u64::from(b)))), said(&other.bin_s.map(|b| gap(u64::from(b)))));
        differ("--seed", self.seed.to_string(), other.seed.to_string());
        differ("--login-form", said(&self.login_form), said(&other.login_form));
        out
    }
}

/// The longest `--session-gap` a partial may carry: a year.
const MAX_GAP_S: u64 = 365 * 86_400;

/// Writes `partial` to `path` (gzip when it ends in `.gz`), or stdout.
pub fn write(partial: &Partial, path: Option<&Path>) -> std::io::Result<()> {
    let gzip = path.is_some_and(|p| p.extension().is_some_and(|e| e == "gz"));
    let sink: Box<dyn Write> = match path {
        Some(p) => Box::new(std::fs::File::create(p)?),
        None => Box::new(std::io::stdout().lock()),
    };
    let mut sink: Box<dyn Write> = if gzip { Box::new(flate2::write::GzEncoder::new(sink, flate2::Compression::fast())) } else { sink };
    let mut buffered = std::io::BufWriter::with_capacity(1 << 16, &mut sink);
    serde_json::to_writer(&mut buffered, partial).map_err(std::io::Error::other)?;
    buffered.write_all(b"\n")?;
    buffered.flush()?;
    drop(buffered);
    sink.flush()
}

/// Reads and checks the partial at `path` (plain or gzip); errors name the file and the field.
pub fn load(path: &Path) -> Result<Partial, String> {
    let name = path.display();
    let given = path.to_string_lossy();
    if given == "-" {
        return Err("-: a merge reads each partial twice (to check and order them, then to add them): give files".to_owned());
    }
    let source = crate::input::open(&given).map_err(|e| e.to_string())?.reader;
    let mut bounded = std::io::BufReader::new(source.take(MAX_PARTIAL_BYTES + 1));
    // Its first bytes tell a log (or any other file) at once, before it is read whole.
    let head = std::io::BufRead::fill_buf(&mut bounded).map_err(|e| format!("{name}: cannot read: {e}"))?;
    if head.iter().find(|b| !b.is_ascii_whitespace()).is_some_and(|&b| b != b'{') {
        return Err(format!(
            "{name}: is not a partial profile (not JSON: a log?); --merge takes the files `replay derive --partial` writes"
        ));
    }
    // Read whole (bounded), then parsed from memory: parsed from a reader, serde_json counts
    // lines and columns byte by byte, a third of a merge's time.
    let mut text = Vec::new();
    let read = bounded.read_to_end(&mut text);
    if text.len() as u64 > MAX_PARTIAL_BYTES {
        return Err(format!("{name}: over {} MiB; a partial is far smaller (is this the right file?)", MAX_PARTIAL_BYTES >> 20));
    }
    // A file not read to its end (a gzip stream broken or failing its checksum) is refused,
    // even when what was read parses.
    read.map_err(|e| format!("{name}: cannot read: {e}"))?;
    let mut deserializer = serde_json::Deserializer::from_slice(&text);
    let parsed: Result<Partial, _> = serde_path_to_error::deserialize(&mut deserializer);
    let partial = parsed.map_err(|e| {
        let field = e.path().to_string();
        let inner = e.into_inner();
        let what = if inner.is_eof() { "is cut short (truncated?)".to_owned() } else { inner.to_string() };
        let at = if field == "." { String::new() } else { format!("{field}: ") };
        format!("{name}: {at}{what}; expected a partial written by `replay derive --partial`")
    })?;
    check(&partial).map_err(|e| format!("{name}: {e}"))?;
    Ok(partial)
}

/// Checks a parsed partial: its kind and version, its settings, its coverage and its state.
pub fn check(partial: &Partial) -> Result<(), String> {
    if partial.kind != PARTIAL_KIND {
        return Err(format!("kind: `{}` is not `{PARTIAL_KIND}`", crate::untrusted::terminal(&partial.kind)));
    }
    if partial.version != PARTIAL_VERSION {
        return Err(format!(
            "version: {} is not one this replay reads ({PARTIAL_VERSION}); derive the partial again with this replay",
            partial.version
        ));
    }
    partial.settings.to_settings().map_err(|e| format!("settings.{e}"))?;
    if partial.source.files.len() > MAX_FILES || partial.source.files.iter().any(|f| f.len() > 4096) || partial.source.format.len() > 4096 {
        return Err(format!("source.files: at most {MAX_FILES} names of at most 4096 bytes"));
    }
    let limit = (super::arrival::MAX_SECOND * 1_000_000) as u64;
    for (i, &(first, last)) in partial.coverage.iter().enumerate() {
        if first > last || first.unsigned_abs() > limit || last.unsigned_abs() > limit || i > 0 && partial.coverage[i - 1].1 >= first {
            return Err(format!("coverage[{i}]: stretches are first to last, rising, apart"));
        }
    }
    if partial.coverage.len() > MAX_FILES {
        return Err(format!("coverage: {} stretches (at most {MAX_FILES})", partial.coverage.len()));
    }
    partial.state.check().map_err(|e| format!("state.{e}"))
}
