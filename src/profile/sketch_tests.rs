//! Tests of `sketch.rs`: quantile sketches and samples, alone and merged.

use super::*;
use rand_chacha::rand_core::{Rng, SeedableRng};

/// Every number below 2^20, the numbers around each power of two and each step of
/// every doubling, and random ones of every size: a whole number's bin is its float's.
#[test]
fn whole_numbers_take_their_floats_bins() {
    let mut numbers: Vec<u64> = (0..1 << 20).collect();
    for exponent in 0..64u32 {
        let base = 1u64 << exponent;
        for step in 0..=PER_OCTAVE as u64 {
            let at = base.saturating_add(((base as u128 * u128::from(step)) / PER_OCTAVE as u128) as u64);
            numbers.extend([at.saturating_sub(1), at, at.saturating_add(1)]);
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x2545_f491_4f6c_dd1d);
    for _ in 0..200_000 {
        let state = rng.next_u64();
        numbers.push(state >> (state % 64));
    }
    numbers.push(u64::MAX);
    for n in numbers {
        assert_eq!(QuantileSketch::bin_of_whole(n), QuantileSketch::bin_of(n as f64), "{n}");
    }
}

#[test]
fn quantiles_within_two_percent() {
    let mut sketch = QuantileSketch::default();
    for v in 1..=10_000 {
        sketch.add(f64::from(v));
    }
    for (q, want) in [(0.5, 5000.0), (0.9, 9000.0), (0.99, 9900.0)] {
        let got = sketch.quantile(q).unwrap();
        assert!((got - want).abs() / want < 0.02, "q{q}: {got}");
    }
    let mut zeros = QuantileSketch::default();
    zeros.add(0.0);
    assert_eq!(zeros.quantile(0.99), Some(0.0));
    assert_eq!(QuantileSketch::default().quantile(0.5), None);
}

#[test]
fn merging_equals_adding_everything() {
    let (mut a, mut b, mut all) = (QuantileSketch::default(), QuantileSketch::default(), QuantileSketch::default());
    for v in 0..500 {
        let x = f64::from(v * 7 % 311);
        if v % 3 == 0 {
            a.add(x)
        } else {
            b.add(x)
        }
        all.add(x);
    }
    a.merge(&b);
    assert_eq!(a, all);
}

#[test]
fn merging_adds_each_bin_as_one_at_a_time_would() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
    // Sketches of 0 to 900 bins, from values drawn over narrow and wide ranges (so bins mostly
    // shared, interleaved or disjoint), some with values still waiting.
    let draw = |rng: &mut rand_chacha::ChaCha8Rng| {
        let (values, range) = ((rng.next_u32() % 3000) as usize, [10, 1_000, 1_000_000, 1 << 40][rng.next_u32() as usize % 4]);
        let offset = rng.next_u64() % range;
        let mut sketch = QuantileSketch::default();
        for _ in 0..values {
            sketch.add_whole(offset + rng.next_u64() % range);
        }
        if rng.next_u32().is_multiple_of(2) {
            sketch.settle();
        }
        sketch
    };
    for round in 0..300 {
        let (mut merged, other) = (draw(&mut rng), draw(&mut rng));
        let mut by_bin = merged.clone();
        for &(bin, n) in &other.bins {
            by_bin.add_n(bin, n);
        }
        for &bin in &other.pending {
            by_bin.add_n(bin, 1);
        }
        merged.merge(&other);
        let (merged, by_bin) = (merged.settled(), by_bin.settled());
        assert_eq!((&merged.bins, merged.count), (&by_bin.bins, by_bin.count), "round {round}");
        assert!(merged.check(u64::MAX).is_ok(), "round {round}");
    }
}

#[test]
fn waiting_values_settle_into_the_bins_one_insertion_at_a_time_would_make() {
    // Spread values, repeats and zeros, read at every point from empty to many settles.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        state >> 33
    };
    let (mut sketch, mut by_insertion) = (QuantileSketch::default(), QuantileSketch::default());
    for i in 0..3000 {
        let value = match next() % 4 {
            0 => 0.0,
            1 => (next() % 8) as f64,
            _ => (next() % 1_000_000) as f64,
        };
        sketch.add(value);
        by_insertion.add_n(QuantileSketch::bin_of(value), 1);
        if i % 97 == 0 || i < 70 {
            let settled = sketch.settled();
            assert_eq!((settled.bins.as_slice(), settled.count), (by_insertion.bins.as_slice(), by_insertion.count), "after {i}");
            assert_eq!(sketch.quantile(0.9), by_insertion.quantile(0.9));
            assert!(sketch.check(u64::MAX).is_ok());
        }
    }
    // A sketch with values waiting merges, and is written, with them.
    let mut merged = QuantileSketch::default();
    merged.merge(&sketch);
    assert_eq!((merged.settled().bins.as_slice(), merged.count), (by_insertion.bins.as_slice(), by_insertion.count));
    let written: QuantileSketch = serde_json::from_str(&serde_json::to_string(&sketch).unwrap()).unwrap();
    assert_eq!(written.bins, by_insertion.bins);
    assert!(written.pending.is_empty());
}

