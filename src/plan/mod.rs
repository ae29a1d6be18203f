//! What a run will send and when: the vocabulary every source of work shares,
//! the sources themselves, and the limits that hold for all of them.
//!
//! A source turns a profile or a trace into [`Planned`] work in time order:
//! - `profile.rs`: independent requests on the profile's arrival curve (`schedule.rs` + `request.rs`);
//! - `sessions.rs`: virtual users (`--sessions`), each a [`SessionSpec`];
//! - `trace.rs`: a derived trace, row by row.
//!
//! Every source is built through [`build`] from one [`PlanSettings`], so the
//! window, speed, duration, rate scale and the end of the run are applied in one
//! place; `limits.rs` holds what the loop enforces at send time for every
//! source alike (`--max-rps`, `--max-requests`, the end of sending), and
//! `estimate.rs` answers `replay plan` from the bins without materialising a request.
//! A [`Shard`] (`--shard K/N`) keeps one generator's part of any source's plan.
//! `batching.rs` groups due work into the loop's wakes.

pub mod estimate;
mod mix;
mod picker;
pub mod profile;
pub mod request;
pub mod sessions;
pub mod settings;
pub mod shard;
pub mod source;
pub mod synthetic;
pub mod trace;
pub mod vars;
pub mod work;

pub use request::{RequestMaker, Vars};
pub use settings::{MAX_UNSCALED_TIMELINE_S, Pace, PlanError, PlanSettings};
pub use shard::{MAX_SHARDS, Shard};
pub use source::{Requests, Trace, Users, WorkSource, open};
pub use work::*;

/// Plans a run of `source` with `settings`; with a shard, only that shard's part of it.
pub fn build(source: &dyn WorkSource, settings: &PlanSettings) -> Result<PlannedRun, PlanError> {
    let mut planned = source.plan(settings)?;
    if let Some(shard) = settings.shard {
        let whole = std::mem::replace(&mut planned.plan, Box::new(std::iter::empty()));
        planned.plan = Box::new(shard.part(whole));
        planned.expected_requests /= f64::from(shard.count);
    }
    Ok(planned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(seq: u64) -> Planned {
        Planned {
            at_ns: seq,
            shard_key: seq,
            work: Work::Request(RequestSpec {
                seq,
                endpoint: 0,
                method: hyper::Method::GET,
                target: "/".into(),
                body: None,
                synthetic: false,
            }),
        }
    }

    #[test]
    fn shards_parse_share_and_split_without_gaps_or_overlap() {
        assert_eq!(Shard::parse("3/8"), Ok(Shard { index: 3, count: 8 }));
        for bad in ["8/8", "1/0", "a/2", "2", "-1/4", "1/10001"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
        let shards: Vec<Shard> = (0..3).map(|index| Shard { index, count: 3 }).collect();
        assert_eq!(shards.iter().map(|s| s.share(100)).collect::<Vec<_>>(), [34, 33, 33]);
        let mut seen: Vec<u64> = Vec::new();
        for shard in &shards {
            let plan: Plan = Box::new((0..30).map(request));
            let mine: Vec<u64> = shard.part(plan).map(|p| p.at_ns).collect();
            assert_eq!(mine.len(), 10);
            seen.extend(mine);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..30).collect::<Vec<_>>());
        // Sessions go whole, by their user's number.
        let session =
            |i| Planned { at_ns: i, shard_key: i, work: Work::Session(SessionSpec { steps: vec![], login: false, think_ns: vec![] }) };
        let sessions: Plan = Box::new((0..6).map(session));
        assert_eq!(Shard { index: 1, count: 2 }.part(sessions).map(|p| p.at_ns).collect::<Vec<_>>(), [1, 3, 5]);
    }
}
