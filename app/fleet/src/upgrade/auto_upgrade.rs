//! Auto-upgrade profiles (aks §11, `updates.fleetdeck.dev/v1alpha1` AutoUpgradeProfile): the API
//! types, what a channel targets in the simulated release catalogue, the run a profile creates
//! (its deterministic name), and whether a catalogue change is a release the profile triggers on.
//!
//! Decisions where the spec is open (README "Auto-upgrade profiles"):
//! - A *release* is a change of what the channel targets in the catalogue, fleet-wide: every
//!   region, GA versions only ([`channel_release`]). The members do not enter that decision, so
//!   a run finishing (members moving up) never looks like a release.
//! - *Already available* (no catch-up, issue #5741): what the channel targeted when the engine
//!   first evaluated the profile, recorded in `status.observedRelease`. Only a newer target than
//!   the recorded one triggers; a disabled profile records releases without triggering, so
//!   enabling it later does not catch up either. Changing the channel or the pinned version
//!   records a new baseline, without triggering.
//! - The run never jumps more than one minor: its version is the channel's minor capped at the
//!   lowest member minor + 1, at that minor's newest GA patch ([`run_for`]).

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::member_view::MemberView;
use super::release_catalogue::ReleaseCatalogue;
use super::upgrade_error::UpgradeError;
use super::upgrade_run::{
    ManagedClusterUpdate, ManagedClusterUpgradeSpec, ManagedClusterUpgradeType, NodeImageSelection,
    NodeImageSelectionType, UpdateRunSpec,
};
use super::versions::{KubernetesVersion, NodeImage};

/// `AutoUpgradeProfile.spec` (aks §11). `updateStrategyName` is fleetdeck's `updateStrategyId`:
/// the name of an UpdateStrategy, fixed at creation.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoUpgradeProfileSpec {
    pub channel: UpgradeChannel,
    /// The UpdateStrategy the profile's runs copy; without one, members upgrade one by one.
    /// Immutable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_strategy_name: Option<String>,
    /// Latest or Consistent; not allowed with the NodeImage channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_image_selection: Option<AutoUpgradeNodeImageSelection>,
    /// A disabled profile triggers nothing.
    #[serde(default)]
    pub disabled: bool,
    /// `major.minor`; required for the TargetKubernetesVersion channel, empty otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_kubernetes_version: Option<String>,
    /// Only with the TargetKubernetesVersion channel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub long_term_support: Option<bool>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum UpgradeChannel {
    /// Latest patch of minor N-1.
    #[default]
    Stable,
    /// Latest patch of the newest minor.
    Rapid,
    /// Node image releases.
    NodeImage,
    /// Latest patch of the pinned minor.
    TargetKubernetesVersion,
    /// Linux security patches; in the simulation a node-image-only run like NodeImage.
    SecurityPatch,
}

impl UpgradeChannel {
    pub const ALL: [UpgradeChannel; 5] = [
        UpgradeChannel::Stable,
        UpgradeChannel::Rapid,
        UpgradeChannel::NodeImage,
        UpgradeChannel::TargetKubernetesVersion,
        UpgradeChannel::SecurityPatch,
    ];

    pub fn name(self) -> &'static str {
        match self {
            UpgradeChannel::Stable => "Stable",
            UpgradeChannel::Rapid => "Rapid",
            UpgradeChannel::NodeImage => "NodeImage",
            UpgradeChannel::TargetKubernetesVersion => "TargetKubernetesVersion",
            UpgradeChannel::SecurityPatch => "SecurityPatch",
        }
    }

    /// Channels whose runs upgrade node images only.
    pub fn node_image_only(self) -> bool {
        matches!(
            self,
            UpgradeChannel::NodeImage | UpgradeChannel::SecurityPatch
        )
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoUpgradeNodeImageSelection {
    #[serde(rename = "type")]
    pub type_: AutoUpgradeNodeImageSelectionType,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum AutoUpgradeNodeImageSelectionType {
    #[default]
    Latest,
    Consistent,
}

/// `AutoUpgradeProfile.status`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoUpgradeProfileStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_upgrade_profile_status: Option<AutoUpgradeLastTrigger>,
    /// fleetdeck's: what the channel targeted when last evaluated — the releases that count as
    /// already available (no catch-up).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_release: Option<ObservedRelease>,
}

/// `autoUpgradeProfileStatus` (aks §11), plus the run the last trigger made.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct AutoUpgradeLastTrigger {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_triggered_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_trigger_status: Option<TriggerStatus>,
    /// ARM ErrorDetail `{code, message}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_trigger_error: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_trigger_upgrade_versions: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_trigger_message: Option<String>,
    /// fleetdeck's: the UpdateRun the last trigger created or found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_trigger_update_run_name: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TriggerStatus {
    Succeeded,
    Failed,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ObservedRelease {
    /// The channel and pinned version the observation was made for.
    pub channel: UpgradeChannel,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_kubernetes_version: Option<String>,
    /// The channel's target: one Kubernetes version, or one node image per family.
    #[serde(default)]
    pub versions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<String>,
}

/// What a channel targets in the catalogue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ReleaseTarget {
    /// An exact GA version.
    Kubernetes(KubernetesVersion),
    /// The newest image per family, sorted by family.
    NodeImages(Vec<NodeImage>),
}

