//! Auto-upgrade profiles (aks §11) on a whole embedded fleetdeck, on the paused clock: a release
//! is an edit of the release catalogue file; the profile controller triggers a started run for a
//! release it has not seen, never for what was already available, and `generateUpdateRun`
//! makes the same not-started run however often it is asked.

mod fleet_support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use app::fleet::upgrade::auto_upgrade::{AutoUpgradeProfileSpec, TriggerStatus};
use app::fleet::upgrade::upgrade_run::{UpdateState, UpdateStrategySpec};
use app::fleet::{AutoUpgradeProfile, MemberCluster, UpdateRun, UpdateStrategy};
use fleet_support::*;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;
use server::auto_upgrade_actions::generate_update_run;
use server::cli::ServeArgs;

const UBUNTU: &str = "AKSUbuntu-2204gen2containerd";

/// The catalogue the scenarios start from: 1.25 and 1.26 lines, two Ubuntu images.
fn catalogue(kubernetes: &[&str], images: &[&str]) -> String {
    let images: Vec<String> = images.iter().map(|i| format!("{UBUNTU}-{i}")).collect();
    format!(
        "regions:\n  eastus:\n    kubernetesVersions: [{}]\n    nodeImages: [{}]\n",
        kubernetes.join(", "),
        images.join(", ")
    )
}

const K8S: &[&str] = &["1.25.6", "1.25.11", "1.26.6"];
const IMAGES: &[&str] = &["202401.09.0", "202402.07.0"];

struct Scenario {
    fleet: Fleet,
    catalogue: PathBuf,
    _dir: tempfile::TempDir,
}

/// Members `m1` (group-1a) and `m2` (group-1b) at 1.25.6 in eastus, upgrading in 2 s.
async fn scenario() -> Scenario {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("fleet.yaml");
    std::fs::write(
        &config,
        "lightweight: true\nmembers:\n  - {name: m1, upgradeTime: 2s, updateGroup: group-1a}\n  - {name: m2, upgradeTime: 2s, updateGroup: group-1b}\n",
    )
    .expect("fleet config");
    let catalogue_path = dir.path().join("release-catalogue.yaml");
    std::fs::write(&catalogue_path, catalogue(K8S, IMAGES)).expect("catalogue");
    let path = catalogue_path.clone();
    let fleet = Fleet::start_with(move |args| ServeArgs {
        fleet_config: Some(config),
        release_catalogue: Some(path),
        cluster_resync: Duration::from_secs(24 * 3600),
        stage_resync: Duration::from_secs(24 * 3600),
        placement_resync: Duration::from_secs(24 * 3600),
        ..args
    })
    .await;
    // Both members joined and report their versions.
    let members: Api<MemberCluster> = Api::all(fleet.hub.clone());
    eventually("members joined", || {
        let members = members.clone();
        async move {
            let list = members
                .list(&ListParams::default())
                .await
                .map_err(|e| e.to_string())?;
            let ready = list
                .items
                .iter()
                .filter(|m| app::fleet::upgrade::managed_cluster::of(m.status.as_ref()).is_some())
                .count();
            if ready == 2 {
                Ok(())
            } else {
                Err(format!("{ready} of 2"))
            }
        }
    })
    .await;
    Scenario {
        fleet,
        catalogue: catalogue_path,
        _dir: dir,
    }
}

/// A release: the catalogue file now says this.
fn publish(path: &Path, kubernetes: &[&str], images: &[&str]) {
    std::fs::write(path, catalogue(kubernetes, images)).expect("catalogue edit");
}

fn profiles(fleet: &Fleet) -> Api<AutoUpgradeProfile> {
    Api::all(fleet.hub.clone())
}

fn runs(fleet: &Fleet) -> Api<UpdateRun> {
    Api::all(fleet.hub.clone())
}

async fn create_profile(fleet: &Fleet, name: &str, spec: serde_json::Value) {
    let spec: AutoUpgradeProfileSpec = serde_json::from_value(spec).expect("spec");
    profiles(fleet)
        .create(&PostParams::default(), &AutoUpgradeProfile::new(name, spec))
        .await
        .expect("profile created");
}

/// Waits until the profile has observed its channel's target `versions`.
async fn wait_observed(fleet: &Fleet, name: &str, versions: &[&str]) -> AutoUpgradeProfile {
    let api = profiles(fleet);
    let want: Vec<String> = versions.iter().map(|v| v.to_string()).collect();
    eventually(format!("profile {name} observed {want:?}"), || {
        let (api, want) = (api.clone(), want.clone());
        async move {
            let p = api.get(name).await.map_err(|e| e.to_string())?;
            let seen = p
                .status
                .as_ref()
                .and_then(|s| s.observed_release.as_ref())
                .map(|o| o.versions.clone());
            if seen.as_ref() == Some(&want) {
                Ok(p)
            } else {
                Err(format!("{:#?}", p.status))
            }
        }
    })
    .await
}

