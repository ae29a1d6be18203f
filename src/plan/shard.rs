//! Splitting one run over several generators (`--shard K/N`): every shard
//! plans the whole seeded schedule and keeps the work whose shard key is its
//! own. Applied in one place ([`super::build`]) for every source.

use super::work::{Plan, Planned};
use std::fmt;

/// One shard of a run split over several generators: `index` of `count`,
/// from 0 (as Kubernetes' `JOB_COMPLETION_INDEX`).
///
/// Every shard plans the whole seeded schedule and sends its part: request
/// `seq` goes to shard `seq % count`, so each shard's stream has the shape of
/// the whole at `1/count` of its rate (a shard of a burst is a burst), and the
/// shards together send the unsharded run request for request. A virtual
/// user's session is one piece of work and stays whole in one shard; so do a
/// trace's rows of one client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// Shards beyond this many are surely a typo.
pub const MAX_SHARDS: u32 = 10_000;

impl Shard {
    /// `K/N`, K from 0 to N - 1.
    pub fn parse(text: &str) -> Result<Shard, String> {
        let form = "give it as K/N with K from 0 to N - 1, e.g. --shard 0/8 (Kubernetes' $(JOB_COMPLETION_INDEX)/8)";
        let (k, n) = text.split_once('/').ok_or_else(|| format!("`{text}` is not a shard: {form}"))?;
        let (Ok(index), Ok(count)) = (k.trim().parse::<u32>(), n.trim().parse::<u32>()) else {
            return Err(format!("`{text}` is not a shard: {form}"));
        };
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("`{text}`: a run splits into 1 to {MAX_SHARDS} shards"));
        }
        if index >= count {
            return Err(format!("`{text}`: shards of {count} are numbered 0 to {}; {form}", count - 1));
        }
        Ok(Shard { index, count })
    }

    /// Whether work with this key (a request's seq, a session's number, a client's hash) is this shard's.
    pub fn owns(&self, key: u64) -> bool {
        key % u64::from(self.count) == u64::from(self.index)
    }

    /// This shard's part of `plan`: the work whose shard key is this shard's.
    pub fn part(self, plan: Plan) -> impl Iterator<Item = Planned> + Send {
        plan.filter(move |p| self.owns(p.shard_key))
    }

    /// This shard's share of a limit over the whole run (`--max-requests`, `--max-rps`): the parts add up to it.
    pub fn share(&self, whole: u64) -> u64 {
        let (n, k) = (u64::from(self.count), u64::from(self.index));
        whole / n + u64::from(k < whole % n)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}
