//! The OpenAPI keywords and CEL rules of each kind, put into its generated schema (spec §3.1,
//! §6, §7). The rules themselves are declared in [`crate::validation`], next to their Rust
//! twins; this module only places them.

use serde_json::{json, Value};

use super::schema_node::{cel, range, required, set, strip_defaults};
use super::{overrides, placement, staged_update};
use crate::validation::{self, upgrade_run as vu};

/// Puts the OpenAPI and CEL rules of a kind into its schema.
pub(super) fn add_rules(kind: &str, root: &mut Value) {
    strip_defaults(root);
    match kind {
        "ClusterResourcePlacement" | "ResourcePlacement" => placement::placement_rules(kind, root),
        "ClusterResourceSnapshot" | "ResourceSnapshot" => {
            required(root, "spec", &["selectedResources"]);
        }
        "ClusterSchedulingPolicySnapshot" | "SchedulingPolicySnapshot" => {
            set(root, "status.targetClusters", "maxItems", json!(1000));
        }
        "ClusterStagedUpdateStrategy" | "StagedUpdateStrategy" => {
            required(root, "spec", &["stages"]);
            staged_update::strategy_rules(root, "spec");
        }
        "ClusterStagedUpdateRun" | "StagedUpdateRun" => staged_update::run_rules(root),
        "ClusterApprovalRequest" | "ApprovalRequest" => {
            required(root, "spec", &["parentStageRollout", "targetStage"]);
            cel(root, "spec", &validation::approval::SPEC_IMMUTABLE.cel);
        }
        "MemberCluster" => member_cluster_rules(root),
        "UpdateRun" | "UpdateStrategy" => update_run_rules(root),
        "AutoUpgradeProfile" => {
            required(root, "spec", &["channel"]);
            set(root, "spec.disabled", "default", json!(false));
            set(
                root,
                "spec.updateStrategyName",
                "pattern",
                json!(vu::ARM_NAME_PATTERN),
            );
            set(
                root,
                "spec.updateStrategyName",
                "maxLength",
                json!(vu::ARM_NAME_MAX_LENGTH),
            );
        }
        "ClusterResourceOverride"
        | "ResourceOverride"
        | "ClusterResourceOverrideSnapshot"
        | "ResourceOverrideSnapshot" => overrides::override_rules(kind, root),
        _ => {}
    }
}

/// spec §6.
fn member_cluster_rules(root: &mut Value) {
    cel(root, "", &validation::NAME_MAX_63.cel);
    required(root, "spec", &["identity"]);
    let hb = "spec.heartbeatPeriodSeconds";
    set(root, hb, "default", json!(60));
    range(
        root,
        hb,
        &validation::member_cluster::HEARTBEAT_PERIOD_SECONDS,
    );
    set(
        root,
        "spec.taints",
        "maxItems",
        json!(validation::member_cluster::MAX_TAINTS),
    );
    set(
        root,
        "spec.deleteOptions.validationMode",
        "default",
        json!("Strict"),
    );
}

/// spec/aks-update-runs.md §2–§5: the ARM names' pattern and limits.
fn update_run_rules(root: &mut Value) {
    set(
        root,
        "spec.strategy.stages",
        "minItems",
        json!(vu::MIN_STAGES),
    );
    let stage = "spec.strategy.stages[]".to_string();
    for node_path in [stage.clone(), format!("{stage}.groups[]")] {
        set(
            root,
            &format!("{node_path}.name"),
            "pattern",
            json!(vu::ARM_NAME_PATTERN),
        );
        set(
            root,
            &format!("{node_path}.name"),
            "maxLength",
            json!(vu::ARM_NAME_MAX_LENGTH),
        );
        set(
            root,
            &format!("{node_path}.maxConcurrency"),
            "pattern",
            json!(vu::STAGE_MAX_CONCURRENCY_PATTERN),
        );
        set(
            root,
            &format!("{node_path}.maxAllowedFailures"),
            "pattern",
            json!(vu::MAX_ALLOWED_FAILURES_PATTERN),
        );
    }
    set(
        root,
        &format!("{stage}.groups"),
        "maxItems",
        json!(vu::MAX_GROUPS_PER_STAGE),
    );
}
