//! Small, mergeable summaries that keep derive's memory flat whatever the
//! log size: a quantile sketch and a hash-ordered sample.
//!
//! Both give the same answer whatever order their inputs came in, and two of
//! them merge exactly, so chunks read on different threads fold into the
//! same profile.

use super::wire::Quantiles;
use rustc_hash::FxHasher;
use std::hash::{Hash, Hasher};

/// Bins per doubling: values are kept to within about 1.5%.
const PER_OCTAVE: i32 = 48;

/// Quantiles of positive values in log-spaced bins, stored sparsely.
///
/// A value whose bin is there is counted in it at once; one whose bin is
/// not waits in a short unsorted list, and those join the sorted bins
/// [`PENDING`] at a time in one merge: a log's byte counts spread over
/// hundreds of bins, and inserting each into the sorted list moved half of
/// it every time. The count includes them; everything
/// that reads the bins takes them in.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, into = "SketchWire", from = "SketchWire")]
pub struct QuantileSketch {
    /// (bin index, count), sorted by bin; bin 0 holds zeros.
    bins: Vec<(i32, u64)>,
    count: u64,
    /// Bins of values added but not yet merged into `bins`.
    pending: Vec<i32>,
}

/// Values added wait this many at a time before they join the sorted bins. A chunk's sketches
/// start empty: with room for 1,024, most of a chunk's values wait, then find their bins in the
/// run's sketch, whose bins are there already, rather than be searched for and settled in the
/// chunk's own thin bins again and again (128 at a time cost derive 1.8% more instructions on
/// a realistic log). What waits in a chunk's sketches is at most the chunk's lines.
const PENDING: usize = 1024;
/// Values merged in from another sketch's waiting list wait this many at most: the run's
/// sketches, one for each of up to 20,000 templates, hold little waiting.
const PENDING_MERGED: usize = 128;

/// A sketch as files hold it: its bins, every value in them.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct SketchWire {
    bins: Vec<(i32, u64)>,
    count: u64,
}

impl From<QuantileSketch> for SketchWire {
    fn from(mut sketch: QuantileSketch) -> Self {
        sketch.settle();
        SketchWire { bins: sketch.bins, count: sketch.count }
    }
}

impl From<SketchWire> for QuantileSketch {
    fn from(wire: SketchWire) -> Self {
        QuantileSketch { bins: wire.bins, count: wire.count, pending: Vec::new() }
    }
}

impl PartialEq for QuantileSketch {
    fn eq(&self, other: &Self) -> bool {
        self.count == other.count && self.settled().bins == other.settled().bins
    }
}

/// The first place at or after `from` whose bin is not below `bin` (the bins are sorted):
/// steps of 1, 2, 4… from `from`, then a binary search within the last step.
fn gallop(bins: &[(i32, u64)], from: usize, bin: i32) -> usize {
    let (mut low, mut step) = (from, 1);
    while low + step <= bins.len() && bins[low + step - 1].0 < bin {
        low += step;
        step *= 2;
    }
    let high = (low + step).min(bins.len());
    low + bins[low..high].partition_point(|&(b, _)| b < bin)
}

impl QuantileSketch {
    /// The bin of a value from its float bits: the exponent picks the
    /// doubling, the top of the mantissa the step within it (no logarithm
    /// on the per-request path).
    #[inline(always)] // once a value
    pub(super) fn bin_of(value: f64) -> i32 {
        if value.is_nan() || value < 1.0 {
            return 0;
        }
        let bits = value.to_bits();
        let exponent = ((bits >> 52) & 0x7ff) as i32 - 1023;
        let fraction = (bits & ((1 << 52) - 1)) as f64 / (1u64 << 52) as f64;
        1 + exponent * PER_OCTAVE + (fraction * f64::from(PER_OCTAVE)) as i32
    }

    /// The middle of a bin.
    fn value_of(bin: i32) -> f64 {
        if bin == 0 {
            return 0.0;
        }
        let (exponent, step) = ((bin - 1).div_euclid(PER_OCTAVE), (bin - 1).rem_euclid(PER_OCTAVE));
        2f64.powi(exponent) * (1.0 + (f64::from(step) + 0.5) / f64::from(PER_OCTAVE))
    }

