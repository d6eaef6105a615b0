//! Which hub objects a placement's `resourceSelectors` select, and the form they take inside a
//! resource snapshot (spec §3.1, §4.1). Pure: the engine lists candidates and asks these functions.

use serde_json::Value;

use crate::placement::resource_placement::{ResourceSelector, SelectionScope};
use crate::types::label_selector::{self, SelectorError};

/// A kind the engine may list, as discovery reports it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListableKind {
    pub group: String,
    pub version: String,
    pub kind: String,
    pub plural: String,
    pub namespaced: bool,
}

/// Groups whose objects are never propagated: the fleet's own API and cluster plumbing.
const SKIPPED_GROUPS: &[&str] = &[
    "placement.kubernetes-fleet.io",
    "cluster.kubernetes-fleet.io",
    "updates.fleetdeck.dev",
    "coordination.k8s.io",
    "events.k8s.io",
    "discovery.k8s.io",
    "metrics.k8s.io",
];

/// Core kinds that belong to the cluster they live in, never to a placement.
const SKIPPED_CORE_KINDS: &[&str] = &[
    "Event",
    "Pod",
    "Endpoints",
    "Node",
    "Binding",
    "ComponentStatus",
];

/// Namespaces a placement never takes (they exist on every cluster already).
const RESERVED_NAMESPACE_PREFIXES: &[&str] = &["kube-", "fleet-"];

/// Whether objects of this kind travel with a namespace that a placement selects.
pub fn is_propagatable(kind: &ListableKind) -> bool {
    let plumbing_group = SKIPPED_GROUPS.contains(&kind.group.as_str());
    let plumbing_core = kind.group.is_empty() && SKIPPED_CORE_KINDS.contains(&kind.kind.as_str());
    !(plumbing_group || plumbing_core)
}

