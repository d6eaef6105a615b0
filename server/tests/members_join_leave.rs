//! Members leaving and rejoining the fleet (placement-extras §4, §3.8; staged-update runs meeting
//! a departed cluster, §4.5) on a whole embedded fleetdeck, paused clock: deleting a MemberCluster
//! unschedules its bindings and leaves what was placed on the member alone; the cleanup finalizer
//! of a binding never waits for a member that is gone; re-creating the MemberCluster joins it
//! again and placements pick it up.

mod fleet_support;

use app::fleet::placement::membership::MEMBER_CLUSTER_FINALIZER;
use app::fleet::{
    ClusterResourcePlacement, ClusterSchedulingPolicySnapshot, MemberCluster, ResourceBinding,
};
use fleet_support::*;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, DeleteParams, Patch, PatchParams};
use serde_json::json;

const TWO: [(&str, &str); 2] = [
    ("member1", "environment=canary"),
    ("member2", "environment=staging"),
];

fn members(fleet: &Fleet) -> Api<MemberCluster> {
    Api::all(fleet.hub.clone())
}

/// A RollingUpdate placement of `test-namespace` (PickAll unless `policy` says otherwise).
async fn rolling_placement(fleet: &Fleet, name: &str, namespace: &str, policy: serde_json::Value) {
    fleet
        .apply(json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
            "metadata": {"name": name},
            "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": namespace}],
                     "policy": policy,
                     "strategy": {"type": "RollingUpdate"}}}))
        .await;
}

/// Deletes the MemberCluster, as `kubectl delete membercluster NAME` does.
async fn delete_member(fleet: &Fleet, name: &str) {
    members(fleet)
        .delete(name, &DeleteParams::default())
        .await
        .expect("delete membercluster");
}

async fn wait_member_gone(fleet: &Fleet, name: &str) {
    let api = members(fleet);
    let api = &api;
    eventually(format!("membercluster {name} gone"), || async move {
        match api.get_opt(name).await.expect("get") {
            None => Ok(()),
            Some(m) => Err(m),
        }
    })
    .await;
}

async fn wait_no_binding(fleet: &Fleet, cluster: &str) {
    eventually(format!("no binding for {cluster}"), || async {
        match fleet.binding_opt(cluster).await {
            None => Ok(()),
            Some(b) => Err(b),
        }
    })
    .await;
}

/// `Joined` of the member as (status, reason, message).
fn joined(m: &MemberCluster) -> Option<(String, String, String)> {
    cond(m.status.as_ref()?.conditions.as_ref(), "Joined")
}

/// The clusters the placement's status lists.
async fn placed_on(fleet: &Fleet, placement: &str) -> Vec<String> {
    let crps: Api<ClusterResourcePlacement> = Api::all(fleet.hub.clone());
    let crp = crps.get(placement).await.expect("placement");
    crp.status
        .and_then(|s| s.placement_statuses)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|s| s.cluster_name)
        .collect()
}

/// The reason of the first unselected decision of `placement`'s latest policy snapshot.
async fn fixed_decision(fleet: &Fleet, placement: &str) -> Option<String> {
    let api: Api<ClusterSchedulingPolicySnapshot> = Api::all(fleet.hub.clone());
    let latest = format!(
        "kubernetes-fleet.io/parent-CRP={placement},kubernetes-fleet.io/is-latest-snapshot=true"
    );
    let snapshots = api
        .list(&kube::api::ListParams::default().labels(&latest))
        .await
        .expect("policy snapshots")
        .items;
    snapshots
        .into_iter()
        .next()?
        .status?
        .target_clusters?
        .into_iter()
        .find(|d| !d.selected)?
        .reason
}

