//! Upgrade runs (seed 004) on a whole embedded fleetdeck, on the paused clock: the engine plans a
//! run, moves it through stages → groups → members while the simulated members perform the
//! upgrades, and start / stop / skip / gate approval act on it the way the CLI does.

mod fleet_support;

use std::time::Duration;

use app::fleet::upgrade::managed_cluster::{self, ManagedClusterStatus};
use app::fleet::upgrade::run::{GateState, SkipProperties};
use app::fleet::upgrade::upgrade_run::{MemberUpdateStatus, UpdateRunSpec, UpdateState};
use app::fleet::{Gate, MemberCluster, UpdateRun};
use fleet_support::*;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;
use server::cli::ServeArgs;
use server::upgrade_actions::{act, RunAction};

/// Members are `(name, extra YAML fields)`, lightweight, upgrading in 2 s unless the fields say
/// otherwise; events alone drive the engine (its fallback resyncs are a day).
async fn fleet(members: &[(&str, &str)]) -> (Fleet, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = String::from("lightweight: true\nmembers:\n");
    for (name, fields) in members {
        let time = if fields.contains("upgradeTime") {
            ""
        } else {
            "upgradeTime: 2s, "
        };
        config.push_str(&format!("  - {{name: {name}, {time}{fields}}}\n"));
    }
    let path = dir.path().join("fleet.yaml");
    std::fs::write(&path, config).expect("fleet config");
    let fleet = Fleet::start_with(move |args| ServeArgs {
        fleet_config: Some(path),
        cluster_resync: Duration::from_secs(24 * 3600),
        stage_resync: Duration::from_secs(24 * 3600),
        placement_resync: Duration::from_secs(24 * 3600),
        ..args
    })
    .await;
    (fleet, dir)
}

fn runs(fleet: &Fleet) -> Api<UpdateRun> {
    Api::all(fleet.hub.clone())
}

async fn create_run(fleet: &Fleet, name: &str, spec: serde_json::Value) {
    let spec: UpdateRunSpec = serde_json::from_value(spec).expect("spec");
    runs(fleet)
        .create(&PostParams::default(), &UpdateRun::new(name, spec))
        .await
        .expect("run created");
}

fn state_of(run: &UpdateRun) -> Option<UpdateState> {
    run.status
        .as_ref()
        .and_then(|s| s.status.as_ref())
        .and_then(|s| s.state)
}

async fn wait_state(fleet: &Fleet, name: &str, want: UpdateState) -> UpdateRun {
    let api = runs(fleet);
    eventually(format!("run {name} {want:?}"), || {
        let api = api.clone();
        async move {
            let run = api.get(name).await.map_err(|e| format!("{e}"))?;
            if state_of(&run) == Some(want) {
                Ok(run)
            } else {
                Err(format!("{:#?}", run.status))
            }
        }
    })
    .await
}

/// Waits until the engine planned the run (its status tree exists).
async fn wait_planned(fleet: &Fleet, name: &str) -> UpdateRun {
    let api = runs(fleet);
    eventually(format!("run {name} planned"), || {
        let api = api.clone();
        async move {
            let run = api.get(name).await.map_err(|e| format!("{e}"))?;
            match run.status.as_ref().and_then(|s| s.stages.as_ref()) {
                Some(_) => Ok(run),
                None => Err(format!("{:#?}", run.status)),
            }
        }
    })
    .await
}

async fn action(fleet: &Fleet, name: &str, a: RunAction) -> UpdateRun {
    let catalogue = server::release_catalogue::parse(server::release_catalogue::DEFAULT)
        .expect("shipped catalogue");
    let now = chrono::DateTime::from_timestamp_millis(
        server::engine::Clock::system().now().0.as_millisecond(),
    )
    .expect("now");
    act(&fleet.hub, name, &a, &catalogue, now)
        .await
        .unwrap_or_else(|e| panic!("{a:?} on {name}: {e}"))
}

