//! What a run did, and how it is told: the [`Summary`] built from outcomes,
//! `results.json` (versioned, histograms serialised to merge exactly), the
//! table printed at the end, and every file a run leaves, each written by a
//! [`Writer`] of one signature (the table of them is in `app/outputs.rs`).

pub mod compare;
pub mod csv;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod svg;
pub mod text;
pub mod validate;

/// How a report is written: from the results, into a file's bytes; an error in words.
pub type WriteFn = fn(&json::Results, &mut dyn std::io::Write) -> Result<(), String>;

/// A file a run leaves in its folder, and what writes it.
#[derive(Clone, Copy)]
pub struct Writer {
    pub file: &'static str,
    pub write: WriteFn,
}
