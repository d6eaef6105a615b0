//! `KindSpec::from_crd`: a kind registration from a CustomResourceDefinition document (as JSON, so
//! the hub needs no k8s-openapi), with everything kube-apiserver derives from it: names, scope,
//! served versions, subresources, printer columns and the schema it enforces.

use std::sync::Arc;

use serde_json::Value;

use crate::registry::{KindSpec, PrinterColumn, ScaleSpec, Scope};
use crate::status::{Error, Result};

fn bad(msg: impl Into<String>) -> Error {
    Error::BadRequest(format!("invalid CustomResourceDefinition: {}", msg.into()))
}

fn str_field<'a>(v: &'a Value, pointer: &str) -> Result<&'a str> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| bad(format!("{} is required", &pointer[1..].replace('/', "."))))
}

fn strings(v: &Value, pointer: &str) -> Vec<String> {
    v.pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(String::from)
        .collect()
}

/// apimachinery's version priority: GA before beta before alpha, higher numbers first, and
/// non-Kubernetes-style names last in lexical order (`version.CompareKubeAwareVersionStrings`).
fn version_priority(v: &str) -> (u8, i64, i64, String) {
    let parse = |s: &str| -> Option<(u8, i64, i64)> {
        let rest = s.strip_prefix('v')?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let major: i64 = digits.parse().ok()?;
        match &rest[digits.len()..] {
            "" => Some((0, -major, 0)),
            tail => {
                let (class, n) = if let Some(n) = tail.strip_prefix("beta") {
                    (1, n)
                } else {
                    (2, tail.strip_prefix("alpha")?)
                };
                Some((class, -major, -n.parse::<i64>().ok()?))
            }
        }
    };
    match parse(v) {
        Some((c, a, b)) => (c, a, b, String::new()),
        None => (3, 0, 0, v.to_string()),
    }
}

fn printer_column(c: &Value) -> Option<PrinterColumn> {
    let name = c.get("name")?.as_str()?;
    let type_ = c.get("type").and_then(Value::as_str).unwrap_or("string");
    let path = c.get("jsonPath")?.as_str()?;
    let mut col = PrinterColumn::new(name, type_, path);
    col.priority = c.get("priority").and_then(Value::as_i64).unwrap_or(0) as i32;
    col.format = c.get("format").and_then(Value::as_str).unwrap_or("").into();
    col.description = c
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or("")
        .into();
    Some(col)
}

fn dotted(path: &str) -> Vec<String> {
    path.trim_start_matches('.')
        .split('.')
        .map(String::from)
        .collect()
}

impl KindSpec {
    /// Builds the registration kube-apiserver would serve for `crd` (an
    /// `apiextensions.k8s.io/v1` CustomResourceDefinition as JSON). Served versions are ordered by
    /// Kubernetes version priority, the first being preferred; subresources, printer columns and
    /// the enforced `openAPIV3Schema` come from that preferred version.
    pub fn from_crd(crd: &Value) -> Result<KindSpec> {
        let group = str_field(crd, "/spec/group")?;
        let kind = str_field(crd, "/spec/names/kind")?;
        let plural = str_field(crd, "/spec/names/plural")?;
        let scope = match str_field(crd, "/spec/scope")? {
            "Namespaced" => Scope::Namespaced,
            "Cluster" => Scope::Cluster,
            s => {
                return Err(bad(format!(
                    "spec.scope {s:?} is neither Namespaced nor Cluster"
                )))
            }
        };
        let mut served: Vec<&Value> = crd
            .pointer("/spec/versions")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|v| v.get("served").and_then(Value::as_bool).unwrap_or(false))
            .filter(|v| v.get("name").and_then(Value::as_str).is_some())
            .collect();
        served.sort_by_key(|v| version_priority(v["name"].as_str().unwrap_or_default()));
        let Some(preferred) = served.first().copied() else {
            return Err(bad(format!("{plural}.{group} serves no version")));
        };
        let version_name = |v: &Value| v["name"].as_str().unwrap_or_default().to_string();
        let mut spec = KindSpec::new(group, &version_name(preferred), kind, plural, scope);
        for v in &served[1..] {
            spec = spec.also_served_as(&version_name(v));
        }
        if let Some(singular) = crd
            .pointer("/spec/names/singular")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            spec.singular = singular.into();
        }
        spec.short_names = strings(crd, "/spec/names/shortNames");
        spec.categories = strings(crd, "/spec/names/categories");
        if preferred.pointer("/subresources/status").is_some() {
            spec = spec.status_subresource();
        }
        if let Some(scale) = preferred.pointer("/subresources/scale") {
            let path = |k: &str| scale.get(k).and_then(Value::as_str).map(dotted);
            if let (Some(spec_replicas), Some(status_replicas)) =
                (path("specReplicasPath"), path("statusReplicasPath"))
            {
                spec = spec.scale(ScaleSpec {
                    spec_replicas,
                    status_replicas,
                    selector: path("labelSelectorPath").unwrap_or_default(),
                });
            }
        }
        spec.printer_columns = preferred
            .get("additionalPrinterColumns")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(printer_column)
            .collect();
        // The preferred version's schema is `spec.schema` below; kept once, as schemas are large.
        for v in &served[1..] {
            if let Some(schema) = v.pointer("/schema/openAPIV3Schema") {
                spec.version_schemas
                    .insert(version_name(v), Arc::new(schema.clone()));
            }
        }
        if let Some(schema) = preferred.pointer("/schema/openAPIV3Schema") {
            spec = spec.openapi_schema(schema.clone());
        }
        Ok(spec)
    }
}

#[cfg(test)]
mod tests {
    use super::version_priority;

    #[test]
    fn versions_sort_like_the_apiserver() {
        let mut v = vec![
            "v1alpha1",
            "foo",
            "v1beta1",
            "v2",
            "v1",
            "v1beta2",
            "v10alpha3",
        ];
        v.sort_by_key(|s| version_priority(s));
        assert_eq!(
            v,
            [
                "v2",
                "v1",
                "v1beta2",
                "v1beta1",
                "v10alpha3",
                "v1alpha1",
                "foo"
            ]
        );
    }
}
