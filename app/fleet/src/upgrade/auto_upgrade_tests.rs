//! Auto-upgrade profiles (aks §11): channel targets, the one-minor cap, run names, triggers.

use super::auto_upgrade::*;
use super::fixtures::{catalogue, member, UBUNTU};
use super::upgrade_error::UpgradeError;
use super::upgrade_run::{ManagedClusterUpgradeType, NodeImageSelectionType};
use super::versions::KubernetesVersion;
use crate::validation::upgrade_run::ARM_NAME_MAX_LENGTH;

fn spec(channel: UpgradeChannel) -> AutoUpgradeProfileSpec {
    AutoUpgradeProfileSpec {
        channel,
        ..Default::default()
    }
}

fn pinned(v: &str) -> AutoUpgradeProfileSpec {
    AutoUpgradeProfileSpec {
        channel: UpgradeChannel::TargetKubernetesVersion,
        target_kubernetes_version: Some(v.into()),
        ..Default::default()
    }
}

fn target(s: &AutoUpgradeProfileSpec) -> Option<Vec<String>> {
    channel_release(s, &catalogue())
        .expect("channel")
        .map(|t| t.versions())
}

fn k8s(v: &str) -> ReleaseTarget {
    ReleaseTarget::Kubernetes(KubernetesVersion::parse(v).expect("version"))
}

#[test]
fn channels_target_the_catalogue_fleet_wide() {
    // The fixture publishes 1.29.{4,9}, 1.30.5 and 1.31.1 (eastus only for the last two).
    assert_eq!(
        target(&spec(UpgradeChannel::Rapid)),
        Some(vec!["1.31.1".into()])
    );
    assert_eq!(
        target(&spec(UpgradeChannel::Stable)),
        Some(vec!["1.30.5".into()])
    );
    assert_eq!(target(&pinned("1.29")), Some(vec!["1.29.9".into()]));
    assert_eq!(target(&pinned("1.32")), None, "nothing published for 1.32");
    let images = vec![format!("{UBUNTU}-202410.09.0")];
    assert_eq!(
        target(&spec(UpgradeChannel::NodeImage)),
        Some(images.clone())
    );
    assert_eq!(target(&spec(UpgradeChannel::SecurityPatch)), Some(images));
    assert_eq!(
        channel_release(&pinned("1.29.1"), &catalogue()),
        Err(UpgradeError::TargetKubernetesVersionForm("1.29.1".into()))
    );
}

#[test]
fn preview_versions_are_never_targets() {
    let mut c = catalogue();
    c.regions
        .get_mut("eastus")
        .expect("eastus")
        .preview_kubernetes_versions = vec!["1.32.0".into()];
    let rapid = channel_release(&spec(UpgradeChannel::Rapid), &c).expect("rapid");
    assert_eq!(rapid, Some(k8s("1.31.1")));
    // A run may still name it: it is published.
    let preview = KubernetesVersion::parse("1.32").expect("line");
    assert!(c.kubernetes_in("eastus", &preview).is_some());
}

#[test]
fn a_run_never_jumps_more_than_one_minor() {
    let c = catalogue();
    let rapid = spec(UpgradeChannel::Rapid);
    // Members at 1.29.4: Rapid's 1.31.1 is two minors away → 1.30's newest patch.
    let run = run_for("p", &rapid, &k8s("1.31.1"), &[member("m1", None)], &c).expect("run");
    assert_eq!(run.upgrade_versions, ["1.30.5"]);
    let upgrade = &run.spec.managed_cluster_update.upgrade;
    assert_eq!(upgrade.type_, ManagedClusterUpgradeType::Full);
    assert_eq!(upgrade.kubernetes_version.as_deref(), Some("1.30.5"));
    assert_eq!(run.spec.auto_upgrade_profile_id.as_deref(), Some("p"));
    // Once every member is on 1.30, the same release goes all the way.
    let mut m = member("m1", None);
    m.kubernetes_version = "1.30.5".into();
    let run = run_for("p", &rapid, &k8s("1.31.1"), &[m], &c).expect("run");
    assert_eq!(run.upgrade_versions, ["1.31.1"]);
    // The lowest member decides; the step must exist as a GA version.
    let mut old = member("m2", None);
    old.kubernetes_version = "1.27.3".into();
    let err = run_for("p", &rapid, &k8s("1.31.1"), &[old], &c).unwrap_err();
    assert!(
        matches!(&err, UpgradeError::NoStepRelease { step, .. } if step == "1.28"),
        "{err}"
    );
}

#[test]
fn node_image_channels_make_node_image_only_runs_with_the_profiles_selection() {
    let c = catalogue();
    let mut s = spec(UpgradeChannel::SecurityPatch);
    s.node_image_selection = Some(AutoUpgradeNodeImageSelection {
        type_: AutoUpgradeNodeImageSelectionType::Consistent,
    });
    s.update_strategy_name = Some("safe".into());
    let release = channel_release(&s, &c).expect("ok").expect("images");
    let run = run_for("p", &s, &release, &[member("m1", None)], &c).expect("run");
    let u = &run.spec.managed_cluster_update;
    assert_eq!(u.upgrade.type_, ManagedClusterUpgradeType::NodeImageOnly);
    assert_eq!(u.upgrade.kubernetes_version, None);
    assert_eq!(
        u.node_image_selection.as_ref().map(|n| n.type_),
        Some(NodeImageSelectionType::Consistent)
    );
    assert_eq!(run.spec.update_strategy_id.as_deref(), Some("safe"));
    assert_eq!(run.spec.strategy, None, "the engine copies the strategy");
}

