//! Validation of fleetdeck's upgrade `UpdateRun` / `UpdateStrategy` (aks-update-runs.md §10).
//! ARM does not publish its server messages, so these texts use the apiserver formats with
//! fleetdeck wording; the CLI's client-side messages are quoted where aks §10 gives them.

use std::collections::BTreeSet;

use super::{finish, FieldError};
use crate::upgrade::upgrade_run::{
    GateConfiguration, GateType, ManagedClusterUpgradeType, NodeImageSelectionType,
    UpdateRunStrategy,
};
use crate::{UpdateRun, UpdateStrategy};

pub const ARM_NAME_PATTERN: &str = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
pub const ARM_NAME_MAX_LENGTH: usize = 50;
pub const MIN_STAGES: usize = 1;
pub const MAX_GROUPS_PER_STAGE: usize = 50;
pub const STAGE_MAX_CONCURRENCY_PATTERN: &str = r"^(?:([1-9]\d*)|([1-9]\d?|100)%)$";
pub const MAX_ALLOWED_FAILURES_PATTERN: &str = r"^(?:0|[1-9]\d*|(?:0|[1-9]\d?|100)%)$";
pub const MSG_KUBERNETES_VERSION_REQUIRED: &str =
    "Please set kubernetes version when upgrade type is 'Full'/'ControlPlaneOnly'";
pub const MSG_KUBERNETES_VERSION_FORBIDDEN: &str =
    "Cannot set kubernetes version when upgrade type is 'NodeImageOnly'";

pub fn validate_update_strategy(
    _old: Option<&UpdateStrategy>,
    new: &UpdateStrategy,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    check_arm_name("metadata.name", new.name(), &mut errors);
    validate_strategy(&new.spec.strategy, "spec.strategy", &mut errors);
    finish(errors)
}

/// On update, `strategy` and `managedClusterUpdate` may only change before the run starts
/// (aks §3, §17); the caller passes whether it has started via the status.
pub fn validate_update_run(
    old: Option<&UpdateRun>,
    new: &UpdateRun,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    check_arm_name("metadata.name", new.name(), &mut errors);
    let spec = &new.spec;
    // The engine records its copy of the referenced strategy in `strategy` (aks §2: a run copies
    // the strategy at creation); a user may set only one of the two.
    let copied = old.is_some_and(|o| {
        o.spec.update_strategy_id == spec.update_strategy_id
            && (o.spec.strategy.is_none() || o.spec.strategy == spec.strategy)
    });
    if spec.update_strategy_id.is_some() && spec.strategy.is_some() && !copied {
        errors.push(FieldError::forbidden(
            "spec.strategy",
            "strategy and updateStrategyId cannot both be set",
        ));
    }
    if let Some(s) = &spec.strategy {
        validate_strategy(s, "spec.strategy", &mut errors);
    }
    let upgrade = &spec.managed_cluster_update.upgrade;
    let version_path = "spec.managedClusterUpdate.upgrade.kubernetesVersion";
    match (
        upgrade.type_,
        upgrade
            .kubernetes_version
            .as_deref()
            .filter(|v| !v.is_empty()),
    ) {
        (ManagedClusterUpgradeType::Full | ManagedClusterUpgradeType::ControlPlaneOnly, None) => {
            errors.push(FieldError {
                detail: MSG_KUBERNETES_VERSION_REQUIRED.into(),
                ..FieldError::required(version_path)
            })
        }
        (ManagedClusterUpgradeType::NodeImageOnly, Some(_)) => errors.push(FieldError::forbidden(
            version_path,
            MSG_KUBERNETES_VERSION_FORBIDDEN,
        )),
        _ => {}
    }
    if let Some(sel) = &spec.managed_cluster_update.node_image_selection {
        let custom = sel
            .custom_node_image_versions
            .as_ref()
            .is_some_and(|v| !v.is_empty());
        let path = "spec.managedClusterUpdate.nodeImageSelection.customNodeImageVersions";
        match (sel.type_, custom) {
            (NodeImageSelectionType::Custom, false) => errors.push(FieldError {
                detail: "customNodeImageVersions is required when type is 'Custom'".into(),
                ..FieldError::required(path)
            }),
            (NodeImageSelectionType::Latest | NodeImageSelectionType::Consistent, true) => errors
                .push(FieldError::forbidden(
                    path,
                    "customNodeImageVersions must be empty unless type is 'Custom'",
                )),
            _ => {}
        }
    }
    let started = |r: &UpdateRun| {
        r.status
            .as_ref()
            .and_then(|s| s.status.as_ref())
            .and_then(|s| s.state)
            .is_some_and(|s| s != crate::upgrade::upgrade_run::UpdateState::NotStarted)
    };
    if let Some(old) = old {
        if started(old) {
            if old.spec.strategy != spec.strategy
                || old.spec.update_strategy_id != spec.update_strategy_id
            {
                errors.push(FieldError::forbidden(
                    "spec.strategy",
                    "strategy cannot be changed once the run has started",
                ));
            }
            if old.spec.managed_cluster_update != spec.managed_cluster_update {
                errors.push(FieldError::forbidden(
                    "spec.managedClusterUpdate",
                    "managedClusterUpdate cannot be changed once the run has started",
                ));
            }
        }
    }
    finish(errors)
}

