//! Where a schema's CEL rules live, so that a write converts to CEL only what its rules can read.
//!
//! kube-cel converts the value of every schema node it walks into a CEL value, so handing it a
//! whole object costs the object's size once per level of nesting, on every write — with a run's
//! status of 10,000 clusters that was most of the hub's time. Here the schema is split once, when
//! the CRD is stored: nodes with no rules beneath them are never visited, nodes on the way to rules
//! are walked here without conversion, and kube-cel sees only the subtrees that carry rules. A
//! node whose rules read only `self.<field>` (the root's `size(self.metadata.name) < 64`) is
//! evaluated on just those fields. Results are the same as validating the whole object: a rule
//! sees exactly the value (and `oldSelf`) it would have seen, and error paths are prefixed back.

use std::collections::BTreeSet;

use kube_cel::{CompiledSchema, ValidationError};
use serde_json::{Map, Value};

/// One schema node that has rules at or below it.
pub(super) struct CelNode {
    /// This node's own rules (and `allOf`/`anyOf`/`oneOf` branches), compiled over the node's
    /// schema; with `fields`, over those properties only, and evaluated on them only.
    own: Option<Own>,
    /// Children with rules that `own` does not already cover.
    properties: Vec<(String, CelNode)>,
    items: Option<Box<CelNode>>,
    additional: Option<Box<CelNode>>,
}

struct Own {
    compiled: CompiledSchema,
    fields: Option<BTreeSet<String>>,
}

impl CelNode {
    /// The rule tree of `schema`; `None` when no rule is anywhere in it.
    pub(super) fn build(schema: &Value) -> Option<CelNode> {
        if !has_rules(schema) {
            return None;
        }
        let combinators = ["allOf", "anyOf", "oneOf"]
            .iter()
            .any(|k| schema.get(*k).is_some_and(has_rules));
        let own_rules = schema
            .get("x-kubernetes-validations")
            .and_then(Value::as_array)
            .is_some_and(|r| !r.is_empty());
        if !own_rules && !combinators {
            return Some(CelNode {
                own: None,
                properties: properties(schema)
                    .filter_map(|(k, s)| Some((k.clone(), CelNode::build(s)?)))
                    .collect(),
                items: schema.get("items").and_then(CelNode::build).map(Box::new),
                additional: additional(schema).and_then(CelNode::build).map(Box::new),
            });
        }
        let fields = if combinators {
            None
        } else {
            fields_read(schema)
        };
        let Some(fields) = fields else {
            // The rules read `self` as a whole: kube-cel takes the whole subtree, nested rules too.
            return Some(CelNode {
                own: Some(Own {
                    compiled: compile(schema),
                    fields: None,
                }),
                properties: Vec::new(),
                items: None,
                additional: None,
            });
        };
        // Own rules over the fields they read (nested rules there included); the rest walked on.
        let mut restricted = schema.clone();
        if let Some(map) = restricted.as_object_mut() {
            map.remove("items");
            map.remove("additionalProperties");
            if let Some(Value::Object(props)) = map.get_mut("properties") {
                props.retain(|k, _| fields.contains(k));
            }
        }
        Some(CelNode {
            own: Some(Own {
                compiled: compile(&restricted),
                fields: Some(fields.clone()),
            }),
            properties: properties(schema)
                .filter(|(k, _)| !fields.contains(*k))
                .filter_map(|(k, s)| Some((k.clone(), CelNode::build(s)?)))
                .collect(),
            items: schema.get("items").and_then(CelNode::build).map(Box::new),
            additional: additional(schema).and_then(CelNode::build).map(Box::new),
        })
    }

    /// Every rule failure for `new` (with `old` for transition rules), paths from the root.
    pub(super) fn validate(&self, new: &Value, old: Option<&Value>) -> Vec<ValidationError> {
        let mut out = Vec::new();
        self.walk(new, old, "", &mut out);
        out
    }

    fn walk(&self, new: &Value, old: Option<&Value>, path: &str, out: &mut Vec<ValidationError>) {
        if let Some(own) = &self.own {
            let errors = match &own.fields {
                None => kube_cel::validate_compiled(&own.compiled, new, old),
                Some(fields) => {
                    let new = only(new, fields);
                    let old = old.map(|o| only(o, fields));
                    kube_cel::validate_compiled(&own.compiled, &new, old.as_ref())
                }
            };
            if let Err(errors) = errors {
                out.extend(errors.into_vec().into_iter().map(|mut e| {
                    e.field_path = join(path, &e.field_path);
                    e
                }));
            }
        }
        let Some(object) = new.as_object() else {
            if let (Some(items), Some(array)) = (&self.items, new.as_array()) {
                for (i, item) in array.iter().enumerate() {
                    let old_item = old.and_then(Value::as_array).and_then(|a| a.get(i));
                    items.walk(item, old_item, &format!("{path}[{i}]"), out);
                }
            }
            return;
        };
        for (key, child) in &self.properties {
            if let Some(value) = object.get(key) {
                child.walk(value, old.and_then(|o| o.get(key)), &join(path, key), out);
            }
        }
        if let Some(additional) = &self.additional {
            for (key, value) in object {
                if self.properties.iter().any(|(k, _)| k == key) {
                    continue;
                }
                additional.walk(value, old.and_then(|o| o.get(key)), &join(path, key), out);
            }
        }
    }
}

fn compile(schema: &Value) -> CompiledSchema {
    let compiled = kube_cel::compile_schema(schema);
    for e in compiled.compilation_errors() {
        tracing::warn!(error = %e, "CRD rule does not compile; the hub will not enforce it");
    }
    compiled
}