    /// The bin of a whole number, as [`bin_of`](Self::bin_of) finds it for the number as a
    /// float, in integer arithmetic: below 2^52 the float's fraction times [`PER_OCTAVE`] is
    /// exact, so its whole part is the shifted product.
    #[inline(always)] // once a request
    pub(super) fn bin_of_whole(n: u64) -> i32 {
        if n == 0 || n >= 1 << 52 {
            return Self::bin_of(n as f64);
        }
        let exponent = 63 - n.leading_zeros();
        let step = (PER_OCTAVE as u64 * (n - (1 << exponent))) >> exponent;
        1 + exponent as i32 * PER_OCTAVE + step as i32
    }

    /// [`add`](Self::add) of a whole number (a byte count, a duration in microseconds).
    pub fn add_whole(&mut self, value: u64) {
        self.add_in_bin(Self::bin_of_whole(value), PENDING);
    }

    /// Counts a value: in its bin when the bin is there already (most values
    /// once a sketch has warmed up), else in the waiting list.
    pub fn add(&mut self, value: f64) {
        self.add_in_bin(Self::bin_of(value), PENDING);
    }

    #[inline(always)] // the body of both adds
    fn add_in_bin(&mut self, bin: i32, most_waiting: usize) {
        self.count += 1;
        // Bins are distinct and sorted, so bin `b` sits at most `b - first` places from the
        // start and at most `last - b` from the end: where a run of bins has no gap (think
        // times, sizes once warmed up) one of the two is its place; else the search is short.
        if let (Some(&(first, _)), Some(&(last, _))) = (self.bins.first(), self.bins.last())
            && (first..=last).contains(&bin)
        {
            let end = self.bins.len() - 1;
            let high = ((bin - first) as usize).min(end);
            let low = end.saturating_sub((last - bin) as usize);
            for at in [low, high] {
                if self.bins[at].0 == bin {
                    self.bins[at].1 += 1;
                    return;
                }
            }
            if let Some(Ok(at)) = self.bins.get(low..high).map(|run| run.binary_search_by_key(&bin, |&(b, _)| b)) {
                self.bins[low + at].1 += 1;
                return;
            }
        }
        self.pending.push(bin);
        if self.pending.len() >= most_waiting {
            self.settle();
        }
    }

    /// Merges the waiting values into the sorted bins: one pass from the back, no insertion shifts.
    fn settle(&mut self) {
        if self.pending.is_empty() {
            return;
        }
        self.pending.sort_unstable();
        let mut runs: Vec<(i32, u64)> = Vec::with_capacity(self.pending.len());
        for &bin in &self.pending {
            match runs.last_mut() {
                Some((last, n)) if *last == bin => *n += 1,
                _ => runs.push((bin, 1)),
            }
        }
        self.pending.clear();
        self.add_sorted_bins(&runs);
    }

