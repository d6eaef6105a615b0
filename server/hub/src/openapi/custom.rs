//! A custom kind's published schema, built the way apiextensions-apiserver's OpenAPI builder
//! (`buildKubeNative`) builds it from the CRD version's `openAPIV3Schema`: the declared schema with
//! `metadata` pointing at ObjectMeta and `apiVersion`/`kind` taken from TypeMeta.

use serde_json::{json, Map, Value};

/// TypeMeta's descriptions, which kube-apiserver puts on every custom kind's `apiVersion`/`kind`
/// in place of whatever the CRD says.
const API_VERSION: &str = "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const KIND: &str = "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
/// Embedded resources (`x-kubernetes-embedded-resource`) get these instead (addEmbeddedProperties).
const EMBEDDED_API_VERSION: &str = "apiVersion defines the versioned schema of this representation of an object. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources";
const EMBEDDED_KIND: &str = "kind is a string value representing the type of this object. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds";
const METADATA: &str = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";

/// kube-openapi's `ToRESTFriendlyName("<group>/<version>/<Kind>")`: the group's domain reversed,
/// e.g. `io.kubernetes-fleet.placement.v1beta1.ClusterStagedUpdateRun`.
pub(super) fn definition_name(group: &str, version: &str, kind: &str) -> String {
    let mut domain: Vec<&str> = group.split('.').collect();
    domain.reverse();
    format!("{}.{version}.{kind}", domain.join("."))
}

fn string_prop(description: &str) -> Value {
    json!({"type": "string", "description": description})
}

fn metadata_prop(object_meta: &str) -> Value {
    json!({
        "allOf": [{"$ref": format!("#/components/schemas/{object_meta}")}],
        "description": METADATA,
    })
}

fn properties(schema: &mut Value) -> Option<&mut Map<String, Value>> {
    let m = schema.as_object_mut()?;
    m.entry("properties")
        .or_insert_with(|| json!({}))
        .as_object_mut()
}

/// The schema for a CRD version (`None`: a CRD without a schema, published as a bare object).
pub(super) fn kind_schema(declared: Option<&Value>, object_meta: &str) -> Value {
    let Some(declared) = declared.filter(|d| d.is_object()) else {
        return json!({"type": "object"});
    };
    let mut schema = declared.clone();
    if let Some(p) = properties(&mut schema) {
        p.insert("metadata".into(), metadata_prop(object_meta));
        p.insert("apiVersion".into(), string_prop(API_VERSION));
        p.insert("kind".into(), string_prop(KIND));
    }
    embedded(&mut schema, object_meta);
    schema
}

/// `addEmbeddedProperties`: every nested `x-kubernetes-embedded-resource` object gets TypeMeta
/// and ObjectMeta, with `kind` and `apiVersion` required.
fn embedded(schema: &mut Value, object_meta: &str) {
    let Some(m) = schema.as_object_mut() else {
        return;
    };
    for key in ["properties", "additionalProperties", "items"] {
        match m.get_mut(key) {
            Some(Value::Object(children)) if key == "properties" => {
                children.values_mut().for_each(|c| embedded(c, object_meta))
            }
            Some(child) => embedded(child, object_meta),
            None => {}
        }
    }
    if m.get("x-kubernetes-embedded-resource") != Some(&Value::Bool(true)) {
        return;
    }
    if let Some(p) = properties(schema) {
        p.insert("apiVersion".into(), string_prop(EMBEDDED_API_VERSION));
        p.insert("kind".into(), string_prop(EMBEDDED_KIND));
        p.insert("metadata".into(), metadata_prop(object_meta));
    }
    if let Some(m) = schema.as_object_mut() {
        let required = m.entry("required").or_insert_with(|| json!([]));
        if let Some(r) = required.as_array_mut() {
            for field in ["kind", "apiVersion"] {
                if !r.iter().any(|f| f == field) {
                    r.push(json!(field));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_reverse_the_group_like_kube_openapi() {
        assert_eq!(
            definition_name(
                "placement.kubernetes-fleet.io",
                "v1beta1",
                "ClusterStagedUpdateRun"
            ),
            "io.kubernetes-fleet.placement.v1beta1.ClusterStagedUpdateRun"
        );
    }

    #[test]
    fn metadata_and_type_meta_replace_the_declared_ones() {
        let s = kind_schema(
            Some(&json!({"type": "object", "properties": {
                "metadata": {"type": "object"},
                "kind": {"type": "string", "description": "Kind is…\nmulti-line"},
                "spec": {"type": "object", "properties": {"template": {
                    "type": "object", "x-kubernetes-embedded-resource": true}}}}})),
            "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        );
        assert_eq!(
            s.pointer("/properties/metadata/allOf/0/$ref"),
            Some(&json!(
                "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
            ))
        );
        assert_eq!(
            s.pointer("/properties/kind/description"),
            Some(&json!(KIND))
        );
        let t = &s["properties"]["spec"]["properties"]["template"];
        assert_eq!(t["required"], json!(["kind", "apiVersion"]));
        assert_eq!(t["properties"]["kind"]["description"], json!(EMBEDDED_KIND));
        assert_eq!(kind_schema(None, "x"), json!({"type": "object"}));
    }
}
