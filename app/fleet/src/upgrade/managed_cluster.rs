//! What an upgrade changes on a member cluster, as the MemberCluster status of a simulated member
//! carries it (DESIGN.md "Names fleetdeck owns": status field `fleetdeck.dev/managedCluster`):
//! region, control-plane version, node pools, planned maintenance windows and the latest upgrade
//! operation. The engine asks for an upgrade by writing an InProgress [`UpgradeOperation`]; the
//! member performs it ([`perform`]) and reports the result in the same place.

use chrono::{DateTime, SecondsFormat, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::maintenance_window::MaintenanceWindow;
use super::member_target::MemberUpgrade;
use super::member_view::{MemberView, NodePoolView, OperationState, OperationView};
use super::release_catalogue::ReleaseCatalogue;
use super::upgrade_error::UpgradeError;
use super::upgrade_run::ManagedClusterUpgradeType;
use super::versions::{check_upgrade_path, KubernetesVersion, NodeImage};
use crate::placement::member_cluster::MemberClusterStatus;
use crate::types::names::{REGION_PROPERTY, UPDATE_GROUP_LABEL};
use crate::MemberCluster;

/// `status["fleetdeck.dev/managedCluster"]` of a MemberCluster.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManagedClusterStatus {
    pub region: String,
    /// Control-plane Kubernetes version, `x.y.z`.
    pub kubernetes_version: String,
    #[serde(default)]
    pub node_pools: Vec<NodePool>,
    /// The window Full and ControlPlaneOnly upgrades honour (AKS `aksManagedAutoUpgradeSchedule`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance_window: Option<MaintenanceWindow>,
    /// The window NodeImageOnly upgrades honour (AKS `aksManagedNodeOSUpgradeSchedule`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_os_maintenance_window: Option<MaintenanceWindow>,
    /// The latest upgrade operation, whoever asked for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<UpgradeOperation>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodePool {
    pub name: String,
    /// `<family>-<version>`.
    pub node_image_version: String,
}

/// One upgrade of the member: what it asks for and how it went.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpgradeOperation {
    /// The `operationId` the run shows for the member.
    pub id: String,
    pub state: OperationPhase,
    #[serde(rename = "type")]
    pub type_: ManagedClusterUpgradeType,
    /// The control-plane target, when it changes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
    /// The pools whose image changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_images: Vec<NodePool>,
    /// RFC 3339; the simulated upgrade takes the member's configured time from here.
    pub start_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_time: Option<String>,
    /// ARM `ErrorDetail` code and message of a failed operation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<OperationError>,
    /// The control plane's version before a successful operation changed it: what the console
    /// shows as "from" once the member runs the target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_kubernetes_version: Option<String>,
    /// The changed pools' images before a successful operation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from_node_images: Vec<NodePool>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum OperationPhase {
    #[default]
    InProgress,
    Succeeded,
    Failed,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OperationError {
    pub code: String,
    pub message: String,
}