fn validate_strategy(strategy: &UpdateRunStrategy, path: &str, errors: &mut Vec<FieldError>) {
    if strategy.stages.len() < MIN_STAGES {
        errors.push(FieldError::too_few(
            format!("{path}.stages"),
            strategy.stages.len(),
            MIN_STAGES,
        ));
    }
    let mut stage_names = BTreeSet::new();
    let mut group_names = BTreeSet::new();
    for (i, stage) in strategy.stages.iter().enumerate() {
        let sp = format!("{path}.stages[{i}]");
        check_arm_name(&format!("{sp}.name"), &stage.name, errors);
        if !stage_names.insert(stage.name.as_str()) {
            errors.push(duplicate(&format!("{sp}.name"), &stage.name));
        }
        let groups = stage.groups.as_deref().unwrap_or_default();
        if groups.is_empty() && stage.member_selector.is_none() {
            errors.push(FieldError::too_few(format!("{sp}.groups"), 0, 1));
        }
        if groups.len() > MAX_GROUPS_PER_STAGE {
            errors.push(FieldError::too_many(
                format!("{sp}.groups"),
                groups.len(),
                MAX_GROUPS_PER_STAGE,
            ));
        }
        check_concurrency_and_failures(
            &sp,
            stage.max_concurrency.as_deref(),
            stage.max_allowed_failures.as_deref(),
            errors,
        );
        check_gates(
            &sp,
            stage.before_gates.as_deref(),
            stage.after_gates.as_deref(),
            errors,
        );
        for (j, group) in groups.iter().enumerate() {
            let gp = format!("{sp}.groups[{j}]");
            check_arm_name(&format!("{gp}.name"), &group.name, errors);
            if !group_names.insert(group.name.as_str()) {
                errors.push(duplicate(&format!("{gp}.name"), &group.name));
            }
            check_concurrency_and_failures(
                &gp,
                group.max_concurrency.as_deref(),
                group.max_allowed_failures.as_deref(),
                errors,
            );
            check_gates(
                &gp,
                group.before_gates.as_deref(),
                group.after_gates.as_deref(),
                errors,
            );
        }
    }
}

fn duplicate(path: &str, value: &str) -> FieldError {
    FieldError {
        field: path.into(),
        kind: super::FieldErrorKind::Invalid {
            value: format!("{value:?}"),
        },
        detail: "Duplicate value".into(),
    }
}

pub(super) fn check_arm_name(path: &str, name: &str, errors: &mut Vec<FieldError>) {
    if name.len() > ARM_NAME_MAX_LENGTH {
        errors.push(FieldError::too_long(path, ARM_NAME_MAX_LENGTH));
    }
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-';
    if !ok {
        errors.push(FieldError::pattern(path, name, ARM_NAME_PATTERN));
    }
}

fn check_concurrency_and_failures(
    path: &str,
    conc: Option<&str>,
    failures: Option<&str>,
    errors: &mut Vec<FieldError>,
) {
    if let Some(c) = conc {
        if !is_positive_int(c) && crate::staged::concurrency::parse_percent(c).is_none() {
            errors.push(FieldError::pattern(
                format!("{path}.maxConcurrency"),
                c,
                STAGE_MAX_CONCURRENCY_PATTERN,
            ));
        }
    }
    if let Some(f) = failures {
        let pct_ok = f == "0%" || crate::staged::concurrency::parse_percent(f).is_some();
        if !(f == "0" || is_positive_int(f) || pct_ok) {
            errors.push(FieldError::pattern(
                format!("{path}.maxAllowedFailures"),
                f,
                MAX_ALLOWED_FAILURES_PATTERN,
            ));
        }
    }
}

fn is_positive_int(s: &str) -> bool {
    !s.is_empty() && !s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit())
}

