//! `waitTime` strings: the CRD pattern (spec §7.1) and Go duration parsing/printing.
//!
//! The CRD accepts `^(?:(?:0|[1-9][0-9]*)(\.[0-9]+)?(?:s|m|h))+$`: h/m/s units only, compound
//! allowed (`1h30m`), no leading zeros (`01h`), no bare numbers (`1`), no `d`.

use std::time::Duration;

use thiserror::Error;

/// The CRD's `waitTime` pattern, as the apiserver prints it in errors.
pub const WAIT_TIME_PATTERN: &str = r"^(?:(?:0|[1-9][0-9]*)(\.[0-9]+)?(?:s|m|h))+$";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DurationError {
    #[error("time: invalid duration {0:?}")]
    Invalid(String),
    #[error("time: missing unit in duration {0:?}")]
    MissingUnit(String),
    #[error("time: unknown unit {unit:?} in duration {input:?}")]
    UnknownUnit { unit: String, input: String },
    #[error("time: invalid duration {0:?}")]
    Overflow(String),
}

/// True when `s` matches [`WAIT_TIME_PATTERN`].
pub fn matches_wait_time_pattern(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if b.is_empty() {
        return false;
    }
    while i < b.len() {
        // integer part: 0 or [1-9][0-9]*
        match b[i] {
            b'0' => i += 1,
            b'1'..=b'9' => {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
            _ => return false,
        }
        // optional fraction
        if i < b.len() && b[i] == b'.' {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return false;
            }
        }
        // unit
        match b.get(i) {
            Some(b's' | b'm' | b'h') => i += 1,
            _ => return false,
        }
    }
    true
}

/// Parses a TimedWait `waitTime`: the CRD pattern first, then Go semantics for the value.
pub fn parse_wait_time(s: &str) -> Result<Duration, DurationError> {
    if !matches_wait_time_pattern(s) {
        return Err(DurationError::Invalid(s.to_string()));
    }
    parse_go_duration(s)
}

/// Go's `time.ParseDuration` for non-negative durations (units ns, us, µs, ms, s, m, h).
pub fn parse_go_duration(s: &str) -> Result<Duration, DurationError> {
    let invalid = || DurationError::Invalid(s.to_string());
    let mut rest = s.strip_prefix('+').unwrap_or(s);
    if rest.starts_with('-') {
        return Err(invalid());
    }
    if rest == "0" {
        return Ok(Duration::ZERO);
    }
    if rest.is_empty() {
        return Err(invalid());
    }
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (int_part, after) = rest.split_at(int_len);
        let (frac_part, after) = match after.strip_prefix('.') {
            Some(a) => {
                let n = a.bytes().take_while(u8::is_ascii_digit).count();
                a.split_at(n)
            }
            None => ("", after),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(invalid());
        }
        let unit_len = after
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(after.len(), |(i, _)| i);
        let (unit, next) = after.split_at(unit_len);
        let nanos_per: u128 = match unit {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => return Err(DurationError::MissingUnit(s.to_string())),
            other => {
                return Err(DurationError::UnknownUnit {
                    unit: other.to_string(),
                    input: s.to_string(),
                })
            }
        };
        let int: u128 = if int_part.is_empty() {
            0
        } else {
            int_part.parse().map_err(|_| invalid())?
        };
        let mut value = int
            .checked_mul(nanos_per)
            .ok_or_else(|| DurationError::Overflow(s.to_string()))?;
        let mut scale = nanos_per;
        for d in frac_part.bytes() {
            scale /= 10;
            if scale == 0 {
                break;
            }
            value += u128::from(d - b'0') * scale;
        }
        total = total
            .checked_add(value)
            .ok_or_else(|| DurationError::Overflow(s.to_string()))?;
        rest = next;
    }
    // Go durations are int64 nanoseconds.
    if total > i64::MAX as u128 {
        return Err(DurationError::Overflow(s.to_string()));
    }
    Ok(Duration::from_nanos(total as u64))
}

/// Go's `Duration.String()` (`1m0s`, `1h30m0s`, `1.5s`, `0s`), used when a run copies the strategy.
pub fn format_go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    if nanos == 0 {
        return "0s".into();
    }
    if nanos < 1_000_000_000 {
        let (div, unit) = if nanos < 1_000 {
            (1, "ns")
        } else if nanos < 1_000_000 {
            (1_000, "µs")
        } else {
            (1_000_000, "ms")
        };
        return format!("{}{}", frac(nanos, div), unit);
    }
    let total_secs = nanos / 1_000_000_000;
    let h = total_secs / 3600;
    let m = (total_secs % 3600) / 60;
    let s_nanos = nanos - (h * 3600 + m * 60) * 1_000_000_000;
    let secs = format!("{}s", frac(s_nanos, 1_000_000_000));
    if h > 0 {
        format!("{h}h{m}m{secs}")
    } else if m > 0 {
        format!("{m}m{secs}")
    } else {
        secs
    }
}

fn frac(value: u128, div: u128) -> String {
    let int = value / div;
    let rem = value % div;
    if rem == 0 {
        return int.to_string();
    }
    let width = div.to_string().len() - 1;
    let digits = format!("{rem:0width$}");
    format!("{int}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_table() {
        for ok in [
            "1m", "30s", "1h30m", "0s", "1.5h", "10m0s", "1h0m0s", "100s",
        ] {
            assert!(matches_wait_time_pattern(ok), "{ok} should match");
        }
        for bad in [
            "01h", "1d", "1", "", "h", "1.h", "-1s", "1ms", "1 m", "1H", "00s", "1h01m",
        ] {
            assert!(!matches_wait_time_pattern(bad), "{bad} should not match");
        }
    }

    #[test]
    fn parse_values() {
        assert_eq!(parse_wait_time("1h30m"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_wait_time("1m"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_wait_time("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(parse_wait_time("0s"), Ok(Duration::ZERO));
        assert!(parse_wait_time("01h").is_err());
        assert!(parse_wait_time("1d").is_err());
        assert!(parse_wait_time("1").is_err());
        assert_eq!(
            parse_go_duration("1"),
            Err(DurationError::MissingUnit("1".into()))
        );
        assert!(matches!(
            parse_go_duration("1d"),
            Err(DurationError::UnknownUnit { .. })
        ));
        assert_eq!(parse_go_duration("250ms"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn go_formatting() {
        let cases = [
            (Duration::from_secs(60), "1m0s"),
            (Duration::from_secs(30), "30s"),
            (Duration::from_secs(5400), "1h30m0s"),
            (Duration::from_millis(1500), "1.5s"),
            (Duration::ZERO, "0s"),
            (Duration::from_millis(250), "250ms"),
            (Duration::from_secs(3600), "1h0m0s"),
        ];
        for (d, want) in cases {
            assert_eq!(format_go_duration(d), want);
        }
    }
}
