//! Overrides on a whole fleetdeck (placement-extras §1): override snapshots kept by the engine,
//! a staged update run recording each cluster's overrides at initialization, the member agent
//! applying them (a per-cluster value from `${MEMBER-CLUSTER-NAME}`, a `Delete` rule keeping the
//! resources off one cluster), and the binding, run and placement conditions KubeFleet writes.

mod fleet_support;

use app::fleet::placement::resource_placement::NamespacedName;
use app::fleet::{
    ClusterResourceOverrideSnapshot, ClusterResourcePlacement, ResourceBinding,
    ResourceOverrideSnapshot, ResourcePlacement, StagedUpdateRun,
};
use fleet_support::*;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams};
use kube::ResourceExt;
use serde_json::json;

const GV: &str = "placement.kubernetes-fleet.io/v1beta1";
const NS: &str = "test-namespace";

type Cond = Option<(String, String, String)>;

fn c3(status: &str, reason: &str, message: &str) -> Cond {
    Some((status.into(), reason.into(), message.into()))
}

/// A CRO on the namespace: every cluster's copy names its cluster in an annotation; `env=test`
/// clusters do not get the namespace (nor anything in it).
fn namespace_cro() -> serde_json::Value {
    json!({"apiVersion": GV, "kind": "ClusterResourceOverride", "metadata": {"name": "cro-ns"},
        "spec": {"clusterResourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": NS}],
            "policy": {"overrideRules": [
                {"clusterSelector": {"clusterSelectorTerms": []},
                 "jsonPatchOverrides": [{"op": "add", "path": "/metadata/annotations",
                                         "value": {"fleet.example/cluster": "${MEMBER-CLUSTER-NAME}"}}]},
                {"clusterSelector": {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"env": "test"}}}]},
                 "overrideType": "Delete"}]}}})
}

/// An RO on the ConfigMap: its value becomes `<cluster>-<env label>`.
fn config_map_ro(path: &str) -> serde_json::Value {
    json!({"apiVersion": GV, "kind": "ResourceOverride", "metadata": {"name": "ro-cm", "namespace": NS},
        "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "ConfigMap", "name": "test-cm"}],
            "policy": {"overrideRules": [{"clusterSelector": {"clusterSelectorTerms": []},
                "jsonPatchOverrides": [{"op": "replace", "path": path,
                                        "value": "${MEMBER-CLUSTER-NAME}-${MEMBER-CLUSTER-LABEL-KEY-env}"}]}]}}})
}

async fn wait_cro_snapshot(fleet: &Fleet, name: &str) -> ClusterResourceOverrideSnapshot {
    let api: Api<ClusterResourceOverrideSnapshot> = Api::all(fleet.hub.clone());
    let api = &api;
    eventually(format!("override snapshot {name}"), || async move {
        api.get_opt(name).await.expect("get").ok_or(())
    })
    .await
}

async fn wait_ro_snapshot(fleet: &Fleet, name: &str) -> ResourceOverrideSnapshot {
    let api: Api<ResourceOverrideSnapshot> = Api::namespaced(fleet.hub.clone(), NS);
    let api = &api;
    eventually(format!("override snapshot {name}"), || async move {
        api.get_opt(name).await.expect("get").ok_or(())
    })
    .await
}

fn cond_of(conds: Option<&Vec<app::fleet::types::condition::Condition>>, type_: &str) -> Cond {
    cond(conds, type_)
}

/// Waits until the CRP's `ClusterResourcePlacementOverridden` is `want`.
async fn wait_placement_overridden(fleet: &Fleet, want: Cond) -> ClusterResourcePlacement {
    let api: Api<ClusterResourcePlacement> = Api::all(fleet.hub.clone());
    let (api, want) = (&api, &want);
    eventually("the placement's Overridden condition", || async move {
        let p = api.get(PLACEMENT).await.expect("placement");
        let conds = p.status.as_ref().and_then(|s| s.conditions.as_ref());
        match &cond_of(conds, "ClusterResourcePlacementOverridden") == want {
            true => Ok(p),
            false => Err(p.status),
        }
    })
    .await
}