    /// This sketch with its waiting values merged, borrowed when there are none.
    fn settled(&self) -> std::borrow::Cow<'_, QuantileSketch> {
        if self.pending.is_empty() {
            return std::borrow::Cow::Borrowed(self);
        }
        let mut settled = self.clone();
        settled.settle();
        std::borrow::Cow::Owned(settled)
    }

    /// Counts `value` `n` times, as `n` calls of [`add`](Self::add) would.
    pub fn add_count(&mut self, value: f64, n: u64) {
        if n > 0 {
            self.add_n(Self::bin_of(value), n);
        }
    }

    /// Counts `n` values of bin `bin` (from [`bin_of`](Self::bin_of)), as adding each would.
    pub(super) fn add_bin(&mut self, bin: i32, n: u64) {
        if n > 0 {
            self.add_n(bin, n);
        }
    }

    fn add_n(&mut self, bin: i32, n: u64) {
        self.count += n;
        match self.bins.binary_search_by_key(&bin, |&(b, _)| b) {
            Ok(at) => self.bins[at].1 += n,
            Err(at) => self.bins.insert(at, (bin, n)),
        }
    }

    pub fn merge(&mut self, other: &QuantileSketch) {
        for &(_, n) in &other.bins {
            self.count += n;
        }
        self.add_sorted_bins(&other.bins);
        // The other's waiting values come as adds would (most find their bin; the rest wait here).
        for &bin in &other.pending {
            self.add_in_bin(bin, PENDING_MERGED);
        }
    }

    /// Adds counts of bins sorted and distinct to the bins (not to the count), as a search
    /// and an insertion for each would, in two passes: the first adds to the bins there
    /// already, each found by a search that gallops on from the last, and counts the new; the
    /// second merges the new in from the back (a chunk's hundreds of bins into the whole
    /// run's, or a settle's waiting values, each shifting the list once, not once a bin).
    fn add_sorted_bins(&mut self, other: &[(i32, u64)]) {
        let (mut at, mut fresh) = (0, 0);
        for &(bin, n) in other {
            at = gallop(&self.bins, at, bin);
            match self.bins.get_mut(at) {
                Some((b, count)) if *b == bin => *count += n,
                _ => fresh += 1,
            }
        }
        if fresh == 0 {
            return;
        }
        let old_len = self.bins.len();
        self.bins.resize(old_len + fresh, (0, 0));
        // `write` runs ahead of `read` by the new bins still to place; a bin there already stays.
        // Once every new bin is placed, the bins below are where they were (and no slip of the
        // sorted order either list should have can move `write` below `read`).
        let (mut read, mut write) = (old_len, old_len + fresh);
        for &(bin, n) in other.iter().rev() {
            if write == read {
                break;
            }
            while read > 0 && self.bins[read - 1].0 > bin {
                read -= 1;
                write -= 1;
                self.bins[write] = self.bins[read];
            }
            if read > 0 && self.bins[read - 1].0 == bin {
                continue;
            }
            write -= 1;
            self.bins[write] = (bin, n);
        }
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// Checks a sketch read from a file: bins in order, each counted, summing to the count, at most `most`.
    pub fn check(&self, most: u64) -> Result<(), String> {
        // Values are counts, bytes and durations: at most 2^64.
        let highest = Self::bin_of(u64::MAX as f64);
        let settled = self.settled();
        let bins = &settled.bins;
        let mut sum: u64 = 0;
        for (i, &(bin, n)) in bins.iter().enumerate() {
            if !(0..=highest).contains(&bin) || n == 0 || i > 0 && bins[i - 1].0 >= bin {
                return Err(format!("bins[{i}]: bins are ({{0 to {highest}}}, count above 0) in rising order"));
            }
            sum = sum.checked_add(n).ok_or("bins: the counts overflow")?;
        }
        if sum != self.count || sum > most {
            return Err(format!("count: {} with bins summing to {sum} (at most {most})", self.count));
        }
        Ok(())
    }

    /// p50, p90 and p99, each times `scale` (a unit change) and kept to 3 decimals.
    pub fn summary(&self, scale: f64) -> Option<Quantiles> {
        let q = |p| self.quantile(p).map(|v| (v * scale * 1000.0).round() / 1000.0);
        Some(Quantiles::new(q(0.5)?, q(0.9)?, q(0.99)?))
    }

    /// [`QuantileSketch::summary`] with the low end (`min`, `p10`, `p25`) and `max`, for what is drawn from.
    pub fn full_summary(&self, scale: f64) -> Option<Quantiles> {
        let q = |p| self.quantile(p).map(|v| (v * scale * 1000.0).round() / 1000.0);
        Some(Quantiles { min: q(0.0), p10: q(0.1), p25: q(0.25), max: q(1.0), ..self.summary(scale)? })
    }

    /// [`QuantileSketch::summary`] in whole units (bytes).
    pub fn whole_summary(&self) -> Option<Quantiles> {
        self.summary(1.0).map(|q| Quantiles::new(q.p50.round(), q.p90.round(), q.p99.round()))
    }

    /// [`QuantileSketch::full_summary`] in whole units (requests).
    pub fn whole_full_summary(&self) -> Option<Quantiles> {
        let round = |v: Option<f64>| v.map(f64::round);
        self.full_summary(1.0).map(|q| Quantiles {
            p50: q.p50.round(),
            p90: q.p90.round(),
            p99: q.p99.round(),
            min: round(q.min),
            p10: round(q.p10),
            p25: round(q.p25),
            max: round(q.max),
        })
    }

    /// The value below which a fraction `q` of the values lie, or `None` when empty.
    pub fn quantile(&self, q: f64) -> Option<f64> {
        if self.count == 0 {
            return None;
        }
        let settled = self.settled();
        let this = settled.as_ref();
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for &(bin, n) in &this.bins {
            seen += n;
            if seen >= rank {
                return Some(Self::value_of(bin));
            }
        }
        this.bins.last().map(|&(bin, _)| Self::value_of(bin))
    }
}

/// A seeded hash: the same value always lands in the same place.
pub fn seeded_hash(seed: u64, value: &[u8]) -> u64 {
    let mut hasher = FxHasher::default();
    seed.hash(&mut hasher);
    value.hash(&mut hasher);
    // Fx is fast but mixes weakly in the high bits; finish with a murmur step.
    let mut h = hasher.finish();
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51afd7ed558ccd);
    h ^= h >> 33;
    h
}

