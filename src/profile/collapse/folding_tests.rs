//! Folding in place with offers waiting gives what folding with every offer made at once
//! gives, over random tables with samples of every kind: fresh, floored (a chunk's), full, at
//! literal positions (a hostile partial's), and templates with the most parameters kept.

use super::*;
use crate::profile::sketch::Sample;

/// xorshift64*: the tables are random but the same on every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A sample of `values` random values, below a floor one time in two.
fn sample(random: &mut Random, values: u64) -> Sample {
    let mut sample = if random.below(2) == 0 { Sample::below(random.next() | 1 << 63) } else { Sample::default() };
    for _ in 0..values {
        let value = format!("v{}", random.below(1000));
        sample.offer(crate::profile::endpoints::PARAM_SAMPLES, 7, value.as_bytes());
    }
    sample
}

/// A table of distinct keys over a few groups: literals many and few, placeholders that fold
/// beside them (`{id}`) and that do not (`{token}`), with statistics to match.
fn table(seed: u64) -> Vec<(String, EndpointStats)> {
    let mut random = Random(seed);
    let mut keys = std::collections::BTreeSet::new();
    let mut templates = Vec::new();
    while templates.len() < 400 {
        let depth = 2 + random.below(3) as usize;
        let mut key = String::from(if random.below(4) == 0 { "POST " } else { "GET " });
        let mut placeholders = Vec::new();
        for position in 1..=depth {
            key.push('/');
            match random.below(10) {
                0 => {
                    key.push_str("{id}");
                    placeholders.push(position);
                }
                1 => key.push_str("{token}"),
                2..=4 => key.push_str(["api", "static", "me"][random.below(3) as usize]),
                _ => key.push_str(&format!("s{}", random.below(60))),
            }
        }
        if !keys.insert(key.clone()) {
            continue;
        }
        let mut stats = EndpointStats { count: 1 + random.below(40), ..EndpointStats::default() };
        for position in placeholders {
            let values = random.below(30);
            stats.params.push((position, sample(&mut random, values)));
        }
        match random.below(12) {
            // A sample at a literal position.
            0 => {
                let position = 1 + random.below(depth as u64) as usize;
                if stats.params.iter().all(|(p, _)| *p != position) {
                    stats.params.push((position, sample(&mut random, 2)));
                }
            }
            // As many parameters as are kept, past the path's end.
            1 => stats.params.extend((0..16).map(|i| (depth + 1 + i, sample(&mut random, 1)))),
            _ => {}
        }
        stats.params.sort_by_key(|(p, _)| *p);
        stats.params.truncate(16);
        templates.push((key, stats));
    }
    templates
}

fn folded(seed: u64, defer: bool) -> (String, Vec<usize>) {
    let mut folding = Folding::new(table(seed));
    folding.defer = defer;
    let mut rules = Rules::default();
    folding.fold(7, Some(&mut rules));
    let (templates, index_of) = folding.into_templates();
    (format!("{templates:?}"), index_of)
}

#[test]
fn waiting_offers_give_what_offers_made_at_once_give() {
    let mut merged = 0;
    for seed in 1..=24 {
        let (eager, eager_index) = folded(seed, false);
        let (waited, waited_index) = folded(seed, true);
        assert_eq!(waited_index, eager_index, "table {seed}");
        assert!(waited == eager, "table {seed}: the folded tables differ");
        merged += eager_index.iter().enumerate().filter(|&(i, &at)| at < i).count();
    }
    // The tables fold and merge (else the offers never wait).
    assert!(merged > 1000, "{merged} templates merged");
}

#[test]
fn finishing_folds_as_compacting_does() {
    for seed in 1..=8 {
        let mut folding = Folding::new(table(seed));
        folding.fold(7, None);
        let entries = folding.into_entries();
        let mut eager = Folding::new(table(seed));
        eager.defer = false;
        eager.fold(7, None);
        let (templates, index_of) = eager.into_templates();
        assert_eq!(entries.len(), templates.len());
        for (i, (entry, (key, stats))) in entries.iter().zip(&templates).enumerate() {
            assert_eq!(&super::super::key_of(entry), key);
            assert_eq!(format!("{:?}", entry.stats), format!("{stats:?}"));
            assert!(entry.members.iter().all(|&m| index_of[m] == i));
        }
        assert_eq!(entries.iter().map(|e| e.members.len()).sum::<usize>(), index_of.len());
    }
}
