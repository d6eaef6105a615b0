//! Placements end to end on a running fleetdeck (hub, engine, member agent and simulated members,
//! in-process): scheduling into bindings, RollingUpdate rollouts reaching every member, and
//! External placements waiting for update runs (spec §3.3, §5, §10.2).

use std::time::Duration;

use app::fleet::{
    ClusterResourceBinding, ClusterResourcePlacement, ClusterResourceSnapshot,
    ClusterSchedulingPolicySnapshot,
};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::wait::await_condition;
use serde_json::json;
use server::cli::ServeArgs;

/// Bounded wait, so that a broken engine fails the test instead of hanging it.
async fn eventually<K, F>(api: &Api<K>, name: &str, what: &str, check: F) -> K
where
    K: kube::Resource
        + Clone
        + std::fmt::Debug
        + serde::de::DeserializeOwned
        + Send
        + Sync
        + 'static,
    F: Fn(&K) -> bool + Send + 'static,
{
    let cond = move |o: Option<&K>| o.is_some_and(&check);
    match tokio::time::timeout(
        Duration::from_secs(30),
        await_condition(api.clone(), name, cond),
    )
    .await
    {
        Ok(Ok(Some(o))) => o,
        other => panic!("{name} never became {what}: {other:?}"),
    }
}

/// A fresh embedded fleetdeck (the demo fleet) whose hub holds seed 000's namespace and ConfigMap.
async fn start_seeded() -> (tempfile::TempDir, server::serve::Running) {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = server::serve::start(ServeArgs::ephemeral(dir.path()))
        .await
        .expect("starts");
    seed(&running.client).await;
    (dir, running)
}

/// The same, with `example-placement` of rollout `strategy` created on it.
async fn start_placed(
    strategy: &str,
) -> (
    tempfile::TempDir,
    server::serve::Running,
    Api<ClusterResourcePlacement>,
) {
    let (dir, running) = start_seeded().await;
    let crps: Api<ClusterResourcePlacement> = Api::all(running.client.clone());
    crps.create(&PostParams::default(), &placement(strategy))
        .await
        .expect("crp");
    (dir, running, crps)
}

async fn seed(hub: &kube::Client) {
    let ns: Api<Namespace> = Api::all(hub.clone());
    ns.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "test-namespace"}})).expect("ns"),
    )
    .await
    .expect("namespace");
    let cms: Api<ConfigMap> = Api::namespaced(hub.clone(), "test-namespace");
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(
            json!({"metadata": {"name": "test-cm"}, "data": {"key": "value1"}}),
        )
        .expect("cm"),
    )
    .await
    .expect("configmap");
}

fn placement(strategy: &str) -> ClusterResourcePlacement {
    serde_json::from_value(json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
        "metadata": {"name": "example-placement"},
        "spec": {
            "resourceSelectors": [{"group": "", "kind": "Namespace", "name": "test-namespace", "version": "v1"}],
            "policy": {"placementType": "PickAll"},
            "strategy": {"type": strategy}
        }
    }))
    .expect("crp")
}

fn placement_condition<'a>(
    crp: &'a ClusterResourcePlacement,
    type_: &str,
) -> Option<&'a app::fleet::types::condition::Condition> {
    let conditions = crp.status.as_ref()?.conditions.as_deref()?;
    app::fleet::types::condition::find_condition(conditions, type_)
}

fn condition(crp: &ClusterResourcePlacement, type_: &str) -> Option<String> {
    placement_condition(crp, type_).map(|c| c.status.clone())
}

#[tokio::test(start_paused = true)]
async fn a_rolling_update_placement_reaches_every_member_follows_edits_and_cleans_up() {
    let (_dir, running, crps) = start_placed("RollingUpdate").await;
    let hub = running.client.clone();

    for member in &running.members {
        let cms: Api<ConfigMap> = Api::namespaced(member.client.clone(), "test-namespace");
        eventually(&cms, "test-cm", "value1", |cm| {
            cm.data
                .as_ref()
                .and_then(|d| d.get("key"))
                .map(String::as_str)
                == Some("value1")
        })
        .await;
    }
    let crp = eventually(&crps, "example-placement", "available", |c| {
        condition(c, "ClusterResourcePlacementAvailable").as_deref() == Some("True")
    })
    .await;
    let status = crp.status.expect("status");
    assert_eq!(status.observed_resource_index.as_deref(), Some("0"));
    assert_eq!(status.placement_statuses.as_ref().map(Vec::len), Some(3));

    // An edit on the hub becomes snapshot 1 and reaches the members.
    let cms: Api<ConfigMap> = Api::namespaced(hub.clone(), "test-namespace");
    cms.patch(
        "test-cm",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"key": "value2"}})),
    )
    .await
    .expect("edit");
    for member in &running.members {
        let cms: Api<ConfigMap> = Api::namespaced(member.client.clone(), "test-namespace");
        eventually(&cms, "test-cm", "value2", |cm| {
            cm.data
                .as_ref()
                .and_then(|d| d.get("key"))
                .map(String::as_str)
                == Some("value2")
        })
        .await;
    }
    let snapshots: Api<ClusterResourceSnapshot> = Api::all(hub.clone());
    assert_eq!(
        snapshots
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .len(),
        2
    );

    // Deleting the placement removes what it placed.
    crps.delete("example-placement", &DeleteParams::default())
        .await
        .expect("delete");
    for member in &running.members {
        let namespaces: Api<Namespace> = Api::all(member.client.clone());
        let cond = |ns: Option<&Namespace>| ns.is_none();
        tokio::time::timeout(
            Duration::from_secs(30),
            await_condition(namespaces, "test-namespace", cond),
        )
        .await
        .expect("the namespace leaves the member")
        .expect("watch");
    }
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

