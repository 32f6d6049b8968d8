//! The one grammar every duration flag accepts (`fuzz --duration`, `--check-budget`,
//! `check --budget`, `bench --budget`, `clean --older-than`).
//!
//! ```text
//! duration = number [unit]          number = digits ["." digits]
//! unit     = "ms" | "s" | "m" | "h" (no unit: seconds)
//! ```
//!
//! From [`MIN`] (1ms) to [`MAX`] (24h). Anything else is refused with a message that shows the
//! accepted form; clap prefixes it with the flag's name (`invalid value '3y' for '--duration
//! <DURATION>': ...`). The bound keeps every value far from `Duration`'s overflow, so no flag can
//! make a deadline computation panic.

use std::time::Duration;

/// The shortest duration accepted.
pub const MIN: Duration = Duration::from_millis(1);

/// The longest duration accepted: no campaign, budget or age limit needs more.
pub const MAX: Duration = Duration::from_secs(24 * 3600);

/// The accepted form, quoted in every error.
pub const FORM: &str = "a number with a unit ms, s, m or h (e.g. 500ms, 30s, 5m, 1h; no unit: seconds), from 1ms to 24h";

/// Why a duration flag's value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// The text does not start with a number.
    #[error("`{given}` is not a duration: expected {FORM}")]
    NotANumber {
        /// The value given.
        given: String,
    },
    /// The number is followed by something other than a known unit.
    #[error("`{given}` has an unknown unit `{unit}`: expected {FORM}")]
    UnknownUnit {
        /// The value given.
        given: String,
        /// The text after the number.
        unit: String,
    },
    /// The value is below 1ms or above 24h.
    #[error("`{given}` is out of range: expected {FORM}")]
    OutOfRange {
        /// The value given.
        given: String,
    },
}

/// Parses a duration in the grammar above.
pub fn parse(s: &str) -> Result<Duration, DurationError> {
    let given = s.trim();
    let split = given
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(given.len());
    let (num, unit) = given.split_at(split);
    if num.is_empty() || num.starts_with('.') {
        return Err(DurationError::NotANumber {
            given: given.to_owned(),
        });
    }
    let n: f64 = num.parse().map_err(|_| DurationError::NotANumber {
        given: given.to_owned(),
    })?;
    let secs = match unit {
        "ms" => n / 1e3,
        "" | "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        other => {
            return Err(DurationError::UnknownUnit {
                given: given.to_owned(),
                unit: other.to_owned(),
            });
        }
    };
    if !secs.is_finite() || secs < MIN.as_secs_f64() || secs > MAX.as_secs_f64() {
        return Err(DurationError::OutOfRange {
            given: given.to_owned(),
        });
    }
    Ok(Duration::from_secs_f64(secs))
}

/// [`parse`] for clap's `value_parser`, which wants a `Send + Sync` error it can print.
pub fn parse_flag(s: &str) -> Result<Duration, String> {
    parse(s).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_grammar_accepts_each_unit_and_bare_seconds() {
        for (text, want) in [
            ("250ms", Duration::from_millis(250)),
            ("30s", Duration::from_secs(30)),
            ("5m", Duration::from_secs(300)),
            ("1h", Duration::from_secs(3600)),
            ("2", Duration::from_secs(2)),
            ("1.5s", Duration::from_millis(1500)),
            (" 7s ", Duration::from_secs(7)),
            ("1ms", MIN),
            ("24h", MAX),
        ] {
            assert_eq!(parse(text), Ok(want), "{text}");
        }
    }

    #[test]
    fn refusals_quote_the_value_and_the_accepted_form() {
        for (bad, kind) in [
            ("x", "is not a duration"),
            ("", "is not a duration"),
            (".5s", "is not a duration"),
            ("NaN", "is not a duration"),
            ("-1s", "is not a duration"),
            ("1.2.3s", "is not a duration"),
            ("3y", "unknown unit `y`"),
            ("3 parsecs", "unknown unit ` parsecs`"),
            ("1e400", "unknown unit `e400`"),
            ("5min", "unknown unit `min`"),
            ("99999999999999999999h", "out of range"),
            ("25h", "out of range"),
            ("0", "out of range"),
            ("0s", "out of range"),
            ("0.1ms", "out of range"),
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains(&format!("`{}`", bad.trim())), "{bad}: {e}");
            assert!(e.contains(kind), "{bad}: {e}");
            assert!(e.ends_with(FORM), "{bad}: {e}");
        }
    }
}
