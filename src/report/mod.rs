//! What a run did, and how it is told: the [`Summary`] built from outcomes,
//! `results.json` (versioned, histograms serialised to merge exactly), and
//! the table printed at the end.

pub mod compare;
pub mod csv;
pub mod html;
pub mod json;
pub mod junit;
pub mod markdown;
pub mod merge;
pub mod status_classes;
pub mod summary;
pub mod svg;
pub mod text;
pub mod validate;

pub use summary::Summary;
