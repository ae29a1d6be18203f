//! A think time as people give it: one duration (Locust's `constant(3)`, k6's
//! `sleep(3)`) or a range drawn uniformly (`5s..9s`, Locust's `between(5, 9)`),
//! and the quantiles a profile keeps for it, which the session draw
//! (`plan::sessions::draw`) turns back into exactly that distribution.

use super::wire::Quantiles;
use std::fmt;

/// Seconds between a session's requests: uniform from `min` to `max` (equal for a constant).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Think {
    pub min_s: f64,
    pub max_s: f64,
}

/// The longest think time a flag takes: a day.
const MAX_THINK_S: f64 = 86_400.0;

impl Think {
    /// `3s`, `500ms`, or a range `5s..9s`.
    pub fn parse(text: &str) -> Result<Think, String> {
        let one = |part: &str| -> Result<f64, String> {
            let d = crate::units::parse_duration(part.trim()).map_err(|_| {
                format!("`{text}` is not a think time: give one duration (3s) or a range (5s..9s, as Locust's between(5, 9))")
            })?;
            let s = d.as_secs_f64();
            if s > MAX_THINK_S {
                return Err(format!("`{text}`: a think time is at most a day"));
            }
            Ok(s)
        };
        let think = match text.split_once("..") {
            Some((from, to)) => Think { min_s: one(from)?, max_s: one(to)? },
            None => {
                let s = one(text)?;
                Think { min_s: s, max_s: s }
            }
        };
        if think.min_s > think.max_s {
            return Err(format!("`{text}`: the range runs from the shorter think time to the longer, e.g. 5s..9s"));
        }
        Ok(think)
    }

    pub fn mean_s(&self) -> f64 {
        (self.min_s + self.max_s) / 2.0
    }

    /// The quantiles of the uniform distribution from `min_s` to `max_s`.
    pub fn quantiles(&self) -> Quantiles {
        let at = |q: f64| self.min_s + (self.max_s - self.min_s) * q;
        Quantiles {
            min: Some(at(0.0)),
            p10: Some(at(0.1)),
            p25: Some(at(0.25)),
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            max: Some(at(1.0)),
        }
    }
}

impl fmt::Display for Think {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = |s: f64| crate::units::human_duration(s);
        if self.min_s == self.max_s { write!(f, "{}", text(self.min_s)) } else { write!(f, "{} to {}", text(self.min_s), text(self.max_s)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_duration_or_a_range() {
        let table: [(&str, Result<(f64, f64), &str>); 7] = [
            ("3s", Ok((3.0, 3.0))),
            ("5s..9s", Ok((5.0, 9.0))),
            ("500ms..1s", Ok((0.5, 1.0))),
            (" 5s .. 9s ", Ok((5.0, 9.0))),
            ("9s..5s", Err("from the shorter")),
            ("soon", Err("is not a think time")),
            ("2d", Err("at most a day")),
        ];
        for (text, want) in table {
            match (Think::parse(text), want) {
                (Ok(t), Ok((min, max))) => assert_eq!((t.min_s, t.max_s), (min, max), "{text}"),
                (Err(e), Err(why)) => assert!(e.contains(why), "{text}: {e}"),
                (got, want) => panic!("{text}: {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn a_range_draws_uniformly_between_its_ends() {
        let q = Think::parse("5s..9s").unwrap().quantiles();
        let draws: Vec<f64> = (0..1000).map(|i| crate::plan::sessions::draw(&q, (f64::from(i) + 0.5) / 1000.0)).collect();
        assert!(draws.iter().all(|d| (5.0..=9.0).contains(d)));
        let mean = draws.iter().sum::<f64>() / 1000.0;
        assert!((mean - 7.0).abs() < 0.01, "{mean}");
        // A quarter of the draws in each second of the four.
        assert_eq!(draws.iter().filter(|d| **d < 6.0).count(), 250);
    }
}
