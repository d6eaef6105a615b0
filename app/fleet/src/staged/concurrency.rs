//! Effective `maxConcurrency` of a stage (spec §7.1, §9.5.A.3).

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConcurrencyError {
    #[error("maxConcurrency must be at least 1, got {0}")]
    TooSmall(i32),
    #[error(
        "invalid maxConcurrency {0:?}: must be an integer or a percentage between 1% and 100%"
    )]
    Invalid(String),
}

/// Effective number of clusters that may update at once in a stage of `stage_size` clusters.
///
/// Absent ⇒ 1 (the CRD default). An integer is used as is (larger than the stage is fine). A
/// percentage is `percent × stage_size / 100` rounded **down**, and at least 1: 30% of 1 → 1,
/// 33% of 10 → 3, 25% of 7 → 1, 70% of 3 → 2, 100% of 10 → 10.
pub fn effective_max_concurrency(
    max_concurrency: Option<&IntOrString>,
    stage_size: usize,
) -> Result<usize, ConcurrencyError> {
    match max_concurrency {
        None => Ok(1),
        Some(IntOrString::Int(n)) => {
            if *n < 1 {
                Err(ConcurrencyError::TooSmall(*n))
            } else {
                Ok(*n as usize)
            }
        }
        Some(IntOrString::String(s)) => {
            let percent = parse_percent(s).ok_or_else(|| ConcurrencyError::Invalid(s.clone()))?;
            Ok((percent * stage_size / 100).max(1))
        }
    }
}

/// `N%` with 1 ≤ N ≤ 100, matching the CRD pattern `^(100|[1-9][0-9]?)%$`.
pub fn parse_percent(s: &str) -> Option<usize> {
    let digits = s.strip_suffix('%')?;
    let valid = digits == "100"
        || (matches!(digits.len(), 1 | 2)
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0'));
    if valid {
        digits.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pct(s: &str) -> IntOrString {
        IntOrString::String(s.to_string())
    }

    #[test]
    fn spec_examples() {
        let cases = [
            ("30%", 1, 1),
            ("33%", 10, 3),
            ("25%", 7, 1),
            ("70%", 3, 2),
            ("100%", 10, 10),
        ];
        for (p, size, want) in cases {
            assert_eq!(
                effective_max_concurrency(Some(&pct(p)), size),
                Ok(want),
                "{p} of {size}"
            );
        }
    }

    #[test]
    fn integers_default_and_errors() {
        assert_eq!(effective_max_concurrency(None, 5), Ok(1));
        assert_eq!(
            effective_max_concurrency(Some(&IntOrString::Int(2)), 5),
            Ok(2)
        );
        assert_eq!(
            effective_max_concurrency(Some(&IntOrString::Int(10)), 3),
            Ok(10)
        );
        assert_eq!(
            effective_max_concurrency(Some(&IntOrString::Int(0)), 3),
            Err(ConcurrencyError::TooSmall(0))
        );
        assert_eq!(effective_max_concurrency(Some(&pct("50%")), 0), Ok(1));
        for bad in ["50", "0", "0%", "101%", "05%", "%", "1.5%"] {
            assert!(
                effective_max_concurrency(Some(&pct(bad)), 10).is_err(),
                "{bad}"
            );
        }
    }
}