#[test]
fn samples_ignore_order_and_merge_exactly() {
    let values: Vec<String> = (0..200).map(|i| format!("v{i}")).collect();
    let (mut forward, mut backward) = (Sample::default(), Sample::default());
    for v in &values {
        forward.offer(8, 7, v.as_bytes());
    }
    for v in values.iter().rev() {
        backward.offer(8, 7, v.as_bytes());
    }
    assert_eq!(forward, backward);
    let (mut left, mut right) = (Sample::default(), Sample::default());
    for (i, v) in values.iter().enumerate() {
        if i % 2 == 0 { left.offer(8, 7, v.as_bytes()) } else { right.offer(8, 7, v.as_bytes()) }
    }
    left.merge(8, &right);
    assert_eq!(left, forward);
    assert_eq!(forward.values().len(), 8);
    // A full sample's list never grows past `k` places.
    assert!([&forward, &backward, &left].iter().all(|s| s.items.capacity() <= 8), "{}", forward.items.capacity());
    let mut other_seed = Sample::default();
    for v in &values {
        other_seed.offer(8, 8, v.as_bytes());
    }
    assert_ne!(other_seed.values(), forward.values());
}

/// Values of lengths 0 to 300 bytes, 600 of them.
fn varied_values() -> Vec<String> {
    (0..600usize).map(|i| "x".repeat((i * 37) % 301) + &i.to_string()).collect()
}

#[test]
fn trimmed_samples_merge_into_the_trimmed_sample_of_all_values() {
    let values = varied_values();
    let sample_of = |values: &[String], budget: usize| {
        let mut s = Sample::default();
        values.iter().for_each(|v| s.offer(16, 7, v.as_bytes()));
        s.trim(budget);
        s
    };
    for budget in [0, 32, 100, 500, 1000, 4000, usize::MAX] {
        let whole = sample_of(&values, budget);
        assert!(whole.cost() <= budget);
        // The kept values are the hash order's first ones: a prefix of the untrimmed sample.
        let untrimmed = sample_of(&values, usize::MAX);
        assert_eq!(whole.items[..], untrimmed.items[..whole.items.len()], "budget {budget}");
        // Parts trimmed at the same or a looser budget, merged in any grouping, then trimmed.
        for parts in [2, 3, 7] {
            for looser in [budget, budget.saturating_mul(2), usize::MAX] {
                let mut merged = Sample::default();
                for part in 0..parts {
                    let mine: Vec<String> = values.iter().skip(part).step_by(parts).cloned().collect();
                    merged.merge(16, &sample_of(&mine, looser));
                }
                merged.trim(budget);
                assert_eq!(merged, whole, "budget {budget}, {parts} parts trimmed at {looser}");
            }
        }
    }
    // Some budget keeps part of the sample, so the test sees trimming do something.
    let partly = sample_of(&values, 1000).items.len();
    assert!(partly > 0 && partly < 16, "{partly}");
}

#[test]
fn a_value_longer_than_a_partial_may_carry_is_never_sampled() {
    let mut s = Sample::default();
    let long = "a".repeat(MAX_SAMPLED_BYTES + 1);
    let fits = "b".repeat(MAX_SAMPLED_BYTES);
    s.offer(16, 7, long.as_bytes());
    s.offer_with(16, 1, || long.clone());
    s.offer(16, 7, fits.as_bytes());
    assert_eq!(s.values(), std::slice::from_ref(&fits));
    assert_eq!(s.cost(), fits.len() + ITEM_COST);
    assert!(s.check(16).is_ok());
}