#[tokio::test(start_paused = true)]
async fn a_staged_run_applies_each_clusters_overrides_and_a_delete_rule_keeps_one_cluster_out() {
    let fleet = Fleet::members(&[
        ("member1", "env=prod"),
        ("member2", "env=test"),
        ("member3", "env=prod"),
    ])
    .await;
    fleet.config_map("base").await;
    fleet.apply(namespace_cro()).await;
    fleet.apply(config_map_ro("/data/key")).await;
    let cro = wait_cro_snapshot(&fleet, "cro-ns-0").await;
    assert_eq!(
        cro.labels()["kubernetes-fleet.io/parent-resource-override"],
        "cro-ns"
    );
    assert_eq!(
        cro.labels()["kubernetes-fleet.io/is-latest-snapshot"],
        "true"
    );
    assert_eq!(cro.labels()["kubernetes-fleet.io/override-index"], "0");
    wait_ro_snapshot(&fleet, "ro-cm-0").await;

    fleet.external_placement().await;
    fleet
        .wait_scheduled(&["member1", "member2", "member3"])
        .await;
    fleet
        .strategy(json!([{"name": "all", "labelSelector": {}}]))
        .await;
    fleet.run("run-1", None, "Run").await;
    let run = fleet.wait_run("run-1", "succeeded", is_succeeded).await;

    // The run names each cluster's overrides, frozen at initialization.
    let ro = vec![NamespacedName {
        name: "ro-cm-0".into(),
        namespace: NS.into(),
    }];
    for c in stage(&run, 0).clusters() {
        assert_eq!(
            c.cluster_resource_override_snapshots,
            Some(vec!["cro-ns-0".to_string()]),
            "{}",
            c.cluster_name
        );
        assert_eq!(
            c.resource_override_snapshots.as_ref(),
            Some(&ro),
            "{}",
            c.cluster_name
        );
        let b = fleet.binding(&c.cluster_name).await;
        assert_eq!(
            b.spec.cluster_resource_override_snapshots,
            c.cluster_resource_override_snapshots
        );
        assert_eq!(
            b.spec.resource_override_snapshots,
            c.resource_override_snapshots
        );
        let conds = b.status.as_ref().and_then(|s| s.conditions.as_ref());
        assert_eq!(
            cond(conds, "Overridden"),
            c3(
                "True",
                "OverriddenSucceeded",
                "Successfully applied the override rules on the resources"
            )
        );
    }

    // member1 and member3: their own value and annotation; member2: nothing of the namespace.
    for member in ["member1", "member3"] {
        let cm = Api::<ConfigMap>::namespaced(fleet.member(member), NS)
            .get("test-cm")
            .await
            .expect("the ConfigMap on the member");
        assert_eq!(
            cm.data
                .as_ref()
                .and_then(|d| d.get("key"))
                .map(String::as_str),
            Some(&*format!("{member}-prod"))
        );
        assert_eq!(cm.annotations()["fleet.example/cluster"], member);
        let ns = Api::<Namespace>::all(fleet.member(member))
            .get(NS)
            .await
            .expect("namespace");
        assert_eq!(ns.annotations()["fleet.example/cluster"], member);
    }
    assert!(Api::<Namespace>::all(fleet.member("member2"))
        .get_opt(NS)
        .await
        .expect("get")
        .is_none());
    assert!(Api::<ConfigMap>::namespaced(fleet.member("member2"), NS)
        .get_opt("test-cm")
        .await
        .expect("get")
        .is_none());
    let b2 = fleet.binding("member2").await;
    let conds = b2.status.as_ref().and_then(|s| s.conditions.as_ref());
    assert_eq!(
        cs(conds, "Applied"),
        sr("True", "AllWorkHaveBeenApplied"),
        "nothing to apply is applied"
    );

    let p = wait_placement_overridden(
        &fleet,
        c3(
            "True",
            "OverriddenSucceeded",
            "The selected resources are successfully overridden in 3 cluster(s)",
        ),
    )
    .await;
    for s in p
        .status
        .as_ref()
        .and_then(|s| s.placement_statuses.as_ref())
        .expect("per cluster")
    {
        assert_eq!(
            s.applicable_cluster_resource_overrides,
            Some(vec!["cro-ns-0".to_string()])
        );
        assert_eq!(s.applicable_resource_overrides.as_ref(), Some(&ro));
    }
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn override_edits_add_snapshots_a_new_run_picks_them_and_deleting_removes_them() {
    let fleet = Fleet::members(&[("member1", "env=prod")]).await;
    fleet.config_map("base").await;
    fleet.apply(config_map_ro("/data/key")).await;
    wait_ro_snapshot(&fleet, "ro-cm-0").await;
    fleet.external_placement().await;
    fleet.wait_scheduled(&["member1"]).await;
    fleet
        .strategy(json!([{"name": "all", "labelSelector": {}}]))
        .await;
    fleet.run("run-1", None, "Run").await;
    fleet.wait_run("run-1", "succeeded", is_succeeded).await;
    fleet.wait_member_value("member1", "member1-prod").await;

    // An edit: snapshot 1 becomes the latest; the finished run keeps snapshot 0.
    let mut edited = config_map_ro("/data/key");
    edited["spec"]["policy"]["overrideRules"][0]["jsonPatchOverrides"][0]["value"] =
        json!("edited-${MEMBER-CLUSTER-NAME}");
    fleet.apply(edited).await;
    let one = wait_ro_snapshot(&fleet, "ro-cm-1").await;
    assert_eq!(
        one.labels()["kubernetes-fleet.io/is-latest-snapshot"],
        "true"
    );
    let snapshots: Api<ResourceOverrideSnapshot> = Api::namespaced(fleet.hub.clone(), NS);
    let zero = snapshots
        .get("ro-cm-0")
        .await
        .expect("the old snapshot stays");
    assert_eq!(
        zero.labels()["kubernetes-fleet.io/is-latest-snapshot"],
        "false"
    );
    let run1 = fleet.get_run("run-1").await;
    assert_eq!(
        stage(&run1, 0).clusters()[0]
            .resource_override_snapshots
            .as_ref()
            .map(|v| v[0].name.clone()),
        Some("ro-cm-0".into())
    );
    assert_eq!(
        fleet.member_value("member1").await.as_deref(),
        Some("member1-prod"),
        "not before a run"
    );

    fleet.run("run-2", None, "Run").await;
    fleet.wait_run("run-2", "succeeded", is_succeeded).await;
    fleet.wait_member_value("member1", "edited-member1").await;

    // Deleting the override takes its snapshots (its cleanup finalizer).
    Api::<app::fleet::ResourceOverride>::namespaced(fleet.hub.clone(), NS)
        .delete("ro-cm", &DeleteParams::default())
        .await
        .expect("delete");
    let snapshots = &snapshots;
    eventually("the override's snapshots going", || async move {
        let left = snapshots
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .len();
        if left == 0 {
            Ok(())
        } else {
            Err(left)
        }
    })
    .await;
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_override_that_cannot_apply_fails_the_cluster_and_the_member_keeps_what_it_had() {
    let fleet = Fleet::members(&[("member1", "env=prod")]).await;
    fleet.config_map("base").await;
    fleet.external_placement().await;
    fleet.wait_scheduled(&["member1"]).await;
    fleet
        .strategy(json!([{"name": "all", "labelSelector": {}}]))
        .await;
    fleet.run("run-1", None, "Run").await;
    fleet.wait_run("run-1", "succeeded", is_succeeded).await;
    wait_placement_overridden(
        &fleet,
        c3(
            "True",
            "NoOverrideSpecified",
            "No override rules are configured for the selected resources",
        ),
    )
    .await;

    // A path the ConfigMap does not have: the patch fails on member1.
    fleet.config_map("second").await;
    fleet.apply(config_map_ro("/data/missing/deep")).await;
    wait_ro_snapshot(&fleet, "ro-cm-0").await;
    fleet.run("run-2", None, "Run").await;
    let b = eventually("member1's binding failing to override", || async {
        let b = fleet.binding("member1").await;
        let conds = b.status.as_ref().and_then(|s| s.conditions.clone());
        match cs(conds.as_ref(), "Overridden") == sr("False", "OverriddenFailed") {
            true => Ok(b),
            false => Err(conds),
        }
    })
    .await;
    let conds = b.status.as_ref().and_then(|s| s.conditions.as_ref());
    let (_, _, message) = cond(conds, "Overridden").expect("Overridden");
    assert!(
        message.starts_with("Failed to apply the override rules on the resources: ResourceOverrideSnapshot \"ro-cm-0\" failed to apply on ConfigMap \"test-cm\" in namespace \"test-namespace\": "),
        "{message}"
    );
    for gone in ["WorkSynchronized", "Applied", "Available"] {
        assert_eq!(cond(conds, gone), None, "{gone} after a failed override");
    }
    wait_placement_overridden(
        &fleet,
        c3(
            "False",
            "OverriddenFailed",
            "Failed to override resources in 1 cluster(s)",
        ),
    )
    .await;
    assert_eq!(
        fleet.member_value("member1").await.as_deref(),
        Some("base"),
        "the member keeps the previous version"
    );
    // The run counts the cluster as failing to apply: stuck after the 5-minute threshold.
    fleet.elapse(std::time::Duration::from_secs(5 * 60)).await;
    let run = fleet
        .wait_run("run-2", "stuck", |r| {
            cs(run_conds(r), "Progressing") == sr("False", "UpdateRunStuck")
        })
        .await;
    assert_eq!(
        cond(run_conds(&run), "Progressing"),
        c3("False", "UpdateRunStuck", "The updateRun is stuck waiting for member1 cluster(s) in stage all to finish updating, please check placement status for potential errors")
    );
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_namespaced_run_applies_a_resource_override_scoped_to_its_placement() {
    let fleet = Fleet::members(&[("member1", "env=prod"), ("member2", "env=test")]).await;
    let c = fleet.hub.clone();
    fleet
        .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}))
        .await;
    fleet
        .apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "cm", "namespace": NS}, "data": {"key": "base"}}))
        .await;
    fleet.apply(json!({"apiVersion": GV, "kind": "ClusterResourcePlacement", "metadata": {"name": "ns-placement"},
        "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": NS,
                                        "selectionScope": "NamespaceOnly"}],
                 "policy": {"placementType": "PickAll"}, "strategy": {"type": "RollingUpdate"}}})).await;
    // Scoped to the RP (scope Namespaced): the value per cluster, and not on env=test.
    fleet.apply(json!({"apiVersion": GV, "kind": "ResourceOverride", "metadata": {"name": "ro-rp", "namespace": NS},
        "spec": {"placement": {"name": "rp", "scope": "Namespaced"},
            "resourceSelectors": [{"group": "", "version": "v1", "kind": "ConfigMap", "name": "cm"}],
            "policy": {"overrideRules": [
                {"clusterSelector": {"clusterSelectorTerms": []},
                 "jsonPatchOverrides": [{"op": "replace", "path": "/data/key", "value": "${MEMBER-CLUSTER-NAME}"}]},
                {"clusterSelector": {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"env": "test"}}}]},
                 "overrideType": "Delete"}]}}})).await;
    wait_ro_snapshot(&fleet, "ro-rp-0").await;
    fleet.apply(json!({"apiVersion": GV, "kind": "ResourcePlacement", "metadata": {"name": "rp", "namespace": NS},
        "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "ConfigMap", "name": "cm"}],
                 "policy": {"placementType": "PickAll"}, "strategy": {"type": "External"}}})).await;
    fleet.apply(json!({"apiVersion": GV, "kind": "StagedUpdateStrategy", "metadata": {"name": "s", "namespace": NS},
        "spec": {"stages": [{"name": "all", "labelSelector": {}}]}})).await;
    for member in ["member1", "member2"] {
        let namespaces: Api<Namespace> = Api::all(fleet.member(member));
        let namespaces = &namespaces;
        eventually(format!("the namespace reaching {member}"), || async move {
            namespaces.get_opt(NS).await.expect("get").ok_or(())
        })
        .await;
    }
    wait_policy_scheduled(&c, Some(NS), "rp").await;
    let bindings = Api::<ResourceBinding>::namespaced(c.clone(), NS);
    let bindings = &bindings;
    eventually("two bindings of rp", || async move {
        let n = bindings
            .list(&ListParams::default().labels("kubernetes-fleet.io/parent-CRP=rp"))
            .await
            .expect("list")
            .items
            .len();
        if n == 2 {
            Ok(())
        } else {
            Err(n)
        }
    })
    .await;
    fleet.apply(json!({"apiVersion": GV, "kind": "StagedUpdateRun", "metadata": {"name": "run", "namespace": NS},
        "spec": {"placementName": "rp", "stagedRolloutStrategyName": "s", "state": "Run"}})).await;
    let runs = Api::<StagedUpdateRun>::namespaced(c.clone(), NS);
    let runs = &runs;
    let run = eventually("the namespaced run succeeding", || async move {
        let run = runs.get("run").await.expect("run");
        let conds = run.status.as_ref().and_then(|s| s.conditions.as_ref());
        match cs(conds, "Succeeded") == sr("True", "UpdateRunSucceeded") {
            true => Ok(run),
            false => Err(run.status),
        }
    })
    .await;
    let ro = vec![NamespacedName {
        name: "ro-rp-0".into(),
        namespace: NS.into(),
    }];
    let stages = run
        .status
        .as_ref()
        .and_then(|s| s.stages_status.as_ref())
        .expect("stages");
    for cluster in stages[0].clusters() {
        assert_eq!(
            cluster.resource_override_snapshots.as_ref(),
            Some(&ro),
            "{}",
            cluster.cluster_name
        );
        assert_eq!(cluster.cluster_resource_override_snapshots, None);
    }
    let cm = Api::<ConfigMap>::namespaced(fleet.member("member1"), NS)
        .get("cm")
        .await
        .expect("cm on member1");
    assert_eq!(
        cm.data.and_then(|d| d.get("key").cloned()).as_deref(),
        Some("member1")
    );
    assert!(Api::<ConfigMap>::namespaced(fleet.member("member2"), NS)
        .get_opt("cm")
        .await
        .expect("get")
        .is_none());

    let rps = Api::<ResourcePlacement>::namespaced(c.clone(), NS);
    let rps = &rps;
    eventually("the RP's Overridden condition", || async move {
        let rp = rps.get("rp").await.expect("rp");
        let conds = rp.status.as_ref().and_then(|s| s.conditions.as_ref());
        match cond(conds, "ResourcePlacementOverridden")
            == c3(
                "True",
                "OverriddenSucceeded",
                "The selected resources are successfully overridden in 2 cluster(s)",
            ) {
            true => Ok(()),
            false => Err(rp.status),
        }
    })
    .await;
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_rolling_update_placement_follows_override_edits_on_every_cluster() {
    let fleet = Fleet::members(&[("member1", "env=prod"), ("member2", "env=test")]).await;
    fleet.config_map("base").await;
    fleet.apply(config_map_ro("/data/key")).await;
    fleet
        .apply(json!({"apiVersion": GV, "kind": "ClusterResourcePlacement", "metadata": {"name": PLACEMENT},
            "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": NS}],
                     "policy": {"placementType": "PickAll"}, "strategy": {"type": "RollingUpdate"}}}))
        .await;
    fleet.wait_member_value("member1", "member1-prod").await;
    fleet.wait_member_value("member2", "member2-test").await;
    let b = fleet.binding("member1").await;
    assert_eq!(
        b.spec.resource_override_snapshots,
        Some(vec![NamespacedName {
            name: "ro-cm-0".into(),
            namespace: NS.into()
        }])
    );

    // An edit: every binding moves to snapshot 1 of the override without a new resource snapshot.
    let mut edited = config_map_ro("/data/key");
    edited["spec"]["policy"]["overrideRules"][0]["clusterSelector"] =
        json!({"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"env": "prod"}}}]});
    edited["spec"]["policy"]["overrideRules"][0]["jsonPatchOverrides"][0]["value"] =
        json!("v2-${MEMBER-CLUSTER-NAME}");
    fleet.apply(edited).await;
    fleet.wait_member_value("member1", "v2-member1").await;
    // member2 no longer matches: its list is cleared and the member gets the hub's value back.
    fleet.wait_member_value("member2", "base").await;
    assert_eq!(
        fleet
            .binding("member2")
            .await
            .spec
            .resource_override_snapshots,
        None
    );
    assert_eq!(
        fleet
            .binding("member1")
            .await
            .spec
            .resource_snapshot_name
            .as_deref(),
        Some("example-placement-0-snapshot"),
        "the same resource snapshot"
    );
    wait_placement_overridden(
        &fleet,
        c3(
            "True",
            "OverriddenSucceeded",
            "The selected resources are successfully overridden in 2 cluster(s)",
        ),
    )
    .await;
    fleet.stop().await;
}