#[test]
fn run_names_are_derived_from_the_upgrade_and_fit_the_name_rule() {
    let c = catalogue();
    let m = [member("m1", None)];
    let s = spec(UpgradeChannel::Stable);
    let a = run_for("nightly", &s, &k8s("1.30.5"), &m, &c).expect("a");
    let again = run_for("nightly", &s, &k8s("1.30.5"), &m, &c).expect("again");
    assert_eq!(a.name, again.name, "same spec, same run");
    assert!(a.name.starts_with("nightly-"), "{}", a.name);
    let other = run_for("nightly", &s, &k8s("1.29.9"), &m, &c).expect("other");
    assert_ne!(a.name, other.name, "another version, another run");
    let mut consistent = s.clone();
    consistent.node_image_selection = Some(AutoUpgradeNodeImageSelection {
        type_: AutoUpgradeNodeImageSelectionType::Consistent,
    });
    let b = run_for("nightly", &consistent, &k8s("1.30.5"), &m, &c).expect("b");
    assert_ne!(a.name, b.name, "another image selection, another run");

    let long = format!("{}-x", "a".repeat(47));
    let named = run_for(&long, &s, &k8s("1.30.5"), &m, &c)
        .expect("long")
        .name;
    assert!(named.len() <= ARM_NAME_MAX_LENGTH, "{named}");
    assert!(
        crate::upgrade::plan::check_name("update run", &named).is_ok(),
        "{named}"
    );
}

fn observed(s: &AutoUpgradeProfileSpec, versions: &[&str]) -> ObservedRelease {
    ObservedRelease {
        channel: s.channel,
        target_kubernetes_version: s.target_kubernetes_version.clone(),
        versions: versions.iter().map(|v| v.to_string()).collect(),
        observed_at: None,
    }
}

#[test]
fn only_a_newer_target_than_the_one_observed_triggers() {
    let s = spec(UpgradeChannel::Rapid);
    // First look: what is there is already available (no catch-up).
    assert_eq!(decide(&s, None, Some(&k8s("1.31.1"))), Decision::Baseline);
    let seen = observed(&s, &["1.31.1"]);
    assert_eq!(
        decide(&s, Some(&seen), Some(&k8s("1.31.1"))),
        Decision::Nothing
    );
    assert_eq!(
        decide(&s, Some(&seen), Some(&k8s("1.31.2"))),
        Decision::Release { trigger: true }
    );
    // A version withdrawn from the catalogue is no release.
    assert_eq!(
        decide(&s, Some(&seen), Some(&k8s("1.30.5"))),
        Decision::Nothing
    );
    assert_eq!(decide(&s, Some(&seen), None), Decision::Nothing);
    // Disabled: the release is recorded, nothing is triggered.
    let off = AutoUpgradeProfileSpec {
        disabled: true,
        ..s.clone()
    };
    assert_eq!(
        decide(&off, Some(&seen), Some(&k8s("1.32.0"))),
        Decision::Release { trigger: false }
    );
    // Another channel: a new baseline, not a release.
    let stable = spec(UpgradeChannel::Stable);
    assert_eq!(
        decide(&stable, Some(&seen), Some(&k8s("1.32.0"))),
        Decision::Baseline
    );
    assert_eq!(
        decide(
            &pinned("1.31"),
            Some(&observed(&pinned("1.30"), &["1.30.5"])),
            Some(&k8s("1.31.1"))
        ),
        Decision::Baseline
    );
}

#[test]
fn a_node_image_release_is_a_newer_image_of_any_family() {
    let s = spec(UpgradeChannel::NodeImage);
    let c = catalogue();
    let now = channel_release(&s, &c).expect("ok").expect("images");
    let seen = observation(&s, &now, "2026-01-01T00:00:00Z");
    assert_eq!(decide(&s, Some(&seen), Some(&now)), Decision::Nothing);
    let mut newer = c.clone();
    newer
        .regions
        .get_mut("westeurope")
        .expect("westeurope")
        .node_images
        .push(format!("{UBUNTU}-202411.01.0"));
    let next = channel_release(&s, &newer).expect("ok").expect("images");
    assert_eq!(next.versions(), [format!("{UBUNTU}-202411.01.0")]);
    assert_eq!(
        decide(&s, Some(&seen), Some(&next)),
        Decision::Release { trigger: true }
    );
    let mut family = c;
    family
        .regions
        .get_mut("eastus")
        .expect("eastus")
        .node_images
        .push("AzureLinux-V2gen2-202401.09.0".into());
    let next = channel_release(&s, &family).expect("ok").expect("images");
    assert_eq!(
        decide(&s, Some(&seen), Some(&next)),
        Decision::Release { trigger: true },
        "a family seen for the first time"
    );
}

#[test]
fn a_failed_trigger_carries_the_error() {
    let e = UpgradeError::StrategyNotFound("safe".into());
    let t = failed(&e, &["1.30.5".into()], "2026-01-01T00:00:00Z");
    assert_eq!(t.last_trigger_status, Some(TriggerStatus::Failed));
    let error = t.last_trigger_error.expect("error");
    assert_eq!(error["code"], "NotFound");
    assert_eq!(
        error["message"],
        "referenced updateStrategy not found: `safe`"
    );
    assert_eq!(t.last_trigger_update_run_name, None);
}
