//! Editing a generated schema: the node at a dotted path, and the OpenAPI keywords and CEL rules
//! put there.

use serde_json::{json, Map, Value};

use crate::validation::cel_rule::Cel;
use crate::validation::int_range::IntRange;

/// The schema node at a dotted path below the root: `spec.stages[].name` walks `properties` and,
/// after `[]`, `items`. Panics on a path the types do not have (a bug the tests catch).
fn node<'a>(root: &'a mut Value, path: &str) -> &'a mut Map<String, Value> {
    let mut cur = root;
    for seg in path.split('.') {
        let (name, is_list) = match seg.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (seg, false),
        };
        cur = cur
            .get_mut("properties")
            .and_then(|p| p.get_mut(name))
            .unwrap_or_else(|| panic!("CRD rule path `{path}`: no property `{name}`"));
        if is_list {
            cur = cur
                .get_mut("items")
                .unwrap_or_else(|| panic!("CRD rule path `{path}`: `{name}` is not a list"));
        }
    }
    cur.as_object_mut()
        .unwrap_or_else(|| panic!("CRD rule path `{path}`: not a schema object"))
}

/// The root node for `""`, otherwise [`node`].
fn at<'a>(root: &'a mut Value, path: &str) -> &'a mut Map<String, Value> {
    if path.is_empty() {
        root.as_object_mut()
            .unwrap_or_else(|| panic!("CRD root schema is not an object"))
    } else {
        node(root, path)
    }
}

pub(super) fn set(root: &mut Value, path: &str, key: &str, value: Value) {
    at(root, path).insert(key.to_string(), value);
}

pub(super) fn required(root: &mut Value, path: &str, fields: &[&str]) {
    let obj = at(root, path);
    let list = obj.entry("required").or_insert_with(|| json!([]));
    if let Some(list) = list.as_array_mut() {
        for f in fields {
            if !list.iter().any(|v| v == f) {
                list.push(json!(f));
            }
        }
    }
}

/// Sets `minimum` / `maximum`, declared once with their Rust check in [`crate::validation`].
pub(super) fn range(root: &mut Value, path: &str, range: &IntRange) {
    if let Some(min) = range.minimum {
        set(root, path, "minimum", json!(min));
    }
    if let Some(max) = range.maximum {
        set(root, path, "maximum", json!(max));
    }
}

/// Appends one `x-kubernetes-validations` entry.
pub(super) fn validation(root: &mut Value, path: &str, entry: Value) {
    let obj = at(root, path);
    let list = obj
        .entry("x-kubernetes-validations")
        .or_insert_with(|| json!([]));
    if let Some(list) = list.as_array_mut() {
        list.push(entry);
    }
}

/// Appends the CEL rule `rule`, declared with its Rust twin in [`crate::validation`].
pub(super) fn cel(root: &mut Value, path: &str, rule: &Cel) {
    validation(root, path, rule.to_json());
}

/// Removes the `default` schemars derives from `#[serde(default)]` (e.g. `[]`, `""`): only the
/// defaults KubeFleet's CRDs declare may be applied by an apiserver.
pub(super) fn strip_defaults(schema: &mut Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    obj.remove("default");
    for key in ["properties"] {
        if let Some(props) = obj.get_mut(key).and_then(Value::as_object_mut) {
            props.values_mut().for_each(strip_defaults);
        }
    }
    if let Some(items) = obj.get_mut("items") {
        strip_defaults(items);
    }
    if let Some(extra) = obj.get_mut("additionalProperties") {
        strip_defaults(extra);
    }
}
