//! Walks over objects guided by the kind's schema, as structured-merge-diff's `typed` package:
//! the field set of an applied configuration, the comparison of two versions, the merge of an
//! applied configuration onto the live object and the removal of fields.
//!
//! Lists follow `x-kubernetes-list-type` (`map` with `x-kubernetes-list-map-keys`, `set`) where
//! the schema says so and are atomic otherwise, as kube-apiserver treats a CRD list without one.
//! Built-in kinds have no schema here, so only `metadata` (finalizers, ownerReferences) and a
//! Deployment's containers, volumes and env have granular lists.

use std::collections::{HashMap, HashSet};
use std::sync::LazyLock;

use serde_json::{json, Map, Value};

use super::fieldset::{Pe, Set};

/// `ObjectMeta` as far as field management cares.
static METADATA: LazyLock<Value> = LazyLock::new(|| {
    let strings = json!({"type": "object", "additionalProperties": {"type": "string"}});
    json!({"type": "object", "properties": {
        "name": {}, "generateName": {}, "namespace": {}, "uid": {}, "resourceVersion": {},
        "generation": {}, "creationTimestamp": {}, "deletionTimestamp": {},
        "deletionGracePeriodSeconds": {}, "selfLink": {}, "managedFields": {},
        "labels": strings, "annotations": strings,
        "finalizers": {"type": "array", "x-kubernetes-list-type": "set"},
        "ownerReferences": {"type": "array", "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["uid"]},
    }})
});

/// The pod template lists kube-apiserver merges by name (`+listType=map`).
static DEPLOYMENT: LazyLock<Value> = LazyLock::new(|| {
    let by_name = |items: Value| {
        json!({"type": "array", "x-kubernetes-list-type": "map",
            "x-kubernetes-list-map-keys": ["name"], "items": items})
    };
    let container = json!({"type": "object", "properties": {"env": by_name(json!({}))}});
    json!({"type": "object", "properties": {"spec": {"type": "object", "properties": {
        "template": {"type": "object", "properties": {"spec": {"type": "object", "properties": {
            "containers": by_name(container.clone()),
            "initContainers": by_name(container),
            "volumes": by_name(json!({})),
        }}}}
    }}}})
});

/// The schema of the built-in kinds that have list semantics beyond atomic.
pub fn builtin_schema(kind: &str) -> Option<&'static Value> {
    (kind == "Deployment").then(|| &*DEPLOYMENT)
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListType {
    Atomic,
    Set,
    Map(Vec<String>),
}

/// Where a value sits in the schema. `None` is "no schema here": fields count as declared
/// (struct fields, as in a built-in kind) and lists are atomic.
#[derive(Clone, Copy, Debug)]
pub struct Shape<'a> {
    node: Option<&'a Value>,
    root: bool,
}

impl<'a> Shape<'a> {
    pub fn root(schema: Option<&'a Value>) -> Self {
        Shape {
            node: schema,
            root: true,
        }
    }

    /// The shape of field `key`, and whether the schema declares it as a struct field (an
    /// undeclared one, a map entry, is recorded as owned itself even when it has children).
    fn field(self, key: &str) -> (Shape<'a>, bool) {
        if self.root && key == "metadata" {
            return (
                Shape {
                    node: Some(&METADATA),
                    root: false,
                },
                true,
            );
        }
        let Some(node) = self.node else {
            return (
                Shape {
                    node: None,
                    root: false,
                },
                true,
            );
        };
        if let Some(p) = node.get("properties").and_then(|p| p.get(key)) {
            return (
                Shape {
                    node: Some(p),
                    root: false,
                },
                true,
            );
        }
        let extra = node.get("additionalProperties").filter(|a| a.is_object());
        (
            Shape {
                node: extra,
                root: false,
            },
            false,
        )
    }

