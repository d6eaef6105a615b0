use serde_json::json;

use super::*;
use crate::{ClusterResourceOverride, ResourceOverride};

fn cro(spec: serde_json::Value) -> ClusterResourceOverride {
    serde_json::from_value(json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
        "kind": "ClusterResourceOverride",
        "metadata": {"name": "cro-1"},
        "spec": spec,
    }))
    .expect("a CRO")
}

fn base() -> serde_json::Value {
    json!({
        "clusterResourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "app"}],
        "policy": {"overrideRules": [{
            "clusterSelector": {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"env": "prod"}}}]},
            "jsonPatchOverrides": [{"op": "add", "path": "/metadata/labels/cluster", "value": "${MEMBER-CLUSTER-NAME}"}]
        }]}
    })
}

fn with(path: &[&str], value: serde_json::Value) -> ClusterResourceOverride {
    let mut spec = base();
    let mut node = &mut spec;
    for (i, key) in path.iter().enumerate() {
        if i + 1 == path.len() {
            node[*key] = value.clone();
        } else if let Ok(n) = key.parse::<usize>() {
            node = &mut node[n];
        } else {
            node = &mut node[*key];
        }
    }
    cro(spec)
}

fn denial(o: &ClusterResourceOverride) -> String {
    webhook_cluster_resource_override(o.name(), &o.spec, &[], true).expect_err("denied")
}

#[test]
fn a_well_formed_override_passes_both_checks() {
    let o = cro(base());
    assert_eq!(validate_cluster_resource_override(None, &o), Ok(()));
    assert_eq!(
        webhook_cluster_resource_override("cro-1", &o.spec, &[], true),
        Ok(())
    );
}

#[test]
fn cro_cannot_reference_a_namespaced_placement() {
    let o = with(&["placement"], json!({"name": "rp", "scope": "Namespaced"}));
    let errs = validate_cluster_resource_override(None, &o).expect_err("invalid");
    assert_eq!(
        errs[0].to_string(),
        "<nil>: Invalid value: \"object\": clusterResourceOverride placement reference cannot be Namespaced scope"
    );
    // The default scope is Cluster.
    let ok = with(&["placement"], json!({"name": "crp"}));
    assert_eq!(validate_cluster_resource_override(None, &ok), Ok(()));
}

#[test]
fn the_placement_reference_is_immutable_even_when_added_later() {
    let none = cro(base());
    let some = with(&["placement"], json!({"name": "crp"}));
    let defaulted = with(&["placement"], json!({"name": "crp", "scope": "Cluster"}));
    let msg = "spec: Invalid value: \"object\": The placement field is immutable";
    let err = |old, new| {
        validate_cluster_resource_override(Some(old), new).expect_err("immutable")[0].to_string()
    };
    assert_eq!(err(&none, &some), msg);
    assert_eq!(err(&some, &none), msg);
    assert_eq!(
        validate_cluster_resource_override(Some(&some), &defaulted),
        Ok(())
    );
    let ro: ResourceOverride = serde_json::from_value(json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1", "kind": "ResourceOverride",
        "metadata": {"name": "ro", "namespace": "app"},
        "spec": {"resourceSelectors": [], "policy": {"overrideRules": []}}
    }))
    .expect("RO");
    let mut moved = ro.clone();
    moved.spec.placement = Some(PlacementRef {
        name: "rp".into(),
        scope: Some(PlacementScope::Namespaced),
    });
    assert_eq!(
        validate_resource_override(Some(&ro), &moved).expect_err("immutable")[0].to_string(),
        msg
    );
}

#[test]
fn selector_errors_are_returned_alone() {
    let o = with(
        &["clusterResourceSelectors"],
        json!([
            {"group": "", "version": "v1", "kind": "Namespace", "labelSelector": {"matchLabels": {"a": "b"}}},
            {"group": "", "version": "v1", "kind": "Namespace"},
            {"group": "", "version": "v1", "kind": "Namespace", "name": "x"},
            {"group": "", "version": "v1", "kind": "Namespace", "name": "x"},
        ]),
    );
    assert_eq!(
        denial(&o),
        "[label selector is not supported for resource selection {Group: Version:v1 Kind:Namespace Name: LabelSelector:&LabelSelector{MatchLabels:map[string]string{a: b,},MatchExpressions:[]LabelSelectorRequirement{},} SelectionScope:NamespaceWithResources}, \
resource name is required for resource selection {Group: Version:v1 Kind:Namespace Name: LabelSelector:<nil> SelectionScope:NamespaceWithResources}, \
resource selector {Group: Version:v1 Kind:Namespace Name:x LabelSelector:<nil> SelectionScope:NamespaceWithResources} already exists, and must be unique]"
    );
}

