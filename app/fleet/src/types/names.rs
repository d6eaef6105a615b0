//! Label keys, annotation keys, finalizers and object-name formats (spec §2).

/// Label: name of the owning placement, on snapshots and bindings (also for RP-owned objects).
pub const PARENT_PLACEMENT_LABEL: &str = "kubernetes-fleet.io/parent-CRP";
pub const IS_LATEST_SNAPSHOT_LABEL: &str = "kubernetes-fleet.io/is-latest-snapshot";
pub const RESOURCE_INDEX_LABEL: &str = "kubernetes-fleet.io/resource-index";
pub const POLICY_INDEX_LABEL: &str = "kubernetes-fleet.io/policy-index";
pub const RESOURCE_HASH_ANNOTATION: &str = "kubernetes-fleet.io/resource-hash";
pub const NUMBER_OF_RESOURCE_SNAPSHOTS_ANNOTATION: &str =
    "kubernetes-fleet.io/number-of-resource-snapshots";
pub const NUMBER_OF_ENVELOPED_OBJECTS_ANNOTATION: &str =
    "kubernetes-fleet.io/number-of-enveloped-object";
pub const SUBINDEX_OF_RESOURCE_SNAPSHOT_ANNOTATION: &str =
    "kubernetes-fleet.io/subindex-of-resource-snapshot";
pub const NEXT_RESOURCE_SNAPSHOT_CANDIDATE_DETECTION_TIME_ANNOTATION: &str =
    "kubernetes-fleet.io/next-resource-snapshot-candidate-detection-time";
pub const NUMBER_OF_CLUSTERS_ANNOTATION: &str = "kubernetes-fleet.io/number-of-clusters";
pub const PREVIOUS_BINDING_STATE_ANNOTATION: &str = "kubernetes-fleet.io/previous-binding-state";
pub const MEMBER_NAME_LABEL: &str = "kubernetes-fleet.io/member-name";
pub const TARGET_UPDATE_RUN_LABEL: &str = "kubernetes-fleet.io/targetUpdateRun";
pub const TARGET_UPDATING_STAGE_LABEL: &str = "kubernetes-fleet.io/targetUpdatingStage";
pub const TASK_TYPE_LABEL: &str = "kubernetes-fleet.io/taskType";
pub const IS_LATEST_UPDATE_RUN_APPROVAL_LABEL: &str =
    "kubernetes-fleet.io/isLatestUpdateRunApproval";
pub const STAGED_UPDATE_RUN_FINALIZER: &str = "kubernetes-fleet.io/stagedupdaterun-finalizer";
/// Fixed name of the implicit deletion stage (`status.deletionStageStatus.stageName`).
pub const DELETION_STAGE_NAME: &str = "kubernetes-fleet.io/deleteStage";
/// MemberCluster label holding a member's update group for upgrade runs (DESIGN.md).
pub const UPDATE_GROUP_LABEL: &str = "updates.fleetdeck.dev/group";
/// Label on a Gate: the name of the upgrade run that created it.
pub const GATE_UPDATE_RUN_LABEL: &str = "updates.fleetdeck.dev/update-run";
/// Label on an UpdateRun an auto-upgrade profile made: the profile's name (aks §11).
pub const AUTO_UPGRADE_PROFILE_LABEL: &str = "updates.fleetdeck.dev/auto-upgrade-profile";
/// Annotation on an UpdateRun: the upgrade-run controller starts it in the same write that plans
/// it (an auto-upgrade trigger starts its run, aks §11).
pub const START_WHEN_PLANNED: &str = "updates.fleetdeck.dev/start-when-planned";
/// Finalizer of an upgrade run: its gates go with it (aks §12).
pub const UPGRADE_RUN_FINALIZER: &str = "updates.fleetdeck.dev/updaterun-finalizer";

/// MemberCluster property: the member's node count, as KubeFleet's property provider reports it.
pub const NODE_COUNT_PROPERTY: &str = "kubernetes-fleet.io/node-count";
/// MemberCluster property a simulated member reports its region in (DESIGN.md: simulated
/// members report region, Kubernetes version and node image as properties).
pub const REGION_PROPERTY: &str = "fleetdeck.dev/region";

