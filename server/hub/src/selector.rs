//! Label and field selectors in the string grammar kubectl and kube-rs send (spec §3.1, §6.4).

use serde_json::{Map, Value};

use crate::object;
use crate::registry::KindSpec;
use crate::status::Error;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Op {
    Eq,
    NotEq,
    In,
    NotIn,
    Exists,
    NotExists,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
    values: Vec<String>,
}

/// A parsed `labelSelector`; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LabelSelector {
    reqs: Vec<Requirement>,
}

/// Splits on commas outside parentheses: `a in (x,y),b` is two requirements.
fn split_top_level(s: &str) -> Vec<&str> {
    let (mut depth, mut start, mut out) = (0i32, 0usize, Vec::new());
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn valid_key(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 317
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-".contains(c))
}

fn valid_value(v: &str) -> bool {
    v.len() <= 63
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

impl LabelSelector {
    pub fn parse(input: &str) -> Result<Self, Error> {
        let bad =
            |why: &str| Error::BadRequest(format!("unable to parse requirement: {why}: {input:?}"));
        let mut reqs = Vec::new();
        if input.trim().is_empty() {
            return Ok(LabelSelector { reqs });
        }
        for raw in split_top_level(input) {
            let part = raw.trim();
            let req = if let Some(key) = part.strip_prefix('!') {
                Requirement {
                    key: key.trim().into(),
                    op: Op::NotExists,
                    values: vec![],
                }
            } else if let Some(open) = part.find('(') {
                let close = part
                    .rfind(')')
                    .filter(|c| *c == part.len() - 1)
                    .ok_or_else(|| bad("missing ')'"))?;
                let head: Vec<&str> = part[..open].split_whitespace().collect();
                let [key, op] = head[..] else {
                    return Err(bad("expected '<key> in|notin (…)'"));
                };
                let op = match op {
                    "in" => Op::In,
                    "notin" => Op::NotIn,
                    _ => return Err(bad("unknown set operator")),
                };
                let values: Vec<String> = part[open + 1..close]
                    .split(',')
                    .map(|v| v.trim().to_string())
                    .collect();
                Requirement {
                    key: key.into(),
                    op,
                    values,
                }
            } else if let Some((k, v)) = part.split_once("!=") {
                Requirement {
                    key: k.trim().into(),
                    op: Op::NotEq,
                    values: vec![v.trim().into()],
                }
            } else if let Some((k, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                Requirement {
                    key: k.trim().into(),
                    op: Op::Eq,
                    values: vec![v.trim().into()],
                }
            } else {
                Requirement {
                    key: part.into(),
                    op: Op::Exists,
                    values: vec![],
                }
            };
            if !valid_key(&req.key) {
                return Err(bad("invalid label key"));
            }
            if req.values.iter().any(|v| !valid_value(v)) {
                return Err(bad("invalid label value"));
            }
            reqs.push(req);
        }
        Ok(LabelSelector { reqs })
    }

    pub fn matches(&self, labels: Option<&Map<String, Value>>) -> bool {
        self.reqs.iter().all(|r| {
            let v = labels.and_then(|l| l.get(&r.key)).and_then(Value::as_str);
            match r.op {
                Op::Eq | Op::In => v.is_some_and(|v| r.values.iter().any(|x| x == v)),
                // `!=` and `notin` also match objects lacking the key (spec §3.1).
                Op::NotEq | Op::NotIn => v.is_none_or(|v| r.values.iter().all(|x| x != v)),
                Op::Exists => v.is_some(),
                Op::NotExists => v.is_none(),
            }
        })
    }

    /// A `matchLabels` / `matchExpressions` LabelSelector object (Deployment `/scale` selector),
    /// rendered back to the string form.
    pub fn render_object(sel: &Value) -> String {
        let mut parts = Vec::new();
        if let Some(m) = sel.get("matchLabels").and_then(Value::as_object) {
            for (k, v) in m {
                parts.push(format!("{k}={}", v.as_str().unwrap_or_default()));
            }
        }
        for e in sel
            .get("matchExpressions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = e.get("key").and_then(Value::as_str).unwrap_or_default();
            let vals: Vec<&str> = e
                .get("values")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            match e.get("operator").and_then(Value::as_str) {
                Some("In") => parts.push(format!("{key} in ({})", vals.join(","))),
                Some("NotIn") => parts.push(format!("{key} notin ({})", vals.join(","))),
                Some("Exists") => parts.push(key.to_string()),
                Some("DoesNotExist") => parts.push(format!("!{key}")),
                _ => {}
            }
        }
        parts.join(",")
    }
}

/// The string form `parse` reads back (kubectl's spelling: `k=v`, `k!=v`, `k in (a,b)`, `k`, `!k`).
impl std::fmt::Display for LabelSelector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, r) in self.reqs.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let (k, vs) = (&r.key, r.values.join(","));
            match r.op {
                Op::Eq => write!(f, "{k}={vs}")?,
                Op::NotEq => write!(f, "{k}!={vs}")?,
                Op::In => write!(f, "{k} in ({vs})")?,
                Op::NotIn => write!(f, "{k} notin ({vs})")?,
                Op::Exists => write!(f, "{k}")?,
                Op::NotExists => write!(f, "!{k}")?,
            }
        }
        Ok(())
    }
}

