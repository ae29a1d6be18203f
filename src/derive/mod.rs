//! `replay derive`: inputs → format → streaming scan → profile.
//!
//! Each input is opened (gzip or not), its first lines pick the format
//! (unless `--format` forced one) and are checked against it, then the whole
//! input streams through [`scan`] on every core into one [`Deriver`], which
//! makes the profile's endpoints, arrival curve, segments and sessions. Bad
//! lines are counted and the first few kept for the report; only `--strict`
//! makes one fatal.

use crate::input::{self, InputError};
use crate::log::{Format, detect, format_time_us};
use crate::log::{LineError, detect::Trial};
use crate::profile::deriver::{DeriveSettings, Deriver, SAMPLE_BUDGET};
use crate::profile::{Profile, Source, VERSION};
use crate::scan::{self, Reject, Scan};
use std::io::{Cursor, Read};
use std::sync::Arc;

mod partial;
mod summary;
pub use partial::{PartialDerived, derive_partial, merge_partials, merge_partials_within};
pub use summary::{write_file_lines, write_summary};

/// The head of each input that detection reads: this many bytes, at most [`SAMPLE_LINES`] lines.
const SAMPLE_BYTES: usize = 256 * 1024;
const SAMPLE_LINES: usize = 1000;

#[derive(Debug, Clone)]
pub struct DeriveConfig {
    /// Paths; `-` is stdin.
    pub inputs: Vec<String>,
    /// Forced format; detected per input when `None`.
    pub format: Option<Format>,
    /// The first rejected line (or a truncated input) is an error.
    pub strict: bool,
    pub threads: usize,
    /// Filters, limits and the seed for the profile.
    pub settings: DeriveSettings,
    /// `--trace`: where to write the per-request timeline (CSV).
    pub trace: Option<std::path::PathBuf>,
    /// What the samples may take in memory ([`SAMPLE_BUDGET`]; tests make it small).
    pub sample_budget: usize,
}

impl DeriveConfig {
    /// Reading `inputs` with detection and default settings.
    pub fn new(inputs: Vec<String>) -> Self {
        DeriveConfig {
            inputs,
            format: None,
            strict: false,
            threads: 2,
            settings: DeriveSettings::default(),
            trace: None,
            sample_budget: SAMPLE_BUDGET,
        }
    }
}

/// Why a derive could not produce a profile. All are bad input (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum DeriveError {
    #[error(transparent)]
    Input(#[from] InputError),
    #[error(
        "{file}: could not tell the log format: {tried}\n  pass it with --format, e.g. --format combined or --format 'nginx:$remote_addr - $remote_user [$time_local] \"$request\" $status ...'"
    )]
    UnknownFormat { file: String, tried: String },
    #[error(
        "{file}: the lines do not look like {format}: {records} of the first {sampled} lines parse; line {line}: {error}\n  check --format, or leave it out to detect the format"
    )]
    WrongFormat { file: String, format: String, records: usize, sampled: usize, line: usize, error: LineError },
    #[error("{file}:{line}: {error} (--strict stops at the first bad line)\n  {excerpt}")]
    Strict { file: String, line: u64, error: LineError, excerpt: String },
    #[error("{file}: input ended early after line {lines}: {message} (--strict)")]
    Truncated { file: String, lines: u64, message: String },
    #[error("no request lines found in {files}{not_http}; check the files hold HTTP access logs")]
    NoRequests { files: String, not_http: String },
    #[error("cannot write the trace to {path}: {message}")]
    Trace { path: String, message: String },
    #[error("{0}")]
    Partial(String),
    #[error(
        "{first} and {other} were derived with different settings, so their profiles do not add up: {differences}\n  derive the partials again with the same flags"
    )]
    PartialsDiffer { first: String, other: String, differences: String },
    #[error("all {records} requests in {files} were left out: {why}{hint}")]
    AllExcluded { files: String, records: u64, why: String, hint: &'static str },
}

/// What was made of one input, for the summary on stderr.
#[derive(Debug)]
pub struct FileReport {
    pub name: String,
    pub format: Option<Format>,
    pub lines: u64,
    /// Records that are HTTP requests.
    pub records: u64,
    /// Records that are not (a TLS handshake, a bare `-`), by kind.
    pub not_requests: crate::scan::NotRequests,
    pub skipped: u64,
    pub rejected: u64,
    pub rejects: Vec<Reject>,
    /// Why the input ended early (a truncated gzip); the lines before it were kept.
    pub read_error: Option<String>,
}

#[derive(Debug)]
pub struct Derived {
    pub profile: Profile,
    pub files: Vec<FileReport>,
    /// `--trace`: rows written, and rows that came too late to be in time order.
    pub trace: Option<(u64, u64)>,
    /// Records left out of the profile, by why.
    pub left_out: crate::profile::deriver::LeftOut,
    /// The sample level the log's long values drove derive to (0: every sample whole).
    pub sample_level: u8,
}