impl ReleaseTarget {
    pub fn versions(&self) -> Vec<String> {
        match self {
            ReleaseTarget::Kubernetes(k) => vec![k.to_string()],
            ReleaseTarget::NodeImages(images) => images.iter().map(|i| i.text.clone()).collect(),
        }
    }

    /// Whether this target has something newer than `observed` (the versions of an earlier
    /// target of the same channel): a higher Kubernetes version, or an image family newer than
    /// (or absent from) what was observed.
    pub fn newer_than(&self, observed: &[String]) -> bool {
        match self {
            ReleaseTarget::Kubernetes(k) => observed
                .iter()
                .filter_map(|o| KubernetesVersion::parse(o).ok())
                .all(|o| *k > o),
            ReleaseTarget::NodeImages(images) => {
                let seen: Vec<NodeImage> = observed
                    .iter()
                    .filter_map(|o| NodeImage::parse(o).ok())
                    .collect();
                images.iter().any(|i| {
                    !seen
                        .iter()
                        .any(|s| s.family == i.family && s.version >= i.version)
                })
            }
        }
    }
}

/// What `spec`'s channel targets in the catalogue, in every region, GA only — before the
/// one-minor cap of [`run_for`]. `None`: the catalogue has nothing for the channel.
pub fn channel_release(
    spec: &AutoUpgradeProfileSpec,
    catalogue: &ReleaseCatalogue,
) -> Result<Option<ReleaseTarget>, UpgradeError> {
    if spec.channel.node_image_only() {
        let images = catalogue.newest_images_anywhere();
        return Ok((!images.is_empty()).then_some(ReleaseTarget::NodeImages(images)));
    }
    let ga = catalogue.ga_kubernetes_anywhere();
    // Newest patch per minor line, in order.
    let mut lines: BTreeMap<(u32, u32), KubernetesVersion> = BTreeMap::new();
    for v in ga {
        lines.insert((v.major, v.minor), v);
    }
    let pick = match spec.channel {
        UpgradeChannel::Rapid => lines.values().next_back().copied(),
        UpgradeChannel::Stable => lines.values().rev().nth(1).copied(),
        UpgradeChannel::TargetKubernetesVersion => {
            let pinned = pinned_minor(spec)?;
            lines.get(&(pinned.major, pinned.minor)).copied()
        }
        UpgradeChannel::NodeImage | UpgradeChannel::SecurityPatch => None,
    };
    Ok(pick.map(ReleaseTarget::Kubernetes))
}

fn pinned_minor(spec: &AutoUpgradeProfileSpec) -> Result<KubernetesVersion, UpgradeError> {
    let text = spec
        .target_kubernetes_version
        .as_deref()
        .unwrap_or_default();
    match KubernetesVersion::parse(text) {
        Ok(v) if v.patch.is_none() => Ok(v),
        _ => Err(UpgradeError::TargetKubernetesVersionForm(text.to_string())),
    }
}

/// What the engine does with a profile given what its channel targets now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Nothing new (or nothing in the catalogue for the channel): write nothing.
    Nothing,
    /// First evaluation, or the channel / pinned version changed: record the target as already
    /// available, trigger nothing.
    Baseline,
    /// A target newer than the recorded one: record it, and trigger a run when `trigger`
    /// (the profile is enabled).
    Release { trigger: bool },
}

/// Does the catalogue's current `offered` target trigger this profile? (See the module's
/// decisions.)
pub fn decide(
    spec: &AutoUpgradeProfileSpec,
    observed: Option<&ObservedRelease>,
    offered: Option<&ReleaseTarget>,
) -> Decision {
    let Some(offered) = offered else {
        return Decision::Nothing;
    };
    let Some(observed) = observed.filter(|o| {
        o.channel == spec.channel && o.target_kubernetes_version == spec.target_kubernetes_version
    }) else {
        return Decision::Baseline;
    };
    if offered.newer_than(&observed.versions) {
        Decision::Release {
            trigger: !spec.disabled,
        }
    } else {
        Decision::Nothing
    }
}

/// The observation to record for `offered`.
pub fn observation(
    spec: &AutoUpgradeProfileSpec,
    offered: &ReleaseTarget,
    now: &str,
) -> ObservedRelease {
    ObservedRelease {
        channel: spec.channel,
        target_kubernetes_version: spec.target_kubernetes_version.clone(),
        versions: offered.versions(),
        observed_at: Some(now.to_string()),
    }
}

/// The run a profile makes for a release: its name, its spec and the versions it upgrades to.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileRun {
    pub name: String,
    pub spec: UpdateRunSpec,
    pub upgrade_versions: Vec<String>,
}