/// Waits until the profile's last trigger has `status`.
async fn wait_trigger(fleet: &Fleet, name: &str, status: TriggerStatus) -> AutoUpgradeProfile {
    let api = profiles(fleet);
    eventually(format!("profile {name} triggered {status:?}"), || {
        let api = api.clone();
        async move {
            let p = api.get(name).await.map_err(|e| e.to_string())?;
            let last = p
                .status
                .as_ref()
                .and_then(|s| s.auto_upgrade_profile_status.as_ref())
                .and_then(|t| t.last_trigger_status);
            if last == Some(status) {
                Ok(p)
            } else {
                Err(format!("{:#?}", p.status))
            }
        }
    })
    .await
}

fn last_trigger(
    p: &AutoUpgradeProfile,
) -> app::fleet::upgrade::auto_upgrade::AutoUpgradeLastTrigger {
    p.status
        .as_ref()
        .and_then(|s| s.auto_upgrade_profile_status.clone())
        .expect("a trigger")
}

fn state_of(run: &UpdateRun) -> Option<UpdateState> {
    run.status
        .as_ref()
        .and_then(|s| s.status.as_ref())
        .and_then(|s| s.state)
}

async fn all_runs(fleet: &Fleet) -> Vec<UpdateRun> {
    runs(fleet)
        .list(&ListParams::default())
        .await
        .expect("runs")
        .items
}

async fn wait_run_state(fleet: &Fleet, name: &str, want: UpdateState) -> UpdateRun {
    let api = runs(fleet);
    eventually(format!("run {name} {want:?}"), || {
        let api = api.clone();
        async move {
            let run = api.get(name).await.map_err(|e| e.to_string())?;
            if state_of(&run) == Some(want) {
                Ok(run)
            } else {
                Err(format!("{:#?}", run.status))
            }
        }
    })
    .await
}

async fn kubernetes_version(fleet: &Fleet, member: &str) -> String {
    let m = Api::<MemberCluster>::all(fleet.hub.clone())
        .get(member)
        .await
        .expect("member");
    app::fleet::upgrade::managed_cluster::of(m.status.as_ref())
        .expect("simulated status")
        .kubernetes_version
        .clone()
}

/// Long enough for the catalogue to be looked at several times, and for any run to move.
const QUIET: Duration = Duration::from_secs(60);

