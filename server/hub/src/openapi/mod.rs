//! A minimal `/openapi/v3`: kubectl apply/edit only check that a PATCH operation tagged with the
//! object's GVK declares the `fieldValidation` parameter (spec §3.9). No schemas are served.

use serde_json::{json, Map, Value};

use crate::registry::Registry;

/// Changes whenever the set of kinds changes, so client-go's HTTP cache refetches (spec §3.9).
fn hash(reg: &Registry) -> String {
    let mut h: u64 = 0xcbf29ce484222325;
    for k in reg.kinds() {
        for b in format!("{}/{:?}/{}/{};", k.group, k.versions, k.kind, k.plural).bytes() {
            h = (h ^ b as u64).wrapping_mul(0x100000001b3);
        }
    }
    format!("{h:016X}")
}

fn gv_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

pub fn index(reg: &Registry) -> Value {
    let h = hash(reg);
    let mut paths = Map::new();
    for (g, v) in reg.group_versions() {
        let p = gv_path(&g, &v);
        paths.insert(
            p.clone(),
            json!({"serverRelativeURL": format!("/openapi/v3/{p}?hash={h}")}),
        );
    }
    json!({"paths": paths})
}

/// The document for `api/v1` or `apis/G/V` (the part after `/openapi/v3/`).
pub fn group_version(reg: &Registry, gv: &str) -> Option<Value> {
    let (g, v) = match gv.split('/').collect::<Vec<_>>()[..] {
        ["api", v] => (String::new(), v.to_string()),
        ["apis", g, v] => (g.to_string(), v.to_string()),
        _ => return None,
    };
    let kinds = reg.kinds_in(&g, &v);
    if kinds.is_empty() {
        return None;
    }
    let mut paths = Map::new();
    for k in kinds {
        let gvk = json!({"group": k.group, "version": v, "kind": k.kind});
        let op = json!({"x-kubernetes-group-version-kind": gvk, "parameters": [
            {"name": "fieldValidation", "in": "query", "schema": {"type": "string"}},
            {"name": "fieldManager", "in": "query", "schema": {"type": "string"}},
            {"name": "dryRun", "in": "query", "schema": {"type": "string"}}]});
        let base = if k.namespaced() {
            format!("/{}/namespaces/{{namespace}}/{}", gv_path(&g, &v), k.plural)
        } else {
            format!("/{}/{}", gv_path(&g, &v), k.plural)
        };
        paths.insert(format!("{base}/{{name}}"), json!({"patch": op, "put": op}));
        paths.insert(base, json!({"post": op}));
    }
    Some(
        json!({"openapi": "3.0.0", "info": {"title": "fleetdeck hub", "version": "v1.32.0"}, "paths": paths}),
    )
}