/// A parsed `fieldSelector` over the labels a kind supports.
#[derive(Debug, Clone, Default)]
pub struct FieldSelector {
    reqs: Vec<(Vec<String>, bool, String)>,
}

impl FieldSelector {
    pub fn parse(input: &str, kind: &KindSpec) -> Result<Self, Error> {
        let mut reqs = Vec::new();
        for part in input.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, eq, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==").or_else(|| part.split_once('=')) {
                (f, true, v)
            } else {
                return Err(Error::BadRequest(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                )));
            };
            let field = field.trim();
            // Custom kinds support only metadata.name (+ namespace when namespaced); upstream
            // customresource/strategy.go objectMetaFieldsSet.
            let path = match field {
                "metadata.name" => "metadata.name".to_string(),
                "metadata.namespace" if kind.namespaced() || kind.builtin => {
                    "metadata.namespace".into()
                }
                _ => match kind.field_labels.iter().find(|(l, _)| l == field) {
                    Some((_, p)) => p.clone(),
                    None => {
                        return Err(Error::BadRequest(format!(
                            "field label not supported: {field}"
                        )))
                    }
                },
            };
            reqs.push((
                path.split('.').map(String::from).collect(),
                eq,
                value.trim().to_string(),
            ));
        }
        Ok(FieldSelector { reqs })
    }

    pub fn matches(&self, obj: &Value) -> bool {
        self.reqs.iter().all(|(path, eq, want)| {
            let got = match object::get_path(obj, path) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(v) => v.to_string(),
            };
            (got == *want) == *eq
        })
    }
}

/// Both selectors of a list or watch request.
#[derive(Debug, Clone, Default)]
pub struct Selectors {
    pub labels: LabelSelector,
    pub fields: FieldSelector,
}