/// Whether a single object of a propagatable kind is left out anyway.
pub fn is_skipped_object(object: &Value) -> bool {
    let name = object["metadata"]["name"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    // Every namespace gets its own root CA ConfigMap and default ServiceAccount.
    (kind == "ConfigMap" && name == "kube-root-ca.crt")
        || (kind == "ServiceAccount" && name == "default")
}

/// Whether a namespace may be selected at all.
pub fn is_reserved_namespace(name: &str) -> bool {
    name == "default"
        || RESERVED_NAMESPACE_PREFIXES
            .iter()
            .any(|p| name.starts_with(p))
}

/// Whether `selector` picks `object` of `kind` (by GVK, then by name or label selector).
pub fn selector_matches(
    selector: &ResourceSelector,
    kind: &ListableKind,
    object: &Value,
) -> Result<bool, SelectorError> {
    if selector.group != kind.group
        || selector.version != kind.version
        || selector.kind != kind.kind
    {
        return Ok(false);
    }
    if let Some(name) = &selector.name {
        return Ok(object["metadata"]["name"].as_str() == Some(name.as_str()));
    }
    let labels: std::collections::BTreeMap<String, String> = object["metadata"]["labels"]
        .as_object()
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default();
    match &selector.label_selector {
        // No name and no label selector: every object of the kind.
        None => Ok(true),
        Some(ls) => label_selector::matches(Some(ls), &labels),
    }
}

/// Whether a selected Namespace brings its contents along.
pub fn takes_namespace_contents(selector: &ResourceSelector) -> bool {
    selector.kind == "Namespace"
        && selector.group.is_empty()
        && selector.selection_scope.unwrap_or_default() != SelectionScope::NamespaceOnly
}

/// The object as it goes into a snapshot: what the hub assigned (uid, resourceVersion,
/// timestamps, generation, managed fields, owners) and the status are dropped, as are values a
/// member cluster assigns itself (a Service's cluster IPs).
pub fn clean_for_snapshot(mut object: Value) -> Value {
    if let Some(map) = object.as_object_mut() {
        map.remove("status");
        if let Some(Value::Object(meta)) = map.get_mut("metadata") {
            for field in [
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "deletionTimestamp",
                "deletionGracePeriodSeconds",
                "generation",
                "managedFields",
                "ownerReferences",
                "selfLink",
                "finalizers",
                "generateName",
            ] {
                meta.remove(field);
            }
            if let Some(Value::Object(annotations)) = meta.get_mut("annotations") {
                annotations.remove("kubectl.kubernetes.io/last-applied-configuration");
                annotations.remove("deployment.kubernetes.io/revision");
                if annotations.is_empty() {
                    meta.remove("annotations");
                }
            }
        }
        if map.get("kind").and_then(Value::as_str) == Some("Service") {
            if let Some(Value::Object(spec)) = map.get_mut("spec") {
                for field in ["clusterIP", "clusterIPs", "healthCheckNodePort"] {
                    spec.remove(field);
                }
            }
        }
    }
    object
}

/// Snapshot order: namespaces first, then by apiVersion and kind, then namespace and name, so the
/// same objects always hash the same.
pub fn sort_selected(objects: &mut [Value]) {
    fn key(o: &Value) -> (bool, String, String, String, String) {
        let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
        (
            o["kind"].as_str() != Some("Namespace"),
            s(&o["apiVersion"]),
            s(&o["kind"]),
            s(&o["metadata"]["namespace"]),
            s(&o["metadata"]["name"]),
        )
    }
    objects.sort_by_key(key);
}

/// Sets `apiVersion` and `kind` on a listed item (list items may lack them).
pub fn with_type(mut object: Value, kind: &ListableKind) -> Value {
    if let Some(map) = object.as_object_mut() {
        let api_version = if kind.group.is_empty() {
            kind.version.clone()
        } else {
            format!("{}/{}", kind.group, kind.version)
        };
        map.insert("apiVersion".into(), Value::String(api_version));
        map.insert("kind".into(), Value::String(kind.kind.clone()));
    }
    object
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn kind(group: &str, version: &str, kind: &str) -> ListableKind {
        ListableKind {
            group: group.into(),
            version: version.into(),
            kind: kind.into(),
            plural: format!("{}s", kind.to_lowercase()),
            namespaced: kind != "Namespace",
        }
    }

    fn selector(json: Value) -> ResourceSelector {
        serde_json::from_value(json).expect("selector")
    }

    #[test]
    fn selectors_match_by_kind_then_name_or_labels() {
        let cm = json!({"metadata": {"name": "a", "labels": {"app": "web"}}});
        let k = kind("", "v1", "ConfigMap");
        let by_name =
            selector(json!({"group": "", "version": "v1", "kind": "ConfigMap", "name": "a"}));
        let by_label = selector(
            json!({"group": "", "version": "v1", "kind": "ConfigMap", "labelSelector": {"matchLabels": {"app": "db"}}}),
        );
        let other_kind =
            selector(json!({"group": "", "version": "v1", "kind": "Secret", "name": "a"}));
        assert_eq!(selector_matches(&by_name, &k, &cm), Ok(true));
        assert_eq!(selector_matches(&by_label, &k, &cm), Ok(false));
        assert_eq!(selector_matches(&other_kind, &k, &cm), Ok(false));
    }

    #[test]
    fn namespace_only_scope_leaves_the_contents_behind() {
        let with =
            selector(json!({"group": "", "version": "v1", "kind": "Namespace", "name": "n"}));
        let only = selector(
            json!({"group": "", "version": "v1", "kind": "Namespace", "name": "n", "selectionScope": "NamespaceOnly"}),
        );
        assert!(takes_namespace_contents(&with));
        assert!(!takes_namespace_contents(&only));
    }

    #[test]
    fn snapshots_hold_clean_objects_in_a_stable_order() {
        let svc = json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "n", "uid": "x",
            "resourceVersion": "7", "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{}"}},
            "spec": {"clusterIP": "10.0.0.1", "ports": [{"port": 80}]}, "status": {"loadBalancer": {}}});
        let cleaned = clean_for_snapshot(svc);
        assert_eq!(
            cleaned,
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "s", "namespace": "n"}, "spec": {"ports": [{"port": 80}]}})
        );

        let mut objects = vec![
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web", "namespace": "n"}}),
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "n"}}),
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "n"}}),
        ];
        sort_selected(&mut objects);
        let kinds: Vec<&str> = objects.iter().filter_map(|o| o["kind"].as_str()).collect();
        assert_eq!(kinds, ["Namespace", "Deployment", "Service"]);
    }

    #[test]
    fn cluster_plumbing_is_never_propagated() {
        assert!(!is_propagatable(&kind("", "v1", "Pod")));
        assert!(!is_propagatable(&kind(
            "placement.kubernetes-fleet.io",
            "v1beta1",
            "ClusterResourcePlacement"
        )));
        assert!(is_propagatable(&kind("apps", "v1", "Deployment")));
        assert!(is_skipped_object(
            &json!({"kind": "ConfigMap", "metadata": {"name": "kube-root-ca.crt"}})
        ));
        assert!(is_reserved_namespace("kube-system") && is_reserved_namespace("default"));
        assert!(!is_reserved_namespace("test-namespace"));
    }
}
