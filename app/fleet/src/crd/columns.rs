//! `additionalPrinterColumns` of every kind (spec §8).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceColumnDefinition;

/// One `additionalPrinterColumns` entry; `wide` columns get `priority: 1` (`-o wide` only).
fn column(name: &str, json_path: &str, type_: &str, wide: bool) -> CustomResourceColumnDefinition {
    CustomResourceColumnDefinition {
        name: name.to_string(),
        json_path: json_path.to_string(),
        type_: type_.to_string(),
        priority: wide.then_some(1),
        description: None,
        format: None,
    }
}

fn condition_status(type_: &str) -> String {
    format!(".status.conditions[?(@.type==\"{type_}\")].status")
}

fn condition_generation(type_: &str) -> String {
    format!(".status.conditions[?(@.type==\"{type_}\")].observedGeneration")
}

fn age() -> CustomResourceColumnDefinition {
    column("Age", ".metadata.creationTimestamp", "date", false)
}

/// The printer columns of a kind, in the order of spec §8 (empty: kubectl's default NAME, AGE).
pub fn printer_columns(kind: &str) -> Vec<CustomResourceColumnDefinition> {
    match kind {
        "ClusterStagedUpdateRun" | "StagedUpdateRun" => vec![
            column("Placement", ".spec.placementName", "string", false),
            // spec §8: the requested index, empty when omitted (not the used one).
            column(
                "Resource-Snapshot-Index",
                ".spec.resourceSnapshotIndex",
                "string",
                false,
            ),
            column(
                "Policy-Snapshot-Index",
                ".status.policySnapshotIndexUsed",
                "string",
                false,
            ),
            column(
                "Initialized",
                &condition_status("Initialized"),
                "string",
                false,
            ),
            column(
                "Progressing",
                &condition_status("Progressing"),
                "string",
                false,
            ),
            column("Succeeded", &condition_status("Succeeded"), "string", false),
            age(),
            column(
                "Strategy",
                ".spec.stagedRolloutStrategyName",
                "string",
                true,
            ),
        ],
        "UpdateRun" => vec![
            column("State", ".status.status.state", "string", false),
            column(
                "Upgrade-Type",
                ".spec.managedClusterUpdate.upgrade.type",
                "string",
                false,
            ),
            column(
                "Kubernetes-Version",
                ".spec.managedClusterUpdate.upgrade.kubernetesVersion",
                "string",
                false,
            ),
            column(
                "Node-Image-Selection",
                ".spec.managedClusterUpdate.nodeImageSelection.type",
                "string",
                true,
            ),
            column("Strategy", ".spec.updateStrategyId", "string", true),
            age(),
        ],
        "AutoUpgradeProfile" => vec![
            column("Channel", ".spec.channel", "string", false),
            column("Strategy", ".spec.updateStrategyName", "string", false),
            column("Disabled", ".spec.disabled", "boolean", false),
            column(
                "Last-Trigger",
                ".status.autoUpgradeProfileStatus.lastTriggerStatus",
                "string",
                false,
            ),
            column(
                "Last-Triggered",
                ".status.autoUpgradeProfileStatus.lastTriggeredAt",
                "date",
                false,
            ),
            column(
                "Update-Run",
                ".status.autoUpgradeProfileStatus.lastTriggerUpdateRunName",
                "string",
                true,
            ),
            age(),
        ],
        "Gate" => vec![
            column("Type", ".spec.gateType", "string", false),
            column("State", ".spec.state", "string", false),
            column(
                "Update-Run",
                ".spec.target.updateRunProperties.name",
                "string",
                false,
            ),
            column(
                "Stage",
                ".spec.target.updateRunProperties.stage",
                "string",
                false,
            ),
            column(
                "Group",
                ".spec.target.updateRunProperties.group",
                "string",
                false,
            ),
            column(
                "Timing",
                ".spec.target.updateRunProperties.timing",
                "string",
                false,
            ),
            age(),
        ],
        "ClusterApprovalRequest" | "ApprovalRequest" => vec![
            column("Update-Run", ".spec.parentStageRollout", "string", false),
            column("Stage", ".spec.targetStage", "string", false),
            column("Approved", &condition_status("Approved"), "string", false),
            age(),
        ],
        "ClusterResourcePlacement" | "ResourcePlacement" => {
            // Condition types carry the kind as prefix (spec §3.3).
            let t = |suffix: &str| format!("{kind}{suffix}");
            vec![
                column("Gen", ".metadata.generation", "string", false),
                column("Type", ".spec.strategy.type", "string", true),
                column(
                    "Scheduled",
                    &condition_status(&t("Scheduled")),
                    "string",
                    false,
                ),
                column(
                    "Scheduled-Gen",
                    &condition_generation(&t("Scheduled")),
                    "string",
                    false,
                ),
                column(
                    "Work-Synchronized",
                    &condition_status(&t("WorkSynchronized")),
                    "string",
                    true,
                ),
                column(
                    "Work-Synchronized-Gen",
                    &condition_generation(&t("WorkSynchronized")),
                    "string",
                    true,
                ),
                column(
                    "Available",
                    &condition_status(&t("Available")),
                    "string",
                    false,
                ),
                column(
                    "Available-Gen",
                    &condition_generation(&t("Available")),
                    "string",
                    false,
                ),
                age(),
            ]
        }
        "ClusterResourceSnapshot"
        | "ResourceSnapshot"
        | "ClusterSchedulingPolicySnapshot"
        | "SchedulingPolicySnapshot" => vec![
            column("Gen", ".metadata.generation", "string", false),
            age(),
        ],
        "ClusterResourceBinding" | "ResourceBinding" => vec![
            column(
                "WorkSynchronized",
                &condition_status("WorkSynchronized"),
                "string",
                false,
            ),
            column(
                "ResourcesApplied",
                &condition_status("Applied"),
                "string",
                false,
            ),
            column(
                "ResourceAvailable",
                &condition_status("Available"),
                "string",
                true,
            ),
            age(),
        ],
        "MemberCluster" => vec![
            column("Joined", &condition_status("Joined"), "string", false),
            age(),
            column(
                "Member-Agent-Last-Seen",
                ".status.agentStatus[?(@.type==\"MemberAgent\")].lastReceivedHeartbeat",
                "date",
                false,
            ),
            column(
                "Node-Count",
                ".status.properties.kubernetes-fleet\\.io/node-count.value",
                "string",
                false,
            ),
            column(
                "Available-CPU",
                ".status.resourceUsage.available.cpu",
                "string",
                false,
            ),
            column(
                "Available-Memory",
                ".status.resourceUsage.available.memory",
                "string",
                false,
            ),
            column(
                "Allocatable-CPU",
                ".status.resourceUsage.allocatable.cpu",
                "string",
                true,
            ),
            column(
                "Allocatable-Memory",
                ".status.resourceUsage.allocatable.memory",
                "string",
                true,
            ),
        ],
        // Seed 004 kinds are fleetdeck's own (spec/aks-update-runs.md); §8 lists none.
        _ => Vec::new(),
    }
}
