//! The one duration parser behind every flag: `250us`, `500ms`, `1.5s`,
//! `90` (seconds), `30m`, `2h`, `1d`.

use std::time::Duration;

/// A duration from a number and a unit (`us`, `ms`, `s`, `m`, `h`, `d`; none means seconds).
pub fn parse_duration(value: &str) -> Result<Duration, String> {
    let bad = || format!("`{value}` is not a duration; use e.g. 500ms, 90s, 30m, 2h or 1d");
    let v = value.trim();
    let split = v.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(v.len());
    let (number, unit) = v.split_at(split);
    let n: f64 = number.parse().map_err(|_| bad())?;
    let seconds_per = match unit.trim() {
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "" | "s" => 1.0,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(bad()),
    };
    let seconds = n * seconds_per;
    if !seconds.is_finite() || seconds > 100.0 * 365.0 * 86_400.0 {
        return Err(format!("`{value}` is longer than a century"));
    }
    Ok(Duration::from_secs_f64(seconds))
}

/// Whole seconds, at least one: the derive flags (`--session-gap`, `--bin`, `--over`).
pub fn parse_duration_s(value: &str) -> Result<u64, String> {
    let d = parse_duration(value)?;
    if d.as_secs() == 0 || d.subsec_nanos() != 0 {
        return Err(format!("`{value}` must be a whole number of seconds, at least 1s"));
    }
    Ok(d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_unit_reads_and_bad_ones_say_how() {
        let table = [
            ("250us", Duration::from_micros(250)),
            ("500ms", Duration::from_millis(500)),
            ("1.5s", Duration::from_millis(1500)),
            ("90", Duration::from_secs(90)),
            ("30m", Duration::from_secs(1800)),
            ("2h", Duration::from_secs(7200)),
            ("1d", Duration::from_secs(86_400)),
            ("0", Duration::ZERO),
        ];
        for (text, want) in table {
            assert_eq!(parse_duration(text), Ok(want), "{text}");
        }
        assert!(parse_duration("5x").unwrap_err().contains("e.g. 500ms"));
        assert!(parse_duration("").is_err());
        assert_eq!(parse_duration_s("30m"), Ok(1800));
        assert!(parse_duration_s("500ms").is_err());
        assert!(parse_duration_s("0").is_err());
    }
}
