//! `/version`, aggregated (v2) and legacy discovery (spec §2). kubectl 1.32 picks the parser from
//! the response Content-Type, so the aggregated answer must echo the exact media type (§0, §8.2).

use serde_json::{json, Value};

use crate::registry::{KindSpec, Registry};

pub const AGGREGATED_CONTENT_TYPE: &str =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";

/// The kubectl dispatcher picks its kubectl build from major/minor: it must say 1.32 (spec §0.1).
pub fn version() -> Value {
    json!({"major": "1", "minor": "32", "gitVersion": "v1.32.0", "gitCommit": "fleetdeck-hub",
           "gitTreeState": "clean", "buildDate": "2025-01-01T00:00:00Z", "goVersion": "go1.23",
           "compiler": "gc", "platform": "linux/amd64"})
}

/// Whether the Accept header asks for aggregated v2 discovery.
pub fn wants_aggregated(accept: &str) -> bool {
    accept.split(',').any(|a| {
        a.contains("as=APIGroupDiscoveryList") && a.contains("v=v2") && !a.contains("v=v2beta1")
    })
}

fn resource_v2(k: &KindSpec, version: &str) -> Value {
    let response_kind = json!({"group": k.group, "version": version, "kind": k.kind});
    let mut subs = Vec::new();
    if k.status_subresource {
        subs.push(json!({"subresource": "status", "responseKind": response_kind, "verbs": ["get", "patch", "update"]}));
    }
    if k.scale.is_some() {
        subs.push(json!({"subresource": "scale",
            "responseKind": {"group": "autoscaling", "version": "v1", "kind": "Scale"}, "verbs": ["get", "patch", "update"]}));
    }
    let mut r = json!({"resource": k.plural, "responseKind": response_kind, "scope": if k.namespaced() { "Namespaced" } else { "Cluster" },
        "singularResource": k.singular, "verbs": k.verbs, "shortNames": k.short_names, "categories": k.categories});
    if !subs.is_empty() {
        r["subresources"] = Value::Array(subs);
    }
    r
}

/// `/api` (core = true) or `/apis` as an APIGroupDiscoveryList.
pub fn aggregated(reg: &Registry, core: bool) -> Value {
    let mut items: Vec<Value> = Vec::new();
    let mut groups: Vec<String> = Vec::new();
    for (g, _) in reg.group_versions() {
        if g.is_empty() == core && !groups.contains(&g) {
            groups.push(g);
        }
    }
    for g in groups {
        let versions: Vec<Value> = reg
            .group_versions()
            .into_iter()
            .filter(|(gg, _)| *gg == g)
            .map(|(_, v)| {
                let resources: Vec<Value> = reg
                    .kinds_in(&g, &v)
                    .iter()
                    .map(|k| resource_v2(k, &v))
                    .collect();
                json!({"version": v, "resources": resources, "freshness": "Current"})
            })
            .collect();
        items.push(json!({"metadata": {"name": g}, "versions": versions}));
    }
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

pub fn legacy_api(server_address: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
           "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]})
}

pub fn legacy_groups(reg: &Registry) -> Value {
    let mut groups: Vec<Value> = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    for (g, _) in reg.group_versions() {
        if g.is_empty() || seen.contains(&g) {
            continue;
        }
        seen.push(g.clone());
        let versions: Vec<Value> = reg
            .group_versions()
            .into_iter()
            .filter(|(gg, _)| *gg == g)
            .map(|(_, v)| json!({"groupVersion": format!("{g}/{v}"), "version": v}))
            .collect();
        let preferred = versions[0].clone();
        groups.push(json!({"name": g, "versions": versions, "preferredVersion": preferred}));
    }
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `/api/v1` or `/apis/G/V` as an APIResourceList.
pub fn resource_list(reg: &Registry, group: &str, version: &str) -> Option<Value> {
    let kinds = reg.kinds_in(group, version);
    if kinds.is_empty() {
        return None;
    }
    let mut resources = Vec::new();
    for k in kinds {
        resources.push(json!({"name": k.plural, "singularName": k.singular, "namespaced": k.namespaced(), "kind": k.kind,
            "verbs": k.verbs, "shortNames": k.short_names, "categories": k.categories}));
        if k.status_subresource {
            resources.push(json!({"name": format!("{}/status", k.plural), "singularName": "", "namespaced": k.namespaced(),
                "kind": k.kind, "verbs": ["get", "patch", "update"]}));
        }
        if k.scale.is_some() {
            resources.push(json!({"name": format!("{}/scale", k.plural), "singularName": "", "namespaced": k.namespaced(),
                "group": "autoscaling", "version": "v1", "kind": "Scale", "verbs": ["get", "patch", "update"]}));
        }
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    Some(
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}