/// Up to `k` distinct values: those with the smallest seeded hashes, which is
/// a uniform sample of the distinct values seen, independent of their order.
///
/// Under a memory budget a sample is also trimmed ([`Sample::trim`]): it keeps
/// the values, by rising hash, while their cost fits, and remembers the hash
/// where it stopped (the cut). No value at or past the cut is taken again, so
/// what is kept stays the trimmed sample of all the values seen, whatever
/// their order and however samples are merged.
#[derive(Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(from = "SampleWire", into = "SampleWire")]
pub struct Sample {
    /// (hash, value), sorted by hash.
    items: Vec<(u64, String)>,
    /// The hash of the first value a trim left out: none at or past it is kept.
    cut: Option<u64>,
    /// A chunk's sample: the hash from which the run's own sample can take no value (its
    /// [`floor`](Sample::floor) when the chunk began), so none is taken here either. Not merged, not
    /// written: `u64::MAX` everywhere else.
    floor: u64,
}

impl Default for Sample {
    fn default() -> Self {
        Sample { items: Vec::new(), cut: None, floor: u64::MAX }
    }
}

/// A copy holds the same values; a chunk's floor stays with the chunk's own sample (a copy
/// merged into the run's, as a query key new to it is, must take what it is given).
impl Clone for Sample {
    fn clone(&self) -> Self {
        Sample { items: self.items.clone(), cut: self.cut, floor: u64::MAX }
    }
}

/// A sample as files carry it: its values, and its cut when it has one.
#[derive(serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
enum SampleWire {
    Whole(Vec<(u64, String)>),
    Cut { items: Vec<(u64, String)>, cut: u64 },
}

impl From<SampleWire> for Sample {
    fn from(wire: SampleWire) -> Self {
        match wire {
            SampleWire::Whole(items) => Sample { items, cut: None, ..Sample::default() },
            SampleWire::Cut { items, cut } => Sample { items, cut: Some(cut), ..Sample::default() },
        }
    }
}

impl From<Sample> for SampleWire {
    fn from(sample: Sample) -> Self {
        match sample.cut {
            None => SampleWire::Whole(sample.items),
            Some(cut) => SampleWire::Cut { items: sample.items, cut },
        }
    }
}

impl Sample {
    /// Offers `value`, sampled by its seeded hash. A full sample turns away nearly every
    /// value by the hash alone: that test is inlined where values are offered, once or
    /// twice a request, and only a value that may get in pays a call.
    #[inline(always)]
    pub fn offer(&mut self, k: usize, seed: u64, value: &[u8]) {
        let hash = seeded_hash(seed, value);
        if !self.turns_away(k, hash) && !self.holds(hash) {
            self.insert_bytes(k, hash, value);
        }
    }

    /// Whether the value of `hash` is kept already: a parameter or query value of a few
    /// distinct values (`page=2`) never fills its sample, and comes back again and again.
    /// At most `k` hashes, adjacent in memory: a scan costs less than the call a search would.
    #[inline(always)]
    fn holds(&self, hash: u64) -> bool {
        self.items.iter().any(|(h, _)| *h == hash)
    }

    /// Offers a value known by its hash, made only if it gets in (a redacted
    /// copy, say, built for one request in thousands).
    #[inline(always)]
    pub fn offer_with(&mut self, k: usize, hash: u64, value: impl FnOnce() -> String) {
        if !self.turns_away(k, hash) {
            self.insert(k, hash, value);
        }
    }

    /// Whether `hash` is at or past the floor, or a full sample keeps only hashes below it.
    #[inline(always)]
    fn turns_away(&self, k: usize, hash: u64) -> bool {
        hash >= self.floor || self.items.len() >= k && self.items.last().is_some_and(|(h, _)| hash >= *h)
    }

    /// The hash from which this sample of `k` takes no value, whatever else it is offered or
    /// merged with: its cut, or its largest hash once it holds `k` values (values only ever
    /// join, so `k` hashes below stay below). `u64::MAX` while it can take any.
    pub fn floor(&self, k: usize) -> u64 {
        let largest = if self.items.len() >= k { self.items.last().map(|(h, _)| *h) } else { None };
        largest.unwrap_or(u64::MAX).min(self.cut.unwrap_or(u64::MAX))
    }

    /// An empty sample that turns away every hash at or past `floor` (see [`Sample::floor`]).
    pub fn below(floor: u64) -> Sample {
        Sample { floor, ..Sample::default() }
    }

    #[inline(never)] // the rare value that may get in
    fn insert_bytes(&mut self, k: usize, hash: u64, value: &[u8]) {
        self.insert(k, hash, || super::shape::lossless(value).into_owned());
    }