pub fn derive(config: &DeriveConfig) -> Result<Derived, DeriveError> {
    let (deriver, files) = read_inputs(config, false)?;
    let source = source_of(&files, deriver.span, deriver.excluded.total());
    finish(deriver, source, files, config)
}

/// Reads every input into one deriver (for a partial, one that keeps the sessions at its edges).
fn read_inputs(config: &DeriveConfig, partial: bool) -> Result<(Deriver, Vec<FileReport>), DeriveError> {
    let mut files = Vec::new();
    let trace: Option<Box<dyn std::io::Write + Send>> = match &config.trace {
        Some(path) => Some(Box::new(std::io::BufWriter::new(std::fs::File::create(path).map_err(|e| trace_error(config, e.to_string()))?))),
        None => None,
    };
    let mut deriver = Deriver::new(Arc::new(config.settings.clone()), trace).with_sample_budget(config.sample_budget);
    if partial {
        deriver.keep_session_edges();
    }
    for path in &config.inputs {
        files.push(derive_file(path, config, &mut deriver)?);
    }
    let sum = |f: fn(&FileReport) -> u64| files.iter().map(f).sum::<u64>();
    // A partial of no requests is a share of a fleet's logs that held none: the merge adds nothing for it.
    if partial {
        return Ok((deriver, files));
    }
    if sum(|f| f.records) == 0 {
        let mut kinds = crate::scan::NotRequests::default();
        for f in &files {
            kinds.iter_mut().zip(f.not_requests).for_each(|(k, n)| *k += n);
        }
        let named: Vec<String> = crate::log::NotRequest::ALL
            .iter()
            .filter(|k| kinds[k.index()] > 0)
            .map(|k| format!("{}: {}", k.describe(), kinds[k.index()]))
            .collect();
        let not_http = if named.is_empty() { String::new() } else { format!(" (lines that are not HTTP requests: {})", named.join(", ")) };
        return Err(DeriveError::NoRequests { files: config.inputs.join(", "), not_http });
    }
    if deriver.requests() == 0 {
        return Err(all_excluded(config.inputs.join(", "), sum(|f| f.records), deriver.excluded));
    }
    Ok((deriver, files))
}

fn trace_error(config: &DeriveConfig, message: String) -> DeriveError {
    DeriveError::Trace { path: config.trace.as_ref().map_or(String::new(), |p| p.display().to_string()), message }
}

fn all_excluded(files: String, records: u64, left: crate::profile::deriver::LeftOut) -> DeriveError {
    let hint = if left.untimed > 0 {
        "; a record needs a time: pass a --format whose fields include one"
    } else if left.filtered > 0 {
        "; loosen the filters"
    } else {
        ""
    };
    DeriveError::AllExcluded { files, records, why: left.describe(), hint }
}

/// The profile's `source`: the inputs read and what became of their lines.
fn source_of(files: &[FileReport], span: crate::profile::TimeSpan, excluded: u64) -> Source {
    let sum = |f: fn(&FileReport) -> u64| files.iter().map(f).sum::<u64>();
    let mut formats: Vec<&str> = files.iter().filter_map(|f| f.format.as_ref().map(Format::name)).collect();
    formats.dedup();
    Source {
        files: files.iter().map(|f| f.name.clone()).collect(),
        format: formats.join("+"),
        lines: sum(|f| f.lines),
        records: sum(|f| f.records),
        not_requests: sum(|f| f.not_requests.iter().sum()),
        skipped: sum(|f| f.skipped),
        rejected: sum(|f| f.rejected),
        excluded,
        first: span.first_us.map(format_time_us),
        last: span.last_us.map(format_time_us),
    }
}

/// The profile a deriver's state makes, with `source` as its record of the inputs.
fn finish(deriver: Deriver, source: Source, files: Vec<FileReport>, config: &DeriveConfig) -> Result<Derived, DeriveError> {
    let left_out = deriver.excluded;
    let sample_level = deriver.sample_level();
    let parts = deriver.finish();
    let trace = parts.trace.transpose().map_err(|e| trace_error(config, e.to_string()))?;
    let profile = Profile {
        version: VERSION,
        source: Some(source),
        endpoints: parts.endpoints,
        arrival: parts.arrival,
        segments: parts.segments,
        sessions: parts.sessions,
        thresholds: Vec::new(),
    };
    Ok(Derived { profile, files, trace, left_out, sample_level })
}

/// An input opened and its format settled, ready to be read from the start.
pub struct OpenedInput {
    pub name: String,
    /// `None` for an input with no lines.
    pub format: Option<Format>,
    pub reader: Box<dyn Read + Send>,
    /// A read error met in the first bytes: the reader holds only what came before it.
    pub head_error: Option<std::io::Error>,
}

