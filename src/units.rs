//! Numbers for people: durations in human units (`2 h 15 m`, `8 s`,
//! `350 ms`), rates, and counted nouns (`1 request`, `2 requests`); and the
//! one parser of durations people write (`500ms`, `30m`, `1.5s`).

/// `350 ms`, `8.5 s`, `2 m 5 s`, `2 h 15 m`, `3 d 11 h`: the two largest units.
pub fn human_duration(seconds: f64) -> String {
    if !seconds.is_finite() {
        return "forever".into();
    }
    let s = seconds.max(0.0);
    if s == 0.0 {
        return "0 s".into();
    }
    if s < 1.0 {
        let ms = s * 1000.0;
        return if ms < 10.0 && ms.fract() != 0.0 { format!("{ms:.1} ms") } else { format!("{ms:.0} ms") };
    }
    if s < 60.0 {
        return if s.fract() == 0.0 || s >= 10.0 { format!("{s:.0} s") } else { format!("{s:.1} s") };
    }
    let total = s.round() as u64;
    let (d, h, m, sec) = (total / 86_400, total / 3600 % 24, total / 60 % 60, total % 60);
    let parts = [(d, "d"), (h, "h"), (m, "m"), (sec, "s")];
    let first = parts.iter().position(|(n, _)| *n > 0).unwrap_or(3);
    let mut out = format!("{} {}", parts[first].0, parts[first].1);
    if let Some((n, unit)) = parts.get(first + 1).filter(|(n, _)| *n > 0) {
        out.push_str(&format!(" {n} {unit}"));
    }
    out
}

/// Seconds as a flag value: `90s`, `30m`, `2h`, `3d`, in the largest unit that divides them.
pub fn duration_flag(seconds: u64) -> String {
    match seconds {
        0 => "0".into(),
        s if s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// `1,250 rps`, `0.5 rps`.
pub fn human_rate(rps: f64) -> String {
    if !rps.is_finite() {
        return "an unbounded rate".into();
    }
    if rps < 10.0 && rps.fract() != 0.0 {
        return format!("{rps:.1} rps");
    }
    format!("{} rps", thousands(rps.round() as u64))
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `512 bytes`, `32 KiB`, `16 MiB`, `1.5 GiB`: whole units when exact, else one decimal.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return count(n, "byte");
    }
    let (mut value, mut unit) = (n as f64 / 1024.0, 0);
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 { format!("{value} {}", UNITS[unit]) } else { format!("{value:.1} {}", UNITS[unit]) }
}

/// `1 request`, `2 requests`, `1,000 requests`.
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 { format!("1 {noun}") } else { format!("{} {noun}s", thousands(n)) }
}

/// A duration from a number and a unit (`us`, `ms`, `s`, `m`, `h`, `d`; none means seconds).
/// A default duration as a flag takes it (`5s`, `500us`, `30m`), for clap's
/// `default_value`, so the library's constant is the one source of a default.
/// Leaked once per flag, for the life of the process (clap wants `'static`).
pub fn flag_default(d: std::time::Duration) -> &'static str {
    let us = d.as_micros();
    let text = match us {
        0 => "0".to_owned(),
        us if us % 86_400_000_000 == 0 => format!("{}d", us / 86_400_000_000),
        us if us % 3_600_000_000 == 0 => format!("{}h", us / 3_600_000_000),
        us if us % 60_000_000 == 0 => format!("{}m", us / 60_000_000),
        us if us % 1_000_000 == 0 => format!("{}s", us / 1_000_000),
        us if us % 1_000 == 0 => format!("{}ms", us / 1_000),
        us => format!("{us}us"),
    };
    Box::leak(text.into_boxed_str())
}

pub fn parse_duration(value: &str) -> Result<std::time::Duration, String> {
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
    Ok(std::time::Duration::from_secs_f64(seconds))
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
    fn byte_sizes_read_in_binary_units() {
        let table = [
            (1, "1 byte"),
            (512, "512 bytes"),
            (1024, "1 KiB"),
            (32 << 10, "32 KiB"),
            (1536, "1.5 KiB"),
            (16 << 20, "16 MiB"),
            (3 << 30, "3 GiB"),
        ];
        for (n, want) in table {
            assert_eq!(human_bytes(n), want, "{n}");
        }
    }

    #[test]
    fn durations_rates_and_counts_read_as_people_write_them() {
        let table = [
            (0.35, "350 ms"),
            (0.0025, "2.5 ms"),
            (8.0, "8 s"),
            (8.5, "8.5 s"),
            (42.4, "42 s"),
            (125.0, "2 m 5 s"),
            (8100.0, "2 h 15 m"),
            (7200.0, "2 h"),
            (298_920.0, "3 d 11 h"),
            (86_400.0, "1 d"),
        ];
        for (seconds, want) in table {
            assert_eq!(human_duration(seconds), want, "{seconds}");
        }
        assert_eq!((duration_flag(7200), duration_flag(90), duration_flag(1800)), ("2h".into(), "90s".into(), "30m".into()));
        assert_eq!(human_rate(1250.0), "1,250 rps");
        assert_eq!(human_rate(0.5), "0.5 rps");
        assert_eq!(count(1, "request"), "1 request");
        assert_eq!(count(2, "request"), "2 requests");
        assert_eq!(count(1_000_000, "request"), "1,000,000 requests");
    }

    #[test]
    fn flag_defaults_read_back_as_the_same_duration() {
        use std::time::Duration;
        for (d, text) in [
            (Duration::from_secs(5), "5s"),
            (Duration::from_micros(500), "500us"),
            (Duration::from_secs(1800), "30m"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_secs(86_400), "1d"),
        ] {
            assert_eq!(flag_default(d), text);
            assert_eq!(parse_duration(text).unwrap(), d);
        }
    }
}
