//! The one duration parser behind every flag (`250us`, `500ms`, `1.5s`,
//! `90` (seconds), `30m`, `2h`, `1d`), kept in `units.rs` so that every
//! module reads durations the same way; its tests live here.

pub use crate::units::{parse_duration, parse_duration_s};

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

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
