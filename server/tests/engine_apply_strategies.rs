//! Apply strategies on a whole fleetdeck (placement-extras §2): ReportDiff reporting diffs and
//! applying nothing while a staged run completes, `IfNotDrifted` refusing to apply over an edit
//! made on the member, the three takeover rules for objects that were on a member before
//! fleetdeck placed them, and server-side apply with force. Each checks the binding's and the
//! placement's conditions and the members' objects.

mod fleet_support;

use std::time::Duration;

use app::fleet::placement::binding_status::{
    DiffedResourcePlacement, DriftedResourcePlacement, FailedResourcePlacement,
};
use app::fleet::ClusterResourcePlacement;
use fleet_support::*;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, Patch, PatchParams};
use kube::ResourceExt;
use serde_json::{json, Value};

const GV: &str = "placement.kubernetes-fleet.io/v1beta1";
const NS: &str = "test-namespace";
const OWNER_LABEL: &str = "fleetdeck.dev/applied-by";
const RECORD: &str = "crp-example-placement";

type Cond = Option<(String, String, String)>;

fn c3(status: &str, reason: &str, message: &str) -> Cond {
    Some((status.into(), reason.into(), message.into()))
}

/// A RollingUpdate CRP of `test-namespace` on every member with `apply_strategy`.
async fn rolling_placement(fleet: &Fleet, apply_strategy: Value) {
    fleet
        .apply(json!({"apiVersion": GV, "kind": "ClusterResourcePlacement", "metadata": {"name": PLACEMENT},
            "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": NS}],
                     "policy": {"placementType": "PickAll"},
                     "strategy": {"type": "RollingUpdate", "applyStrategy": apply_strategy}}}))
        .await;
}

/// Puts `test-namespace` and ConfigMap `test-cm` with `data` on `member` directly, as a user of
/// that cluster would before fleetdeck places anything.
async fn pre_existing(fleet: &Fleet, member: &str, data: Value) {
    let client = fleet.member(member);
    apply(
        &client,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}),
    )
    .await;
    apply(
        &client,
        json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": "test-cm", "namespace": NS}, "data": data}),
    )
    .await;
}

async fn member_cm(fleet: &Fleet, member: &str) -> Option<ConfigMap> {
    Api::<ConfigMap>::namespaced(fleet.member(member), NS)
        .get_opt("test-cm")
        .await
        .expect("member get")
}

fn data(cm: &ConfigMap) -> Value {
    json!(cm.data.clone().unwrap_or_default())
}

/// Waits until the binding of `cluster` has `type_` equal to `want` (status, reason, message).
async fn wait_binding(fleet: &Fleet, cluster: &str, type_: &str, want: Cond) -> Value {
    let want = &want;
    eventually(
        format!("{cluster}'s binding {type_} {want:?}"),
        || async move {
            let b = fleet.binding_opt(cluster).await.ok_or(None)?;
            let conds = b.status.as_ref().and_then(|s| s.conditions.as_ref());
            match &cond(conds, type_) == want {
                true => Ok(serde_json::to_value(&b.status).expect("status")),
                false => Err(b.status),
            }
        },
    )
    .await
}

/// Waits until the placement's condition `type_` (without the kind prefix) is `want`.
async fn wait_placement(fleet: &Fleet, type_: &str, want: Cond) -> ClusterResourcePlacement {
    let api: Api<ClusterResourcePlacement> = Api::all(fleet.hub.clone());
    let (api, want) = (&api, &want);
    let full = format!("ClusterResourcePlacement{type_}");
    let full = &full;
    eventually(format!("the placement's {type_} {want:?}"), || async move {
        let p = api.get(PLACEMENT).await.expect("placement");
        let conds = p.status.as_ref().and_then(|s| s.conditions.as_ref());
        match &cond(conds, full) == want {
            true => Ok(p),
            false => Err(p.status),
        }
    })
    .await
}

fn failed(status: &Value) -> Vec<FailedResourcePlacement> {
    serde_json::from_value(status["failedPlacements"].clone()).unwrap_or_default()
}

