//! `/openapi/v3` as kube-apiserver serves it: an index of group-versions, and one document per
//! group-version whose paths name each kind's `x-kubernetes-group-version-kind` (kubectl apply and
//! edit look there for the `fieldValidation` parameter, spec §3.9) and whose `components.schemas`
//! hold the kinds' schemas with descriptions, which `kubectl explain` finds by that GVK and renders.

mod custom;
mod upstream;

use std::collections::BTreeMap;
use std::sync::OnceLock;
use std::time::Instant;

use axum::body::Bytes;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::registry::{KindSpec, Registry};
use upstream::Definitions;

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// The documents of one hub, serialised once: the registry never changes while a hub runs, and
/// with the fleet CRDs the documents are about a megabyte that takes tens of milliseconds to build.
#[derive(Default)]
pub(crate) struct Cache(OnceLock<Documents>);

pub(crate) struct Documents {
    pub index: Bytes,
    /// `api/v1` or `apis/G/V` → its document.
    pub by_path: BTreeMap<String, Bytes>,
}

impl Cache {
    pub fn get(&self, reg: &Registry) -> &Documents {
        self.0.get_or_init(|| build(reg))
    }
}

fn to_bytes(v: &Value) -> Bytes {
    // A Value of strings, maps and arrays always serialises.
    Bytes::from(serde_json::to_vec(v).unwrap_or_default())
}

fn build(reg: &Registry) -> Documents {
    let started = Instant::now();
    let mut by_path = BTreeMap::new();
    let mut paths = Map::new();
    for (g, v) in reg.group_versions() {
        let doc = to_bytes(&document(reg, &g, &v));
        // Content-addressed like kube-apiserver's `?hash=`: a changed kind or schema changes the
        // URL, so client-go's HTTP cache never serves a stale document.
        let hash: String = Sha256::digest(&doc)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect();
        let p = gv_path(&g, &v);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={hash}")}),
        );
        by_path.insert(p, doc);
    }
    tracing::debug!(
        documents = by_path.len(),
        bytes = by_path.values().map(Bytes::len).sum::<usize>(),
        elapsed_ms = started.elapsed().as_millis() as u64,
        "built the OpenAPI v3 documents"
    );
    Documents {
        index: to_bytes(&json!({ "paths": paths })),
        by_path,
    }
}

/// The document for one group-version: paths and the schemas they reference.
fn document(reg: &Registry, group: &str, version: &str) -> Value {
    let mut defs = Definitions::new();
    let mut custom = Map::new();
    let mut paths = Map::new();
    let mut kinds = Vec::new();
    for k in reg.kinds_in(group, version) {
        let gvk = json!({"group": k.group, "version": version, "kind": k.kind});
        let upstream = if k.builtin {
            defs.builtin(group, version, &k.kind)
        } else {
            None
        };
        let name = match upstream {
            Some(name) => name,
            None => {
                let name = custom::definition_name(group, version, &k.kind);
                let object_meta = defs.object_meta();
                let schema = custom::kind_schema(k.declared_schema(version), &object_meta);
                custom.insert(name.clone(), schema);
                name
            }
        };
        kind_paths(&mut paths, &k, version, &gvk, &name);
        kinds.push((name, gvk));
    }
    let mut schemas = defs.take();
    schemas.extend(custom);
    for (name, gvk) in kinds {
        if let Some(s) = schemas.get_mut(&name).and_then(Value::as_object_mut) {
            s.insert("x-kubernetes-group-version-kind".into(), json!([gvk]));
            // k8s-openapi makes a resource's metadata required for its Rust types; upstream's
            // schemas leave it optional, and explain would print `-required-`.
            if let Some(Value::Array(required)) = s.get_mut("required") {
                required.retain(|r| r != "metadata");
                if required.is_empty() {
                    s.remove("required");
                }
            }
        }
    }
    json!({
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": "v1.32.0"},
        "paths": paths,
        "components": {"schemas": schemas},
    })
}

/// An operation tagged with the kind's GVK whose response is the kind's schema. PATCH declares
/// no requestBody on purpose: with `application/strategic-merge-patch+json` there, kubectl apply
/// would compute strategic merge patches from these schemas, which lack upstream's patch merge
/// keys; without it kubectl keeps using its compiled-in types, as before.
fn operation(gvk: &Value, schema: &str, code: &str) -> Value {
    json!({
        "x-kubernetes-group-version-kind": gvk,
        "parameters": [
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
            {"name": "dryRun", "in": "query", "schema": {"type": "string"}},
        ],
        "responses": {code: {
            "description": if code == "201" { "Created" } else { "OK" },
            "content": {"application/json": {"schema": {
                "$ref": format!("#/components/schemas/{schema}"),
            }}},
        }},
    })
}

fn kind_paths(paths: &mut Map<String, Value>, k: &KindSpec, v: &str, gvk: &Value, schema: &str) {
    let gv = gv_path(&k.group, v);
    let base = if k.namespaced() {
        format!("/{gv}/namespaces/{{namespace}}/{}", k.plural)
    } else {
        format!("/{gv}/{}", k.plural)
    };
    let verb = |v: &str| k.verbs.iter().any(|x| x == v);
    let mut item = Map::new();
    for (method, v) in [("get", "get"), ("put", "update"), ("patch", "patch")] {
        if verb(v) {
            item.insert(method.into(), operation(gvk, schema, "200"));
        }
    }
    if !item.is_empty() {
        paths.insert(format!("{base}/{{name}}"), Value::Object(item));
    }
    if verb("create") {
        paths.insert(base, json!({"post": operation(gvk, schema, "201")}));
    }
}

#[cfg(test)]
mod tests;