fn timestamp(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl UpgradeOperation {
    /// The operation a run's [`MemberUpgrade`] asks for, started at `now`.
    pub fn requested(id: &str, upgrade: &MemberUpgrade, now: DateTime<Utc>) -> Self {
        UpgradeOperation {
            id: id.to_string(),
            state: OperationPhase::InProgress,
            type_: upgrade.upgrade_type,
            kubernetes_version: upgrade.kubernetes_version.clone(),
            node_images: upgrade
                .node_images
                .iter()
                .map(|(pool, image)| NodePool {
                    name: pool.clone(),
                    node_image_version: image.clone(),
                })
                .collect(),
            start_time: timestamp(now),
            completed_time: None,
            error: None,
            from_kubernetes_version: None,
            from_node_images: Vec::new(),
        }
    }

    pub fn started_at(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.start_time)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// The member performs its InProgress operation (a real cluster checks the same): the new
/// versions on success, or the operation Failed with the error of aks §13 when a target is not
/// published in the member's region or the control plane would skip a minor version.
pub fn perform(
    cluster: &ManagedClusterStatus,
    catalogue: &ReleaseCatalogue,
    now: DateTime<Utc>,
) -> ManagedClusterStatus {
    let mut out = cluster.clone();
    let Some(op) = out.operation.as_mut() else {
        return out;
    };
    if op.state != OperationPhase::InProgress {
        return out;
    }
    op.completed_time = Some(timestamp(now));
    match check(cluster, op, catalogue) {
        Ok(()) => {
            op.state = OperationPhase::Succeeded;
            if let Some(k) = &op.kubernetes_version {
                op.from_kubernetes_version = Some(out.kubernetes_version.clone());
                out.kubernetes_version = k.clone();
            }
            for target in &op.node_images {
                if let Some(pool) = out.node_pools.iter_mut().find(|p| p.name == target.name) {
                    op.from_node_images.push(pool.clone());
                    pool.node_image_version = target.node_image_version.clone();
                }
            }
        }
        Err(e) => {
            op.state = OperationPhase::Failed;
            op.error = Some(OperationError {
                code: e.code().to_string(),
                message: e.to_string(),
            });
        }
    }
    out
}

fn check(
    cluster: &ManagedClusterStatus,
    op: &UpgradeOperation,
    catalogue: &ReleaseCatalogue,
) -> Result<(), UpgradeError> {
    let region = cluster.region.as_str();
    if let Some(target) = &op.kubernetes_version {
        let target = KubernetesVersion::parse(target)?;
        let current = KubernetesVersion::parse(&cluster.kubernetes_version)?;
        check_upgrade_path(&current, &target)?;
        if catalogue.kubernetes_in(region, &target) != Some(target) {
            return Err(UpgradeError::KubernetesVersionNotAvailable {
                version: target.to_string(),
                region: region.to_string(),
            });
        }
    }
    for pool in &op.node_images {
        let image = NodeImage::parse(&pool.node_image_version)?;
        if !catalogue.image_in(region, &image) {
            return Err(UpgradeError::NodeImageVersionNotAvailable {
                version: image.text,
                agent_pool: pool.name.clone(),
                region: region.to_string(),
            });
        }
    }
    Ok(())
}

/// The member's upgrade state, if it reports one.
pub fn of(status: Option<&MemberClusterStatus>) -> Option<&ManagedClusterStatus> {
    status.and_then(|s| s.managed_cluster.as_ref())
}

/// What the engine observes of a MemberCluster for upgrade runs. A member without the
/// `fleetdeck.dev/managedCluster` status (not simulated, or not registered yet) has empty
/// versions: a run that reaches it fails it with the version error.
pub fn member_view(member: &MemberCluster) -> MemberView {
    let labels = member.metadata.labels.clone().unwrap_or_default();
    let cluster = of(member.status.as_ref());
    let region = cluster
        .map(|c| c.region.clone())
        .filter(|r| !r.is_empty())
        .or_else(|| {
            member
                .status
                .as_ref()
                .and_then(|s| s.properties.as_ref())
                .and_then(|p| p.get(REGION_PROPERTY))
                .map(|p| p.value.clone())
        })
        .unwrap_or_default();
    let name = member.metadata.name.clone().unwrap_or_default();
    MemberView {
        cluster_resource_id: Some(format!("memberclusters/{name}")),
        group: labels.get(UPDATE_GROUP_LABEL).cloned(),
        labels,
        region,
        kubernetes_version: cluster
            .map(|c| c.kubernetes_version.clone())
            .unwrap_or_default(),
        node_pools: cluster
            .map(|c| {
                c.node_pools
                    .iter()
                    .map(|p| NodePoolView {
                        name: p.name.clone(),
                        node_image_version: p.node_image_version.clone(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        auto_upgrade_window: cluster.and_then(|c| c.maintenance_window.clone()),
        node_os_window: cluster.and_then(|c| c.node_os_maintenance_window.clone()),
        operation: cluster
            .and_then(|c| c.operation.as_ref())
            .map(|op| OperationView {
                id: op.id.clone(),
                state: match op.state {
                    OperationPhase::InProgress => OperationState::InProgress,
                    OperationPhase::Succeeded => OperationState::Succeeded,
                    OperationPhase::Failed => {
                        let e = op.error.clone().unwrap_or_default();
                        OperationState::Failed {
                            code: e.code,
                            message: e.message,
                        }
                    }
                },
            }),
        name,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upgrade::fixtures::{at, catalogue, UBUNTU};

    fn cluster(k8s: &str, image: &str) -> ManagedClusterStatus {
        ManagedClusterStatus {
            region: "eastus".into(),
            kubernetes_version: k8s.into(),
            node_pools: vec![NodePool {
                name: "nodepool1".into(),
                node_image_version: format!("{UBUNTU}-{image}"),
            }],
            ..Default::default()
        }
    }

    fn asking(
        mut c: ManagedClusterStatus,
        k8s: Option<&str>,
        image: Option<&str>,
    ) -> ManagedClusterStatus {
        let upgrade = MemberUpgrade {
            upgrade_type: ManagedClusterUpgradeType::Full,
            kubernetes_version: k8s.map(str::to_string),
            node_images: image
                .map(|i| vec![("nodepool1".to_string(), format!("{UBUNTU}-{i}"))])
                .unwrap_or_default(),
            message: None,
        };
        c.operation = Some(UpgradeOperation::requested(
            "op-1",
            &upgrade,
            at("2026-12-07T10:00:00Z"),
        ));
        c
    }

    #[test]
    fn a_published_target_is_applied_and_the_operation_succeeds() {
        let c = asking(
            cluster("1.29.4", "202409.01.0"),
            Some("1.30.5"),
            Some("202410.09.0"),
        );
        let done = perform(&c, &catalogue(), at("2026-12-07T10:05:00Z"));
        assert_eq!(done.kubernetes_version, "1.30.5");
        assert_eq!(
            done.node_pools[0].node_image_version,
            format!("{UBUNTU}-202410.09.0")
        );
        let op = done.operation.expect("operation");
        assert_eq!(op.state, OperationPhase::Succeeded);
        assert_eq!(op.completed_time.as_deref(), Some("2026-12-07T10:05:00Z"));
        // What it ran before stays readable (the console's "from").
        assert_eq!(op.from_kubernetes_version.as_deref(), Some("1.29.4"));
        assert_eq!(
            op.from_node_images[0].node_image_version,
            format!("{UBUNTU}-202409.01.0")
        );
    }

    #[test]
    fn a_skipped_minor_fails_and_changes_nothing() {
        let c = asking(cluster("1.29.4", "202409.01.0"), Some("1.31.1"), None);
        let done = perform(&c, &catalogue(), at("2026-12-07T10:05:00Z"));
        assert_eq!(done.kubernetes_version, "1.29.4");
        let e = done.operation.and_then(|o| o.error).expect("error");
        assert_eq!(e.code, "UpgradeNotAllowed");
        assert!(e.message.contains("skips a minor version"), "{}", e.message);
    }

    #[test]
    fn an_image_missing_in_the_region_fails_with_the_documented_code() {
        let mut c = asking(cluster("1.29.4", "202409.01.0"), None, Some("202410.09.0"));
        c.region = "westeurope".into();
        let done = perform(&c, &catalogue(), at("2026-12-07T10:05:00Z"));
        assert_eq!(
            done.node_pools[0].node_image_version,
            format!("{UBUNTU}-202409.01.0")
        );
        let e = done.operation.and_then(|o| o.error).expect("error");
        assert_eq!(e.code, "NodeImageVersionNotAvailable");
        assert!(e.message.contains("agent pool nodepool1"), "{}", e.message);
        assert!(e.message.contains("region westeurope"), "{}", e.message);
    }

    #[test]
    fn the_view_reads_group_label_versions_and_operation() {
        let mut m = MemberCluster::new("m1", Default::default());
        m.metadata.labels = Some([(UPDATE_GROUP_LABEL.to_string(), "g1".to_string())].into());
        let mut c = asking(cluster("1.29.4", "202409.01.0"), Some("1.30.5"), None);
        c = perform(&c, &ReleaseCatalogue::default(), at("2026-12-07T10:05:00Z"));
        m.status = Some(MemberClusterStatus {
            managed_cluster: Some(c),
            ..Default::default()
        });
        let v = member_view(&m);
        assert_eq!(v.group.as_deref(), Some("g1"));
        assert_eq!(v.region, "eastus");
        assert_eq!(v.kubernetes_version, "1.29.4");
        match v.operation.map(|o| o.state) {
            Some(OperationState::Failed { code, .. }) => {
                assert_eq!(code, "KubernetesVersionNotAvailable")
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
