//! What the engine observes of one member cluster for upgrade runs: its update group and labels,
//! region, versions, maintenance windows and its latest upgrade operation. The engine builds it
//! from the MemberCluster (label `updates.fleetdeck.dev/group`, the simulated member's status);
//! the domain never reads a cluster itself.

use std::collections::BTreeMap;

use super::maintenance_window::MaintenanceWindow;
use super::upgrade_run::ManagedClusterUpgradeType;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemberView {
    pub name: String,
    /// Shown as the member's `clusterResourceId` in run status.
    pub cluster_resource_id: Option<String>,
    /// The update group (label `updates.fleetdeck.dev/group`).
    pub group: Option<String>,
    /// For `memberSelector.byLabel`.
    pub labels: BTreeMap<String, String>,
    pub region: String,
    /// Control-plane Kubernetes version, `x.y.z`.
    pub kubernetes_version: String,
    pub node_pools: Vec<NodePoolView>,
    /// The window Full and ControlPlaneOnly upgrades honour (AKS `aksManagedAutoUpgradeSchedule`).
    pub auto_upgrade_window: Option<MaintenanceWindow>,
    /// The window NodeImageOnly upgrades honour (AKS `aksManagedNodeOSUpgradeSchedule`, aks §6.7).
    pub node_os_window: Option<MaintenanceWindow>,
    /// The member's latest upgrade operation, whoever started it.
    pub operation: Option<OperationView>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodePoolView {
    pub name: String,
    /// `<family>-<version>`.
    pub node_image_version: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OperationView {
    /// The `operationId` a run gave the operation when it started it.
    pub id: String,
    pub state: OperationState,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OperationState {
    InProgress,
    Succeeded,
    /// ARM `ErrorDetail` code and message.
    Failed {
        code: String,
        message: String,
    },
}

impl MemberView {
    /// The window that governs an upgrade of this type (aks §6.7).
    pub fn window_for(&self, kind: ManagedClusterUpgradeType) -> Option<&MaintenanceWindow> {
        match kind {
            ManagedClusterUpgradeType::NodeImageOnly => self.node_os_window.as_ref(),
            _ => self.auto_upgrade_window.as_ref(),
        }
    }
}