fn has_rules(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => map.iter().any(|(k, v)| {
            (k == "x-kubernetes-validations" && v.as_array().is_some_and(|r| !r.is_empty()))
                || (k != "default" && k != "example" && k != "enum" && has_rules(v))
        }),
        Value::Array(items) => items.iter().any(has_rules),
        _ => false,
    }
}

fn properties(schema: &Value) -> impl Iterator<Item = (&String, &Value)> {
    schema
        .get("properties")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

fn additional(schema: &Value) -> Option<&Value> {
    schema.get("additionalProperties").filter(|a| a.is_object())
}

/// The fields the node's rules read, when every use of `self` and `oldSelf` is `self.<field>`;
/// `None` when a rule reads either as a whole (`size(self)`, `self == oldSelf`, `self[...]`).
fn fields_read(schema: &Value) -> Option<BTreeSet<String>> {
    let rules = schema.get("x-kubernetes-validations")?.as_array()?;
    let mut fields = BTreeSet::new();
    for rule in rules {
        for key in ["rule", "messageExpression"] {
            if let Some(text) = rule.get(key).and_then(Value::as_str) {
                fields_of(text, &mut fields)?;
            }
        }
    }
    Some(fields)
}

/// Adds the `<field>` of every `self.<field>` / `oldSelf.<field>` in `text`; `None` on any other
/// use of them. Escaped names (`__dash__`…) fall back too, rather than be mapped back here.
fn fields_of(text: &str, fields: &mut BTreeSet<String>) -> Option<()> {
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < bytes.len() {
        if !ident(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && ident(bytes[i]) {
            i += 1;
        }
        let word = &text[start..i];
        let after_dot = start > 0 && bytes[start - 1] == b'.';
        if after_dot || (word != "self" && word != "oldSelf") {
            continue;
        }
        if bytes.get(i) != Some(&b'.') {
            return None;
        }
        let field_start = i + 1;
        let mut end = field_start;
        while end < bytes.len() && ident(bytes[end]) {
            end += 1;
        }
        let field = &text[field_start..end];
        if field.is_empty() || field.contains("__") || field.as_bytes()[0].is_ascii_digit() {
            return None;
        }
        fields.insert(field.to_string());
        i = end;
    }
    Some(())
}

/// `value` with only `fields` kept (a non-object is returned as it is).
fn only(value: &Value, fields: &BTreeSet<String>) -> Value {
    match value.as_object() {
        Some(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| fields.contains(*k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Map<_, _>>(),
        ),
        None => value.clone(),
    }
}

fn join(base: &str, rest: &str) -> String {
    match (base.is_empty(), rest.is_empty()) {
        (true, _) => rest.to_string(),
        (false, true) => base.to_string(),
        (false, false) if rest.starts_with('[') => format!("{base}{rest}"),
        (false, false) => format!("{base}.{rest}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_are_read_only_through_self_dot_field() {
        let mut f = BTreeSet::new();
        assert!(fields_of("size(self.metadata.name) < 64", &mut f).is_some());
        assert!(fields_of("!has(oldSelf.spec) || self.spec == oldSelf.spec", &mut f).is_some());
        assert_eq!(f, BTreeSet::from(["metadata".into(), "spec".into()]));
        for whole in [
            "size(self) < 3",
            "self == oldSelf",
            "self[0] > 1",
            "self.x__dash__y",
        ] {
            assert!(fields_of(whole, &mut BTreeSet::new()).is_none(), "{whole}");
        }
        // `self` inside a longer name or after a dot is not `self`.
        assert!(fields_of("myself > 1 && a.self > 2", &mut BTreeSet::new()).is_some());
    }

    #[test]
    fn rules_deep_in_lists_and_at_the_root_are_found_with_their_paths() {
        let schema = json!({
            "type": "object",
            "x-kubernetes-validations": [{"rule": "size(self.metadata.name) < 5", "message": "short"}],
            "properties": {
                "spec": {"type": "object", "properties": {"stages": {"type": "array", "items": {
                    "type": "object",
                    "x-kubernetes-validations": [{"rule": "self.n > 0", "message": "positive"}],
                    "properties": {"n": {"type": "integer"}}}}}},
                "status": {"type": "object", "properties": {"big": {"type": "array", "items": {"type": "string"}}}}
            }
        });
        let node = CelNode::build(&schema).expect("has rules");
        let ok = json!({"metadata": {"name": "a"}, "spec": {"stages": [{"n": 1}]}, "status": {"big": ["x"]}});
        assert!(node.validate(&ok, None).is_empty());
        let bad =
            json!({"metadata": {"name": "toolong"}, "spec": {"stages": [{"n": 1}, {"n": 0}]}});
        let errors = node.validate(&bad, None);
        let mut got: Vec<(String, String)> = errors
            .iter()
            .map(|e| (e.field_path.clone(), e.message.clone()))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                (String::new(), "short".to_string()),
                ("spec.stages[1]".to_string(), "positive".to_string())
            ]
        );
        // The same answers as kube-cel over the whole object.
        let whole = kube_cel::compile_schema(&schema);
        let mut want: Vec<(String, String)> = kube_cel::validate_compiled(&whole, &bad, None)
            .err()
            .map(|e| e.into_vec())
            .unwrap_or_default()
            .into_iter()
            .map(|e| (e.field_path, e.message))
            .collect();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn a_schema_without_rules_builds_nothing() {
        assert!(CelNode::build(
            &json!({"type": "object", "properties": {"a": {"type": "string"}}})
        )
        .is_none());
    }
}