    fn insert(&mut self, k: usize, hash: u64, value: impl FnOnce() -> String) {
        if self.cut.is_some_and(|cut| hash >= cut) {
            return;
        }
        match self.items.binary_search_by_key(&hash, |(h, _)| *h) {
            Ok(_) => {}
            Err(at) if at < k => {
                let value = value();
                // A value longer than any server's request line is never kept: a partial could not carry it.
                if value.len() > MAX_SAMPLED_BYTES {
                    return;
                }
                // The largest hash leaves before the new one comes in, so the list never outgrows
                // `k` (inserting into a full list would double its capacity).
                self.items.truncate(k - 1);
                self.items.insert(at, (hash, value));
            }
            Err(_) => {}
        }
    }

    /// The memory the kept values take: their text and [`ITEM_COST`] each.
    pub fn cost(&self) -> usize {
        self.items.iter().map(|(_, v)| v.len() + ITEM_COST).sum()
    }

    /// Keeps the values, by rising hash, while their [`Sample::cost`] adds up to at most
    /// `budget`, and cuts the sample at the first that does not fit. Like the `k` smallest
    /// hashes, what is kept does not depend on the order values came in, and trimming
    /// commutes with merging: samples trimmed, merged and trimmed again hold the trimmed
    /// sample of all their values.
    pub fn trim(&mut self, budget: usize) {
        let keep = fitting(self.items.iter().map(|(_, v)| v.len() + ITEM_COST), budget);
        if let Some(&(first_out, _)) = self.items.get(keep) {
            self.cut = Some(self.cut.map_or(first_out, |cut| cut.min(first_out)));
            self.items.truncate(keep);
        }
    }

    pub fn merge(&mut self, k: usize, other: &Sample) {
        if let Some(cut) = other.cut.filter(|&c| self.cut.is_none_or(|mine| c < mine)) {
            self.cut = Some(cut);
            self.items.retain(|(h, _)| *h < cut);
        }
        for (hash, value) in &other.items {
            if self.items.len() >= k && self.items.last().is_some_and(|(h, _)| hash >= h) {
                break;
            }
            self.insert(k, *hash, || value.clone());
        }
    }

    /// [`merge`](Self::merge)s a sample of the one value of `hash` (made only if it gets in).
    pub fn merge_one(&mut self, k: usize, hash: u64, value: impl FnOnce() -> String) {
        if self.items.len() >= k && self.items.last().is_some_and(|(h, _)| hash >= *h) {
            return;
        }
        self.insert(k, hash, value);
    }

    /// The sampled values, sorted for a stable, readable profile.
    pub fn values(&self) -> Vec<String> {
        let mut values: Vec<String> = self.items.iter().map(|(_, v)| v.clone()).collect();
        values.sort();
        values
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Checks a sample read from a file: at most `k` values, by rising hash, none over [`MAX_SAMPLED_BYTES`].
    pub fn check(&self, k: usize) -> Result<(), String> {
        if self.items.len() > k {
            return Err(format!("{} values where at most {k} are kept", self.items.len()));
        }
        for (i, (hash, value)) in self.items.iter().enumerate() {
            if self.cut.is_some_and(|cut| *hash >= cut) {
                return Err(format!("[{i}]: a value at or past the sample's cut"));
            }
            if i > 0 && self.items[i - 1].0 >= *hash {
                return Err(format!("[{i}]: values are kept by rising hash"));
            }
            if value.len() > MAX_SAMPLED_BYTES {
                return Err(format!("[{i}]: a value of {} bytes (at most {MAX_SAMPLED_BYTES})", value.len()));
            }
        }
        Ok(())
    }
}

/// The longest value a sample keeps, and a partial profile may carry: longer than any
/// server's request line by default (nginx 8 KB, Apache 8,190 bytes, load balancers up to 64 KB).
pub const MAX_SAMPLED_BYTES: usize = 64 * 1024;
/// What a kept value costs in memory beyond its text: its hash and its string's header.
pub const ITEM_COST: usize = std::mem::size_of::<(u64, String)>();

/// How many of `costs`, taken in order, fit `budget` together.
pub fn fitting(costs: impl Iterator<Item = usize>, budget: usize) -> usize {
    let mut total = 0usize;
    costs
        .take_while(|&cost| {
            total = total.saturating_add(cost);
            total <= budget
        })
        .count()
}

#[cfg(test)]
#[path = "sketch_tests.rs"]
mod tests;
