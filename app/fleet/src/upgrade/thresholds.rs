//! `maxConcurrency` (aks §6.4) and `maxAllowedFailures` (aks §8.2) turned into numbers.
//! Both are resolved once, when the run is planned, against the run's fixed member list, and
//! shown in status (decision for aks §18.3: the member list is fixed at creation, so resolving
//! later would give the same numbers).

use super::upgrade_error::UpgradeError;

/// Stage `maxConcurrency` when unset, and its upper limit (aks §6.4).
pub const STAGE_MAX_CONCURRENCY: usize = 50;
/// Group `maxConcurrency` when unset: members go one at a time (aks §6.1).
pub const GROUP_DEFAULT_CONCURRENCY: usize = 1;

/// `^(?:([1-9]\d*)|([1-9]\d?|100)%)$` resolved against `size` clusters: a percentage rounds
/// **down** with a floor of 1 (aks §6.4: "25%" of 20 → 5).
pub fn resolve_max_concurrency(
    value: &str,
    size: usize,
    scope: &str,
) -> Result<usize, UpgradeError> {
    let bad = || UpgradeError::InvalidMaxConcurrency {
        scope: scope.to_string(),
        value: value.to_string(),
    };
    if let Some(p) = value.strip_suffix('%') {
        let p = digits(p)
            .filter(|p| (1..=100).contains(p))
            .ok_or_else(bad)?;
        return Ok((p * size / 100).max(1));
    }
    digits(value).filter(|n| *n >= 1).ok_or_else(bad)
}

/// `^(?:0|[1-9]\d*|(?:0|[1-9]\d?|100)%)$` resolved against `size` clusters: a percentage rounds
/// **up** (aks §8.2: "25%" of 5 → 2). Unset or empty ⇒ 0, fail-fast.
pub fn resolve_max_allowed_failures(
    value: Option<&str>,
    size: usize,
    scope: &str,
) -> Result<usize, UpgradeError> {
    let Some(value) = value.filter(|v| !v.is_empty()) else {
        return Ok(0);
    };
    let bad = || UpgradeError::InvalidMaxAllowedFailures {
        scope: scope.to_string(),
        value: value.to_string(),
    };
    if let Some(p) = value.strip_suffix('%') {
        let p = digits(p).filter(|p| *p <= 100).ok_or_else(bad)?;
        return Ok((p * size).div_ceil(100));
    }
    digits(value).ok_or_else(bad)
}

/// Decimal digits without a leading zero (except `0` itself), as the patterns require.
fn digits(s: &str) -> Option<usize> {
    let ok =
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if ok {
        s.parse().ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concurrency_percentages_round_down_with_a_floor_of_one() {
        // The spec's example: 20 clusters at 25% → 5; 8 at 50% → 4; 12 at 25% → 3.
        assert_eq!(resolve_max_concurrency("25%", 20, "s"), Ok(5));
        assert_eq!(resolve_max_concurrency("50%", 8, "g"), Ok(4));
        assert_eq!(resolve_max_concurrency("25%", 12, "g"), Ok(3));
        assert_eq!(resolve_max_concurrency("10%", 3, "g"), Ok(1));
        assert_eq!(resolve_max_concurrency("7", 3, "g"), Ok(7));
        for bad in ["0", "0%", "101%", "05", "-1", "x", ""] {
            assert!(resolve_max_concurrency(bad, 10, "g").is_err(), "{bad}");
        }
    }

    #[test]
    fn failure_percentages_round_up_and_zero_is_fail_fast() {
        assert_eq!(resolve_max_allowed_failures(Some("25%"), 5, "g"), Ok(2));
        assert_eq!(resolve_max_allowed_failures(Some("0%"), 5, "g"), Ok(0));
        assert_eq!(resolve_max_allowed_failures(Some("100%"), 5, "g"), Ok(5));
        assert_eq!(resolve_max_allowed_failures(Some("4"), 4, "g"), Ok(4));
        assert_eq!(resolve_max_allowed_failures(None, 4, "g"), Ok(0));
        assert_eq!(resolve_max_allowed_failures(Some(""), 4, "g"), Ok(0));
        assert!(resolve_max_allowed_failures(Some("101%"), 4, "g").is_err());
        assert!(resolve_max_allowed_failures(Some("01"), 4, "g").is_err());
    }
}
