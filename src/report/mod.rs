//! What a run did, and how it is told: the [`Summary`] built from outcomes,
//! `results.json` (versioned, histograms serialised to merge exactly), the
//! table printed at the end, and every file a run leaves, each written by a
//! [`Writer`] of one signature (the table of them, [`WRITERS`], is here: a new report is a writer file and one line in it).

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

/// Every file a run leaves, in the order they are written; results.json first.
pub const WRITERS: &[Writer] = &[
    Writer { file: "results.json", write: json::write_json },
    Writer { file: "report.html", write: html::write_html },
    Writer { file: "summary.md", write: markdown::write_summary },
    Writer { file: "junit.xml", write: junit::write_junit },
    Writer { file: "stats.csv", write: csv::write_stats },
    Writer { file: "history.csv", write: csv::write_history },
];

/// The file a CI step summary gets a copy of.
pub const STEP_SUMMARY: &str = "summary.md";

/// `report.html, summary.md, …`: the files besides results.json, for what the run prints.
pub fn other_files() -> String {
    WRITERS.iter().skip(1).map(|w| w.file).collect::<Vec<_>>().join(", ")
}