/// A run's sample fed chunk by chunk, each chunk's sample started below the run's floor as it
/// stood `lag` chunks earlier (trimmed now and then, as a budget does), is the sample of all
/// the values; and the floors keep values out of the chunks.
#[test]
fn chunks_started_below_the_runs_floor_merge_into_the_sample_of_all_values() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    for distinct in [3usize, 16, 17, 200, 5000] {
        let values: Vec<String> = (0..3000).map(|_| format!("v{}", rng.next_u64() as usize % distinct)).collect();
        for k in [1usize, 4, 16] {
            for (chunk_len, lag, trim_every) in [(1, 0, 0), (7, 1, 0), (100, 3, 0), (100, 0, 5), (13, 2, 3)] {
                let budget = 3 * (ITEM_COST + 5);
                let mut whole = Sample::default();
                values.iter().for_each(|v| whole.offer(k, 7, v.as_bytes()));
                let (mut run, mut floors, mut kept_in_chunks, mut kept_unfloored) = (Sample::default(), Vec::new(), 0, 0);
                for (i, chunk_values) in values.chunks(chunk_len).enumerate() {
                    // The floor as the run stood after chunk `i - 1 - lag`.
                    let floor = i.checked_sub(lag + 1).map_or(u64::MAX, |at| floors[at]);
                    let (mut chunk, mut unfloored) = (Sample::below(floor), Sample::default());
                    for v in chunk_values {
                        chunk.offer(k, 7, v.as_bytes());
                        unfloored.offer(k, 7, v.as_bytes());
                    }
                    kept_in_chunks += chunk.items.len();
                    kept_unfloored += unfloored.items.len();
                    run.merge(k, &chunk);
                    if trim_every > 0 && i % trim_every == 0 {
                        run.trim(budget);
                    }
                    floors.push(run.floor(k));
                }
                if trim_every > 0 {
                    whole.trim(budget);
                    run.trim(budget);
                }
                let case = format!("{distinct} distinct, k {k}, chunks of {chunk_len}, lag {lag}, trimmed every {trim_every}");
                assert_eq!(run, whole, "{case}");
                if distinct >= 200 && chunk_len == 100 {
                    assert!(
                        kept_in_chunks * 2 < kept_unfloored,
                        "{case}: {kept_in_chunks} kept in chunks, {kept_unfloored} without floors"
                    );
                }
            }
        }
    }
}

#[test]
fn a_sample_has_a_floor_once_full_or_cut() {
    let mut s = Sample::default();
    for v in ["a", "b", "c"] {
        assert_eq!(s.floor(4), u64::MAX, "not full yet");
        s.offer(4, 7, v.as_bytes());
    }
    s.offer(4, 7, b"d");
    assert_eq!(s.floor(4), s.items[3].0, "full: its largest hash");
    s.trim(2 * (ITEM_COST + 1));
    assert_eq!(s.items.len(), 2);
    assert_eq!(s.floor(4), s.cut.unwrap(), "cut, though not full");
    let below = Sample::below(s.floor(4));
    assert_eq!((below.items.len(), below.cut, below.floor), (0, None, s.floor(4)));
    // A copy (one merged into the run's) takes every value again: the floor stays behind.
    assert_eq!(below.clone().floor, u64::MAX);
    assert_eq!((s.clone().items, s.clone().cut), (s.items.clone(), s.cut));
}

/// A sketch values are added to keeps up to `PENDING` of them waiting; one that only merges
/// others' (the run's, one a template) keeps at most `PENDING_MERGED`, whatever they hold.
/// Either way the bins are those of adding each value.
#[test]
fn a_sketch_that_only_merges_keeps_few_values_waiting() {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(21);
    let (mut run, mut by_bin) = (QuantileSketch::default(), QuantileSketch::default());
    for chunk in 0..40 {
        let mut sketch = QuantileSketch::default();
        // Values spread wide, so most wait rather than find a bin.
        for _ in 0..(rng.next_u32() % 1500) {
            let value = rng.next_u64() % (1 << (chunk % 40 + 1));
            sketch.add_whole(value);
            by_bin.add_n(QuantileSketch::bin_of_whole(value), 1);
            assert!(sketch.pending.len() < PENDING);
        }
        run.merge(&sketch);
        assert!(run.pending.len() < PENDING_MERGED, "after chunk {chunk}: {} waiting", run.pending.len());
    }
    assert!(PENDING > PENDING_MERGED);
    assert_eq!((run.settled().bins.as_slice(), run.count), (by_bin.bins.as_slice(), by_bin.count));
}
