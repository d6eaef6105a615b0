//! A schema's `default`s filled in place, as the apiserver does when it decodes a body. The rules
//! are `kube_cel::apply_defaults`'s (a missing declared property gets its default; present
//! children are defaulted by their property's schema, or by `additionalProperties` unless unknown
//! fields are preserved; array items by `items`; at most 64 levels). That function returns a
//! copy made again at every level; on a 10,000-cluster status write it copied megabytes several
//! times over, mostly for schemas with no default at all. Here only the parts of the schema that
//! hold a default are walked, and nothing is copied.

use std::collections::BTreeMap;

use serde_json::Value;

/// kube_cel's `MAX_SCHEMA_DEPTH`: deeper values are left as they are.
const MAX_DEPTH: usize = 64;

/// The defaulting-relevant part of a schema node; absent where a subtree has no default.
#[derive(Debug, Default)]
pub(super) struct Defaults {
    /// Declared properties with a `default` of their own.
    fill: Vec<(String, Value)>,
    /// Every declared property: its own subtree's defaults, if any. Declared properties never
    /// fall back to `additionalProperties`, so those without defaults are kept too.
    declared: BTreeMap<String, Option<Defaults>>,
    additional: Option<Box<Defaults>>,
    items: Option<Box<Defaults>>,
}

impl Defaults {
    /// The defaults of `schema`, or `None` when nothing under it has one.
    pub(super) fn of(schema: &Value) -> Option<Defaults> {
        Self::build(schema, 0)
    }

