//! Label selector matching with Kubernetes semantics, plus the fleet rule that a *nil* stage
//! selector selects nothing while an empty `{}` selects everything (spec §7.1, §9.3 step 4.2).

use std::collections::BTreeMap;

pub use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, LabelSelectorRequirement};
use thiserror::Error;

/// A selector that cannot be converted (apimachinery's `LabelSelectorAsSelector` errors).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct SelectorError(pub String);

/// Matches `labels` against an optional selector: `None` selects nothing, `{}` selects everything.
pub fn matches(
    selector: Option<&LabelSelector>,
    labels: &BTreeMap<String, String>,
) -> Result<bool, SelectorError> {
    match selector {
        None => Ok(false),
        Some(sel) => selector_matches(sel, labels),
    }
}

/// Matches `labels` against a present selector (matchLabels AND every matchExpression).
pub fn selector_matches(
    selector: &LabelSelector,
    labels: &BTreeMap<String, String>,
) -> Result<bool, SelectorError> {
    validate(selector)?;
    let labels_ok = selector
        .match_labels
        .iter()
        .flatten()
        .all(|(k, v)| labels.get(k) == Some(v));
    if !labels_ok {
        return Ok(false);
    }
    for req in selector.match_expressions.iter().flatten() {
        let value = labels.get(&req.key);
        let values = req.values.as_deref().unwrap_or_default();
        let ok = match req.operator.as_str() {
            "In" => value.is_some_and(|v| values.contains(v)),
            "NotIn" => value.is_none_or(|v| !values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            other => return Err(operator_error(other)),
        };
        if !ok {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Checks a selector the way apimachinery converts it: known operators, values present for
/// In/NotIn and absent for Exists/DoesNotExist, valid label keys and values.
pub fn validate(selector: &LabelSelector) -> Result<(), SelectorError> {
    for (k, v) in selector.match_labels.iter().flatten() {
        validate_key(k)?;
        validate_value(v)?;
    }
    for req in selector.match_expressions.iter().flatten() {
        validate_key(&req.key)?;
        let values = req.values.as_deref().unwrap_or_default();
        match req.operator.as_str() {
            "In" | "NotIn" => {
                if values.is_empty() {
                    return Err(SelectorError(
                        "values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"
                            .into(),
                    ));
                }
                for v in values {
                    validate_value(v)?;
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    return Err(SelectorError(format!(
                        "values: Invalid value: {}: values set must be empty for exists and does not exist",
                        go_string_slice(values)
                    )));
                }
            }
            other => return Err(operator_error(other)),
        }
    }
    Ok(())
}

fn operator_error(op: &str) -> SelectorError {
    SelectorError(format!("{op:?} is not a valid label selector operator"))
}

fn go_string_slice(values: &[String]) -> String {
    let inner = values
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!("[]string{{{inner}}}")
}

/// Label keys are qualified names: optional DNS-subdomain prefix (≤253) + `/` + name (≤63).
fn validate_key(key: &str) -> Result<(), SelectorError> {
    let (prefix, name) = match key.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    let bad = |why: &str| SelectorError(format!("key: Invalid value: {key:?}: {why}"));
    if let Some(p) = prefix {
        let dns_ok = !p.is_empty()
            && p.len() <= 253
            && p.split('.').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                    && !part.starts_with('-')
                    && !part.ends_with('-')
            });
        if !dns_ok {
            return Err(bad("prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character"));
        }
    }
    if name.is_empty() || name.len() > 63 || !is_label_name(name) {
        return Err(bad("name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"));
    }
    Ok(())
}

fn validate_value(value: &str) -> Result<(), SelectorError> {
    if value.is_empty() || (value.len() <= 63 && is_label_name(value)) {
        Ok(())
    } else {
        Err(SelectorError(format!(
            "values[0]: Invalid value: {value:?}: a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character"
        )))
    }
}

fn is_label_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn expr(key: &str, op: &str, values: &[&str]) -> LabelSelectorRequirement {
        LabelSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: if values.is_empty() {
                None
            } else {
                Some(values.iter().map(|v| v.to_string()).collect())
            },
        }
    }

    fn sel(ml: &[(&str, &str)], exprs: Vec<LabelSelectorRequirement>) -> LabelSelector {
        LabelSelector {
            match_labels: if ml.is_empty() {
                None
            } else {
                Some(labels(ml))
            },
            match_expressions: if exprs.is_empty() { None } else { Some(exprs) },
        }
    }

    #[test]
    fn nil_selects_none_and_empty_selects_all() {
        let l = labels(&[("environment", "canary")]);
        assert_eq!(matches(None, &l), Ok(false));
        assert_eq!(matches(Some(&LabelSelector::default()), &l), Ok(true));
        assert_eq!(
            matches(Some(&LabelSelector::default()), &BTreeMap::new()),
            Ok(true)
        );
    }

    #[test]
    fn operators_table() {
        let l = labels(&[("env", "canary"), ("order", "2")]);
        let cases: Vec<(LabelSelector, bool)> = vec![
            (sel(&[("env", "canary")], vec![]), true),
            (sel(&[("env", "staging")], vec![]), false),
            (sel(&[("env", "canary"), ("order", "1")], vec![]), false),
            (sel(&[], vec![expr("env", "In", &["canary", "prod"])]), true),
            (sel(&[], vec![expr("env", "In", &["prod"])]), false),
            (sel(&[], vec![expr("missing", "In", &["x"])]), false),
            (sel(&[], vec![expr("env", "NotIn", &["prod"])]), true),
            (sel(&[], vec![expr("env", "NotIn", &["canary"])]), false),
            (sel(&[], vec![expr("missing", "NotIn", &["x"])]), true),
            (sel(&[], vec![expr("order", "Exists", &[])]), true),
            (sel(&[], vec![expr("missing", "Exists", &[])]), false),
            (sel(&[], vec![expr("missing", "DoesNotExist", &[])]), true),
            (sel(&[], vec![expr("env", "DoesNotExist", &[])]), false),
            (
                sel(&[("env", "canary")], vec![expr("order", "In", &["1"])]),
                false,
            ),
        ];
        for (i, (s, want)) in cases.into_iter().enumerate() {
            assert_eq!(matches(Some(&s), &l), Ok(want), "case {i}: {s:?}");
        }
    }

    #[test]
    fn invalid_selectors_are_errors() {
        let l = labels(&[("env", "canary")]);
        let err = matches(Some(&sel(&[], vec![expr("env", "Equals", &["x"])])), &l).unwrap_err();
        assert_eq!(err.0, "\"Equals\" is not a valid label selector operator");
        let err = matches(Some(&sel(&[], vec![expr("env", "In", &[])])), &l).unwrap_err();
        assert!(err.0.contains("values set can't be empty"), "{err}");
        let err = matches(Some(&sel(&[], vec![expr("env", "Exists", &["x"])])), &l).unwrap_err();
        assert_eq!(
            err.0,
            "values: Invalid value: []string{\"x\"}: values set must be empty for exists and does not exist"
        );
        assert!(matches(Some(&sel(&[("bad key", "x")], vec![])), &l).is_err());
        assert!(matches(Some(&sel(&[("env", "not valid!")], vec![])), &l).is_err());
        assert!(validate(&sel(
            &[("kubernetes-fleet.io/member-name", "member1")],
            vec![]
        ))
        .is_ok());
    }
}
