//! Seed 004's upgrade runs in fleetdeck's own group `updates.fleetdeck.dev/v1alpha1`
//! (DESIGN.md "Names fleetdeck owns"). Field names mirror the ARM resource's `properties`
//! (aks-update-runs.md §2–§5) so that the JSON matches the Azure shape. A member's update group is
//! its MemberCluster label `updates.fleetdeck.dev/group`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `UpdateStrategy.spec` (aks §2): only the sequence, never a target version.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStrategySpec {
    pub strategy: UpdateRunStrategy,
}

/// `UpdateRun.spec` (aks §3).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRunSpec {
    /// Reference to an `UpdateStrategy`: its name, or an ARM id whose last segment is the name.
    /// Setting it together with `strategy` is invalid.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_strategy_id: Option<String>,
    /// Inline sequence; neither this nor `updateStrategyId` ⇒ one-by-one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<UpdateRunStrategy>,
    pub managed_cluster_update: ManagedClusterUpdate,
    /// The AutoUpgradeProfile that made this run (aks §11 `autoUpgradeProfileId`; fleetdeck
    /// holds the profile's name). Set by the profile, never needed to create a run by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auto_upgrade_profile_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRunStrategy {
    /// At least 1; run in array order.
    #[serde(default)]
    pub stages: Vec<UpdateStage>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStage {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<UpdateGroup>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_stage_wait_in_seconds: Option<i32>,
    /// `^(?:([1-9]\d*)|([1-9]\d?|100)%)$`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<String>,
    /// `^(?:0|[1-9]\d*|(?:0|[1-9]\d?|100)%)$`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_allowed_failures: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_selector: Option<MemberSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_gates: Option<Vec<GateConfiguration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_gates: Option<Vec<GateConfiguration>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateGroup {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_allowed_failures: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member_selector: Option<MemberSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_gates: Option<Vec<GateConfiguration>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_gates: Option<Vec<GateConfiguration>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberSelector {
    /// ≤ 512 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by_label: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GateConfiguration {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(rename = "type")]
    pub type_: GateType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_start_configuration: Option<ScheduledStartConfiguration>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum GateType {
    #[default]
    Approval,
    ScheduledStart,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledStartConfiguration {
    pub start_day: String,
    pub start_time: String,
    pub utc_offset: String,
}

/// `managedClusterUpdate` (aks §3.2).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManagedClusterUpdate {
    pub upgrade: ManagedClusterUpgradeSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_image_selection: Option<NodeImageSelection>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ManagedClusterUpgradeSpec {
    #[serde(rename = "type")]
    pub type_: ManagedClusterUpgradeType,
    /// Required for Full and ControlPlaneOnly, forbidden for NodeImageOnly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kubernetes_version: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ManagedClusterUpgradeType {
    #[default]
    Full,
    NodeImageOnly,
    ControlPlaneOnly,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeImageSelection {
    #[serde(rename = "type")]
    pub type_: NodeImageSelectionType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom_node_image_versions: Option<Vec<NodeImageVersion>>,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum NodeImageSelectionType {
    #[default]
    Latest,
    Consistent,
    Custom,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeImageVersion {
    pub version: String,
}

/// `UpdateRun.status` (aks §4).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRunStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UpdateStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stages: Option<Vec<UpdateStageStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_image_selection: Option<NodeImageSelectionStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_count: Option<i32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<UpdateState>,
    /// ARM ErrorDetail `{code, message, target, details, additionalInfo}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// The one enum used at every level (aks §5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum UpdateState {
    #[default]
    NotStarted,
    Running,
    Stopping,
    Stopped,
    Skipped,
    Failed,
    Pending,
    Completed,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStageStatus {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UpdateStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_allowed_failures: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_gates: Option<Vec<UpdateRunGateStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_gates: Option<Vec<UpdateRunGateStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_stage_wait_status: Option<WaitStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<UpdateGroupStatus>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateGroupStatus {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UpdateStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_count: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_allowed_failures: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_gates: Option<Vec<UpdateRunGateStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_gates: Option<Vec<UpdateRunGateStatus>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub members: Option<Vec<MemberUpdateStatus>>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct MemberUpdateStatus {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_resource_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UpdateStatus>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRunGateStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gate_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UpdateStatus>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct WaitStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<UpdateStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_duration_in_seconds: Option<i32>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeImageSelectionStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selected_node_image_versions: Option<Vec<NodeImageVersion>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Seed 004's `example-stages.json`, accepted as written by `--stages`.
    const EXAMPLE_STAGES: &str = r#"{"stages": [
        {"name": "stage1", "groups": [{"name": "group-1a"}, {"name": "group-1b"}, {"name": "group-1c"}],
         "afterStageWaitInSeconds": 3600},
        {"name": "stage2", "groups": [{"name": "group-2a"}, {"name": "group-2b"}, {"name": "group-2c"}]}
    ]}"#;

    #[test]
    fn seed_004_stages_file_round_trips() {
        let raw: Value = serde_json::from_str(EXAMPLE_STAGES).expect("json");
        let typed: UpdateRunStrategy = serde_json::from_value(raw.clone()).expect("typed");
        assert_eq!(typed.stages.len(), 2);
        assert_eq!(typed.stages[0].after_stage_wait_in_seconds, Some(3600));
        assert_eq!(serde_json::to_value(&typed).expect("serialize"), raw);
    }
}