    fn build(schema: &Value, depth: usize) -> Option<Defaults> {
        if depth > MAX_DEPTH {
            return None;
        }
        let mut node = Defaults::default();
        let mut any = false;
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (key, prop) in props {
                if let Some(default) = prop.get("default") {
                    node.fill.push((key.clone(), default.clone()));
                    any = true;
                }
                let child = Self::build(prop, depth + 1);
                any |= child.is_some();
                node.declared.insert(key.clone(), child);
            }
        }
        let preserve_unknown = schema
            .get("x-kubernetes-preserve-unknown-fields")
            .and_then(Value::as_bool)
            == Some(true);
        if !preserve_unknown {
            if let Some(additional) = schema.get("additionalProperties").filter(|a| a.is_object()) {
                node.additional = Self::build(additional, depth + 1).map(Box::new);
                any |= node.additional.is_some();
            }
        }
        if let Some(items) = schema.get("items") {
            node.items = Self::build(items, depth + 1).map(Box::new);
            any |= node.items.is_some();
        }
        any.then_some(node)
    }

    /// Fills `value` in place; `skip` names a top-level key never defaulted (`metadata`).
    pub(super) fn apply(&self, value: &mut Value, skip: Option<&str>) {
        self.apply_at(value, 0, skip);
    }

    fn apply_at(&self, value: &mut Value, depth: usize, skip: Option<&str>) {
        if depth > MAX_DEPTH {
            return;
        }
        match value {
            Value::Object(map) => {
                // Present children first: kube_cel recurses only into the keys that were there.
                for (key, child) in map.iter_mut() {
                    if Some(key.as_str()) == skip {
                        continue;
                    }
                    let schema = match self.declared.get(key) {
                        Some(declared) => declared.as_ref(),
                        None => self.additional.as_deref(),
                    };
                    if let Some(schema) = schema {
                        schema.apply_at(child, depth + 1, None);
                    }
                }
                for (key, default) in &self.fill {
                    if !map.contains_key(key) {
                        map.insert(key.clone(), default.clone());
                    }
                }
            }
            Value::Array(items) => {
                if let Some(schema) = &self.items {
                    for item in items {
                        schema.apply_at(item, depth + 1, None);
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Defaults;
    use serde_json::{json, Map, Value};

    /// A small deterministic generator (no dependency needed for a test's variety).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            self.0 >> 33
        }
        fn chance(&mut self, in_four: u64) -> bool {
            self.next() % 4 < in_four
        }
    }

    /// An object shaped by `schema`: each declared property present or not, maps and arrays of
    /// zero to two entries, leaves of the declared type (or of another type, now and then).
    fn sample(schema: &Value, rng: &mut Lcg, depth: usize) -> Value {
        if depth > 12 {
            return Value::Null;
        }
        if rng.next().is_multiple_of(16) {
            return json!("off-schema");
        }
        let ty = schema.get("type").and_then(Value::as_str);
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            let mut m = Map::new();
            for (k, p) in props {
                if rng.chance(2) {
                    m.insert(k.clone(), sample(p, rng, depth + 1));
                }
            }
            if rng.chance(1) {
                m.insert("undeclared".into(), json!({"x": 1}));
            }
            return Value::Object(m);
        }
        if let Some(add) = schema.get("additionalProperties").filter(|a| a.is_object()) {
            let n = rng.next() % 3;
            return Value::Object(
                (0..n)
                    .map(|i| (format!("k{i}"), sample(add, rng, depth + 1)))
                    .collect(),
            );
        }
        if let Some(items) = schema.get("items") {
            let n = rng.next() % 3;
            return Value::Array((0..n).map(|_| sample(items, rng, depth + 1)).collect());
        }
        match ty {
            Some("integer") => json!(rng.next() % 100),
            Some("boolean") => json!(rng.chance(2)),
            Some("object") => json!({}),
            _ => json!("s"),
        }
    }

    fn crd_schemas() -> Vec<(String, Value)> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/crds");
        let mut out = Vec::new();
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .expect("deploy/crds")
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        files.sort();
        for path in files {
            let text = std::fs::read_to_string(&path).expect("a CRD file");
            let crd: Value = serde_saphyr::from_str(&text).expect("CRD YAML");
            for v in crd["spec"]["versions"].as_array().into_iter().flatten() {
                let name = format!("{} {}", path.display(), v["name"]);
                out.push((name, v["schema"]["openAPIV3Schema"].clone()));
            }
        }
        out
    }

    /// Same result as kube_cel's copying `apply_defaults` on objects shaped by every shipped
    /// CRD schema (the CRP's seventeen defaults among them), metadata left alone.
    #[test]
    fn in_place_defaulting_equals_kube_cel_on_every_shipped_crd() {
        let schemas = crd_schemas();
        assert!(
            schemas.len() > 30,
            "found {} schema versions",
            schemas.len()
        );
        let mut filled = 0;
        for (name, schema) in &schemas {
            let defaults = Defaults::of(schema);
            let mut rng = Lcg(7);
            for _ in 0..200 {
                let mut obj = sample(schema, &mut rng, 0);
                if let Some(m) = obj.as_object_mut() {
                    m.insert("metadata".into(), json!({"name": "x"}));
                }
                let want = kube_cel::apply_defaults(schema, &obj);
                let mut got = obj.clone();
                if let Some(d) = &defaults {
                    d.apply(&mut got, None);
                }
                assert_eq!(got, want, "{name}: {obj}");
                filled += usize::from(got != obj);
            }
        }
        assert!(filled > 100, "only {filled} samples got any default");
    }

    #[test]
    fn schemas_without_a_default_are_not_walked_and_metadata_is_skipped() {
        let none = json!({"properties": {"status": {"properties": {"a": {"type": "string"}}}}});
        assert!(Defaults::of(&none).is_none());
        let schema = json!({"properties": {
            "metadata": {"properties": {"name": {"default": "n"}}},
            "spec": {"properties": {"limit": {"type": "integer", "default": 10}}},
        }});
        let mut obj = json!({"metadata": {}, "spec": {}});
        Defaults::of(&schema)
            .expect("defaults")
            .apply(&mut obj, Some("metadata"));
        assert_eq!(obj, json!({"metadata": {}, "spec": {"limit": 10}}));
    }
}