fn members_of(run: &UpdateRun) -> Vec<MemberUpdateStatus> {
    run.status
        .iter()
        .flat_map(|s| s.stages.iter().flatten())
        .flat_map(|s| s.groups.iter().flatten())
        .flat_map(|g| g.members.iter().flatten())
        .cloned()
        .collect()
}

fn member<'a>(run: &'a UpdateRun, name: &str) -> (UpdateState, &'a MemberUpdateStatus) {
    let m = run
        .status
        .iter()
        .flat_map(|s| s.stages.iter().flatten())
        .flat_map(|s| s.groups.iter().flatten())
        .flat_map(|g| g.members.iter().flatten())
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("member {name} in the run"));
    (
        m.status.as_ref().and_then(|s| s.state).unwrap_or_default(),
        m,
    )
}

async fn cluster(fleet: &Fleet, name: &str) -> ManagedClusterStatus {
    let m = Api::<MemberCluster>::all(fleet.hub.clone())
        .get(name)
        .await
        .expect("member cluster");
    managed_cluster::of(m.status.as_ref())
        .cloned()
        .expect("a simulated cluster status")
}

const UBUNTU: &str = "AKSUbuntu-2204gen2containerd";

#[tokio::test(start_paused = true)]
async fn a_run_goes_through_stages_groups_and_members_to_completed() {
    let (fleet, _dir) = fleet(&[
        ("m1", "updateGroup: group-1a"),
        ("m2", "updateGroup: group-1b"),
        ("m3", "updateGroup: group-2a, region: westeurope"),
    ])
    .await;
    create_run(
        &fleet,
        "run-4",
        json!({"managedClusterUpdate": {"upgrade": {"type": "Full", "kubernetesVersion": "1.26.0"}},
               "strategy": {"stages": [
                   {"name": "stage1", "groups": [{"name": "group-1a"}, {"name": "group-1b"}]},
                   {"name": "stage2", "groups": [{"name": "group-2a"}]}]}}),
    )
    .await;
    let planned = wait_planned(&fleet, "run-4").await;
    assert_eq!(state_of(&planned), Some(UpdateState::NotStarted));
    let order: Vec<String> = members_of(&planned).into_iter().map(|m| m.name).collect();
    assert_eq!(order, ["m1", "m2", "m3"]);
    // Nothing moves before the start.
    tokio::time::sleep(Duration::from_secs(10)).await;
    assert_eq!(cluster(&fleet, "m1").await.kubernetes_version, "1.25.6");

    action(&fleet, "run-4", RunAction::Start).await;
    let done = wait_state(&fleet, "run-4", UpdateState::Completed).await;
    for name in ["m1", "m2", "m3"] {
        assert_eq!(member(&done, name).0, UpdateState::Completed, "{name}");
        assert!(member(&done, name).1.operation_id.is_some(), "{name}");
    }
    // Groups of a stage run together; the next stage starts when the first is done.
    let (m1, m2, m3) = (
        member(&done, "m1").1,
        member(&done, "m2").1,
        member(&done, "m3").1,
    );
    let start = |m: &MemberUpdateStatus| m.status.as_ref().and_then(|s| s.start_time.clone());
    let end = |m: &MemberUpdateStatus| m.status.as_ref().and_then(|s| s.completed_time.clone());
    assert_eq!(start(m1), start(m2), "stage1's groups in parallel");
    assert!(
        start(m3) >= end(m1) && start(m3) >= end(m2),
        "stage2 after stage1"
    );
    // The members were upgraded: control plane to 1.26.0, images to the region's latest.
    let east = cluster(&fleet, "m1").await;
    assert_eq!(east.kubernetes_version, "1.26.0");
    assert_eq!(
        east.node_pools[0].node_image_version,
        format!("{UBUNTU}-202403.25.0")
    );
    let west = cluster(&fleet, "m3").await;
    assert_eq!(
        west.node_pools[0].node_image_version,
        format!("{UBUNTU}-202402.07.0"),
        "Latest is per region"
    );
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn stop_lets_the_member_in_flight_finish_and_start_carries_on() {
    let (fleet, _dir) = fleet(&[
        ("m1", "upgradeTime: 20s"),
        ("m2", "upgradeTime: 20s"),
        ("m3", "upgradeTime: 20s"),
    ])
    .await;
    // No strategy: one by one over the whole fleet, in name order.
    create_run(
        &fleet,
        "run-1",
        json!({"managedClusterUpdate": {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": "1.26.0"}}}),
    )
    .await;
    wait_planned(&fleet, "run-1").await;
    action(&fleet, "run-1", RunAction::Start).await;
    let api = runs(&fleet);
    eventually("m1 upgrading", || {
        let api = api.clone();
        async move {
            let run = api.get("run-1").await.map_err(|e| e.to_string())?;
            match member(&run, "m1").0 {
                UpdateState::Running => Ok(()),
                other => Err(format!("{other:?}")),
            }
        }
    })
    .await;
    // kubectl delete is refused while members may be in flight, as the CLI refuses it.
    match api.delete("run-1", &DeleteParams::default()).await {
        Err(kube::Error::Api(s)) => assert_eq!(
            (s.code, s.message.as_str()),
            (
                403,
                "updateruns.updates.fleetdeck.dev \"run-1\" is forbidden: cannot delete an update \
                 run that is Running: stop it first"
            )
        ),
        other => panic!("a Running run's delete must be refused, got {other:?}"),
    }
    let stopping = action(&fleet, "run-1", RunAction::Stop).await;
    assert_eq!(state_of(&stopping), Some(UpdateState::Stopping));
    let stopped = wait_state(&fleet, "run-1", UpdateState::Stopped).await;
    assert_eq!(member(&stopped, "m1").0, UpdateState::Completed);
    assert_eq!(member(&stopped, "m2").0, UpdateState::NotStarted);
    assert_eq!(cluster(&fleet, "m2").await.kubernetes_version, "1.25.6");
    // Stopped stays stopped.
    tokio::time::sleep(Duration::from_secs(60)).await;
    assert_eq!(cluster(&fleet, "m2").await.kubernetes_version, "1.25.6");
    assert!(act(
        &fleet.hub,
        "run-1",
        &RunAction::Stop,
        &Default::default(),
        chrono::Utc::now()
    )
    .await
    .is_err_and(|e| e.to_string() == "cannot stop an update run that is Stopped"));

    action(&fleet, "run-1", RunAction::Start).await;
    let done = wait_state(&fleet, "run-1", UpdateState::Completed).await;
    for name in ["m1", "m2", "m3"] {
        assert_eq!(member(&done, name).0, UpdateState::Completed, "{name}");
        assert_eq!(cluster(&fleet, name).await.kubernetes_version, "1.26.0");
    }
    api.delete("run-1", &DeleteParams::default())
        .await
        .expect("a completed run can be deleted");
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_failing_member_within_max_allowed_failures_lets_the_run_go_on() {
    let (fleet, _dir) = fleet(&[
        ("m1", "updateGroup: group-1a"),
        // 1.24 → 1.26 skips a minor version: the member fails (aks §13).
        ("m2", "updateGroup: group-1a, kubernetesVersion: 1.24.9"),
        ("m3", "updateGroup: group-2a"),
    ])
    .await;
    create_run(
        &fleet,
        "run-f",
        json!({"managedClusterUpdate": {"upgrade": {"type": "Full", "kubernetesVersion": "1.26.0"}},
               "strategy": {"stages": [
                   {"name": "stage1", "maxAllowedFailures": "1",
                    "groups": [{"name": "group-1a", "maxAllowedFailures": "1"}]},
                   {"name": "stage2", "groups": [{"name": "group-2a"}]}]}}),
    )
    .await;
    wait_planned(&fleet, "run-f").await;
    action(&fleet, "run-f", RunAction::Start).await;
    let api = runs(&fleet);
    let run = eventually("m3 upgraded after m2 failed", || {
        let api = api.clone();
        async move {
            let run = api.get("run-f").await.map_err(|e| e.to_string())?;
            match member(&run, "m3").0 {
                UpdateState::Completed => Ok(run),
                other => Err(format!("{other:?}: {:#?}", run.status)),
            }
        }
    })
    .await;
    let (state, m2) = member(&run, "m2");
    assert_eq!(state, UpdateState::Failed);
    let error = m2
        .status
        .as_ref()
        .and_then(|s| s.error.clone())
        .expect("error");
    assert_eq!(error["code"], "UpgradeNotAllowed");
    assert_eq!(
        error["message"],
        "upgrading Kubernetes version 1.24.9 to 1.26.0 is not allowed: it skips a minor version; upgrade one minor version at a time"
    );
    assert_eq!(member(&run, "m1").0, UpdateState::Completed);
    assert_eq!(run.status.as_ref().and_then(|s| s.failure_count), Some(1));
    assert_eq!(cluster(&fleet, "m2").await.kubernetes_version, "1.24.9");
    assert_eq!(cluster(&fleet, "m3").await.kubernetes_version, "1.26.0");
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn fail_fast_stops_the_run_at_the_first_failure() {
    let (fleet, _dir) = fleet(&[
        ("m1", "updateGroup: group-1a, kubernetesVersion: 1.24.9"),
        ("m2", "updateGroup: group-2a"),
    ])
    .await;
    create_run(
        &fleet,
        "run-ff",
        json!({"managedClusterUpdate": {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": "1.26.0"}},
               "strategy": {"stages": [
                   {"name": "stage1", "groups": [{"name": "group-1a"}]},
                   {"name": "stage2", "groups": [{"name": "group-2a"}]}]}}),
    )
    .await;
    wait_planned(&fleet, "run-ff").await;
    action(&fleet, "run-ff", RunAction::Start).await;
    let failed = wait_state(&fleet, "run-ff", UpdateState::Failed).await;
    assert_eq!(member(&failed, "m1").0, UpdateState::Failed);
    assert_eq!(member(&failed, "m2").0, UpdateState::NotStarted);
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(cluster(&fleet, "m2").await.kubernetes_version, "1.25.6");
    // Skipping the failed stage and starting again finishes the run.
    let skip: SkipProperties =
        serde_json::from_value(json!({"targets": [{"type": "Stage", "name": "stage1"}]}))
            .expect("targets");
    action(&fleet, "run-ff", RunAction::Skip(skip)).await;
    action(&fleet, "run-ff", RunAction::Start).await;
    let done = wait_state(&fleet, "run-ff", UpdateState::Completed).await;
    assert_eq!(member(&done, "m1").0, UpdateState::Skipped);
    assert_eq!(member(&done, "m2").0, UpdateState::Completed);
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn an_approval_gate_holds_the_stage_until_approved() {
    let (fleet, _dir) = fleet(&[
        ("m1", "updateGroup: group-1a"),
        ("m2", "updateGroup: group-2a"),
    ])
    .await;
    create_run(
        &fleet,
        "run-g",
        json!({"managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}},
               "strategy": {"stages": [
                   {"name": "stage1", "groups": [{"name": "group-1a"}]},
                   {"name": "stage2", "groups": [{"name": "group-2a"}],
                    "beforeGates": [{"displayName": "ship it", "type": "Approval"}]}]}}),
    )
    .await;
    wait_planned(&fleet, "run-g").await;
    action(&fleet, "run-g", RunAction::Start).await;
    let gates: Api<Gate> = Api::all(fleet.hub.clone());
    let gate = eventually("the gate before stage2", || {
        let gates = gates.clone();
        async move {
            let list = gates
                .list(&ListParams::default())
                .await
                .map_err(|e| e.to_string())?;
            list.items
                .into_iter()
                .next()
                .ok_or_else(|| "no gate".to_string())
        }
    })
    .await;
    assert_eq!(gate.spec.state, GateState::Pending);
    assert_eq!(gate.spec.display_name.as_deref(), Some("ship it"));
    let target = &gate.spec.target.update_run_properties;
    assert_eq!(
        (target.name.as_str(), target.stage.as_deref()),
        ("run-g", Some("stage2"))
    );
    let run = runs(&fleet).get("run-g").await.expect("run");
    assert_eq!(member(&run, "m1").0, UpdateState::Completed);
    // The run waits at the gate: nothing starts on m2.
    tokio::time::sleep(Duration::from_secs(60)).await;
    let run = runs(&fleet).get("run-g").await.expect("run");
    assert_eq!(member(&run, "m2").0, UpdateState::NotStarted);
    let entry = run
        .status
        .as_ref()
        .and_then(|s| s.stages.as_ref())
        .expect("stages")[1]
        .before_gates
        .as_ref()
        .expect("gate entries")[0]
        .clone();
    assert_eq!(entry.gate_id.as_deref(), gate.metadata.name.as_deref());
    assert_eq!(
        entry.status.and_then(|s| s.state),
        Some(UpdateState::Pending)
    );

    // Approve: the gate's state to Completed (aks §12), as `fleetdeck gate approve` does.
    let mut approved = gate.clone();
    approved.spec.state = GateState::Completed;
    gates
        .replace(
            gate.metadata.name.as_deref().expect("name"),
            &PostParams::default(),
            &approved,
        )
        .await
        .expect("approved");
    let done = wait_state(&fleet, "run-g", UpdateState::Completed).await;
    assert_eq!(member(&done, "m2").0, UpdateState::Completed);
    assert_eq!(
        cluster(&fleet, "m2").await.node_pools[0].node_image_version,
        format!("{UBUNTU}-202403.25.0")
    );
    assert_eq!(cluster(&fleet, "m2").await.kubernetes_version, "1.25.6");
    // Deleting the run removes its gates.
    runs(&fleet)
        .delete("run-g", &Default::default())
        .await
        .expect("deleted");
    eventually("the gate removed with its run", || {
        let gates = gates.clone();
        async move {
            let n = gates
                .list(&ListParams::default())
                .await
                .map_err(|e| e.to_string())?
                .items
                .len();
            if n == 0 {
                Ok(())
            } else {
                Err(format!("{n} gates"))
            }
        }
    })
    .await;
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_version_withdrawn_from_the_catalogue_fails_the_member_upgrading_to_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let catalogue = dir.path().join("catalogue.yaml");
    std::fs::write(&catalogue, server::release_catalogue::DEFAULT).expect("catalogue");
    let config = dir.path().join("fleet.yaml");
    std::fs::write(
        &config,
        "lightweight: true\nmembers:\n  - {name: m1, upgradeTime: 30s}\n  - {name: m2, upgradeTime: 30s}\n",
    )
    .expect("fleet config");
    let path = catalogue.clone();
    let fleet = Fleet::start_with(move |args| ServeArgs {
        fleet_config: Some(config),
        release_catalogue: Some(path),
        cluster_resync: Duration::from_secs(24 * 3600),
        stage_resync: Duration::from_secs(24 * 3600),
        placement_resync: Duration::from_secs(24 * 3600),
        ..args
    })
    .await;
    create_run(
        &fleet,
        "run-w",
        json!({"managedClusterUpdate": {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": "1.26.6"}}}),
    )
    .await;
    wait_planned(&fleet, "run-w").await;
    action(&fleet, "run-w", RunAction::Start).await;
    let api = runs(&fleet);
    eventually("m1 upgrading", || {
        let api = api.clone();
        async move {
            let run = api.get("run-w").await.map_err(|e| e.to_string())?;
            match member(&run, "m1").0 {
                UpdateState::Running => Ok(()),
                other => Err(format!("{other:?}")),
            }
        }
    })
    .await;
    // The member re-reads the catalogue when it performs the upgrade: an edit applies at once.
    let edited = server::release_catalogue::DEFAULT.replace(", 1.26.6, 1.27.3]", ", 1.27.3]");
    assert_ne!(
        edited,
        server::release_catalogue::DEFAULT,
        "eastus lists 1.26.6"
    );
    std::fs::write(&catalogue, edited).expect("edit");
    let failed = wait_state(&fleet, "run-w", UpdateState::Failed).await;
    let (state, m1) = member(&failed, "m1");
    assert_eq!(state, UpdateState::Failed);
    let error = m1
        .status
        .as_ref()
        .and_then(|s| s.error.clone())
        .expect("error");
    assert_eq!(error["code"], "KubernetesVersionNotAvailable");
    assert_eq!(
        error["message"],
        "Kubernetes version 1.26.6 is not available in region eastus; see the AKS release tracker https://releases.aks.azure.com/"
    );
    assert_eq!(
        member(&failed, "m2").0,
        UpdateState::NotStarted,
        "fail-fast"
    );
    assert_eq!(cluster(&fleet, "m1").await.kubernetes_version, "1.25.6");
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_closed_maintenance_window_holds_the_member_pending_until_skipped() {
    // A daily-closed window: weekly on the day after tomorrow (the engine's clock starts now).
    let day = (chrono::Utc::now() + chrono::Duration::days(2))
        .format("%A")
        .to_string();
    let (fleet, _dir) = fleet(&[
        (
            "m1",
            &format!(
                "maintenanceWindow: {{dayOfWeek: {day}, startTime: \"00:00\", durationHours: 4}}"
            ),
        ),
        ("m2", ""),
    ])
    .await;
    create_run(
        &fleet,
        "run-mw",
        json!({"managedClusterUpdate": {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": "1.26.0"}}}),
    )
    .await;
    wait_planned(&fleet, "run-mw").await;
    action(&fleet, "run-mw", RunAction::Start).await;
    let pending = wait_state(&fleet, "run-mw", UpdateState::Pending).await;
    let (state, m1) = member(&pending, "m1");
    assert_eq!(state, UpdateState::Pending);
    let message = m1.message.clone().unwrap_or_default();
    assert!(
        message.starts_with(
            "Member has been put into Pending state because its maintenance window is closed; the next window opens at "
        ),
        "{message}"
    );
    assert_eq!(cluster(&fleet, "m1").await.kubernetes_version, "1.25.6");
    // The FAQ's way out: skip the member; the run goes on.
    let skip: SkipProperties =
        serde_json::from_value(json!({"targets": [{"type": "Member", "name": "m1"}]}))
            .expect("targets");
    action(&fleet, "run-mw", RunAction::Skip(skip)).await;
    let done = wait_state(&fleet, "run-mw", UpdateState::Completed).await;
    assert_eq!(member(&done, "m1").0, UpdateState::Skipped);
    assert_eq!(member(&done, "m2").0, UpdateState::Completed);
    assert_eq!(cluster(&fleet, "m2").await.kubernetes_version, "1.26.0");
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_run_copies_its_strategy_at_creation_and_one_without_a_plan_cannot_start() {
    let (fleet, _dir) = fleet(&[("m1", "updateGroup: group-1a")]).await;
    // A strategy that does not exist (yet): the run stays NotStarted, saying why.
    create_run(
        &fleet,
        "run-s",
        json!({"updateStrategyId": "strategy-1",
               "managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}),
    )
    .await;
    let api = runs(&fleet);
    let run = eventually("run-s says why it has no plan", || {
        let api = api.clone();
        async move {
            let run = api.get("run-s").await.map_err(|e| e.to_string())?;
            let error = run
                .status
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .and_then(|s| s.error.clone());
            error.map(|_| run).ok_or_else(|| "no error yet".to_string())
        }
    })
    .await;
    assert_eq!(state_of(&run), Some(UpdateState::NotStarted));
    let catalogue =
        server::release_catalogue::parse(server::release_catalogue::DEFAULT).expect("catalogue");
    let refused = act(
        &fleet.hub,
        "run-s",
        &RunAction::Start,
        &catalogue,
        chrono::Utc::now(),
    )
    .await
    .expect_err("no plan, no start");
    assert_eq!(
        refused.to_string(),
        "update run run-s has no plan yet: referenced updateStrategy not found: `strategy-1`"
    );

    // With the strategy in place, a new run gets a copy; editing the strategy later changes
    // nothing in it (aks §2).
    let strategies: Api<app::fleet::UpdateStrategy> = Api::all(fleet.hub.clone());
    let spec = serde_json::from_value(
        json!({"strategy": {"stages": [{"name": "stage1", "groups": [{"name": "group-1a"}]}]}}),
    )
    .expect("strategy");
    strategies
        .create(
            &PostParams::default(),
            &app::fleet::UpdateStrategy::new("strategy-2", spec),
        )
        .await
        .expect("strategy created");
    create_run(
        &fleet,
        "run-c",
        json!({"updateStrategyId": "strategy-2",
               "managedClusterUpdate": {"upgrade": {"type": "NodeImageOnly"}}}),
    )
    .await;
    let planned = wait_planned(&fleet, "run-c").await;
    let copied = planned.spec.strategy.clone().expect("the copy");
    assert_eq!(copied.stages[0].name, "stage1");
    assert_eq!(
        planned.spec.update_strategy_id.as_deref(),
        Some("strategy-2")
    );
    let mut edited = strategies.get("strategy-2").await.expect("strategy");
    edited.spec.strategy.stages[0].name = "renamed".into();
    strategies
        .replace("strategy-2", &PostParams::default(), &edited)
        .await
        .expect("edited");
    action(&fleet, "run-c", RunAction::Start).await;
    let done = wait_state(&fleet, "run-c", UpdateState::Completed).await;
    assert_eq!(done.spec.strategy, Some(copied));
    assert_eq!(
        done.status
            .as_ref()
            .and_then(|s| s.stages.as_ref())
            .expect("stages")[0]
            .name,
        "stage1"
    );
    fleet.stop().await;
}

#[tokio::test(start_paused = true)]
async fn a_member_that_joined_while_fleetdeck_runs_is_upgraded_too() {
    let (fleet, _dir) = fleet(&[("m1", "updateGroup: group-1a")]).await;
    // `fleetdeck member join m2 --label updates.fleetdeck.dev/group=group-1b`.
    let m2 = server::members::commands::member_cluster(
        "m2",
        &["updates.fleetdeck.dev/group=group-1b".into()],
    )
    .expect("member");
    server::members::commands::join(&fleet.hub, &m2, DEADLINE)
        .await
        .expect("m2 joins");
    create_run(
        &fleet,
        "run-joined",
        json!({"managedClusterUpdate": {"upgrade": {"type": "Full", "kubernetesVersion": "1.26.0"}},
               "strategy": {"stages": [
                   {"name": "stage1", "groups": [{"name": "group-1a"}, {"name": "group-1b"}]}]}}),
    )
    .await;
    wait_planned(&fleet, "run-joined").await;
    action(&fleet, "run-joined", RunAction::Start).await;
    let done = wait_state(&fleet, "run-joined", UpdateState::Completed).await;
    assert_eq!(member(&done, "m2").0, UpdateState::Completed);
    assert_eq!(cluster(&fleet, "m2").await.kubernetes_version, "1.26.0");
    fleet.stop().await;
}
