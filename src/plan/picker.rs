//! Which endpoint comes next: a weighted draw along a low-discrepancy
//! sequence, so a replay gets each endpoint's count, not a sample of it.

/// Draws an index by weight, along a low-discrepancy sequence: the `k`-th
/// draw takes the point `frac(start + k/φ)` of the cumulative weights (the
/// golden ratio's Kronecker sequence). Over `n` draws each index comes up
/// `n × weight` times give or take a few (the discrepancy grows as `log n`),
/// where independent draws would miss by `√n`: a replay of a day's 10,000
/// requests gets each endpoint's count, not a sample of it. Consecutive
/// draws still spread over every index.
#[derive(Debug, Clone)]
pub struct Picker {
    cumulative: Vec<f64>,
    at: f64,
}

/// 1/φ: the step of the sequence.
const GOLDEN_STEP: f64 = 0.618_033_988_749_894_9;

impl Picker {
    pub fn new(weights: impl Iterator<Item = f64>, start: f64) -> Self {
        let mut total = 0.0;
        let cumulative = weights
            .map(|w| {
                total += w.max(0.0);
                total
            })
            .collect();
        Picker { cumulative, at: start.fract() }
    }

    pub fn pick(&mut self) -> usize {
        self.at += GOLDEN_STEP;
        if self.at >= 1.0 {
            self.at -= 1.0;
        }
        let total = self.cumulative.last().copied().unwrap_or(0.0);
        let at = self.cumulative.partition_point(|&c| c <= self.at * total);
        at.min(self.cumulative.len().saturating_sub(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_give_each_index_its_count_not_a_sample_of_it() {
        let weights = [0.5, 0.3, 0.15, 0.04, 0.01];
        for start in [0.0, 0.37, 0.99] {
            let mut picker = Picker::new(weights.iter().copied(), start);
            let mut counts = [0u64; 5];
            for n in 1..=10_000u64 {
                counts[picker.pick()] += 1;
                // At every point of the run, not only at its end.
                if n % 1000 == 0 {
                    for (count, w) in counts.iter().zip(weights) {
                        assert!((*count as f64 - n as f64 * w).abs() <= 3.0, "after {n}: {counts:?}");
                    }
                }
            }
        }
        // Consecutive draws still spread: no run of one index longer than the weights allow.
        let mut picker = Picker::new([0.5, 0.5].into_iter(), 0.1);
        let draws: Vec<usize> = (0..100).map(|_| picker.pick()).collect();
        assert!(draws.windows(3).all(|w| !(w[0] == w[1] && w[1] == w[2])), "{draws:?}");
    }
}