/// Value of the `taskType` label (spec §2).
pub const TASK_TYPE_BEFORE_STAGE: &str = "beforeStage";
pub const TASK_TYPE_AFTER_STAGE: &str = "afterStage";

/// `namespace/name`, or `/name` without a namespace, as Go's `types.NamespacedName` prints.
pub fn object_key(namespace: Option<&str>, name: &str) -> String {
    format!("{}/{}", namespace.unwrap_or_default(), name)
}

/// `namespace/name`, or just `name` without a namespace, as Go's `klog.KObj` prints: the form
/// KubeFleet uses for the binding in the pre-emption message (seed 003 shows
/// ``please check the status of binding `example-placement-member2-e1a567da` ``).
pub fn klog_key(namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) if !ns.is_empty() => format!("{ns}/{name}"),
        _ => name.to_string(),
    }
}

/// Master resource snapshot name: `<placement>-<index>-snapshot`.
pub fn master_resource_snapshot_name(placement: &str, index: u64) -> String {
    format!("{placement}-{index}-snapshot")
}

/// Sub-indexed resource snapshot name: `<placement>-<index>-<subindex>`.
pub fn sub_resource_snapshot_name(placement: &str, index: u64, sub_index: u64) -> String {
    format!("{placement}-{index}-{sub_index}")
}

/// Policy snapshot name: `<placement>-<index>`.
pub fn policy_snapshot_name(placement: &str, index: u64) -> String {
    format!("{placement}-{index}")
}

/// Approval request name for a before-stage task: `<run>-before-<stage>`.
pub fn before_stage_approval_name(run: &str, stage: &str) -> String {
    format!("{run}-before-{stage}")
}

/// Approval request name for an after-stage task: `<run>-after-<stage>`.
pub fn after_stage_approval_name(run: &str, stage: &str) -> String {
    format!("{run}-after-{stage}")
}

/// Binding name `<placement>-<cluster>-<suffix>`, the first two segments truncated so the whole
/// stays a 63-character DNS label (spec §2). `suffix` is the 8 random hex characters.
pub fn binding_name(placement: &str, cluster: &str, suffix: &str) -> String {
    const MAX: usize = 63;
    let budget = MAX.saturating_sub(suffix.len() + 2);
    let half = budget / 2;
    let (mut p_len, mut c_len) = (placement.len(), cluster.len());
    if p_len + c_len > budget {
        // Give each segment half; a short one donates its spare room to the other.
        if p_len <= half {
            c_len = budget - p_len;
        } else if c_len <= half {
            p_len = budget - c_len;
        } else {
            p_len = half;
            c_len = budget - half;
        }
    }
    let p = truncate_label(placement, p_len);
    let c = truncate_label(cluster, c_len);
    format!("{p}-{c}-{suffix}")
}

fn truncate_label(s: &str, max: usize) -> &str {
    let mut end = max.min(s.len());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].trim_end_matches(['-', '.'])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_print_like_go_namespaced_name() {
        assert_eq!(object_key(None, "example"), "/example");
        assert_eq!(object_key(Some("ns"), "example"), "ns/example");
    }

    #[test]
    fn klog_keys_drop_the_slash_without_a_namespace() {
        assert_eq!(klog_key(None, "example"), "example");
        assert_eq!(klog_key(Some(""), "example"), "example");
        assert_eq!(klog_key(Some("ns"), "example"), "ns/example");
    }

    #[test]
    fn approval_names_follow_head_format() {
        assert_eq!(
            before_stage_approval_name("example-run", "canary"),
            "example-run-before-canary"
        );
        assert_eq!(
            after_stage_approval_name("example-run", "canary"),
            "example-run-after-canary"
        );
    }

    #[test]
    fn binding_names_fit_a_dns_label() {
        assert_eq!(
            binding_name("example-placement", "member2", "e1a567da"),
            "example-placement-member2-e1a567da"
        );
        let long = binding_name(&"p".repeat(60), &"c".repeat(60), "e1a567da");
        assert_eq!(long.len(), 63);
        assert!(long.ends_with("-e1a567da"));
        let short_cluster = binding_name(&"p".repeat(80), "m1", "e1a567da");
        assert!(short_cluster.len() <= 63 && short_cluster.contains("-m1-"));
    }
}
