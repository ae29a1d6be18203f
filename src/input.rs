//! Opening inputs: files, `-` for stdin, gzip read transparently (by its
//! magic bytes, whatever the name), with errors that name the path.

use flate2::read::MultiGzDecoder;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

/// An input that could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: no such file; check the path")]
    Missing { path: String },
    #[error("{path} is a directory; pass the log files in it, e.g. {path}/*.log")]
    Directory { path: String },
    #[error("{path}: cannot read: {source}")]
    Io { path: String, source: io::Error },
}

/// A readable input and the name it is reported under.
pub struct Input {
    pub name: String,
    pub reader: Box<dyn Read + Send>,
}

/// Opens `path` (`-` is stdin), decompressing gzip when the data starts with its magic bytes.
pub fn open(path: &str) -> Result<Input, InputError> {
    let raw: Box<dyn Read + Send> = if path == "-" {
        Box::new(io::stdin())
    } else {
        let meta = std::fs::metadata(path).map_err(|source| match source.kind() {
            io::ErrorKind::NotFound => InputError::Missing { path: path.to_owned() },
            _ => InputError::Io { path: path.to_owned(), source },
        })?;
        if meta.is_dir() {
            return Err(InputError::Directory { path: path.to_owned() });
        }
        Box::new(File::open(Path::new(path)).map_err(|source| InputError::Io { path: path.to_owned(), source })?)
    };
    let name = if path == "-" { "<stdin>".to_owned() } else { path.to_owned() };
    let mut buffered = BufReader::with_capacity(256 * 1024, raw);
    let head = buffered.fill_buf().map_err(|source| InputError::Io { path: name.clone(), source })?;
    let reader: Box<dyn Read + Send> =
        if head.starts_with(&[0x1f, 0x8b]) { Box::new(MultiGzDecoder::new(buffered)) } else { Box::new(buffered) };
    Ok(Input { name, reader })
}

/// Reads up to `max_bytes` from the start of `reader`, for detection; the
/// bytes are read again before the rest. A read error (a truncated gzip)
/// comes back beside the bytes read before it, which are kept.
pub fn read_head(reader: &mut dyn Read, max_bytes: usize) -> (Vec<u8>, Option<io::Error>) {
    let mut head = Vec::with_capacity(max_bytes.min(1 << 20));
    let error = reader.take(max_bytes as u64).read_to_end(&mut head).err();
    (head, error)
}