fn check_gates(
    path: &str,
    before: Option<&[GateConfiguration]>,
    after: Option<&[GateConfiguration]>,
    errors: &mut Vec<FieldError>,
) {
    for (field, gates) in [("beforeGates", before), ("afterGates", after)] {
        for (k, gate) in gates.unwrap_or_default().iter().enumerate() {
            let p = format!("{path}.{field}[{k}]");
            if let Some(d) = &gate.display_name {
                if d.is_empty() || d.len() > 100 {
                    errors.push(FieldError::too_long(format!("{p}.displayName"), 100));
                }
            }
            if field == "afterGates" && gate.type_ == GateType::ScheduledStart {
                errors.push(FieldError::forbidden(
                    format!("{p}.type"),
                    "ScheduledStart gates can only be before-gates",
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upgrade::upgrade_run::{
        ManagedClusterUpdate, ManagedClusterUpgradeSpec, UpdateGroup, UpdateRunSpec, UpdateStage,
    };

    fn run(
        type_: ManagedClusterUpgradeType,
        version: Option<&str>,
        strategy: Option<UpdateRunStrategy>,
    ) -> UpdateRun {
        UpdateRun::new(
            "run-4",
            UpdateRunSpec {
                update_strategy_id: None,
                strategy,
                managed_cluster_update: ManagedClusterUpdate {
                    upgrade: ManagedClusterUpgradeSpec {
                        type_,
                        kubernetes_version: version.map(Into::into),
                    },
                    node_image_selection: None,
                },
                auto_upgrade_profile_id: None,
            },
        )
    }

    fn stage(name: &str, groups: &[&str]) -> UpdateStage {
        UpdateStage {
            name: name.into(),
            groups: Some(
                groups
                    .iter()
                    .map(|g| UpdateGroup {
                        name: g.to_string(),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }
    }

    fn messages(r: Result<(), Vec<FieldError>>) -> Vec<String> {
        r.err()
            .unwrap_or_default()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn kubernetes_version_pairing() {
        assert_eq!(
            validate_update_run(
                None,
                &run(ManagedClusterUpgradeType::Full, Some("1.26.0"), None)
            ),
            Ok(())
        );
        assert_eq!(
            messages(validate_update_run(None, &run(ManagedClusterUpgradeType::Full, None, None))),
            ["spec.managedClusterUpdate.upgrade.kubernetesVersion: Required value: Please set kubernetes version when upgrade type is 'Full'/'ControlPlaneOnly'"]
        );
        assert_eq!(
            messages(validate_update_run(None, &run(ManagedClusterUpgradeType::NodeImageOnly, Some("1.26.0"), None))),
            ["spec.managedClusterUpdate.upgrade.kubernetesVersion: Forbidden: Cannot set kubernetes version when upgrade type is 'NodeImageOnly'"]
        );
    }

    #[test]
    fn stage_and_group_rules() {
        let good = UpdateRunStrategy {
            stages: vec![
                stage("stage1", &["group-1a", "group-1b"]),
                stage("stage2", &["group-2a"]),
            ],
        };
        assert_eq!(
            validate_update_run(
                None,
                &run(ManagedClusterUpgradeType::Full, Some("1.26.0"), Some(good))
            ),
            Ok(())
        );
        let bad = UpdateRunStrategy {
            stages: vec![
                stage("stage1", &["group-1a"]),
                stage("stage1", &["group-1a"]),
                stage("Bad_Stage", &[]),
            ],
        };
        let msgs = messages(validate_update_run(
            None,
            &run(ManagedClusterUpgradeType::Full, Some("1.26.0"), Some(bad)),
        ));
        assert_eq!(
            msgs,
            [
                "spec.strategy.stages[1].name: Invalid value: \"stage1\": Duplicate value",
                "spec.strategy.stages[1].groups[0].name: Invalid value: \"group-1a\": Duplicate value",
                "spec.strategy.stages[2].name: Invalid value: \"Bad_Stage\": spec.strategy.stages[2].name in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'",
                "spec.strategy.stages[2].groups: Invalid value: 0: spec.strategy.stages[2].groups in body should have at least 1 items",
            ]
        );
    }

    #[test]
    fn only_the_engine_copy_of_a_referenced_strategy_sits_beside_its_id() {
        let strategy = UpdateRunStrategy {
            stages: vec![stage("s1", &["g"])],
        };
        let mut by_id = run(ManagedClusterUpgradeType::Full, Some("1.26.0"), None);
        by_id.spec.update_strategy_id = Some("strategy-1".into());
        let mut both = by_id.clone();
        both.spec.strategy = Some(strategy.clone());
        let refused = "strategy and updateStrategyId cannot both be set";
        assert!(messages(validate_update_run(None, &both))
            .iter()
            .any(|m| m.contains(refused)));
        // The copy, added to a run that named only the id, and kept afterwards.
        assert_eq!(validate_update_run(Some(&by_id), &both), Ok(()));
        assert_eq!(validate_update_run(Some(&both), &both), Ok(()));
        // Not a different strategy later, nor a copy under a changed id.
        let mut other = both.clone();
        other.spec.strategy = Some(UpdateRunStrategy {
            stages: vec![stage("s2", &["g"])],
        });
        assert!(messages(validate_update_run(Some(&both), &other))
            .iter()
            .any(|m| m.contains(refused)));
        let mut renamed = both.clone();
        renamed.spec.update_strategy_id = Some("strategy-2".into());
        assert!(messages(validate_update_run(Some(&by_id), &renamed))
            .iter()
            .any(|m| m.contains(refused)));
    }
}
