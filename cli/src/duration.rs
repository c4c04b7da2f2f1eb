//! Durations on the command line, in the configuration file and in the
//! environment: whatever [`humantime`] reads (`500ms`, `2s`, `1.5s`,
//! `1m30s`, `2h 15min`, `3days`), and, as before, a bare number of seconds
//! (`3`, `0.5`). At most 10^9 seconds.

use std::time::Duration;

/// The longest duration taken, in seconds.
const MAX_SECONDS: u64 = 1_000_000_000;

/// Examples of durations, for error messages.
pub const EXAMPLES: &str = "examples: 500ms, 2s, 1.5s, 1m30s, 1h";

/// Parses a duration as the command line takes it: `humantime`'s forms,
/// exactly (in decimal, to the nanosecond, never through binary floating
/// point), or a bare number of seconds.
///
/// # Errors
/// A message quoting the text, saying what is wrong with it and giving
/// examples, for anything else and for more than 10^9 seconds. Through
/// clap the message is prefixed with the option's name.
pub fn parse(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let parsed = match humantime::parse_duration(text) {
        // A bare number: seconds, as before durations took units.
        Err(humantime::DurationError::UnknownUnit { unit, .. })
            if unit.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') =>
        {
            humantime::parse_duration(&format!("{text}s"))
        }
        parsed => parsed,
    };
    match parsed {
        Ok(d)
            if d.as_secs() > MAX_SECONDS
                || (d.as_secs() == MAX_SECONDS && d.subsec_nanos() > 0) =>
        {
            Err(format!(
                "{text:?} is too long a duration: at most {MAX_SECONDS}s ({EXAMPLES})"
            ))
        }
        Ok(d) => Ok(d),
        Err(e) => Err(format!("{text:?} is not a duration: {e} ({EXAMPLES})")),
    }
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
    fn humantime_forms_and_bare_seconds_parse() {
        assert_eq!(parse("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("2s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse("2h 15min"), Ok(Duration::from_secs(8100)));
        assert_eq!(parse("3days"), Ok(Duration::from_secs(3 * 86_400)));
        assert_eq!(parse("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse("3min"), Ok(Duration::from_secs(180)));
        assert_eq!(parse("1h"), Ok(Duration::from_secs(3600)));
        assert_eq!(parse(" 2s "), Ok(Duration::from_secs(2)));
        assert_eq!(parse("3"), Ok(Duration::from_secs(3)));
        assert_eq!(parse("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(parse("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse("0.3s"), Ok(Duration::from_millis(300)));
        assert_eq!(parse("0.1m"), Ok(Duration::from_secs(6)));
        assert_eq!(parse("0.000000001s"), Ok(Duration::from_nanos(1)));
        assert_eq!(
            parse("28925348966ms"),
            Ok(Duration::from_millis(28_925_348_966))
        );
    }

    #[test]
    fn the_limit_is_a_billion_seconds() {
        assert_eq!(parse("1000000000s"), Ok(Duration::from_secs(1_000_000_000)));
        let err = parse("1000000000.000000001s").unwrap_err();
        assert!(err.contains("at most 1000000000s"), "{err}");
        assert!(parse("100years").is_err());
    }

    #[test]
    fn garbage_is_refused_quoting_the_text_with_examples() {
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
            "1.",
            "99999999999999999999999999999999999999999h",
        ] {
            let err = parse(bad).unwrap_err();
            assert!(err.contains("examples: 500ms"), "{bad:?}: {err}");
            assert!(err.contains(&format!("{:?}", bad.trim())), "{bad:?}: {err}");
        }
        let err = parse("2x").unwrap_err();
        assert!(err.contains("unknown time unit \"x\""), "{err}");
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
