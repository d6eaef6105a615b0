//! Label selectors written as text, the way `kubectl get -l` takes them (`environment=canary,order`,
//! `env in (a,b)`, `!legacy`), plus `key: value` lines as a `matchLabels` would read in YAML. The
//! strategy editor keeps a stage's selector as this text; the object keeps the structured form.
//!
//! Two texts are special because a stage's selector has three meanings (spec §7.1): empty text
//! is no `labelSelector` (selects no cluster), `{}` is the empty selector (every scheduled cluster).
//! Only syntax is checked here; keys and values are checked by [`super::label_selector::validate`],
//! the check the engine runs at initialization.

use std::collections::BTreeMap;

use thiserror::Error;

use super::label_selector::{LabelSelector, LabelSelectorRequirement};

/// Text that does not parse as a selector; the message says where.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("cannot read the selector at {part:?}: {why}")]
pub struct SelectorSyntaxError {
    pub part: String,
    pub why: String,
}

/// The text meaning "every scheduled cluster" (`labelSelector: {}`).
pub const EVERYTHING: &str = "{}";

/// Parses selector text: `None` for empty text, the empty selector for `{}`.
pub fn parse(text: &str) -> Result<Option<LabelSelector>, SelectorSyntaxError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text == EVERYTHING {
        return Ok(Some(LabelSelector::default()));
    }
    let mut labels: BTreeMap<String, String> = BTreeMap::new();
    let mut exprs: Vec<LabelSelectorRequirement> = Vec::new();
    for part in split_top_level(text) {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let err = |why: &str| SelectorSyntaxError {
            part: part.to_string(),
            why: why.to_string(),
        };
        if let Some(key) = part.strip_prefix('!') {
            exprs.push(requirement(
                word(key).ok_or_else(|| err("expected a label key after `!`"))?,
                "DoesNotExist",
                vec![],
            ));
        } else if let Some((key, values)) = set_requirement(part, "notin") {
            exprs.push(requirement(
                word(key).ok_or_else(|| err("expected a label key before `notin`"))?,
                "NotIn",
                values.map_err(|why| err(&why))?,
            ));
        } else if let Some((key, values)) = set_requirement(part, "in") {
            exprs.push(requirement(
                word(key).ok_or_else(|| err("expected a label key before `in`"))?,
                "In",
                values.map_err(|why| err(&why))?,
            ));
        } else if let Some((key, value)) = part.split_once("!=") {
            let key = word(key).ok_or_else(|| err("expected a label key before `!=`"))?;
            exprs.push(requirement(key, "NotIn", vec![value.trim().to_string()]));
        } else if let Some((key, value)) = part
            .split_once("==")
            .or_else(|| part.split_once('='))
            .or_else(|| part.split_once(':'))
        {
            let key = word(key).ok_or_else(|| err("expected a label key before `=`"))?;
            let value = value.trim();
            if value.contains(['=', ' ', '(', ')']) {
                return Err(err("a value cannot hold `=`, spaces or parentheses"));
            }
            if let Some(old) = labels.insert(key.clone(), value.to_string()) {
                if old != value {
                    return Err(err(&format!("{key} is already required to be {old:?}")));
                }
            }
        } else {
            let key = word(part).ok_or_else(|| {
                err("expected `key`, `!key`, `key=value`, `key!=value` or `key in (a,b)`")
            })?;
            exprs.push(requirement(key, "Exists", vec![]));
        }
    }
    Ok(Some(LabelSelector {
        match_labels: (!labels.is_empty()).then_some(labels),
        match_expressions: (!exprs.is_empty()).then_some(exprs),
    }))
}

/// The text for a selector; `parse(&format(s)) == s` for every selector this module can write
/// (known operators; an unknown operator is written as is, and fails to parse back).
pub fn format(selector: Option<&LabelSelector>) -> String {
    let Some(sel) = selector else {
        return String::new();
    };
    let mut parts: Vec<String> = sel
        .match_labels
        .iter()
        .flatten()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    for req in sel.match_expressions.iter().flatten() {
        let values = req.values.as_deref().unwrap_or_default();
        parts.push(match (req.operator.as_str(), values) {
            ("Exists", []) => req.key.clone(),
            ("DoesNotExist", []) => format!("!{}", req.key),
            ("NotIn", [one]) => format!("{}!={one}", req.key),
            ("In", _) => format!("{} in ({})", req.key, values.join(",")),
            ("NotIn", _) => format!("{} notin ({})", req.key, values.join(",")),
            (op, _) => format!("{} {op} ({})", req.key, values.join(",")),
        });
    }
    if parts.is_empty() {
        EVERYTHING.to_string()
    } else {
        parts.join(",")
    }
}