#[tokio::test(start_paused = true)]
async fn a_new_release_triggers_a_started_run_that_upgrades_the_fleet() {
    let s = scenario().await;
    create_profile(&s.fleet, "rapid", json!({"channel": "Rapid"})).await;
    // What the catalogue has today is already available: observed, not triggered.
    let p = wait_observed(&s.fleet, "rapid", &["1.26.6"]).await;
    assert!(p
        .status
        .as_ref()
        .and_then(|s| s.auto_upgrade_profile_status.as_ref())
        .is_none());
    assert!(all_runs(&s.fleet).await.is_empty());

    publish(
        &s.catalogue,
        &["1.25.6", "1.25.11", "1.26.6", "1.26.9"],
        IMAGES,
    );
    let p = wait_trigger(&s.fleet, "rapid", TriggerStatus::Succeeded).await;
    let t = last_trigger(&p);
    assert_eq!(
        t.last_trigger_upgrade_versions,
        Some(vec!["1.26.9".to_string()])
    );
    assert!(t.last_triggered_at.is_some());
    assert_eq!(t.last_trigger_error, None);
    let run_name = t.last_trigger_update_run_name.clone().expect("the run");
    assert!(run_name.starts_with("rapid-"), "{run_name}");
    let message = t.last_trigger_message.clone().unwrap_or_default();
    assert!(message.contains("started"), "{message}");

    let run = runs(&s.fleet).get(&run_name).await.expect("the run exists");
    assert_eq!(run.spec.auto_upgrade_profile_id.as_deref(), Some("rapid"));
    let upgrade = &run.spec.managed_cluster_update.upgrade;
    assert_eq!(upgrade.kubernetes_version.as_deref(), Some("1.26.9"));
    // Started without anyone pressing Start, and it upgrades the members.
    wait_run_state(&s.fleet, &run_name, UpdateState::Completed).await;
    assert_eq!(kubernetes_version(&s.fleet, "m1").await, "1.26.9");
    assert_eq!(kubernetes_version(&s.fleet, "m2").await, "1.26.9");

    // Nothing new: no second run, however long it waits, and across an engine restart.
    tokio::time::sleep(QUIET).await;
    let mut fleet = s.fleet;
    let hub = fleet.hub.clone();
    fleet.engine().restart(hub).await;
    tokio::time::sleep(QUIET).await;
    assert_eq!(all_runs(&fleet).await.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn stable_and_rapid_target_the_previous_and_the_newest_minor() {
    let s = scenario().await;
    create_profile(&s.fleet, "stable", json!({"channel": "Stable"})).await;
    create_profile(&s.fleet, "rapid", json!({"channel": "Rapid"})).await;
    wait_observed(&s.fleet, "stable", &["1.25.11"]).await;
    wait_observed(&s.fleet, "rapid", &["1.26.6"]).await;

    // A new 1.27 line: Rapid's target moves to 1.27 but the members are at 1.25, so its run
    // goes one minor (1.26's newest patch); Stable's N-1 is now 1.26.
    publish(
        &s.catalogue,
        &["1.25.6", "1.25.11", "1.26.6", "1.27.3"],
        IMAGES,
    );
    let rapid = last_trigger(&wait_trigger(&s.fleet, "rapid", TriggerStatus::Succeeded).await);
    let stable = last_trigger(&wait_trigger(&s.fleet, "stable", TriggerStatus::Succeeded).await);
    assert_eq!(
        rapid.last_trigger_upgrade_versions,
        Some(vec!["1.26.6".to_string()])
    );
    assert_eq!(
        stable.last_trigger_upgrade_versions,
        Some(vec!["1.26.6".to_string()])
    );
    let observed = wait_observed(&s.fleet, "rapid", &["1.27.3"]).await;
    assert!(observed.status.is_some());
    wait_observed(&s.fleet, "stable", &["1.26.6"]).await;
    // Two profiles, two runs (names differ by profile even for the same upgrade).
    let names: Vec<String> = all_runs(&s.fleet)
        .await
        .iter()
        .map(|r| r.metadata.name.clone().unwrap_or_default())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[tokio::test(start_paused = true)]
async fn a_disabled_profile_does_not_trigger_nor_catch_up_when_enabled() {
    let s = scenario().await;
    create_profile(
        &s.fleet,
        "off",
        json!({"channel": "Rapid", "disabled": true}),
    )
    .await;
    wait_observed(&s.fleet, "off", &["1.26.6"]).await;
    publish(&s.catalogue, &["1.25.6", "1.26.6", "1.26.9"], IMAGES);
    // The release is recorded as seen, nothing is triggered.
    let p = wait_observed(&s.fleet, "off", &["1.26.9"]).await;
    assert!(p
        .status
        .as_ref()
        .and_then(|s| s.auto_upgrade_profile_status.as_ref())
        .is_none());
    // Enabling it later does not catch up on what was released meanwhile.
    let mut enabled = p.clone();
    enabled.spec.disabled = false;
    profiles(&s.fleet)
        .replace("off", &PostParams::default(), &enabled)
        .await
        .expect("enabled");
    tokio::time::sleep(QUIET).await;
    assert!(all_runs(&s.fleet).await.is_empty());
    let p = profiles(&s.fleet).get("off").await.expect("profile");
    assert!(p
        .status
        .as_ref()
        .and_then(|s| s.auto_upgrade_profile_status.as_ref())
        .is_none());
    // The next release does trigger.
    publish(
        &s.catalogue,
        &["1.25.6", "1.26.6", "1.26.9", "1.26.10"],
        IMAGES,
    );
    let t = last_trigger(&wait_trigger(&s.fleet, "off", TriggerStatus::Succeeded).await);
    assert_eq!(
        t.last_trigger_upgrade_versions,
        Some(vec!["1.26.10".to_string()])
    );
}

#[tokio::test(start_paused = true)]
async fn a_profile_created_after_the_release_does_not_trigger_for_it() {
    let s = scenario().await;
    publish(&s.catalogue, &["1.25.6", "1.26.6", "1.26.9"], IMAGES);
    tokio::time::sleep(QUIET).await;
    create_profile(&s.fleet, "late", json!({"channel": "Rapid"})).await;
    create_profile(&s.fleet, "images", json!({"channel": "NodeImage"})).await;
    wait_observed(&s.fleet, "late", &["1.26.9"]).await;
    wait_observed(&s.fleet, "images", &[&format!("{UBUNTU}-202402.07.0")]).await;
    tokio::time::sleep(QUIET).await;
    assert!(all_runs(&s.fleet).await.is_empty());
    // A node image release triggers the NodeImage profile alone, with a node-image-only run.
    publish(
        &s.catalogue,
        &["1.25.6", "1.26.6", "1.26.9"],
        &["202401.09.0", "202402.07.0", "202403.25.0"],
    );
    let t = last_trigger(&wait_trigger(&s.fleet, "images", TriggerStatus::Succeeded).await);
    assert_eq!(
        t.last_trigger_upgrade_versions,
        Some(vec![format!("{UBUNTU}-202403.25.0")])
    );
    let run = runs(&s.fleet)
        .get(&t.last_trigger_update_run_name.expect("run"))
        .await
        .expect("run");
    assert_eq!(
        format!("{:?}", run.spec.managed_cluster_update.upgrade.type_),
        "NodeImageOnly"
    );
    tokio::time::sleep(QUIET).await;
    assert_eq!(all_runs(&s.fleet).await.len(), 1, "Rapid saw no release");
}

#[tokio::test(start_paused = true)]
async fn generating_twice_returns_the_same_run_not_started() {
    let s = scenario().await;
    create_profile(
        &s.fleet,
        "manual",
        json!({"channel": "Stable", "disabled": true, "nodeImageSelection": {"type": "Consistent"}}),
    )
    .await;
    let catalogue = server::release_catalogue::load(&s.catalogue).expect("catalogue");
    let now = chrono::Utc::now();
    let first = generate_update_run(&s.fleet.hub, "manual", &catalogue, now)
        .await
        .expect("generated");
    assert!(first.created && !first.started);
    assert_eq!(first.upgrade_versions, ["1.25.11"]);
    let again = generate_update_run(&s.fleet.hub, "manual", &catalogue, now)
        .await
        .expect("generated again");
    assert_eq!(again.name, first.name);
    assert!(!again.created && !again.started);
    assert!(
        again.message().contains("already exists"),
        "{}",
        again.message()
    );
    // Planned, and left NotStarted.
    let api = runs(&s.fleet);
    let name = first.name.clone();
    let run = eventually("the run planned", || {
        let (api, name) = (api.clone(), name.clone());
        async move {
            let r = api.get(&name).await.map_err(|e| e.to_string())?;
            if r.status.as_ref().and_then(|s| s.stages.as_ref()).is_some() {
                Ok(r)
            } else {
                Err(format!("{:#?}", r.status))
            }
        }
    })
    .await;
    assert_eq!(
        format!(
            "{:?}",
            run.spec
                .managed_cluster_update
                .node_image_selection
                .map(|n| n.type_)
        ),
        "Some(Consistent)"
    );
    tokio::time::sleep(QUIET).await;
    assert_eq!(
        state_of(&runs(&s.fleet).get(&first.name).await.expect("run")),
        Some(UpdateState::NotStarted)
    );
    assert_eq!(all_runs(&s.fleet).await.len(), 1);
    let missing = generate_update_run(&s.fleet.hub, "nope", &catalogue, now)
        .await
        .unwrap_err();
    assert_eq!(missing.to_string(), "auto-upgrade profile nope not found");
}

#[tokio::test(start_paused = true)]
async fn a_trigger_whose_strategy_is_gone_fails_with_the_error() {
    let s = scenario().await;
    let strategy: UpdateStrategySpec = serde_json::from_value(json!({"strategy": {"stages": [
        {"name": "stage1", "groups": [{"name": "group-1a"}, {"name": "group-1b"}]}]}}))
    .expect("strategy");
    let strategies: Api<UpdateStrategy> = Api::all(s.fleet.hub.clone());
    strategies
        .create(
            &PostParams::default(),
            &UpdateStrategy::new("safe", strategy),
        )
        .await
        .expect("strategy");
    create_profile(
        &s.fleet,
        "staged",
        json!({"channel": "Rapid", "updateStrategyName": "safe"}),
    )
    .await;
    wait_observed(&s.fleet, "staged", &["1.26.6"]).await;
    // The hub refuses another strategy on an existing profile.
    let mut p = profiles(&s.fleet).get("staged").await.expect("profile");
    p.spec.update_strategy_name = Some("other".into());
    let err = profiles(&s.fleet)
        .replace("staged", &PostParams::default(), &p)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("spec.updateStrategyName: Invalid value: \"other\": field is immutable"),
        "{err}"
    );

    strategies
        .delete("safe", &DeleteParams::default())
        .await
        .expect("strategy deleted");
    publish(&s.catalogue, &["1.25.6", "1.26.6", "1.26.9"], IMAGES);
    let t = last_trigger(&wait_trigger(&s.fleet, "staged", TriggerStatus::Failed).await);
    let error = t.last_trigger_error.expect("error");
    assert_eq!(error["code"], "NotFound");
    assert_eq!(
        error["message"],
        "referenced updateStrategy not found: `safe`"
    );
    assert_eq!(t.last_trigger_update_run_name, None);
    assert!(all_runs(&s.fleet).await.is_empty());
    // The failure is recorded once, not retried on every look.
    let at = t.last_triggered_at.clone();
    tokio::time::sleep(QUIET).await;
    let again = last_trigger(&profiles(&s.fleet).get("staged").await.expect("profile"));
    assert_eq!(again.last_triggered_at, at);
}
