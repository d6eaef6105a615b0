//! A placement's own status on a whole fleetdeck (placement-extras §5.2): the selected resources
//! it reports come from every snapshot of the observed group, not only the master.

mod fleet_support;

use app::fleet::ClusterResourcePlacement;
use fleet_support::*;
use kube::api::Api;
use serde_json::json;

/// Three ConfigMaps of 400 KiB do not fit one 800 KiB snapshot (spec §4.1), so the group has
/// sub-indexed snapshots; the placement still lists the namespace and all three ConfigMaps.
#[tokio::test(start_paused = true)]
async fn selected_resources_come_from_every_snapshot_of_a_multi_chunk_group() {
    let fleet = Fleet::members(&[("member1", "environment=staging")]).await;
    fleet
        .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "big"}}))
        .await;
    let filler = "x".repeat(400 * 1024);
    for i in 0..3 {
        fleet
            .apply(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": format!("cm-{i}"), "namespace": "big"}, "data": {"filler": filler}}))
            .await;
    }
    fleet.apply(json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
        "metadata": {"name": "big-placement"},
        "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "big"}],
                 "policy": {"placementType": "PickAll"}, "strategy": {"type": "RollingUpdate"}}}))
        .await;
    let snapshots: Api<app::fleet::ClusterResourceSnapshot> = Api::all(fleet.hub.clone());
    let snapshots = &snapshots;
    eventually(
        "snapshot group 0 having sub-indexed snapshots",
        || async move {
            let group = snapshots
            .list(&kube::api::ListParams::default().labels(
                "kubernetes-fleet.io/parent-CRP=big-placement,kubernetes-fleet.io/resource-index=0",
            ))
            .await
            .expect("snapshots")
            .items
            .len();
            if group > 1 {
                Ok(())
            } else {
                Err(group)
            }
        },
    )
    .await;
    let placements: Api<ClusterResourcePlacement> = Api::all(fleet.hub.clone());
    let placements = &placements;
    let status = eventually("the placement reporting index 0", || async move {
        let crp = placements.get("big-placement").await.expect("placement");
        match crp.status {
            Some(s) if s.observed_resource_index.as_deref() == Some("0") => Ok(s),
            other => Err(other),
        }
    })
    .await;
    let mut selected: Vec<(String, String)> = status
        .selected_resources
        .iter()
        .flatten()
        .map(|r| (r.kind.clone(), r.name.clone()))
        .collect();
    selected.sort();
    assert_eq!(
        selected,
        [
            ("ConfigMap".to_string(), "cm-0".to_string()),
            ("ConfigMap".to_string(), "cm-1".to_string()),
            ("ConfigMap".to_string(), "cm-2".to_string()),
            ("Namespace".to_string(), "big".to_string()),
        ]
    );
    fleet.stop().await;
}

/// placement-extras §5.2 row 1: an External placement that selects no cluster shows only
/// `…Scheduled`, no observed index, and what its selectors select now.
#[tokio::test(start_paused = true)]
async fn an_external_placement_on_no_cluster_shows_its_live_selection() {
    let fleet = Fleet::members(&[("member1", "environment=staging")]).await;
    fleet.config_map("value1").await;
    fleet.apply(json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
        "metadata": {"name": PLACEMENT},
        "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "test-namespace"}],
                 "policy": {"placementType": "PickAll", "affinity": {"clusterAffinity": {
                     "requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
                         {"labelSelector": {"matchLabels": {"environment": "nowhere"}}}]}}}},
                 "strategy": {"type": "External"}}}))
        .await;
    let placements: Api<ClusterResourcePlacement> = Api::all(fleet.hub.clone());
    let placements = &placements;
    let status = eventually("the placement reporting its schedule", || async move {
        let crp = placements.get(PLACEMENT).await.expect("placement");
        match crp.status {
            Some(s) if s.selected_resources.as_ref().is_some_and(|r| !r.is_empty()) => Ok(s),
            other => Err(other),
        }
    })
    .await;
    assert_eq!(
        status
            .conditions
            .iter()
            .flatten()
            .map(|c| (
                c.type_.as_str(),
                c.status.as_str(),
                c.reason.as_str(),
                c.message.as_str()
            ))
            .collect::<Vec<_>>(),
        [(
            "ClusterResourcePlacementScheduled",
            "True",
            "SchedulingPolicyFulfilled",
            "found all cluster needed as specified by the scheduling policy, found 0 cluster(s)"
        )]
    );
    assert_eq!(status.observed_resource_index.as_deref(), Some(""));
    let mut selected: Vec<(String, String)> = status
        .selected_resources
        .iter()
        .flatten()
        .map(|r| (r.kind.clone(), r.name.clone()))
        .collect();
    selected.sort();
    assert_eq!(
        selected,
        [
            ("ConfigMap".to_string(), "test-cm".to_string()),
            ("Namespace".to_string(), "test-namespace".to_string()),
        ]
    );
    let snapshots: Api<app::fleet::ClusterResourceSnapshot> = Api::all(fleet.hub.clone());
    assert!(
        snapshots
            .list(&Default::default())
            .await
            .expect("snapshots")
            .items
            .is_empty(),
        "an External placement snapshots nothing itself"
    );
    fleet.stop().await;
}