/// Opens `path`, reads its first lines and settles the format: the forced one,
/// checked against those lines, or the detected one.
pub fn open_input(path: &str, forced: Option<&Format>) -> Result<OpenedInput, DeriveError> {
    let mut input = input::open(path)?;
    let (head, head_error) = input::read_head(&mut input.reader, SAMPLE_BYTES);
    let sample = sample_lines(&head, head_error.is_none() && head.len() == SAMPLE_BYTES);
    let format = choose_format(&input.name, &sample, forced)?;
    let reader: Box<dyn Read + Send> = match head_error {
        Some(_) => Box::new(Cursor::new(head)),
        None => Box::new(Cursor::new(head).chain(input.reader)),
    };
    Ok(OpenedInput { name: input.name, format, reader, head_error })
}

fn derive_file(path: &str, config: &DeriveConfig, deriver: &mut Deriver) -> Result<FileReport, DeriveError> {
    let OpenedInput { name, format, reader, head_error } = open_input(path, config.format.as_ref())?;
    let Some(format) = format else {
        let report = FileReport {
            name,
            format: None,
            lines: 0,
            records: 0,
            not_requests: Default::default(),
            skipped: 0,
            rejected: 0,
            rejects: Vec::new(),
            read_error: head_error.map(|e| e.to_string()),
        };
        return Ok(report);
    };
    let parser = format.parser().map_err(|reason| DeriveError::UnknownFormat { file: name.clone(), tried: reason })?;
    let scan = scan::scan(reader, parser.as_ref(), deriver.chunk_maker(), deriver, config.threads);
    let read_error = head_error.or(scan.read_error).map(|e| e.to_string());
    if config.strict {
        if let Some(first) = scan.rejects.first().cloned() {
            return Err(DeriveError::Strict { file: name, line: first.line, error: first.error, excerpt: first.excerpt });
        }
        if let Some(message) = read_error {
            return Err(DeriveError::Truncated { file: name, lines: scan.lines, message });
        }
    }
    let Scan { lines, records, not_requests, skipped, rejected, rejects, .. } = scan;
    Ok(FileReport { name, format: Some(format), lines, records, not_requests, skipped, rejected, rejects, read_error })
}

/// Whole lines of the head; the last is dropped when the head was cut short.
fn sample_lines(head: &[u8], cut: bool) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = head.split(|&b| b == b'\n').collect();
    if cut || lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines.truncate(SAMPLE_LINES);
    lines
}

/// The forced format, checked against the sample, or the detected one.
/// `None` for an input with no lines at all.
fn choose_format(file: &str, sample: &[&[u8]], forced: Option<&Format>) -> Result<Option<Format>, DeriveError> {
    if sample.is_empty() {
        return Ok(forced.cloned());
    }
    if let Some(format) = forced {
        let trial = Trial::run(format.clone(), sample);
        if trial.rejected > 0 && trial.mostly_fails() {
            let (line, error) = trial.first_reject.expect("rejected lines keep the first");
            return Err(DeriveError::WrongFormat {
                file: file.into(),
                format: format.to_string(),
                records: trial.records,
                sampled: sample.len(),
                line,
                error,
            });
        }
        return Ok(Some(format.clone()));
    }
    // A container runtime's wrapper around each line: detect the format of the lines inside.
    if let Some(wrapper) = crate::log::container::detect(sample) {
        let inner: Vec<Vec<u8>> = sample
            .iter()
            .filter_map(|l| crate::log::container::unwrap(wrapper, l.trim_ascii()).ok().flatten().map(|t| t.into_owned()))
            .collect();
        let inner: Vec<&[u8]> = inner.iter().map(Vec::as_slice).collect();
        return Ok(choose_format(file, &inner, None)?.map(|f| Format::Wrapped(wrapper, Box::new(f))));
    }
    let detection = detect(sample);
    if detection.best.mostly_fails() {
        if detection.trials.iter().all(|t| t.records == 0 && t.rejected == 0) {
            // Only blank lines and comments so far: nothing to tell formats apart by.
            return Ok(Some(Format::W3c).filter(|_| sample.iter().any(|l| l.starts_with(b"#"))).or(Some(Format::Combined)));
        }
        // No known format fits: read loosely, when a time and a request stand at the same fields in nearly every line.
        if let Some(layout) = crate::log::loose::Layout::learn(sample) {
            return Ok(Some(Format::Loose(layout)));
        }
        let tried = detection
            .trials
            .iter()
            .map(|t| match t.first_reject {
                Some((line, e)) => format!("{} read {} of {} lines (line {line}: {e})", t.format.name(), t.records, sample.len()),
                None => format!("{} read {} of {} lines", t.format.name(), t.records, sample.len()),
            })
            .collect::<Vec<_>>()
            .join("; ");
        let tried = format!("{tried}; read loosely, fewer than 85% of lines hold a time and a quoted request at the same fields");
        return Err(DeriveError::UnknownFormat { file: file.into(), tried });
    }
    Ok(Some(detection.best.format))
}
