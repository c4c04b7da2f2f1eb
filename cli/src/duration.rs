//! Durations on the command line: `500ms`, `2s`, `1.5s`, `3m`, `1h`; a bare
//! number is seconds.

use std::time::Duration;

/// The longest duration taken, in seconds.
const MAX_SECONDS: u128 = 1_000_000_000;
/// Fraction digits past this many add less than a nanosecond to any unit.
const FRACTION_DIGITS: usize = 18;

/// Parses a duration as the command line takes it, exactly: in decimal,
/// to the nanosecond (digits beyond are dropped), never through binary
/// floating point (`28925348966ms` was 28925348.966000002 s).
///
/// # Errors
/// A message naming the accepted forms, for anything else and for more
/// than 10^9 seconds.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let bad = || format!("{text:?} is not a duration (examples: 500ms, 2s, 1.5s, 3m, 1h)");
    let unit_nanos: u128 = match unit.trim() {
        "ms" => 1_000_000,
        "" | "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        _ => return Err(bad()),
    };
    // Only digits and dots are left: at most one dot, and a digit.
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if fraction.contains('.') || (whole.is_empty() && fraction.is_empty()) {
        return Err(bad());
    }
    let digits = |d: &str| -> Result<u128, String> {
        match d.trim_start_matches('0') {
            "" => Ok(0),
            d => d.parse().map_err(|_| bad()),
        }
    };
    let fraction = &fraction[..fraction.len().min(FRACTION_DIGITS)];
    let scale = 10u128.pow(fraction.len() as u32);
    let part = digits(fraction)? * unit_nanos / scale;
    let nanos = digits(whole)?
        .checked_mul(unit_nanos)
        .and_then(|n| n.checked_add(part))
        .filter(|n| *n <= MAX_SECONDS * 1_000_000_000)
        .ok_or_else(bad)?;
    Ok(Duration::new(
        (nanos / 1_000_000_000) as u64,
        (nanos % 1_000_000_000) as u32,
    ))
}

/// Formats a duration for people: `850ms`, `12s`, `3m05s`, `2h10m`,
/// `3d4h`.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    let s = d.as_secs();
    if ms < 1000 {
        format!("{ms}ms")
    } else if s < 60 {
        format!("{s}s")
    } else if s < 3600 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}d{}h", s / 86_400, (s % 86_400) / 3600)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_and_bare_seconds_parse() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse("0.3s"), Ok(Duration::from_millis(300)));
        assert_eq!(parse("0.1m"), Ok(Duration::from_secs(6)));
        assert_eq!(parse(".5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("1."), Ok(Duration::from_secs(1)));
        assert_eq!(parse("0.000000001s"), Ok(Duration::from_nanos(1)));
        assert_eq!(
            parse("28925348966ms"),
            Ok(Duration::from_millis(28_925_348_966))
        );
        assert_eq!(parse("1000000000s"), Ok(Duration::from_secs(1_000_000_000)));
        assert!(parse("1000000000.000000001s").is_err());
    }

    #[test]
    fn garbage_is_refused_with_examples() {
        for bad in [
            "",
            "s",
            "2x",
            "-1s",
            "1e999",
            "ms5",
            ".",
            "1.2.3",
            "..5",
            "99999999999999999999999999999999999999999h",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains("examples"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn humans_read_short_forms() {
        assert_eq!(human(Duration::from_millis(850)), "850ms");
        assert_eq!(human(Duration::from_secs(12)), "12s");
        assert_eq!(human(Duration::from_secs(185)), "3m05s");
        assert_eq!(human(Duration::from_secs(7800)), "2h10m");
        assert_eq!(human(Duration::from_secs(273_600)), "3d4h");
    }
}
