use serde_json::json;

use super::*;
use crate::overrides::matching::{for_cluster, matching_overrides};

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn cro(name: &str, spec: Value) -> CroSnapshot {
    CroSnapshot {
        name: name.into(),
        spec: serde_json::from_value(json!({"overrideSpec": spec, "overrideHash": ""}))
            .expect("CRO snapshot"),
    }
}

fn ro(name: &str, ns: &str, spec: Value) -> RoSnapshot {
    RoSnapshot {
        name: name.into(),
        namespace: ns.into(),
        spec: serde_json::from_value(json!({"overrideSpec": spec, "overrideHash": ""}))
            .expect("RO snapshot"),
    }
}

fn config_map() -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap",
           "metadata": {"name": "app-config", "namespace": "app"}, "data": {"region": "default"}})
}

fn namespace() -> Value {
    json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "app"}})
}

/// A CRO on Namespace `app`: the cluster's name into the ConfigMap on every cluster, deleted on
/// `env=test` clusters.
fn walkthrough_cro() -> CroSnapshot {
    cro(
        "cro-1-0",
        json!({
            "clusterResourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "app"}],
            "policy": {"overrideRules": [
                {"clusterSelector": {"clusterSelectorTerms": []},
                 "jsonPatchOverrides": [{"op": "add", "path": "/metadata/labels", "value": {"cluster": "${MEMBER-CLUSTER-NAME}"}}]},
                {"clusterSelector": {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"env": "test"}}}]},
                 "overrideType": "Delete"},
                {"clusterSelector": {"clusterSelectorTerms": []},
                 "jsonPatchOverrides": [{"op": "add", "path": "/metadata/labels/after-delete", "value": "x"}]}
            ]}
        }),
    )
}

fn render_on(
    name: &str,
    labels: &BTreeMap<String, String>,
    o: &BindingOverrides,
    r: &[Value],
) -> Result<Vec<Option<Value>>, OverrideError> {
    render(r, o, TargetCluster { name, labels })
}

#[test]
fn the_cluster_name_variable_is_replaced_per_cluster() {
    let o = BindingOverrides {
        cros: vec![walkthrough_cro()],
        ros: vec![],
    };
    let prod = labels(&[("env", "prod")]);
    let out = render_on("member-1", &prod, &o, &[namespace(), config_map()]).expect("rendered");
    for object in &out {
        let object = object.as_ref().expect("kept");
        assert_eq!(object["metadata"]["labels"]["cluster"], "member-1");
        assert_eq!(object["metadata"]["labels"]["after-delete"], "x");
    }
    assert_eq!(out[1].as_ref().expect("kept")["data"]["region"], "default");
}

#[test]
fn a_delete_rule_drops_the_resource_and_ends_that_overrides_rules() {
    let o = BindingOverrides {
        cros: vec![walkthrough_cro()],
        ros: vec![],
    };
    let test = labels(&[("env", "test")]);
    let out = render_on("member-2", &test, &o, &[namespace(), config_map()]).expect("rendered");
    assert_eq!(out, vec![None, None]);
}

#[test]
fn resource_overrides_run_after_cluster_overrides_and_win() {
    let o = BindingOverrides {
        cros: vec![cro(
            "cro-0",
            json!({
                "clusterResourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "app"}],
                "policy": {"overrideRules": [{"clusterSelector": {"clusterSelectorTerms": []},
                    "jsonPatchOverrides": [{"op": "replace", "path": "/data/region", "value": "from-cro"}]}]}
            }),
        )],
        ros: vec![ro(
            "ro-0",
            "app",
            json!({
                "resourceSelectors": [{"group": "", "version": "v1", "kind": "ConfigMap", "name": "app-config"}],
                "policy": {"overrideRules": [
                    {"jsonPatchOverrides": [{"op": "replace", "path": "/data/region", "value": "no-selector"}]},
                    {"clusterSelector": {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"region": "east"}}}]},
                     "jsonPatchOverrides": [{"op": "replace", "path": "/data/region", "value": "${MEMBER-CLUSTER-LABEL-KEY-region}-1"}]}
                ]}
            }),
        )],
    };
    let east = labels(&[("region", "east")]);
    let out = render_on("m", &east, &o, &[config_map()]).expect("rendered");
    assert_eq!(out[0].as_ref().expect("kept")["data"]["region"], "east-1");
    // A CRO on a Namespace patches the Namespace too: here it has no /data, as upstream fails.
    let err = render_on("m", &east, &o, &[namespace()]).expect_err("no /data on a Namespace");
    assert!(
        err.to_string().starts_with(
            "ClusterResourceOverrideSnapshot \"cro-0\" failed to apply on Namespace \"app\": "
        ),
        "{err}"
    );
    let west = labels(&[("region", "west")]);
    let out = render_on("m", &west, &o, &[config_map()]).expect("rendered");
    assert_eq!(
        out[0].as_ref().expect("kept")["data"]["region"],
        "from-cro",
        "a rule without a clusterSelector selects no cluster"
    );
}