fn diffed(status: &Value) -> Vec<DiffedResourcePlacement> {
    serde_json::from_value(status["diffedPlacements"].clone()).unwrap_or_default()
}

fn drifted(status: &Value) -> Vec<DriftedResourcePlacement> {
    serde_json::from_value(status["driftedPlacements"].clone()).unwrap_or_default()
}

/// `(kind, reason, message)` of each failed placement.
fn failures(status: &Value) -> Vec<(String, String, String)> {
    failed(status)
        .into_iter()
        .map(|f| (f.resource.kind, f.condition.reason, f.condition.message))
        .collect()
}

/// `(path, valueInMember, valueInHub)` of each detail.
fn details(
    d: &[app::fleet::apply::compare::PatchDetail],
) -> Vec<(String, Option<String>, Option<String>)> {
    d.iter()
        .map(|d| {
            (
                d.path.clone(),
                d.value_in_member.clone(),
                d.value_in_hub.clone(),
            )
        })
        .collect()
}

fn detail(
    path: &str,
    member: Option<&str>,
    hub: Option<&str>,
) -> (String, Option<String>, Option<String>) {
    (path.into(), member.map(Into::into), hub.map(Into::into))
}

#[tokio::test(start_paused = true)]
async fn report_diff_reports_each_clusters_diffs_applies_nothing_and_the_run_succeeds() {
    let fleet = Fleet::members(&[("member1", "env=prod"), ("member2", "env=prod")]).await;
    pre_existing(&fleet, "member1", json!({"key": "member"})).await;
    fleet.config_map("hub").await;
    fleet
        .apply(json!({"apiVersion": GV, "kind": "ClusterResourcePlacement", "metadata": {"name": PLACEMENT},
            "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": NS}],
                     "policy": {"placementType": "PickAll"},
                     "strategy": {"type": "External", "applyStrategy": {"type": "ReportDiff"}}}}))
        .await;
    wait_policy_scheduled(&fleet.hub, None, PLACEMENT).await;
    fleet.wait_scheduled(&["member1", "member2"]).await;
    fleet
        .strategy(json!([{"name": "all", "labelSelector": {}}]))
        .await;
    fleet.run("run-1", None, "Run").await;
    // DiffReported True counts as the cluster's success: the run completes.
    fleet.wait_run("run-1", "succeeded", is_succeeded).await;

    let reported = c3(
        "True",
        "AllWorkHaveDiffReported",
        "All corresponding work objects have reported diff",
    );
    let status1 = wait_binding(&fleet, "member1", "DiffReported", reported.clone()).await;
    let status2 = wait_binding(&fleet, "member2", "DiffReported", reported).await;
    for status in [&status1, &status2] {
        let conds = status["conditions"].as_array().expect("conditions");
        assert!(
            conds
                .iter()
                .all(|c| c["type"] != "Applied" && c["type"] != "Available"),
            "no Applied or Available under ReportDiff: {conds:?}"
        );
        assert_eq!(failed(status), vec![]);
    }
    // member1 has both objects; only the ConfigMap differs.
    let d1 = diffed(&status1);
    assert_eq!(d1.len(), 1, "{d1:?}");
    assert_eq!(d1[0].resource.kind, "ConfigMap");
    assert_eq!(d1[0].target_cluster_observed_generation, Some(0));
    assert_eq!(
        details(&d1[0].observed_diffs),
        vec![detail("/data/key", Some("member"), Some("hub"))]
    );
    // member2 has neither: each is a whole-object diff.
    let d2 = diffed(&status2);
    assert_eq!(
        d2.iter()
            .map(|d| d.resource.kind.as_str())
            .collect::<Vec<_>>(),
        ["Namespace", "ConfigMap"]
    );
    for d in &d2 {
        assert_eq!(d.target_cluster_observed_generation, None);
        assert_eq!(
            details(&d.observed_diffs),
            vec![detail("/", None, Some("(the whole object)"))]
        );
    }

    // Nothing was applied: member1 keeps its own value, unowned; member2 got nothing.
    let cm = member_cm(&fleet, "member1")
        .await
        .expect("member1's own test-cm");
    assert_eq!(data(&cm), json!({"key": "member"}));
    assert_eq!(cm.labels().get(OWNER_LABEL), None);
    assert!(Api::<Namespace>::all(fleet.member("member2"))
        .get_opt(NS)
        .await
        .expect("get")
        .is_none());

    let p = wait_placement(
        &fleet,
        "DiffReported",
        c3(
            "True",
            "DiffReportingCompleted",
            "Diff reporting in 2 cluster(s) has been completed",
        ),
    )
    .await;
    let status = p.status.expect("status");
    let conds = status.conditions.expect("conditions");
    assert!(!conds
        .iter()
        .any(|c| c.type_ == "ClusterResourcePlacementApplied"));
    let per = status.placement_statuses.expect("per cluster");
    let m1 = per
        .iter()
        .find(|c| c.cluster_name.as_deref() == Some("member1"))
        .expect("member1");
    assert_eq!(m1.diffed_placements.as_ref().map(Vec::len), Some(1));
    assert_eq!(
        cond(m1.conditions.as_ref(), "DiffReported").map(|c| c.1),
        Some("AllWorkHaveDiffReported".into())
    );
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn if_not_drifted_refuses_to_apply_over_an_edit_made_on_the_member() {
    let fleet = Fleet::members(&[("member1", "env=prod")]).await;
    fleet.config_map("hub").await;
    rolling_placement(&fleet, json!({"whenToApply": "IfNotDrifted"})).await;
    fleet.wait_member_value("member1", "hub").await;
    wait_binding(
        &fleet,
        "member1",
        "Available",
        c3(
            "True",
            "AllWorkAreAvailable",
            "All corresponding work objects are available",
        ),
    )
    .await;

    // Someone edits the placed ConfigMap on the member.
    Api::<ConfigMap>::namespaced(fleet.member("member1"), NS)
        .patch(
            "test-cm",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"key": "edited"}})),
        )
        .await
        .expect("member edit");
    fleet.elapse(Duration::from_secs(31)).await;
    let status = wait_binding(
        &fleet,
        "member1",
        "Applied",
        c3(
            "False",
            "NotAllWorkHaveBeenApplied",
            "Work object example-placement-work has failed to apply",
        ),
    )
    .await;
    assert_eq!(
        failures(&status),
        vec![(
            "ConfigMap".to_string(),
            "FoundDrifts".to_string(),
            "Failed to apply the manifest (error: cannot apply manifest: drifts are found between the manifest and the object from the member cluster)".to_string()
        )]
    );
    let drifts = drifted(&status);
    assert_eq!(drifts.len(), 1);
    assert_eq!(
        details(&drifts[0].observed_drifts),
        vec![detail("/data/key", Some("edited"), Some("hub"))]
    );
    wait_placement(
        &fleet,
        "Applied",
        c3(
            "False",
            "ApplyFailed",
            "Failed to apply resources to 1 cluster(s), please check the `failedPlacements` status",
        ),
    )
    .await;
    // The member's edit stands, and the object stays fleetdeck's (not removed as a left-over).
    let cm = member_cm(&fleet, "member1").await.expect("test-cm kept");
    assert_eq!(data(&cm), json!({"key": "edited"}));
    assert_eq!(
        cm.labels().get(OWNER_LABEL).map(String::as_str),
        Some(RECORD)
    );

    // A new manifest on the hub is applied over the drift.
    fleet.config_map("v2").await;
    fleet.wait_member_value("member1", "v2").await;
    wait_binding(
        &fleet,
        "member1",
        "Applied",
        c3(
            "True",
            "AllWorkHaveBeenApplied",
            "All corresponding work objects are applied",
        ),
    )
    .await;
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn takeover_never_leaves_a_pre_existing_object_alone_and_reports_it() {
    let fleet = Fleet::members(&[("member1", "env=prod")]).await;
    pre_existing(&fleet, "member1", json!({"key": "member"})).await;
    fleet.config_map("hub").await;
    rolling_placement(&fleet, json!({"whenToTakeOver": "Never"})).await;
    let status = wait_binding(
        &fleet,
        "member1",
        "Applied",
        c3(
            "False",
            "NotAllWorkHaveBeenApplied",
            "Work object example-placement-work has failed to apply",
        ),
    )
    .await;
    let not_taken = "Failed to apply the manifest (error: no ownership of the object in the member cluster; takeover is needed)".to_string();
    assert_eq!(
        failures(&status),
        vec![
            (
                "Namespace".to_string(),
                "NotTakenOver".to_string(),
                not_taken.clone()
            ),
            (
                "ConfigMap".to_string(),
                "NotTakenOver".to_string(),
                not_taken
            ),
        ]
    );
    wait_placement(
        &fleet,
        "Applied",
        c3(
            "False",
            "ApplyFailed",
            "Failed to apply resources to 1 cluster(s), please check the `failedPlacements` status",
        ),
    )
    .await;
    let cm = member_cm(&fleet, "member1")
        .await
        .expect("member1's own test-cm");
    assert_eq!(data(&cm), json!({"key": "member"}));
    assert_eq!(cm.labels().get(OWNER_LABEL), None);

    // Deleting the placement leaves what fleetdeck never owned.
    Api::<ClusterResourcePlacement>::all(fleet.hub.clone())
        .delete(PLACEMENT, &Default::default())
        .await
        .expect("delete placement");
    eventually("the binding going", || async {
        match fleet.binding_opt("member1").await {
            None => Ok(()),
            Some(b) => Err(b.status),
        }
    })
    .await;
    fleet.settle().await;
    assert!(member_cm(&fleet, "member1").await.is_some());
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn takeover_if_no_diff_takes_over_only_an_object_equal_to_the_hubs() {
    let fleet = Fleet::members(&[("member1", "env=prod"), ("member2", "env=prod")]).await;
    pre_existing(&fleet, "member1", json!({"key": "hub"})).await;
    pre_existing(&fleet, "member2", json!({"key": "member"})).await;
    fleet.config_map("hub").await;
    rolling_placement(&fleet, json!({"whenToTakeOver": "IfNoDiff"})).await;

    wait_binding(
        &fleet,
        "member1",
        "Available",
        c3(
            "True",
            "AllWorkAreAvailable",
            "All corresponding work objects are available",
        ),
    )
    .await;
    let cm = member_cm(&fleet, "member1").await.expect("test-cm");
    assert_eq!(
        cm.labels().get(OWNER_LABEL).map(String::as_str),
        Some(RECORD)
    );

    let status = wait_binding(
        &fleet,
        "member2",
        "Applied",
        c3(
            "False",
            "NotAllWorkHaveBeenApplied",
            "Work object example-placement-work has failed to apply",
        ),
    )
    .await;
    assert_eq!(
        failures(&status),
        vec![(
            "ConfigMap".to_string(),
            "FailedToTakeOver".to_string(),
            "Failed to apply the manifest (error: cannot take over object: configuration differences are found between the manifest object and the corresponding object in the member cluster)".to_string()
        )]
    );
    let diffs = diffed(&status);
    assert_eq!(diffs.len(), 1);
    assert_eq!(
        details(&diffs[0].observed_diffs),
        vec![detail("/data/key", Some("member"), Some("hub"))]
    );
    let cm = member_cm(&fleet, "member2").await.expect("test-cm");
    assert_eq!(data(&cm), json!({"key": "member"}));
    assert_eq!(cm.labels().get(OWNER_LABEL), None);
    // The namespace was equal: taken over.
    let ns = Api::<Namespace>::all(fleet.member("member2"))
        .get(NS)
        .await
        .expect("namespace");
    assert_eq!(
        ns.labels().get(OWNER_LABEL).map(String::as_str),
        Some(RECORD)
    );
    let p = wait_placement(
        &fleet,
        "Applied",
        c3(
            "False",
            "ApplyFailed",
            "Failed to apply resources to 1 cluster(s), please check the `failedPlacements` status",
        ),
    )
    .await;
    let per = p
        .status
        .and_then(|s| s.placement_statuses)
        .expect("per cluster");
    let m2 = per
        .iter()
        .find(|c| c.cluster_name.as_deref() == Some("member2"))
        .expect("member2");
    assert_eq!(m2.diffed_placements.as_ref().map(Vec::len), Some(1));
    assert_eq!(m2.failed_placements.as_ref().map(Vec::len), Some(1));
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn takeover_always_takes_over_a_pre_existing_object() {
    let fleet = Fleet::members(&[("member1", "env=prod")]).await;
    pre_existing(&fleet, "member1", json!({"key": "member"})).await;
    fleet.config_map("hub").await;
    rolling_placement(&fleet, json!({"whenToTakeOver": "Always"})).await;
    fleet.wait_member_value("member1", "hub").await;
    let cm = member_cm(&fleet, "member1").await.expect("test-cm");
    assert_eq!(
        cm.labels().get(OWNER_LABEL).map(String::as_str),
        Some(RECORD)
    );
    wait_placement(
        &fleet,
        "Applied",
        c3(
            "True",
            "ApplySucceeded",
            "The selected resources are successfully applied to 1 cluster(s)",
        ),
    )
    .await;
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn server_side_apply_with_force_sets_the_hubs_fields_and_keeps_the_members_own() {
    let fleet = Fleet::members(&[("member1", "env=prod")]).await;
    pre_existing(
        &fleet,
        "member1",
        json!({"key": "member", "extra": "the member's"}),
    )
    .await;
    fleet.config_map("hub").await;
    rolling_placement(
        &fleet,
        json!({"type": "ServerSideApply", "serverSideApplyConfig": {"force": true}}),
    )
    .await;
    fleet.wait_member_value("member1", "hub").await;
    let cm = member_cm(&fleet, "member1").await.expect("test-cm");
    // An apply sets the fields it names; a replace (ClientSideApply here) would drop `extra`.
    assert_eq!(data(&cm), json!({"key": "hub", "extra": "the member's"}));
    assert_eq!(
        cm.labels().get(OWNER_LABEL).map(String::as_str),
        Some(RECORD)
    );
    wait_binding(
        &fleet,
        "member1",
        "Available",
        c3(
            "True",
            "AllWorkAreAvailable",
            "All corresponding work objects are available",
        ),
    )
    .await;
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_rolling_report_diff_resource_placement_reaches_every_cluster_and_writes_nothing() {
    use app::fleet::{ResourceBinding, ResourcePlacement};
    use kube::api::ListParams;
    let fleet = Fleet::members(&[
        ("member1", "env=prod"),
        ("member2", "env=prod"),
        ("member3", "env=prod"),
    ])
    .await;
    pre_existing(&fleet, "member1", json!({"key": "member"})).await;
    fleet.config_map("hub").await;
    // One cluster in flight at a time (25% of 3, at least 1): the rollout reaches the second
    // and third only once the first's diff is reported.
    fleet
        .apply(json!({"apiVersion": GV, "kind": "ResourcePlacement", "metadata": {"name": "rp", "namespace": NS},
            "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "ConfigMap", "name": "test-cm"}],
                     "policy": {"placementType": "PickAll"},
                     "strategy": {"type": "RollingUpdate", "applyStrategy": {"type": "ReportDiff"}}}}))
        .await;
    let bindings = Api::<ResourceBinding>::namespaced(fleet.hub.clone(), NS);
    let bindings = &bindings;
    let reported = eventually("three bindings with DiffReported True", || async move {
        let list = bindings
            .list(&ListParams::default().labels("kubernetes-fleet.io/parent-CRP=rp"))
            .await
            .expect("bindings")
            .items;
        let done = list.iter().filter(|b| {
            cond(
                b.status.as_ref().and_then(|s| s.conditions.as_ref()),
                "DiffReported",
            ) == c3(
                "True",
                "AllWorkHaveDiffReported",
                "All corresponding work objects have reported diff",
            )
        });
        match done.count() {
            3 => Ok(list),
            _ => Err(list.into_iter().map(|b| b.status).collect::<Vec<_>>()),
        }
    })
    .await;
    for b in &reported {
        let status = serde_json::to_value(&b.status).expect("status");
        let d = diffed(&status);
        assert_eq!(d.len(), 1, "{}: {d:?}", b.spec.target_cluster);
        let want = if b.spec.target_cluster == "member1" {
            detail("/data/key", Some("member"), Some("hub"))
        } else {
            detail("/", None, Some("(the whole object)"))
        };
        assert_eq!(details(&d[0].observed_diffs), vec![want]);
    }
    let cm = member_cm(&fleet, "member1")
        .await
        .expect("member1's own test-cm");
    assert_eq!(data(&cm), json!({"key": "member"}));
    for member in ["member2", "member3"] {
        assert!(member_cm(&fleet, member).await.is_none(), "{member}");
    }
    let rps = Api::<ResourcePlacement>::namespaced(fleet.hub.clone(), NS);
    let rps = &rps;
    eventually("the RP's DiffReported", || async move {
        let rp = rps.get("rp").await.expect("rp");
        let conds = rp.status.as_ref().and_then(|s| s.conditions.as_ref());
        match cond(conds, "ResourcePlacementDiffReported")
            == c3(
                "True",
                "DiffReportingCompleted",
                "Diff reporting in 3 cluster(s) has been completed",
            ) {
            true => Ok(()),
            false => Err(rp.status),
        }
    })
    .await;
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn full_comparison_reports_what_the_member_added_as_drifts_and_stays_applied() {
    let fleet = Fleet::members(&[("member1", "env=prod")]).await;
    fleet.config_map("hub").await;
    rolling_placement(&fleet, json!({"comparisonOption": "FullComparison"})).await;
    fleet.wait_member_value("member1", "hub").await;
    // Someone adds a key the hub's manifest does not have.
    Api::<ConfigMap>::namespaced(fleet.member("member1"), NS)
        .patch(
            "test-cm",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"extra": "added on member1"}})),
        )
        .await
        .expect("member edit");
    fleet.elapse(Duration::from_secs(31)).await;
    let status = eventually("member1's binding listing the drift", || async {
        let b = fleet.binding("member1").await;
        let status = serde_json::to_value(&b.status).expect("status");
        match drifted(&status).is_empty() {
            false => Ok(status),
            true => Err(b.status),
        }
    })
    .await;
    let drifts = drifted(&status);
    assert_eq!(drifts.len(), 1);
    assert_eq!(drifts[0].resource.kind, "ConfigMap");
    assert_eq!(
        details(&drifts[0].observed_drifts),
        vec![detail("/data/extra", Some("added on member1"), None)]
    );
    let conds = status["conditions"].clone();
    let conds: Vec<app::fleet::types::condition::Condition> =
        serde_json::from_value(conds).expect("conditions");
    assert_eq!(
        cond(Some(&conds), "Available"),
        c3(
            "True",
            "AllWorkAreAvailable",
            "All corresponding work objects are available"
        )
    );
    assert_eq!(failed(&status), vec![]);
    // The member keeps its key (a drift is reported, not undone), and the placement is all True
    // with the drift per cluster.
    let cm = member_cm(&fleet, "member1").await.expect("test-cm");
    assert_eq!(
        data(&cm),
        json!({"key": "hub", "extra": "added on member1"})
    );
    let p = wait_placement(
        &fleet,
        "Available",
        c3(
            "True",
            "ResourceAvailable",
            "The selected resources in 1 cluster(s) are available now",
        ),
    )
    .await;
    let per = p
        .status
        .and_then(|s| s.placement_statuses)
        .expect("per cluster");
    let placement_drifts = per[0].drifted_placements.clone().unwrap_or_default();
    assert_eq!(placement_drifts.len(), 1, "{per:?}");
    fleet.stop().await;
}
