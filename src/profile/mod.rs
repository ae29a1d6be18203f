//! The profile: the versioned JSON contract between `derive` and `run`, and
//! everything that builds it from log records.
//!
//! ```json
//! {"version": 1, "source": {...}, "endpoints": [{"method": "GET", "path": "/users/{id}", "weight": 0.31, ...}],
//!  "arrival": {"bin_s": 1, "counts": [...]}, "segments": [...], "sessions": {...}}
//! ```
//! - `wire.rs`: the serde types, apart from the accumulators that build them.
//! - `shape.rs`, `endpoints.rs`, `collapse.rs`, `fold.rs`: path templates, per-endpoint statistics, cardinality folding (at the end, and as the log streams).
//! - `arrival.rs`, `segments.rs`: the arrival curve and its steady/bursty/ramp segments.
//! - `sessions.rs`: users' sessions, think times and flows.
//! - `sketch.rs`: the bounded, mergeable summaries all of these keep; `bin_tally.rs`: counts by bin for the busiest of them.
//! - `deriver.rs`: the accumulator that ties them together; `source.rs`: the time span.
//! - `partial.rs`: a derive's mergeable state, for deriving on many machines.

pub mod arrival;
mod bin_tally;
mod book;
pub mod collapse;
pub mod deriver;
pub mod endpoints;
pub mod fold;
mod left_out;
pub mod load;
pub mod login;
pub mod partial;
mod path_template;
pub mod segments;
pub mod sessions;
pub mod shape;
pub mod sketch;
mod source;
pub mod status_classes;
pub mod synth;
pub mod template;
pub mod think;
pub mod trace;
pub mod users;
pub mod value_shape;
pub mod wire;

/// The seed used when none is given: for sampling in derive, and for arrivals, draws and samples in a run.
pub const DEFAULT_SEED: u64 = 7;

pub use source::TimeSpan;
pub use wire::*;
