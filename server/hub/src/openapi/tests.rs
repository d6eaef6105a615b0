use serde_json::{json, Value};

use super::{build, document};
use crate::registry::{KindSpec, Registry, Scope};

/// The built-in kinds (as every hub has them) and a custom one.
fn registry() -> Registry {
    let mut reg = crate::Hub::memory(Registry::new()).registry().clone();
    let mut widget = KindSpec::new("example.dev", "v1", "Widget", "widgets", Scope::Namespaced)
        .openapi_schema(json!({"type": "object", "description": "A widget.",
            "properties": {"spec": {"type": "object", "properties": {
                "size": {"type": "integer", "description": "How big."}}}}}));
    widget.version_schemas.insert(
        "v1".into(),
        json!({"type": "object", "description": "A widget."}).into(),
    );
    reg.register(widget);
    reg
}

/// Every `$ref` anywhere in `v`.
fn refs<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.push(r);
            }
            m.values().for_each(|c| refs(c, out));
        }
        Value::Array(a) => a.iter().for_each(|c| refs(c, out)),
        _ => {}
    }
}

#[test]
fn every_reference_resolves_inside_its_document() {
    let reg = registry();
    for (g, v) in reg.group_versions() {
        let doc = document(&reg, &g, &v);
        let mut found = Vec::new();
        refs(&doc, &mut found);
        assert!(!found.is_empty(), "{g}/{v} references nothing");
        for r in found {
            let pointer = r.trim_start_matches('#');
            assert!(doc.pointer(pointer).is_some(), "{g}/{v}: {r} is dangling");
        }
    }
}

#[test]
fn built_in_kinds_carry_upstream_names_descriptions_and_their_gvk() {
    let doc = document(&registry(), "", "v1");
    let cm = &doc["components"]["schemas"]["io.k8s.api.core.v1.ConfigMap"];
    assert_eq!(
        cm["x-kubernetes-group-version-kind"],
        json!([{"group": "", "version": "v1", "kind": "ConfigMap"}])
    );
    assert_eq!(
        cm["description"],
        "ConfigMap holds configuration data for pods to consume."
    );
    assert!(
        cm.get("required").is_none(),
        "metadata is optional upstream"
    );
    assert_eq!(
        cm["properties"]["metadata"]["allOf"][0]["$ref"],
        "#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
    );
    let get = &doc["paths"]["/api/v1/namespaces/{namespace}/configmaps/{name}"]["get"];
    assert_eq!(
        get["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/io.k8s.api.core.v1.ConfigMap"
    );
}

#[test]
fn custom_kinds_are_named_like_apiextensions_and_use_each_versions_schema() {
    let doc = document(&registry(), "example.dev", "v1");
    let w = &doc["components"]["schemas"]["dev.example.v1.Widget"];
    assert_eq!(w["description"], "A widget.");
    assert!(w["properties"].get("spec").is_none(), "the v1 schema wins");
    assert_eq!(
        w["x-kubernetes-group-version-kind"][0]["kind"],
        json!("Widget")
    );
}

#[test]
fn the_index_hash_follows_the_documents() {
    let a = build(&registry());
    let mut reg = registry();
    reg.register(KindSpec::new(
        "example.dev",
        "v1",
        "Gadget",
        "gadgets",
        Scope::Cluster,
    ));
    let b = build(&reg);
    let url = |d: &super::Documents, p: &str| -> Value {
        let index: Value = serde_json::from_slice(&d.index).unwrap_or_default();
        index["paths"][p]["serverRelativeURL"].clone()
    };
    assert_ne!(
        url(&a, "apis/example.dev/v1"),
        url(&b, "apis/example.dev/v1")
    );
    assert_eq!(url(&a, "api/v1"), url(&b, "api/v1"));
}
