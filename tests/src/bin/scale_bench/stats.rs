//! Median, minimum and maximum of a few repeated measurements.

use std::fmt;

/// The spread of a set of samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Spread {
    /// The median (the mean of the two middle samples for an even count).
    pub median: f64,
    /// The smallest sample.
    pub min: f64,
    /// The largest sample.
    pub max: f64,
}

impl Spread {
    /// The spread of `samples`; `None` when there are none (or one is not a
    /// number).
    pub fn of(samples: &[f64]) -> Option<Spread> {
        if samples.is_empty() || samples.iter().any(|s| s.is_nan()) {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        let n = sorted.len();
        let median = if n % 2 == 1 {
            sorted[n / 2]
        } else {
            (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
        };
        Some(Spread {
            median,
            min: sorted[0],
            max: sorted[n - 1],
        })
    }
}

impl fmt::Display for Spread {
    /// `median (min–max)`, or just the value when all samples agree; with
    /// a precision, that many decimals.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let decimals = f.precision().unwrap_or(0);
        let v = |x: f64| format!("{x:.decimals$}");
        if v(self.min) == v(self.max) {
            write!(f, "{}", v(self.median))
        } else {
            write!(f, "{} ({}–{})", v(self.median), v(self.min), v(self.max))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn odd_counts_take_the_middle_sample() {
        let s = Spread::of(&[5.0, 1.0, 3.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (3.0, 1.0, 5.0));
    }

    #[test]
    fn even_counts_average_the_two_middle_samples() {
        let s = Spread::of(&[4.0, 1.0, 2.0, 10.0]).unwrap();
        assert_eq!((s.median, s.min, s.max), (3.0, 1.0, 10.0));
    }

    #[test]
    fn nothing_or_not_a_number_has_no_spread() {
        assert_eq!(Spread::of(&[]), None);
        assert_eq!(Spread::of(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn shows_median_and_range_unless_all_agree() {
        let s = Spread::of(&[2100.4, 2003.0, 2250.0]).unwrap();
        assert_eq!(s.to_string(), "2100 (2003–2250)");
        assert_eq!(format!("{:.1}", Spread::of(&[1.26]).unwrap()), "1.3");
        assert_eq!(Spread::of(&[7.0, 7.0]).unwrap().to_string(), "7");
    }
}
