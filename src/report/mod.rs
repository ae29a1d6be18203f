//! What a run did, and how it is told: the [`Summary`] built from outcomes,
//! `results.json` (versioned, histograms serialised to merge exactly), and
//! the table printed at the end.

pub mod json;
pub mod summary;
pub mod text;

pub use summary::Summary;