impl Selectors {
    pub fn matches(&self, obj: &Value) -> bool {
        self.labels.matches(object::labels(obj)) && self.fields.matches(obj)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(sel: &str, labels: Value) -> bool {
        LabelSelector::parse(sel)
            .unwrap()
            .matches(labels.as_object())
    }

    #[test]
    fn label_operators() {
        let l = json!({"a": "b", "env": "x", "kubernetes-fleet.io/parent-CRP": "p"});
        assert!(m("a=b", l.clone()));
        assert!(m("a==b", l.clone()));
        assert!(!m("a!=b", l.clone()));
        assert!(m("zz!=b", l.clone()), "!= matches a missing key");
        assert!(m("env in (x,y)", l.clone()));
        assert!(!m("env notin (x)", l.clone()));
        assert!(m("zz notin (x)", l.clone()));
        assert!(m("a", l.clone()));
        assert!(!m("!a", l.clone()));
        assert!(m("!zz", l.clone()));
        assert!(m("kubernetes-fleet.io/parent-CRP=p", l.clone()));
        assert!(m("a=b,env in (y, x),!zz", l.clone()));
        assert!(!m("a=b,env in (y)", l.clone()));
        assert!(m("", l));
        assert!(!m("a", json!(null)));
    }

    #[test]
    fn label_parse_errors() {
        for bad in ["a in (x", "a foo (x)", "a=b c", "=x", "a in x)"] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn field_selectors() {
        let k = KindSpec::new("g", "v1", "K", "ks", crate::registry::Scope::Cluster);
        let obj = json!({"metadata": {"name": "x"}});
        assert!(FieldSelector::parse("metadata.name=x", &k)
            .unwrap()
            .matches(&obj));
        assert!(!FieldSelector::parse("metadata.name!=x", &k)
            .unwrap()
            .matches(&obj));
        assert!(
            FieldSelector::parse("metadata.namespace=", &k).is_err(),
            "cluster-scoped CR"
        );
        assert!(FieldSelector::parse("spec.foo=x", &k).is_err());
    }
}

/// Property tests (issue 21): the parsers never panic, a selector reads back from its printed
/// form, and matching agrees with a plain reading of the requirements.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::{json, Map, Value};

    use super::*;

    const KEYS: &[&str] = &[
        "app",
        "env",
        "tier",
        "kubernetes-fleet.io/parent-CRP",
        "a.b_c-d",
        "in",
        "notin",
    ];
    const VALUES: &[&str] = &["a", "b", "prod", "x.y_z-1", ""];

    /// A valid requirement as the parser should read it.
    fn requirement() -> impl Strategy<Value = Requirement> {
        let op = prop::sample::select(vec![
            Op::Eq,
            Op::NotEq,
            Op::In,
            Op::NotIn,
            Op::Exists,
            Op::NotExists,
        ]);
        let values = prop::collection::vec(prop::sample::select(VALUES.to_vec()), 1..4);
        (prop::sample::select(KEYS.to_vec()), op, values).prop_map(|(key, op, values)| {
            let values = match op {
                Op::Exists | Op::NotExists => vec![],
                // `k=` and `k!=` take one value; set operators take one or more.
                Op::Eq | Op::NotEq => values[..1].iter().map(|v| v.to_string()).collect(),
                Op::In | Op::NotIn => values.iter().map(|v| v.to_string()).collect(),
            };
            Requirement {
                key: key.into(),
                op,
                values,
            }
        })
    }

    fn labels() -> impl Strategy<Value = Map<String, Value>> {
        prop::collection::btree_map(
            prop::sample::select(KEYS.to_vec()),
            prop::sample::select(VALUES.to_vec()),
            0..4,
        )
        .prop_map(|m| {
            m.into_iter()
                .map(|(k, v)| (k.to_string(), json!(v)))
                .collect()
        })
    }

    /// What a requirement means, written from the Kubernetes docs rather than from `matches`.
    fn reference(r: &Requirement, labels: &Map<String, Value>) -> bool {
        let has = |v: &String| labels.get(&r.key) == Some(&json!(v));
        let present = labels.contains_key(&r.key);
        match r.op {
            Op::Eq | Op::In => r.values.iter().any(has),
            Op::NotEq | Op::NotIn => !r.values.iter().any(has),
            Op::Exists => present,
            Op::NotExists => !present,
        }
    }

    /// Text that looks like selectors: their operators and punctuation in any order.
    fn selector_like() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop::sample::select(vec![
                "a",
                "b",
                "=",
                "==",
                "!=",
                "!",
                "in",
                "notin",
                " ",
                "(",
                ")",
                ",",
                "/",
                ".",
                "é",
                "-",
                "_",
                "x",
                "\u{0}",
                "((",
                "))",
                "in (",
                "metadata.name",
                "spec.x",
            ]),
            0..12,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1024, ..ProptestConfig::default() })]

        #[test]
        fn parsing_never_panics(text in prop_oneof![selector_like(), any::<String>()]) {
            let kind = KindSpec::new("g", "v1", "K", "ks", crate::registry::Scope::Namespaced);
            if let Ok(sel) = LabelSelector::parse(&text) {
                // Whatever parses prints to something that parses to the same selector.
                prop_assert_eq!(LabelSelector::parse(&sel.to_string()).ok(), Some(sel), "{:?}", text);
            }
            let _ = FieldSelector::parse(&text, &kind);
        }

        #[test]
        fn a_printed_selector_parses_back_to_itself(
            reqs in prop::collection::vec(requirement(), 0..5),
            spaced in any::<bool>(),
        ) {
            let sel = LabelSelector { reqs };
            let mut text = sel.to_string();
            if spaced {
                // Spaces around operators and commas mean nothing.
                text = text.replace(',', " , ").replace("!=", " != ").replace('(', "( ");
            }
            prop_assert_eq!(LabelSelector::parse(&text).unwrap(), sel, "{:?}", text);
        }

        #[test]
        fn matching_agrees_with_the_reference(
            reqs in prop::collection::vec(requirement(), 0..4),
            labels in labels(),
        ) {
            let text = LabelSelector { reqs: reqs.clone() }.to_string();
            let parsed = LabelSelector::parse(&text).unwrap();
            let want = reqs.iter().all(|r| reference(r, &labels));
            prop_assert_eq!(parsed.matches(Some(&labels)), want, "{:?} on {:?}", text, labels);
            // An object without labels is one with none.
            prop_assert_eq!(parsed.matches(None), parsed.matches(Some(&Map::new())));
        }

        #[test]
        fn field_selectors_match_the_name_they_name(
            name in "[a-z0-9]{0,6}",
            other in "[a-z0-9]{0,6}",
            eq in any::<bool>(),
        ) {
            let kind = KindSpec::new("g", "v1", "K", "ks", crate::registry::Scope::Namespaced);
            let op = if eq { "=" } else { "!=" };
            let sel = FieldSelector::parse(&format!("metadata.name{op}{name}"), &kind).unwrap();
            let obj = json!({"metadata": {"name": other, "namespace": "default"}});
            prop_assert_eq!(sel.matches(&obj), (name == other) == eq);
        }
    }
}
