//! One member's turn (aks §6.7, §9, §13): what its operation upgrades, or why it is Skipped,
//! Pending or Failed instead.
//!
//! Decision (the issue asks that "an unavailable version fails that member"; aks §9/§13 hold a
//! member Pending while its region lacks the target): a version published in **no** region of
//! the catalogue fails the member; one published elsewhere but not yet in the member's region
//! holds it Pending with the documented code and the release-tracker pointer, and it starts once
//! the catalogue lists it there.

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use super::maintenance_window::WindowState;
use super::member_view::MemberView;
use super::release_catalogue::ReleaseCatalogue;
use super::upgrade_error::{UpgradeError, PENDING_VALIDATION};
use super::upgrade_run::{ManagedClusterUpdate, ManagedClusterUpgradeType, NodeImageSelectionType};
use super::versions::{check_upgrade_path, KubernetesVersion, NodeImage};

/// How often a member held Pending by a missing release is looked at again (aks §6.3: the
/// service re-checks every 60 minutes).
pub const RECHECK: Duration = Duration::minutes(60);

/// What to do with a member whose turn has come.
#[derive(Clone, Debug, PartialEq)]
pub enum MemberDecision {
    Start(MemberUpgrade),
    /// Nothing to do or nothing possible; the message says why (aks §5 Skipped).
    Skip(String),
    /// Blocked for now; `until` is when to look again (the window opening), if known.
    Pending {
        message: String,
        error: Option<UpgradeError>,
        until: Option<DateTime<Utc>>,
    },
    Fail(UpgradeError),
}

/// The operation a run starts on a member.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberUpgrade {
    pub upgrade_type: ManagedClusterUpgradeType,
    /// The exact control-plane target, when it changes.
    pub kubernetes_version: Option<String>,
    /// `(agent pool, node image)` for every pool whose image changes.
    pub node_images: Vec<(String, String)>,
    /// Names the pools left alone (aks §13: a Completed member can carry it).
    pub message: Option<String>,
}

/// `selected` holds the run's chosen images for Consistent and Custom (empty for Latest).
pub fn decide_member(
    member: &MemberView,
    update: &ManagedClusterUpdate,
    selected: &[NodeImage],
    catalogue: &ReleaseCatalogue,
    now: DateTime<Utc>,
) -> MemberDecision {
    let kind = update.upgrade.type_;
    let region = member.region.as_str();
    let mut pending: Option<UpgradeError> = None;

    // Control plane (Full, ControlPlaneOnly).
    let mut kubernetes_version = None;
    if kind != ManagedClusterUpgradeType::NodeImageOnly {
        let target = match update.upgrade.kubernetes_version.as_deref() {
            Some(t) => KubernetesVersion::parse(t),
            None => Err(UpgradeError::KubernetesVersionRequired),
        };
        let current = KubernetesVersion::parse(&member.kubernetes_version);
        let (target, current) = match (target, current) {
            (Ok(t), Ok(c)) => (t, c),
            (Err(e), _) | (_, Err(e)) => return MemberDecision::Fail(e),
        };
        let exact = catalogue.kubernetes_in(region, &target);
        let line_done = target.patch.is_none()
            && target.same_minor(&current)
            && exact.is_none_or(|e| e <= current);
        if !line_done {
            let compare = exact.unwrap_or(KubernetesVersion {
                patch: Some(target.patch.unwrap_or(0)),
                ..target
            });
            match check_upgrade_path(&current, &compare) {
                Err(e) => return MemberDecision::Fail(e),
                Ok(false) => {}
                Ok(true) => match exact {
                    Some(e) => kubernetes_version = Some(e.to_string()),
                    None => {
                        let e = UpgradeError::KubernetesVersionNotAvailable {
                            version: target.to_string(),
                            region: region.to_string(),
                        };
                        if !catalogue.kubernetes_anywhere(&target) {
                            return MemberDecision::Fail(e);
                        }
                        pending = Some(e);
                    }
                },
            }
        }
    }

    // Node images (Full, NodeImageOnly).
    let mut node_images = Vec::new();
    let mut left_alone = Vec::new();
    if kind != ManagedClusterUpgradeType::ControlPlaneOnly {
        let selection = update
            .node_image_selection
            .as_ref()
            .map(|s| s.type_)
            .unwrap_or_default();
        for pool in &member.node_pools {
            let current = match NodeImage::parse(&pool.node_image_version) {
                Ok(c) => c,
                Err(e) => return MemberDecision::Fail(e),
            };
            let target = match selection {
                NodeImageSelectionType::Latest => catalogue.latest_image(region, &current.family),
                _ => selected
                    .iter()
                    .find(|i| i.family == current.family)
                    .cloned(),
            };
            let Some(target) = target else {
                // Custom: a family without an entry is not upgraded (aks §3.2). Latest and
                // Consistent: no target for a pool skips the whole cluster (aks §9).
                if selection == NodeImageSelectionType::Custom {
                    left_alone.push(pool.name.clone());
                    continue;
                }
                return MemberDecision::Skip(format!(
                    "no target node image of family {} for agent pool {} in region {region}",
                    current.family, pool.name
                ));
            };
            if target.version <= current.version {
                left_alone.push(pool.name.clone());
                continue;
            }
            if !catalogue.image_in(region, &target) {
                let e = UpgradeError::NodeImageVersionNotAvailable {
                    version: target.text.clone(),
                    agent_pool: pool.name.clone(),
                    region: region.to_string(),
                };
                if !catalogue.image_anywhere(&target) {
                    return MemberDecision::Fail(e);
                }
                pending.get_or_insert(e);
                continue;
            }
            node_images.push((pool.name.clone(), target.text));
        }
    }

    if let Some(e) = pending {
        // Decision: look again after the service's 60-minute re-check (aks §6.3) unless an
        // edit of the catalogue wakes the run sooner.
        return MemberDecision::Pending {
            message: format!("{PENDING_VALIDATION}: {e}"),
            error: Some(e),
            until: Some(now + RECHECK),
        };
    }
    let message = (!left_alone.is_empty()).then(|| {
        format!(
            "agent pools left alone because their node image is already at or ahead of the target: {}",
            left_alone.join(", ")
        )
    });
    if kubernetes_version.is_none() && node_images.is_empty() {
        return MemberDecision::Skip(format!(
            "member {} is already at the target{}",
            member.name,
            message.map(|m| format!("; {m}")).unwrap_or_default()
        ));
    }
    // A window allows an upgrade; it does not trigger one (aks §6.7).
    if let Some(window) = member.window_for(kind) {
        match window.state_at(now) {
            Ok(WindowState::Open { .. }) => {}
            Ok(WindowState::Closed { opens_at }) => {
                return MemberDecision::Pending {
                    message: format!(
                        "Member has been put into Pending state because its maintenance window is closed; the next window opens at {}",
                        opens_at.to_rfc3339_opts(SecondsFormat::Secs, true)
                    ),
                    error: None,
                    until: Some(opens_at),
                }
            }
            Err(why) => {
                return MemberDecision::Fail(UpgradeError::InvalidMaintenanceWindow {
                    member: member.name.clone(),
                    why,
                })
            }
        }
    }
    MemberDecision::Start(MemberUpgrade {
        upgrade_type: kind,
        kubernetes_version,
        node_images,
        message,
    })
}