    fn items(self) -> Shape<'a> {
        Shape {
            node: self.node.and_then(|n| n.get("items")),
            root: false,
        }
    }

    fn list_type(self) -> ListType {
        let Some(node) = self.node else {
            return ListType::Atomic;
        };
        match node.get("x-kubernetes-list-type").and_then(Value::as_str) {
            Some("set") => ListType::Set,
            Some("map") => ListType::Map(
                node.get("x-kubernetes-list-map-keys")
                    .and_then(Value::as_array)
                    .map(|ks| {
                        ks.iter()
                            .filter_map(|k| k.as_str().map(String::from))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            _ => ListType::Atomic,
        }
    }

    fn atomic_map(self) -> bool {
        self.node
            .and_then(|n| n.get("x-kubernetes-map-type"))
            .and_then(Value::as_str)
            == Some("atomic")
    }

    /// The path elements of a granular list's items, or `None` when the list is atomic or an
    /// item cannot be keyed (a missing key field, a duplicate): then the list is one leaf.
    fn item_keys(self, items: &[Value]) -> Option<Vec<Pe>> {
        let pes: Vec<Pe> = match self.list_type() {
            ListType::Atomic => return None,
            ListType::Set => items
                .iter()
                .map(|i| (!i.is_object() && !i.is_array()).then(|| Pe::Value(i.to_string())))
                .collect::<Option<_>>()?,
            ListType::Map(keys) if keys.is_empty() => return None,
            ListType::Map(keys) => items
                .iter()
                .map(|i| Pe::key_of(i, &keys))
                .collect::<Option<_>>()?,
        };
        let mut seen = HashSet::new();
        pes.iter().all(|p| seen.insert(p)).then_some(pes)
    }
}

/// `metadata.managedFields` is never part of what is compared or owned.
fn skipped(path: &[Pe], key: &str) -> bool {
    key == "managedFields" && matches!(path, [Pe::Field(m)] if m == "metadata")
}

/// The fields an applied configuration sets (upstream `ToFieldSet`).
pub fn to_field_set(v: &Value, shape: Shape) -> Set {
    let mut out = Set::default();
    fields_of(v, shape, &mut Vec::new(), &mut out);
    out
}

fn fields_of(v: &Value, shape: Shape, path: &mut Vec<Pe>, out: &mut Set) {
    match v {
        Value::Object(m) if !shape.atomic_map() => {
            for (k, child) in m {
                if skipped(path, k) {
                    continue;
                }
                let (cshape, declared) = shape.field(k);
                path.push(Pe::Field(k.clone()));
                fields_of(child, cshape, path, out);
                let empty_map = child.as_object().is_some_and(Map::is_empty);
                if child.is_null() || empty_map || !declared {
                    out.insert(path);
                }
                path.pop();
            }
        }
        Value::Array(items) => match shape.item_keys(items) {
            None => out.insert(path),
            Some(pes) => {
                for (item, pe) in items.iter().zip(pes) {
                    path.push(pe);
                    fields_of(item, shape.items(), path, out);
                    out.insert(path);
                    path.pop();
                }
            }
        },
        _ => out.insert(path),
    }
}

/// What changed from one version to the next (upstream `Comparison`).
#[derive(Debug, Default)]
pub struct Comparison {
    pub added: Set,
    pub modified: Set,
    pub removed: Set,
}

impl Comparison {
    pub fn changed(&self) -> Set {
        self.added.union(&self.modified)
    }
}

pub fn compare(old: &Value, new: &Value, shape: Shape) -> Comparison {
    let mut out = Comparison::default();
    compare_at(Some(old), Some(new), shape, &mut Vec::new(), &mut out);
    out
}

fn compare_at(
    l: Option<&Value>,
    r: Option<&Value>,
    shape: Shape,
    path: &mut Vec<Pe>,
    out: &mut Comparison,
) {
    // Maps are walked rather than compared whole first: comparing at every level would compare
    // a large unchanged subtree (a status with thousands of entries) once per ancestor.
    if let (Some(a), Some(b)) = (l, r) {
        if !a.is_object() && a == b {
            return;
        }
    }
    let leaf = |out: &mut Comparison| match (l, r) {
        (None, Some(_)) => out.added.insert(path),
        (Some(_), None) => out.removed.insert(path),
        (Some(a), Some(b)) if a != b => out.modified.insert(path),
        _ => {}
    };
    let maps = (
        l.map(Value::as_object).unwrap_or(Some(&EMPTY)),
        r.map(Value::as_object).unwrap_or(Some(&EMPTY)),
    );
    let lists = (
        l.map(Value::as_array).unwrap_or(Some(&NO_ITEMS)),
        r.map(Value::as_array).unwrap_or(Some(&NO_ITEMS)),
    );
    match (maps, lists) {
        ((Some(lm), Some(rm)), _) if !shape.atomic_map() => {
            // Both empty (or null): a leaf, which keeps the empty/null distinction.
            if lm.is_empty() && rm.is_empty() {
                return leaf(out);
            }
            for (k, lv) in lm {
                if skipped(path, k) {
                    continue;
                }
                path.push(Pe::Field(k.clone()));
                compare_at(Some(lv), rm.get(k), shape.field(k).0, path, out);
                path.pop();
            }
            for (k, rv) in rm {
                if lm.contains_key(k) || skipped(path, k) {
                    continue;
                }
                path.push(Pe::Field(k.clone()));
                compare_at(None, Some(rv), shape.field(k).0, path, out);
                path.pop();
            }
        }
        (_, (Some(li), Some(ri))) if !li.is_empty() || !ri.is_empty() => {
            let (Some(lk), Some(rk)) = (shape.item_keys(li), shape.item_keys(ri)) else {
                return leaf(out);
            };
            let (lpos, rpos) = (positions(&lk), positions(&rk));
            for (item, pe) in li.iter().zip(&lk) {
                let other = rpos.get(pe).map(|&i| &ri[i]);
                if other == Some(item) {
                    continue;
                }
                path.push(pe.clone());
                compare_at(Some(item), other, shape.items(), path, out);
                path.pop();
            }
            for (item, pe) in ri.iter().zip(&rk) {
                if lpos.contains_key(pe) {
                    continue;
                }
                path.push(pe.clone());
                compare_at(None, Some(item), shape.items(), path, out);
                path.pop();
            }
        }
        _ => return leaf(out),
    }
    // A map or list that appeared or went away is itself added or removed, children and all.
    match (l, r) {
        (None, Some(_)) => out.added.insert(path),
        (Some(_), None) => out.removed.insert(path),
        _ => {}
    }
}

/// Where each item of a keyed list is, by its path element.
fn positions(pes: &[Pe]) -> HashMap<&Pe, usize> {
    pes.iter().enumerate().map(|(i, pe)| (pe, i)).collect()
}

static EMPTY: LazyLock<Map<String, Value>> = LazyLock::new(Map::new);
static NO_ITEMS: Vec<Value> = Vec::new();

/// The applied configuration merged onto the live object (upstream `Merge`): maps merge per
/// field, granular lists per item (live order first, new items after), everything else is
/// replaced. A `null` in the configuration removes the field.
pub fn merge(live: &Value, config: &Value, shape: Shape) -> Value {
    match (live, config) {
        (Value::Object(lm), Value::Object(cm)) if !shape.atomic_map() => {
            let mut out = lm.clone();
            for (k, cv) in cm {
                if cv.is_null() {
                    out.remove(k);
                    continue;
                }
                let merged = match lm.get(k) {
                    Some(lv) => merge(lv, cv, shape.field(k).0),
                    None => cv.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Object(out)
        }
        (Value::Array(li), Value::Array(ci)) => {
            let (Some(lk), Some(ck)) = (shape.item_keys(li), shape.item_keys(ci)) else {
                return config.clone();
            };
            let (lpos, cpos) = (positions(&lk), positions(&ck));
            let mut out: Vec<Value> = li
                .iter()
                .zip(&lk)
                .map(|(item, pe)| match cpos.get(pe) {
                    Some(&i) => merge(item, &ci[i], shape.items()),
                    None => item.clone(),
                })
                .collect();
            out.extend(
                ci.iter()
                    .zip(&ck)
                    .filter(|(_, pe)| !lpos.contains_key(pe))
                    .map(|(item, _)| item.clone()),
            );
            Value::Array(out)
        }
        _ => config.clone(),
    }
}

/// Removes the member paths of `set` from `v` (upstream `RemoveItems`).
pub fn remove(v: &mut Value, set: &Set, shape: Shape) {
    match v {
        Value::Object(m) => {
            for pe in set.members() {
                if let Pe::Field(k) = pe {
                    m.remove(k);
                }
            }
            for (pe, sub) in set.children() {
                if let Pe::Field(k) = pe {
                    if let Some(child) = m.get_mut(k) {
                        remove(child, sub, shape.field(k).0);
                    }
                }
            }
        }
        Value::Array(items) => {
            let Some(pes) = shape.item_keys(items) else {
                return;
            };
            let pos = positions(&pes);
            for (pe, sub) in set.children() {
                if let Some(&i) = pos.get(pe) {
                    remove(&mut items[i], sub, shape.items());
                }
            }
            let mut keep = pes.iter().map(|pe| !set.has_member(pe));
            items.retain(|_| keep.next().unwrap_or(true));
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn conditions_schema() -> Value {
        json!({"type": "object", "properties": {"status": {"type": "object", "properties": {
            "conditions": {"type": "array", "x-kubernetes-list-type": "map",
                "x-kubernetes-list-map-keys": ["type"],
                "items": {"type": "object", "properties": {"type": {}, "status": {}}}},
            "tags": {"type": "array", "x-kubernetes-list-type": "set"},
            "hosts": {"type": "array"},
            "extra": {"type": "object", "additionalProperties": {"type": "object"}},
        }}}})
    }

    #[test]
    fn field_set_follows_list_types_and_marks_undeclared_map_entries() {
        let schema = conditions_schema();
        let config = json!({"status": {
            "conditions": [{"type": "Ready", "status": "True"}],
            "tags": ["a"], "hosts": ["h1", "h2"],
            "extra": {"x": {"y": 1}}, "empty": {}}});
        let set = to_field_set(&config, Shape::root(Some(&schema)));
        assert_eq!(
            set.to_fields_v1(),
            json!({"f:status": {
                "f:conditions": {"k:{\"type\":\"Ready\"}": {".": {}, "f:status": {}, "f:type": {}}},
                "f:empty": {},
                "f:extra": {"f:x": {".": {}, "f:y": {}}},
                "f:hosts": {},
                "f:tags": {"v:\"a\"": {}}}})
        );
    }

    #[test]
    fn compare_marks_appearing_maps_and_skips_managed_fields() {
        let old = json!({"metadata": {"name": "a", "managedFields": [1]}});
        let new = json!({"metadata": {"name": "a", "managedFields": [2]},
            "data": {"k": "v"}});
        let c = compare(&old, &new, Shape::root(None));
        assert_eq!(
            c.added.to_fields_v1(),
            json!({"f:data": {".": {}, "f:k": {}}})
        );
        assert!(c.modified.is_empty() && c.removed.is_empty());
        let back = compare(&new, &old, Shape::root(None));
        assert_eq!(back.removed, c.added);
    }

    #[test]
    fn compare_and_merge_keyed_lists_per_item() {
        let schema = conditions_schema();
        let shape = Shape::root(Some(&schema));
        let live = json!({"status": {"conditions": [
            {"type": "A", "status": "True"}, {"type": "B", "status": "True"}]}});
        let config = json!({"status": {"conditions": [{"type": "B", "status": "False"},
            {"type": "C", "status": "True"}]}});
        let merged = merge(&live, &config, shape);
        assert_eq!(
            merged["status"]["conditions"],
            json!([{"type": "A", "status": "True"}, {"type": "B", "status": "False"},
                {"type": "C", "status": "True"}])
        );
        let c = compare(&live, &merged, shape);
        assert_eq!(
            c.modified.to_fields_v1(),
            json!({"f:status": {"f:conditions": {"k:{\"type\":\"B\"}": {"f:status": {}}}}})
        );
        assert_eq!(
            c.added.to_fields_v1(),
            json!({"f:status": {"f:conditions": {"k:{\"type\":\"C\"}": {
                ".": {}, "f:status": {}, "f:type": {}}}}})
        );
        // Atomic when the schema says nothing: replaced, and one leaf.
        let atomic = merge(&live, &config, Shape::root(None));
        assert_eq!(
            atomic["status"]["conditions"],
            config["status"]["conditions"]
        );
    }

    #[test]
    fn remove_drops_fields_and_keyed_items() {
        let schema = conditions_schema();
        let shape = Shape::root(Some(&schema));
        let mut v = json!({"status": {"conditions": [{"type": "A", "status": "True"},
            {"type": "B", "status": "True"}], "hosts": ["x"]}});
        let mut set = Set::default();
        set.insert(&[
            Pe::Field("status".into()),
            Pe::Field("conditions".into()),
            Pe::Key(vec![("type".into(), "\"A\"".into())]),
        ]);
        set.insert(&[Pe::Field("status".into()), Pe::Field("hosts".into())]);
        remove(&mut v, &set, shape);
        assert_eq!(
            v,
            json!({"status": {"conditions": [{"type": "B", "status": "True"}]}})
        );
    }
}