/// Regression: the member agent used to remove a binding's objects as soon as the scheduler set
/// it Unscheduled; now they leave when the binding is deleted, which for a RollingUpdate
/// placement the placement controller does (spec §5).
#[tokio::test(start_paused = true)]
async fn a_rolling_update_placement_removes_what_it_placed_from_a_deselected_member() {
    let (_dir, running, crps) = start_placed("RollingUpdate").await;
    let hub = running.client.clone();
    let value_on = |member: &str| {
        let client = running
            .members
            .iter()
            .find(|m| m.config.name == member)
            .expect("member")
            .client
            .clone();
        Api::<ConfigMap>::namespaced(client, "test-namespace")
    };
    for member in ["member1", "member2", "member3"] {
        eventually(&value_on(member), "test-cm", "placed", |_| true).await;
    }

    // Only the canaries stay selected: member2's binding goes, and what it placed with it.
    crps.patch(
        "example-placement",
        &PatchParams::default(),
        &Patch::Merge(
            json!({"spec": {"policy": {"placementType": "PickAll", "affinity": {"clusterAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
                {"labelSelector": {"matchLabels": {"environment": "canary"}}}]}}}}}}),
        ),
    )
    .await
    .expect("deselect member2");
    let member2 = value_on("member2");
    tokio::time::timeout(
        Duration::from_secs(30),
        await_condition(member2, "test-cm", |cm: Option<&ConfigMap>| cm.is_none()),
    )
    .await
    .expect("the ConfigMap leaves member2")
    .expect("watch");
    let bindings: Api<ClusterResourceBinding> = Api::all(hub.clone());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let targets: Vec<String> = bindings
            .list(&ListParams::default())
            .await
            .expect("bindings")
            .items
            .into_iter()
            .map(|b| b.spec.target_cluster)
            .collect();
        if !targets.contains(&"member2".to_string()) {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "member2's binding stays: {targets:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for member in ["member1", "member3"] {
        assert!(
            value_on(member)
                .get_opt("test-cm")
                .await
                .expect("get")
                .is_some(),
            "{member} keeps it"
        );
    }
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