/// The UpdateRun for `release`: Full to the capped Kubernetes version (generated runs are always
/// Full, aks §16 #5765), or NodeImageOnly for the node-image channels; the profile's strategy by
/// name (the engine copies it into the run, aks §2) and its image selection.
pub fn run_for(
    profile: &str,
    spec: &AutoUpgradeProfileSpec,
    release: &ReleaseTarget,
    members: &[MemberView],
    catalogue: &ReleaseCatalogue,
) -> Result<ProfileRun, UpgradeError> {
    let selection = spec
        .node_image_selection
        .as_ref()
        .map(|s| NodeImageSelection {
            type_: match s.type_ {
                AutoUpgradeNodeImageSelectionType::Latest => NodeImageSelectionType::Latest,
                AutoUpgradeNodeImageSelectionType::Consistent => NodeImageSelectionType::Consistent,
            },
            custom_node_image_versions: None,
        });
    let (upgrade, versions) = match release {
        ReleaseTarget::Kubernetes(target) => {
            let version = capped(*target, members, catalogue)?;
            (
                ManagedClusterUpgradeSpec {
                    type_: ManagedClusterUpgradeType::Full,
                    kubernetes_version: Some(version.to_string()),
                },
                vec![version.to_string()],
            )
        }
        ReleaseTarget::NodeImages(_) => (
            ManagedClusterUpgradeSpec {
                type_: ManagedClusterUpgradeType::NodeImageOnly,
                kubernetes_version: None,
            },
            release.versions(),
        ),
    };
    let run_spec = UpdateRunSpec {
        update_strategy_id: spec.update_strategy_name.clone(),
        strategy: None,
        managed_cluster_update: ManagedClusterUpdate {
            upgrade,
            node_image_selection: selection,
        },
        auto_upgrade_profile_id: Some(profile.to_string()),
    };
    Ok(ProfileRun {
        name: run_name(profile, &run_spec, &versions),
        spec: run_spec,
        upgrade_versions: versions,
    })
}

/// Never more than one minor at a time (aks §11): the target's minor, at most one above the
/// lowest member's, at that line's newest GA patch.
fn capped(
    target: KubernetesVersion,
    members: &[MemberView],
    catalogue: &ReleaseCatalogue,
) -> Result<KubernetesVersion, UpgradeError> {
    let lowest = members
        .iter()
        .filter_map(|m| KubernetesVersion::parse(&m.kubernetes_version).ok())
        .min();
    let Some(lowest) = lowest else {
        return Ok(target);
    };
    if target.major == lowest.major && target.minor <= lowest.minor + 1 {
        return Ok(target);
    }
    let (major, minor) = (lowest.major, lowest.minor + 1);
    catalogue
        .ga_kubernetes_anywhere()
        .into_iter()
        .filter(|v| v.major == major && v.minor == minor)
        .max()
        .ok_or_else(|| UpgradeError::NoStepRelease {
            target: target.to_string(),
            lowest: lowest.to_string(),
            step: format!("{major}.{minor}"),
        })
}

/// The run's name, derived from the upgrade it performs (aks §11: generating the same spec again
/// returns the existing run): `<profile>-<8 hex digits>` within the 50-character limit.
pub fn run_name(profile: &str, spec: &UpdateRunSpec, versions: &[String]) -> String {
    let u = &spec.managed_cluster_update;
    let key = format!(
        "{:?}|{}|{:?}|{}|{}",
        u.upgrade.type_,
        u.upgrade.kubernetes_version.as_deref().unwrap_or_default(),
        u.node_image_selection.as_ref().map(|s| s.type_),
        spec.update_strategy_id.as_deref().unwrap_or_default(),
        versions.join(","),
    );
    let prefix: String = profile.chars().take(41).collect();
    let prefix = prefix.trim_end_matches('-');
    format!("{prefix}-{:08x}", fnv1a(key.as_bytes()) as u32)
}

/// FNV-1a, 64 bits: stable across builds and platforms, unlike std's hasher.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The trigger status of a run made (or found): Succeeded with what happened.
pub fn succeeded(
    run: &str,
    versions: &[String],
    message: String,
    now: &str,
) -> AutoUpgradeLastTrigger {
    AutoUpgradeLastTrigger {
        last_triggered_at: Some(now.to_string()),
        last_trigger_status: Some(TriggerStatus::Succeeded),
        last_trigger_error: None,
        last_trigger_upgrade_versions: Some(versions.to_vec()),
        last_trigger_message: Some(message),
        last_trigger_update_run_name: Some(run.to_string()),
    }
}

/// A trigger that made no run, with the error (ARM ErrorDetail) saying why.
pub fn failed(error: &UpgradeError, versions: &[String], now: &str) -> AutoUpgradeLastTrigger {
    AutoUpgradeLastTrigger {
        last_triggered_at: Some(now.to_string()),
        last_trigger_status: Some(TriggerStatus::Failed),
        last_trigger_error: Some(serde_json::json!({
            "code": error.code(),
            "message": error.to_string(),
        })),
        last_trigger_upgrade_versions: Some(versions.to_vec()),
        last_trigger_message: Some(format!("no update run was created: {error}")),
        last_trigger_update_run_name: None,
    }
}