#[test]
fn a_patch_on_a_missing_path_fails_with_the_target_named() {
    let o = BindingOverrides {
        cros: vec![],
        ros: vec![ro(
            "ro-1",
            "app",
            json!({
                "resourceSelectors": [{"group": "", "version": "v1", "kind": "ConfigMap", "name": "app-config"}],
                "policy": {"overrideRules": [{"clusterSelector": {"clusterSelectorTerms": []},
                    "jsonPatchOverrides": [{"op": "replace", "path": "/spec/missing/deep", "value": 1}]}]}
            }),
        )],
    };
    let err = render_on("m", &labels(&[]), &o, &[config_map()]).expect_err("fails");
    let text = err.to_string();
    assert!(
        text.starts_with("ResourceOverrideSnapshot \"ro-1\" failed to apply on ConfigMap \"app-config\" in namespace \"app\": "),
        "{text}"
    );
}

#[test]
fn label_variables_fail_on_a_missing_label_or_bracket() {
    let t = |labels: &BTreeMap<String, String>, input: &str| {
        substitute(input, TargetCluster { name: "m1", labels })
    };
    let l = labels(&[("zone", "a")]);
    assert_eq!(
        t(
            &l,
            "\"${MEMBER-CLUSTER-LABEL-KEY-zone}-${MEMBER-CLUSTER-NAME}\""
        ),
        Ok("\"a-m1\"".into())
    );
    assert_eq!(
        t(&l, "\"${MEMBER-CLUSTER-LABEL-KEY-region}\""),
        Err("label key region not found on cluster m1".into())
    );
    assert_eq!(
        t(&l, "\"${MEMBER-CLUSTER-LABEL-KEY-zone\""),
        Err("input \"${MEMBER-CLUSTER-LABEL-KEY-zone\" is missing the closing bracket `}`".into())
    );
}

#[test]
fn matching_follows_placement_refs_resources_and_cluster_labels() {
    let cros = vec![
        walkthrough_cro(),
        cro(
            "other-placement-0",
            json!({
                "placement": {"name": "other"},
                "clusterResourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "app"}],
                "policy": {"overrideRules": [{"clusterSelector": {"clusterSelectorTerms": []}, "overrideType": "Delete"}]}
            }),
        ),
        cro(
            "unrelated-0",
            json!({
                "clusterResourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "elsewhere"}],
                "policy": {"overrideRules": [{"clusterSelector": {"clusterSelectorTerms": []}, "overrideType": "Delete"}]}
            }),
        ),
    ];
    let ros = vec![
        ro(
            "ro-b-0",
            "app",
            json!({
                "placement": {"name": "rp", "scope": "Namespaced"},
                "resourceSelectors": [{"group": "", "version": "v1", "kind": "ConfigMap", "name": "app-config"}],
                "policy": {"overrideRules": [{"clusterSelector": {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"env": "test"}}}]}, "overrideType": "Delete"}]}
            }),
        ),
        ro(
            "ro-a-0",
            "app",
            json!({
                "resourceSelectors": [{"group": "", "version": "v1", "kind": "ConfigMap", "name": "app-config"}],
                "policy": {"overrideRules": [{"overrideType": "Delete"}]}
            }),
        ),
    ];
    let resources = [namespace(), config_map()];
    let (c, r) = matching_overrides("crp", &resources, &cros, &ros);
    assert_eq!(
        c.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
        ["cro-1-0"]
    );
    assert_eq!(
        r.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["ro-a-0"]
    );
    let (c, r) = matching_overrides("app/rp", &resources[1..], &cros, &ros);
    assert_eq!(
        c.len(),
        1,
        "a CRO without placement applies to RPs in its namespace"
    );
    assert_eq!(
        r.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["ro-b-0", "ro-a-0"]
    );
    // Per cluster: ro-a has a rule without clusterSelector, so no cluster; ro-b only env=test.
    let test = for_cluster(&c, &r, &labels(&[("env", "test")])).expect("matched");
    assert_eq!(test.cluster_resource_overrides, ["cro-1-0"]);
    assert_eq!(
        test.resource_overrides
            .iter()
            .map(|n| n.name.as_str())
            .collect::<Vec<_>>(),
        ["ro-b-0"]
    );
    let prod = for_cluster(&c, &r, &labels(&[("env", "prod")])).expect("matched");
    assert!(prod.resource_overrides.is_empty());
}
