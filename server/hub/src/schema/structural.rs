//! The structural half of CRD validation: what kube-openapi's validator checks for a
//! `openAPIV3Schema`, with the field errors apiextensions-apiserver turns its results into
//! (`kubeOpenAPIResultToFieldErrors`): `Required value`, `Unsupported value`, `Too many`,
//! `Too long`, and `Invalid value: <v>: <path> in body should …` for the rest.
//!
//! Deliberately conservative: `format`, `multipleOf`, `allOf`/`anyOf`/`oneOf`/`not` and list-type
//! uniqueness are not checked, and nothing is pruned.

use serde_json::Value;

use super::{FieldPath, Violation};
use crate::status::Cause;

/// Go's `%v`/`%q` rendering of a field value in `Invalid value: …` (field.Error.ErrorBody).
pub fn go_value(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Null => "\"null\"".into(),
        v => v.to_string(),
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn type_ok(want: &str, v: &Value) -> bool {
    match want {
        "object" => v.is_object(),
        "array" => v.is_array(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        // Integral floats decode as int64 in unstructured JSON.
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => v.is_number(),
        _ => true,
    }
}

pub struct Walker<'a> {
    pub out: &'a mut Vec<Violation>,
}

impl Walker<'_> {
    fn push(&mut self, path: &FieldPath, cause: Cause) {
        self.out.push(Violation {
            path: path.clone(),
            cause,
            ratchets: true,
        });
    }

    fn invalid(&mut self, path: &FieldPath, value: &Value, detail: String) {
        let field = path.render();
        let msg = format!(
            "Invalid value: {}: {field} in body {detail}",
            go_value(value)
        );
        self.push(path, Cause::invalid(&field, msg));
    }

    pub fn walk(&mut self, schema: &Value, v: &Value, path: &mut FieldPath) {
        if v.is_null() {
            // Nulls of non-nullable fields are pruned by the apiserver before validation.
            return;
        }
        let int_or_string = schema.get("x-kubernetes-int-or-string") == Some(&Value::Bool(true));
        if int_or_string {
            if !(v.is_string() || type_ok("integer", v)) {
                let field = path.render();
                let msg = format!(
                    "Invalid value: {:?}: {field} in body must be of type integer-or-string: {:?}",
                    json_type(v),
                    json_type(v)
                );
                self.push(path, Cause::invalid(&field, msg));
                return;
            }
        } else if let Some(want) = schema.get("type").and_then(Value::as_str) {
            if !type_ok(want, v) {
                let field = path.render();
                let msg = format!(
                    "Invalid value: {:?}: {field} in body must be of type {want}: {:?}",
                    json_type(v),
                    json_type(v)
                );
                self.push(path, Cause::invalid(&field, msg));
                return;
            }
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.contains(v) {
                let field = path.render();
                let list: Vec<String> = allowed.iter().map(go_value).collect();
                let msg = format!(
                    "Unsupported value: {}: supported values: {}",
                    go_value(v),
                    list.join(", ")
                );
                self.push(path, Cause::new("FieldValueNotSupported", &field, msg));
            }
        }
        match v {
            Value::String(s) => self.string(schema, v, s, path),
            Value::Number(_) => self.number(schema, v, path),
            Value::Array(items) => self.array(schema, v, items, path),
            Value::Object(map) => self.object(schema, map, path),
            _ => {}
        }
    }

    fn string(&mut self, schema: &Value, v: &Value, s: &str, path: &FieldPath) {
        let len = s.chars().count() as u64;
        if let Some(max) = schema.get("maxLength").and_then(Value::as_u64) {
            if len > max {
                let field = path.render();
                let unit = if max == 1 { "byte" } else { "bytes" };
                let msg = format!("Too long: may not be more than {max} {unit}");
                self.push(path, Cause::new("FieldValueTooLong", &field, msg));
            }
        }
        if let Some(min) = schema.get("minLength").and_then(Value::as_u64) {
            if len < min {
                self.invalid(path, v, format!("should be at least {min} chars long"));
            }
        }
        if let Some(pattern) = schema.get("pattern").and_then(Value::as_str) {
            // An uncompilable pattern is the CRD's fault; the apiserver refuses such CRDs.
            if let Ok(re) = regex::Regex::new(pattern) {
                if !re.is_match(s) {
                    self.invalid(path, v, format!("should match '{pattern}'"));
                }
            }
        }
    }

    fn number(&mut self, schema: &Value, v: &Value, path: &FieldPath) {
        let Some(n) = v.as_f64() else { return };
        let bound = |k: &str| schema.get(k).and_then(Value::as_f64);
        let exclusive = |k: &str| schema.get(k).and_then(Value::as_bool).unwrap_or(false);
        let show = |k: &str| schema.get(k).map(Value::to_string).unwrap_or_default();
        if let Some(min) = bound("minimum") {
            if exclusive("exclusiveMinimum") && n <= min {
                self.invalid(
                    path,
                    v,
                    format!("should be greater than {}", show("minimum")),
                );
            } else if n < min {
                let detail = format!("should be greater than or equal to {}", show("minimum"));
                self.invalid(path, v, detail);
            }
        }
        if let Some(max) = bound("maximum") {
            if exclusive("exclusiveMaximum") && n >= max {
                self.invalid(path, v, format!("should be less than {}", show("maximum")));
            } else if n > max {
                let detail = format!("should be less than or equal to {}", show("maximum"));
                self.invalid(path, v, detail);
            }
        }
    }

    fn array(&mut self, schema: &Value, v: &Value, items: &[Value], path: &mut FieldPath) {
        let n = items.len() as u64;
        if let Some(max) = schema.get("maxItems").and_then(Value::as_u64) {
            if n > max {
                let field = path.render();
                let msg = format!("Too many: {n}: must have at most {max} items");
                self.push(path, Cause::new("FieldValueTooMany", &field, msg));
            }
        }
        if let Some(min) = schema.get("minItems").and_then(Value::as_u64) {
            if n < min {
                let _ = v;
                self.invalid(
                    path,
                    &Value::from(n),
                    format!("should have at least {min} items"),
                );
            }
        }
        if let Some(item_schema) = schema.get("items").filter(|s| s.is_object()) {
            for (i, item) in items.iter().enumerate() {
                path.push_index(i);
                self.walk(item_schema, item, path);
                path.pop();
            }
        }
    }

    fn object(
        &mut self,
        schema: &Value,
        map: &serde_json::Map<String, Value>,
        path: &mut FieldPath,
    ) {
        for req in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if map.get(req).is_none_or(Value::is_null) {
                path.push_field(req);
                let field = path.render();
                path.pop();
                // Ratcheting compares the object that declares `required`, as the apiserver's
                // correlated-object check does: the missing field itself is absent in old and new
                // alike, which would excuse every new object (a status condition without
                // `lastTransitionTime` on a first status write).
                self.push(path, Cause::required(&field, "Required value"));
            }
        }
        let props = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties").filter(|s| s.is_object());
        for (k, child) in map {
            if path.is_root() && matches!(k.as_str(), "metadata" | "apiVersion" | "kind") {
                continue; // ObjectMeta has its own validation; the CRD schema cannot add to it.
            }
            if let Some(s) = props.and_then(|p| p.get(k)) {
                path.push_field(k);
                self.walk(s, child, path);
                path.pop();
            } else if let Some(s) = additional {
                path.push_key(k);
                self.walk(s, child, path);
                path.pop();
            }
        }
    }
}