#[test]
fn json_patch_paths_are_checked_as_the_webhook_does() {
    let cases = [
        ("", "invalid JSONPatchOverride {add  {\"v\"}}: path cannot be empty"),
        ("spec", "invalid JSONPatchOverride {add spec {\"v\"}}: path must start with /"),
        ("/kind", "invalid JSONPatchOverride {add /kind {\"v\"}}: cannot override typeMeta fields"),
        ("/metadata", "invalid JSONPatchOverride {add /metadata {\"v\"}}: cannot override field metadata"),
        ("/metadata/name", "invalid JSONPatchOverride {add /metadata/name {\"v\"}}: cannot override metadata fields except annotations and labels"),
        ("/status/x", "invalid JSONPatchOverride {add /status/x {\"v\"}}: cannot override status fields"),
        ("/spec//x", "invalid JSONPatchOverride {add /spec//x {\"v\"}}: path cannot contain empty string"),
        ("/spec/", "invalid JSONPatchOverride {add /spec/ {\"v\"}}: path cannot contain empty string"),
    ];
    for (path, want) in cases {
        let o = with(
            &["policy", "overrideRules", "0", "jsonPatchOverrides"],
            json!([{"op": "add", "path": path, "value": "v"}]),
        );
        assert_eq!(denial(&o), want, "path {path:?}");
    }
    let o = with(
        &["policy", "overrideRules", "0", "jsonPatchOverrides"],
        json!([{"op": "remove", "path": "/spec/x", "value": 1}]),
    );
    assert_eq!(
        denial(&o),
        "invalid JSONPatchOverride {remove /spec/x {1}}: remove operation cannot have value"
    );
    let o = with(
        &["policy", "overrideRules", "0", "jsonPatchOverrides"],
        json!([]),
    );
    assert_eq!(
        denial(&o),
        "invalid JSONPatchOverrides: JSONPatchOverrides cannot be empty"
    );
}

#[test]
fn a_delete_rule_with_patches_discards_the_other_errors() {
    let o = with(
        &["policy", "overrideRules"],
        json!([
            {"clusterSelector": {"clusterSelectorTerms": [{}]}, "jsonPatchOverrides": [{"op": "add", "path": "/kind", "value": 1}]},
            {"overrideType": "Delete", "jsonPatchOverrides": [{"op": "add", "path": "/spec/x", "value": 1}]},
        ]),
    );
    assert_eq!(
        denial(&o),
        "invalid JSONPatchOverrides: JSONPatchOverrides cannot be set when the override type is Delete"
    );
}

#[test]
fn cluster_selector_terms_need_a_label_selector_only() {
    let o = with(
        &[
            "policy",
            "overrideRules",
            "0",
            "clusterSelector",
            "clusterSelectorTerms",
        ],
        json!([{}, {"propertySelector": {"matchExpressions": []}}]),
    );
    assert_eq!(
        denial(&o),
        "[invalid clusterSelector {LabelSelector:<nil> PropertySelector:<nil> PropertySorter:<nil>}: labelSelector is required, \
invalid clusterSelector {LabelSelector:<nil> PropertySelector:&PropertySelector{...} PropertySorter:<nil>}: only labelSelector is supported]"
    );
}

#[test]
fn ro_duplicate_selectors_are_denied() {
    let spec: ResourceOverrideSpec = serde_json::from_value(json!({
        "resourceSelectors": [
            {"group": "", "version": "v1", "kind": "ConfigMap", "name": "cm"},
            {"group": "", "version": "v1", "kind": "ConfigMap", "name": "cm"}
        ],
        "policy": {"overrideRules": [{"overrideType": "Delete", "clusterSelector": {"clusterSelectorTerms": []}}]}
    }))
    .expect("spec");
    assert_eq!(
        webhook_resource_override("ro", &spec, &[], true),
        Err("resource selector {Group: Version:v1 Kind:ConfigMap Name:cm} already exists, and must be unique".into())
    );
    assert_eq!(
        webhook_denial(RO_WEBHOOK, "x"),
        "admission webhook \"fleet.resourceoverride.validating\" denied the request: x"
    );
}

#[test]
fn a_resource_selected_by_another_override_and_the_limit_are_denied() {
    let o = cro(base());
    let other = ("cro-0".to_string(), o.spec.clone());
    assert_eq!(
        webhook_cluster_resource_override("cro-1", &o.spec, std::slice::from_ref(&other), true),
        Err("invalid resource selector {Group: Version:v1 Kind:Namespace Name:app LabelSelector:<nil> SelectionScope:NamespaceWithResources}: \
the resource has been selected by both cro-1 and cro-0, which is not supported".into())
    );
    // Its own stored version on update is not another override.
    let own = ("cro-1".to_string(), o.spec.clone());
    assert_eq!(
        webhook_cluster_resource_override("cro-1", &o.spec, &[own], false),
        Ok(())
    );
    let hundred: Vec<_> = (0..100)
        .map(|i| (format!("x-{i}"), ClusterResourceOverrideSpec::default()))
        .collect();
    assert_eq!(
        webhook_cluster_resource_override("cro-1", &o.spec, &hundred, true),
        Err("clusterResourceOverride limit has been reached: at most 100 cluster resources can be created.".into())
    );
    assert_eq!(
        webhook_cluster_resource_override("cro-1", &o.spec, &hundred, false),
        Ok(()),
        "updates are not capped"
    );
    let ro_spec = ResourceOverrideSpec::default();
    let many: Vec<_> = (0..100)
        .map(|i| (format!("r-{i}"), ResourceOverrideSpec::default()))
        .collect();
    assert_eq!(
        webhook_resource_override("ro", &ro_spec, &many, true),
        Err(
            "resourceOverride limit has been reached: at most 100 resources can be created.".into()
        )
    );
}