#[tokio::test(start_paused = true)]
async fn a_member_that_leaves_has_its_bindings_removed_and_keeps_what_was_placed() {
    let fleet = Fleet::members(&TWO).await;
    fleet.config_map("value1").await;
    rolling_placement(
        &fleet,
        PLACEMENT,
        "test-namespace",
        json!({"placementType": "PickAll"}),
    )
    .await;
    fleet.wait_member_value("member1", "value1").await;
    fleet.wait_member_value("member2", "value1").await;
    let binding = fleet.wait_bound("member2").await;
    assert!(
        binding
            .metadata
            .finalizers
            .iter()
            .flatten()
            .any(|f| f == "fleetdeck.dev/member-cleanup"),
        "the agent holds a rolled-out binding with its cleanup finalizer"
    );

    delete_member(&fleet, "member2").await;
    wait_member_gone(&fleet, "member2").await;
    // Unscheduled, then deleted by the rollout: its cleanup finalizer did not wait for member2.
    wait_no_binding(&fleet, "member2").await;
    eventually("the placement listing member1 only", || async {
        match placed_on(&fleet, PLACEMENT).await {
            clusters if clusters == ["member1"] => Ok(()),
            clusters => Err(clusters),
        }
    })
    .await;
    fleet.settle().await;
    assert_eq!(
        fleet.member_value("member2").await.as_deref(),
        Some("value1"),
        "what was placed on the departed member stays"
    );
    let namespaces: Api<Namespace> = Api::all(fleet.member("member2"));
    assert!(
        namespaces
            .get_opt("test-namespace")
            .await
            .expect("get")
            .is_some(),
        "the placed namespace stays too"
    );

    // A change rolls out to the members of the fleet only.
    fleet.config_map("value2").await;
    fleet.wait_member_value("member1", "value2").await;
    fleet.settle().await;
    assert_eq!(
        fleet.member_value("member2").await.as_deref(),
        Some("value1")
    );
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_namespaced_placement_on_a_member_that_leaves_loses_its_binding_and_keeps_its_objects() {
    const GV: &str = "placement.kubernetes-fleet.io/v1beta1";
    let fleet = Fleet::members(&TWO).await;
    fleet.config_map("value1").await;
    // The namespace reaches the members by a CRP of the namespace alone; the ConfigMap by an RP.
    fleet
        .apply(json!({"apiVersion": GV, "kind": "ClusterResourcePlacement", "metadata": {"name": "ns-placement"},
            "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "test-namespace",
                                            "selectionScope": "NamespaceOnly"}],
                     "policy": {"placementType": "PickAll"}, "strategy": {"type": "RollingUpdate"}}}))
        .await;
    fleet
        .apply(json!({"apiVersion": GV, "kind": "ResourcePlacement",
            "metadata": {"name": "rp", "namespace": "test-namespace"},
            "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "ConfigMap", "name": "test-cm"}],
                     "policy": {"placementType": "PickAll"}, "strategy": {"type": "RollingUpdate"}}}))
        .await;
    fleet.wait_member_value("member2", "value1").await;
    let bindings: Api<ResourceBinding> = Api::namespaced(fleet.hub.clone(), "test-namespace");
    let of_member2 = || async {
        bindings
            .list(&kube::api::ListParams::default())
            .await
            .expect("bindings")
            .items
            .into_iter()
            .filter(|b| b.spec.target_cluster == "member2")
            .count()
    };
    assert_eq!(of_member2().await, 1, "the RP's binding to member2");

    delete_member(&fleet, "member2").await;
    wait_member_gone(&fleet, "member2").await;
    eventually("no ResourceBinding for member2", || async {
        match of_member2().await {
            0 => Ok(()),
            n => Err(n),
        }
    })
    .await;
    fleet.settle().await;
    assert_eq!(
        fleet.member_value("member2").await.as_deref(),
        Some("value1"),
        "the RP's ConfigMap stays on the departed member"
    );
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_leaving_member_reports_kubefleets_left_conditions() {
    let fleet = Fleet::members(&TWO).await;
    let api = members(&fleet);
    let api = &api;
    eventually("member2 held by the membership finalizer", || async move {
        let m = api.get("member2").await.expect("member2");
        match m.metadata.finalizers.as_deref() {
            Some([f]) if f == MEMBER_CLUSTER_FINALIZER => Ok(()),
            _ => Err(m),
        }
    })
    .await;
    // Someone else's finalizer keeps the object readable once fleetdeck lets it go.
    api.patch(
        "member2",
        &PatchParams::default(),
        &Patch::Merge(
            json!({"metadata": {"finalizers": [MEMBER_CLUSTER_FINALIZER, "fleetdeck.test/hold"]}}),
        ),
    )
    .await
    .expect("hold");
    delete_member(&fleet, "member2").await;
    let left = eventually("member2 let go by fleetdeck", || async move {
        let m = api.get("member2").await.expect("member2");
        match m.metadata.finalizers.as_deref() {
            Some([f]) if f == "fleetdeck.test/hold" => Ok(m),
            _ => Err(m),
        }
    })
    .await;
    let conditions = left.status.as_ref().and_then(|s| s.conditions.as_ref());
    assert_eq!(
        joined(&left),
        Some((
            "False".into(),
            "MemberClusterLeft".into(),
            "Member cluster has left the fleet".into()
        ))
    );
    assert_eq!(
        cond(conditions, "ReadyToJoin"),
        Some((
            "False".into(),
            "MemberClusterNotReadyToJoin".into(),
            "Member cluster is not ready to join the fleet".into()
        ))
    );
    let agent = left
        .status
        .as_ref()
        .and_then(|s| s.agent("MemberAgent"))
        .expect("member agent status");
    assert_eq!(
        cs(agent.conditions.as_ref(), "Joined"),
        sr("False", "InternalMemberClusterLeft")
    );
    // No heartbeat writes back the joined conditions of a member that left.
    fleet.elapse(std::time::Duration::from_secs(300)).await;
    assert_eq!(
        joined(&api.get("member2").await.expect("member2")).map(|j| j.1),
        Some("MemberClusterLeft".into())
    );
    api.patch(
        "member2",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .expect("release");
    wait_member_gone(&fleet, "member2").await;
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_member_that_rejoins_is_joined_scheduled_again_and_gets_the_current_resources() {
    let fleet = Fleet::members(&TWO).await;
    fleet.config_map("value1").await;
    rolling_placement(
        &fleet,
        PLACEMENT,
        "test-namespace",
        json!({"placementType": "PickAll"}),
    )
    .await;
    // A PickFixed placement naming member2, of another namespace.
    fleet
        .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "fixed-namespace"}}))
        .await;
    rolling_placement(
        &fleet,
        "fixed-placement",
        "fixed-namespace",
        json!({"placementType": "PickFixed", "clusterNames": ["member2"]}),
    )
    .await;
    // A PickN placement of two, of a third namespace.
    fleet
        .apply(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "pickn-namespace"}}))
        .await;
    rolling_placement(
        &fleet,
        "pickn-placement",
        "pickn-namespace",
        json!({"placementType": "PickN", "numberOfClusters": 2}),
    )
    .await;
    fleet.wait_member_value("member2", "value1").await;
    let member2_namespaces: Api<Namespace> = Api::all(fleet.member("member2"));
    let fixed_on_member2 = || async {
        match member2_namespaces.get_opt("fixed-namespace").await {
            Ok(Some(_)) => Ok(()),
            other => Err(other.map(|n| n.is_some()).ok()),
        }
    };
    eventually("fixed-namespace on member2", fixed_on_member2).await;

    delete_member(&fleet, "member2").await;
    wait_member_gone(&fleet, "member2").await;
    wait_no_binding(&fleet, "member2").await;
    // PickFixed keeps the departed name (§4.2 step 5); PickN finds one cluster of two.
    eventually(
        "fixed-placement's decision for the departed member2",
        || async {
            match fixed_decision(&fleet, "fixed-placement").await {
                Some(reason) if reason == "Specified cluster \"member2\" is not found" => Ok(()),
                other => Err(other),
            }
        },
    )
    .await;
    eventually("pickn-placement on member1 only", || async {
        match placed_on(&fleet, "pickn-placement").await {
            clusters if clusters == ["member1"] => Ok(()),
            clusters => Err(clusters),
        }
    })
    .await;
    fleet.config_map("value2").await;
    fleet.wait_member_value("member1", "value2").await;
    assert_eq!(
        fleet.member_value("member2").await.as_deref(),
        Some("value1")
    );

    // Re-created, as `fleetdeck member join member2 --label environment=staging` does.
    let member =
        server::members::commands::member_cluster("member2", &["environment=staging".into()])
            .expect("member");
    let rejoined = server::members::commands::join(&fleet.hub, &member, DEADLINE)
        .await
        .expect("member2 joins again");
    assert_eq!(
        joined(&rejoined).map(|j| (j.0, j.1)),
        Some(("True".into(), "MemberClusterJoined".into()))
    );
    // PickAll picks it up and the RollingUpdate rolls the current resources out to it.
    fleet.wait_member_value("member2", "value2").await;
    fleet.wait_bound("member2").await;
    eventually("the placement listing both members", || async {
        let mut clusters = placed_on(&fleet, PLACEMENT).await;
        clusters.sort();
        match clusters == ["member1", "member2"] {
            true => Ok(()),
            false => Err(clusters),
        }
    })
    .await;
    // PickN picks it again to make two.
    eventually("pickn-placement on both members", || async {
        let mut clusters = placed_on(&fleet, "pickn-placement").await;
        clusters.sort();
        match clusters == ["member1", "member2"] {
            true => Ok(()),
            false => Err(clusters),
        }
    })
    .await;
    // PickFixed gets it back by name.
    eventually("fixed-placement listing member2", || async {
        match placed_on(&fleet, "fixed-placement").await {
            clusters if clusters == ["member2"] => Ok(()),
            clusters => Err(clusters),
        }
    })
    .await;
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_run_in_progress_fails_when_a_cluster_leaves_and_the_next_run_deletes_its_binding_only() {
    let fleet = Fleet::members(&[
        ("member1", "environment=canary,order=2"),
        ("member2", "environment=staging"),
        ("member3", "environment=canary,order=1"),
    ])
    .await;
    fleet.held_workload("value1").await;
    fleet.external_placement().await;
    fleet
        .strategy(json!([
            {"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}}, "sortingLabelKey": "order"},
            {"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}},
             "beforeStageTasks": [{"type": "Approval"}]}]))
        .await;
    fleet
        .wait_scheduled(&["member1", "member2", "member3"])
        .await;
    fleet.run("first-run", None, "Run").await;
    fleet.release("member3", "value1").await;
    fleet.release("member1", "value1").await;
    fleet
        .wait_run("first-run", "waiting for the staging approval", |r| {
            r.status
                .as_ref()
                .and_then(|s| s.stages_status.as_ref())
                .is_some_and(|stages| {
                    stages.len() == 2 && cs(stages[0].conditions.as_ref(), "Succeeded").is_some()
                })
        })
        .await;

    // member3 leaves while the run waits: its stage changed, so the run fails (SU §9.4 step 5).
    delete_member(&fleet, "member3").await;
    let run = fleet
        .wait_run("first-run", "Failed", |r| {
            cs(run_conds(r), "Succeeded") == sr("False", "UpdateRunFailed")
        })
        .await;
    assert_eq!(
        cond(run_conds(&run), "Succeeded"),
        Some((
            "False".into(),
            "UpdateRunFailed".into(),
            "cannot continue the updateRun: failed to validate the updateRun: the number of clusters in index `0` stage has changed, new: 1, existing: 2".into()
        ))
    );
    wait_member_gone(&fleet, "member3").await;

    // The next run (§4.5): member3's Unscheduled binding is in the deletion stage only.
    let _approver = fleet.approve_everything();
    fleet.run("second-run", None, "Run").await;
    let run = fleet
        .wait_run("second-run", "Initialized", |r| {
            cs(run_conds(r), "Initialized").is_some()
        })
        .await;
    assert_eq!(
        cs(run_conds(&run), "Initialized"),
        sr("True", "UpdateRunInitializedSuccessfully")
    );
    let status = run.status.as_ref().expect("status");
    assert_eq!(
        status.policy_observed_cluster_count,
        Some(2),
        "the remaining selected clusters"
    );
    assert_eq!(cluster_names(&run, 0), ["member1"]);
    assert_eq!(cluster_names(&run, 1), ["member2"]);
    let deletion = status
        .deletion_stage_status
        .as_ref()
        .expect("deletion stage");
    assert_eq!(
        deletion
            .clusters()
            .iter()
            .map(|c| c.cluster_name.as_str())
            .collect::<Vec<_>>(),
        ["member3"]
    );
    fleet.release("member2", "value1").await;
    let run = fleet
        .wait_run("second-run", "Succeeded", is_succeeded)
        .await;
    let deletion = run
        .status
        .as_ref()
        .and_then(|s| s.deletion_stage_status.as_ref())
        .expect("deletion stage");
    assert_eq!(
        cs(deletion.clusters()[0].conditions.as_ref(), "Succeeded"),
        sr("True", "ClusterUpdatingSucceeded")
    );
    assert!(
        fleet.binding_opt("member3").await.is_none(),
        "the departed cluster's binding is deleted"
    );
    assert_eq!(
        fleet.contents("member3").await,
        Contents::of("value1"),
        "what was placed on the departed cluster stays"
    );
    fleet.stop().await;
}

/// Runs `program` with `args`; (exit success, stdout, stderr).
async fn run(program: &str, args: &[&str], stdin: &str) -> (bool, String, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(program)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"));
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.as_bytes())
        .await
        .expect("stdin written");
    drop(input);
    let out = child.wait_with_output().await.expect("ends");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

#[tokio::test]
async fn fleetdeck_member_join_and_leave_and_kubectl_on_the_membercluster_work_while_fleetdeck_runs(
) {
    const KUBECTL: &str = "/usr/bin/kubectl";
    if !std::path::Path::new(KUBECTL).exists() {
        eprintln!("SKIPPED: /usr/bin/kubectl is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("data dir");
    let running = server::serve::start(server::cli::ServeArgs::ephemeral(dir.path()))
        .await
        .expect("fleetdeck starts");
    let cache = tempfile::tempdir().expect("kubectl cache");
    let kubeconfig = running.kubeconfig.display().to_string();
    let data_dir = dir.path().display().to_string();
    let kubectl = |args: &[&str]| {
        let mut all = vec!["--kubeconfig", &kubeconfig, "--cache-dir"];
        all.push(cache.path().to_str().expect("utf-8 path"));
        all.extend_from_slice(args);
        let all: Vec<String> = all.into_iter().map(str::to_string).collect();
        async move {
            let all: Vec<&str> = all.iter().map(String::as_str).collect();
            run(KUBECTL, &all, "").await
        }
    };
    let fleetdeck = env!("CARGO_BIN_EXE_fleetdeck");

    let (ok, out, err) = run(
        fleetdeck,
        &[
            "member",
            "join",
            "member4",
            "--label",
            "environment=canary",
            "--label",
            "order=3",
            "--data-dir",
            &data_dir,
            "-o",
            "table",
        ],
        "",
    )
    .await;
    assert!(ok, "join: {err}");
    assert_eq!(
        out,
        "membercluster.cluster.kubernetes-fleet.io/member4 joined"
    );
    let joined = r#"-o=jsonpath={.status.conditions[?(@.type=="Joined")].status}"#;
    assert_eq!(
        kubectl(&["get", "membercluster", "member4", joined])
            .await
            .1,
        "True"
    );
    assert_eq!(
        kubectl(&[
            "get",
            "membercluster",
            "member4",
            "-o=jsonpath={.metadata.labels.order}"
        ])
        .await
        .1,
        "3"
    );
    // The new member's own API, through its context in the kubeconfig.
    let (ok, out, err) = kubectl(&[
        "--context",
        "member4",
        "get",
        "namespace",
        "default",
        "-o",
        "name",
    ])
    .await;
    assert!(ok, "member4's API: {err}");
    assert_eq!(out, "namespace/default");

    let (ok, out, err) = run(
        fleetdeck,
        &["member", "leave", "member4", "--data-dir", &data_dir],
        "",
    )
    .await;
    assert!(ok, "leave: {err}");
    assert_eq!(
        out,
        "membercluster.cluster.kubernetes-fleet.io/member4 left"
    );
    let (ok, _, err) = kubectl(&["get", "membercluster", "member4"]).await;
    assert!(!ok && err.contains("NotFound"), "{err}");
    let (_, contexts, _) = kubectl(&["config", "get-contexts", "-o", "name"]).await;
    assert!(!contexts.lines().any(|c| c == "member4"), "{contexts}");

    // kubectl on the MemberCluster object itself: create joins, delete leaves.
    let member5 = "apiVersion: cluster.kubernetes-fleet.io/v1beta1\nkind: MemberCluster\nmetadata:\n  name: member5\n  labels:\n    environment: staging\nspec:\n  identity:\n    kind: ServiceAccount\n    name: fleet-member-agent-sa\n    namespace: fleet-member-member5\n";
    let mut apply = vec![
        "--kubeconfig".to_string(),
        kubeconfig.clone(),
        "--cache-dir".into(),
    ];
    apply.push(cache.path().display().to_string());
    apply.extend(["apply".into(), "-f".into(), "-".into()]);
    let apply: Vec<&str> = apply.iter().map(String::as_str).collect();
    let (ok, _, err) = run(KUBECTL, &apply, member5).await;
    assert!(ok, "apply: {err}");
    let (ok, _, err) = kubectl(&[
        "wait",
        "--for=condition=Joined",
        "membercluster/member5",
        "--timeout=60s",
    ])
    .await;
    assert!(ok, "member5 joins: {err}");
    let (ok, _, err) = kubectl(&["delete", "membercluster", "member5"]).await;
    assert!(ok, "delete: {err}");
    let (ok, _, err) = kubectl(&["get", "membercluster", "member5"]).await;
    assert!(!ok && err.contains("NotFound"), "{err}");

    running.shutdown();
    running.wait().await.expect("clean shutdown");
}