#[tokio::test(start_paused = true)]
async fn an_external_placement_is_scheduled_but_waits_for_a_run() {
    let (_dir, running, crps) = start_placed("External").await;
    let hub = running.client.clone();
    let crp = eventually(&crps, "example-placement", "scheduled", |c| {
        condition(c, "ClusterResourcePlacementScheduled").as_deref() == Some("True")
    })
    .await;
    let conditions = crp.status.and_then(|s| s.conditions).unwrap_or_default();
    let rollout = conditions
        .iter()
        .find(|c| c.type_ == "ClusterResourcePlacementRolloutStarted")
        .expect("rollout condition");
    assert_eq!(
        (rollout.status.as_str(), rollout.reason.as_str()),
        ("Unknown", "RolloutControlledByExternalController")
    );
    assert!(conditions
        .iter()
        .all(|c| c.type_ != "ClusterResourcePlacementAvailable"));

    let bindings: Api<ClusterResourceBinding> = Api::all(hub.clone());
    let mut targets: Vec<(String, String)> = bindings
        .list(&ListParams::default())
        .await
        .expect("bindings")
        .items
        .into_iter()
        .map(|b| {
            (
                b.spec.target_cluster.clone(),
                b.spec.state.as_str().to_string(),
            )
        })
        .collect();
    targets.sort();
    assert_eq!(
        targets,
        [
            ("member1".into(), "Scheduled".into()),
            ("member2".into(), "Scheduled".into()),
            ("member3".into(), "Scheduled".into())
        ]
    );
    let policies: Api<ClusterSchedulingPolicySnapshot> = Api::all(hub.clone());
    let policy = policies
        .get("example-placement-0")
        .await
        .expect("policy snapshot");
    assert_eq!(
        policy
            .status
            .and_then(|s| s.target_clusters)
            .map(|t| t.len()),
        Some(3)
    );
    let snapshots: Api<ClusterResourceSnapshot> = Api::all(hub.clone());
    assert!(
        snapshots
            .list(&ListParams::default())
            .await
            .expect("list")
            .items
            .is_empty(),
        "External: no snapshot until a run"
    );
    let members: Api<Namespace> = Api::all(running.members[0].client.clone());
    assert!(
        members
            .get_opt("test-namespace")
            .await
            .expect("get")
            .is_none(),
        "nothing placed yet"
    );
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

/// An update run initializes the moment the policy snapshot says Scheduled and counts the
/// bindings then (spec §9.3 step 3), so the scheduler must have written every binding first.
#[tokio::test(start_paused = true)]
async fn a_policy_snapshot_is_scheduled_only_once_all_its_bindings_exist() {
    use futures::StreamExt;
    use kube::runtime::{watcher, WatchStreamExt};

    let (_dir, running) = start_seeded().await;
    let hub = running.client.clone();
    let snapshots: Api<ClusterSchedulingPolicySnapshot> = Api::all(hub.clone());
    let mut events = std::pin::pin!(watcher(snapshots, watcher::Config::default())
        .default_backoff()
        .applied_objects());
    Api::<ClusterResourcePlacement>::all(hub.clone())
        .create(&PostParams::default(), &placement("External"))
        .await
        .expect("crp");
    let scheduled = tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(Ok(snapshot)) = events.next().await {
            let is_scheduled = snapshot
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| {
                    cs.iter()
                        .any(|c| c.type_ == "Scheduled" && c.status == "True")
                });
            if is_scheduled {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(
        scheduled,
        Ok(true),
        "the policy snapshot was never scheduled"
    );
    let bindings = Api::<ClusterResourceBinding>::all(hub.clone())
        .list(&ListParams::default())
        .await
        .expect("bindings")
        .items;
    assert_eq!(
        bindings.len(),
        3,
        "every selected cluster has its binding by then"
    );
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

/// Selectors the engine cannot follow leave the placement `Scheduled` False with KubeFleet's
/// reason and the selection error (not only a log line), and nothing reaches a member; fixing
/// the spec rolls out as usual.
#[tokio::test(start_paused = true)]
async fn invalid_resource_selectors_are_reported_on_the_placement_until_fixed() {
    let (_dir, running) = start_seeded().await;
    let crps: Api<ClusterResourcePlacement> = Api::all(running.client.clone());
    let mut crp = placement("RollingUpdate");
    crp.spec.resource_selectors[0].kind = "ConfigMap".into();
    crps.create(&PostParams::default(), &crp)
        .await
        .expect("crp");

    let invalid = eventually(&crps, "example-placement", "invalid", |c| {
        condition(c, "ClusterResourcePlacementScheduled").as_deref() == Some("False")
    })
    .await;
    let scheduled =
        placement_condition(&invalid, "ClusterResourcePlacementScheduled").expect("Scheduled");
    assert_eq!(scheduled.reason, "InvalidResourceSelectors");
    assert_eq!(
        scheduled.message,
        "The resource selectors are invalid: a ClusterResourcePlacement cannot select the namespaced kind ConfigMap; select its Namespace instead"
    );
    assert_eq!(scheduled.observed_generation, Some(1));
    let snapshots: Api<ClusterResourceSnapshot> = Api::all(running.client.clone());
    assert!(snapshots
        .list(&ListParams::default())
        .await
        .expect("snapshots")
        .items
        .is_empty());

    crps.patch(
        "example-placement",
        &PatchParams::default(),
        &Patch::Merge(json!({"spec": {"resourceSelectors": [
            {"group": "", "kind": "Namespace", "name": "test-namespace", "version": "v1"}]}})),
    )
    .await
    .expect("fix");
    eventually(&crps, "example-placement", "scheduled and available", |c| {
        condition(c, "ClusterResourcePlacementScheduled").as_deref() == Some("True")
            && condition(c, "ClusterResourcePlacementAvailable").as_deref() == Some("True")
    })
    .await;
    for member in &running.members {
        let cms: Api<ConfigMap> = Api::namespaced(member.client.clone(), "test-namespace");
        assert!(cms.get_opt("test-cm").await.expect("get").is_some());
    }
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}