fn requirement(key: String, operator: &str, values: Vec<String>) -> LabelSelectorRequirement {
    LabelSelectorRequirement {
        key,
        operator: operator.to_string(),
        values: (!values.is_empty()).then_some(values),
    }
}

/// A single token: no spaces or operator characters.
fn word(s: &str) -> Option<String> {
    let s = s.trim();
    let ok = !s.is_empty() && !s.contains([' ', '\t', '=', '!', '(', ')', ',', ':']);
    ok.then(|| s.to_string())
}

/// `key <op> (a, b)`: the key, and the values or why they do not read.
fn set_requirement<'a>(part: &'a str, op: &str) -> Option<(&'a str, Result<Vec<String>, String>)> {
    let mut it = part.splitn(2, char::is_whitespace);
    let key = it.next()?;
    let rest = it.next()?.trim_start();
    let after = rest.strip_prefix(op)?;
    if !after.starts_with([' ', '(']) {
        return None;
    }
    let values = after
        .trim()
        .strip_prefix('(')
        .and_then(|v| v.strip_suffix(')'))
        .ok_or_else(|| format!("expected the values in parentheses, like `{key} {op} (a,b)`"))
        .map(|inner| {
            inner
                .split(',')
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
                .collect::<Vec<_>>()
        })
        .and_then(|v| {
            if v.is_empty() {
                Err(format!("`{op}` needs at least one value"))
            } else {
                Ok(v)
            }
        });
    Some((key, values))
}

/// Splits on commas and newlines outside parentheses.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let (mut depth, mut start) = (0i32, 0usize);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' | '\n' if depth <= 0 => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&text[start..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::label_selector::matches;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn empty_is_no_selector_and_braces_select_everything() {
        assert_eq!(parse("  "), Ok(None));
        assert_eq!(parse("{}"), Ok(Some(LabelSelector::default())));
        assert_eq!(format(None), "");
        assert_eq!(format(Some(&LabelSelector::default())), "{}");
    }

    #[test]
    fn kubectl_forms_match_like_kubectl() {
        let canary1 = labels(&[("environment", "canary"), ("order", "1")]);
        let staging = labels(&[("environment", "staging")]);
        let cases = [
            ("environment=canary", true, false),
            ("environment==canary,order", true, false),
            ("environment: canary", true, false),
            ("environment!=canary", false, true),
            ("environment in (canary, staging)", true, true),
            ("environment notin (canary)", false, true),
            ("order", true, false),
            ("!order", false, true),
            ("environment=canary\norder=1", true, false),
        ];
        for (text, want_canary, want_staging) in cases {
            let sel = parse(text).expect(text);
            assert_eq!(matches(sel.as_ref(), &canary1), Ok(want_canary), "{text}");
            assert_eq!(matches(sel.as_ref(), &staging), Ok(want_staging), "{text}");
        }
    }

    #[test]
    fn text_round_trips() {
        for text in [
            "environment=canary,order",
            "a=1,b=2,env in (x,y),c!=d,!legacy,e notin (p,q)",
            "{}",
            "",
        ] {
            let sel = parse(text).expect(text);
            assert_eq!(format(sel.as_ref()), text);
            assert_eq!(parse(&format(sel.as_ref())), Ok(sel));
        }
    }

    #[test]
    fn syntax_errors_name_the_part() {
        for bad in [
            "env in canary",
            "env in ()",
            "a=b=c",
            "=x",
            "two words",
            "!",
            "a=1,a=2",
        ] {
            let e = parse(bad).expect_err(bad);
            assert!(!e.why.is_empty(), "{bad}: {e}");
        }
        assert_eq!(
            parse("env in canary").expect_err("no parens").to_string(),
            "cannot read the selector at \"env in canary\": expected the values in parentheses, like `env in (a,b)`"
        );
    }
}
