//! Stage planning: which selected cluster goes into which stage, in which order, and the task
//! skeletons of each stage (spec §9.3 step 4). The engine runs it at initialization and again on
//! every validation pass (spec §9.4 step 5); the strategy editor runs it in WASM for a preview.

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

use crate::staged::staged_update::{StageConfig, StageTask, StageTaskType};
use crate::staged::staged_update_run::{
    ClusterUpdatingStatus, StageTaskStatus, StageUpdatingStatus,
};
use crate::staged::wait_time::{parse_go_duration, DurationError};
use crate::types::label_selector::{self, SelectorError};
use crate::types::names::{self, DELETION_STAGE_NAME};
use crate::MemberCluster;

/// How many unplaced cluster names the message lists (spec §9.3 step 4).
pub const MAX_UNPLACED_NAMES_SHOWN: usize = 10;

/// Terminal planning failures, with KubeFleet's exact messages.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlanError {
    #[error("the before stage tasks are invalid, updateStrategy: `{strategy}`, stage: {stage}, err: {detail}")]
    BeforeStageTasksInvalid {
        strategy: String,
        stage: String,
        detail: StageTaskError,
    },
    #[error("the after stage tasks are invalid, updateStrategy: `{strategy}`, stage: {stage}, err: {detail}")]
    AfterStageTasksInvalid {
        strategy: String,
        stage: String,
        detail: StageTaskError,
    },
    #[error("the stage label selector is invalid, updateStrategy: `{strategy}`, stage: {stage}, err: {detail}")]
    LabelSelectorInvalid {
        strategy: String,
        stage: String,
        detail: SelectorError,
    },
    #[error("cluster `{cluster}` appears in more than one stages")]
    ClusterInMultipleStages { cluster: String },
    #[error("the sorting label `{key}:{value}` on cluster `{cluster}` is not valid: {detail}")]
    InvalidSortingLabel {
        key: String,
        value: String,
        cluster: String,
        detail: AtoiError,
    },
    /// `clusters` holds every unplaced name, sorted; the message shows at most 10.
    #[error("some clusters are not placed in any stage, total {}, showing up to 10: {}", .clusters.len(), shown(.clusters))]
    ClustersNotPlaced { clusters: Vec<String> },
}

/// Why a stage's task list is invalid (spec §7.1): the `detail` of [`PlanError`]'s task variants,
/// in KubeFleet's words.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum StageTaskError {
    #[error("beforeStageTasks can have at most one task")]
    TooManyBeforeTasks,
    #[error("task {index} of type {task_type} is not allowed in beforeStageTasks, allowed type: Approval")]
    NotAllowedBefore {
        index: usize,
        task_type: StageTaskType,
    },
    #[error("task {index} of type Approval cannot have wait duration set")]
    ApprovalWithWaitTime { index: usize },
    #[error("afterStageTasks cannot have two tasks of the same type: {task_type}")]
    DuplicateAfterTask { task_type: StageTaskType },
    // fleetdeck keeps waitTime as a string; upstream cannot even decode this case.
    #[error("task {index} of type TimedWait has an invalid wait duration: {error}")]
    InvalidWaitTime { index: usize, error: DurationError },
    #[error("task {index} of type TimedWait has wait duration <= 0")]
    NonPositiveWaitTime { index: usize },
}

/// Go's `strconv.Atoi` errors, with Go's text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AtoiError {
    #[error("strconv.Atoi: parsing {0:?}: invalid syntax")]
    InvalidSyntax(String),
    #[error("strconv.Atoi: parsing {0:?}: value out of range")]
    OutOfRange(String),
}

fn shown(clusters: &[String]) -> String {
    clusters
        .iter()
        .take(MAX_UNPLACED_NAMES_SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ")
}

impl PlanError {
    /// User errors get the "failed to process the request due to a client error: " prefix in
    /// condition messages (spec §9.2 error taxonomy).
    pub fn is_client_error(&self) -> bool {
        matches!(
            self,
            PlanError::BeforeStageTasksInvalid { .. }
                | PlanError::AfterStageTasksInvalid { .. }
                | PlanError::ClustersNotPlaced { .. }
        )
    }
}

/// A member cluster as planning sees it: a name and its labels.
#[derive(Clone, Copy, Debug)]
pub struct ClusterLabels<'a> {
    pub name: &'a str,
    pub labels: &'a BTreeMap<String, String>,
}

impl<'a> From<&'a MemberCluster> for ClusterLabels<'a> {
    fn from(m: &'a MemberCluster) -> Self {
        ClusterLabels {
            name: m.name(),
            labels: m.labels(),
        }
    }
}

/// Computes `status.stagesStatus` for a run.
///
/// * `run_name` names the approval requests (`<run>-before-<stage>` / `<run>-after-<stage>`);
/// * `strategy_key` is the strategy's `namespace/name` (`/name` when cluster-scoped);
/// * `members` are all member clusters; `selected` the target clusters of selected bindings.
///
/// Clusters in a stage are sorted by the integer `sortingLabelKey` value then name, or by name.
/// Stages may be empty. Deterministic: the result does not depend on the order of `members`.
pub fn plan_stages<'a>(
    run_name: &str,
    strategy_key: &str,
    stages: &[StageConfig],
    members: impl IntoIterator<Item = ClusterLabels<'a>>,
    selected: &BTreeSet<String>,
) -> Result<Vec<StageUpdatingStatus>, PlanError> {
    // Listing order of the apiserver: by name. Duplicate names collapse.
    let mut members: Vec<ClusterLabels<'a>> = members.into_iter().collect();
    members.sort_by(|a, b| a.name.cmp(b.name));
    members.dedup_by(|a, b| a.name == b.name);

    let mut placed: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::with_capacity(stages.len());
    for stage in stages {
        validate_before_stage_tasks(stage.before_tasks()).map_err(|detail| {
            PlanError::BeforeStageTasksInvalid {
                strategy: strategy_key.into(),
                stage: stage.name.clone(),
                detail,
            }
        })?;
        validate_after_stage_tasks(stage.after_tasks()).map_err(|detail| {
            PlanError::AfterStageTasksInvalid {
                strategy: strategy_key.into(),
                stage: stage.name.clone(),
                detail,
            }
        })?;
        if let Some(sel) = &stage.label_selector {
            label_selector::validate(sel).map_err(|e| PlanError::LabelSelectorInvalid {
                strategy: strategy_key.into(),
                stage: stage.name.clone(),
                detail: e,
            })?;
        }

        let mut in_stage: Vec<(i64, &str)> = Vec::new();
        for m in &members {
            let hit =
                label_selector::matches(stage.label_selector.as_ref(), m.labels).map_err(|e| {
                    PlanError::LabelSelectorInvalid {
                        strategy: strategy_key.into(),
                        stage: stage.name.clone(),
                        detail: e,
                    }
                })?;
            if !hit || !selected.contains(m.name) {
                continue;
            }
            if !placed.insert(m.name) {
                return Err(PlanError::ClusterInMultipleStages {
                    cluster: m.name.to_string(),
                });
            }
            let order = match &stage.sorting_label_key {
                None => 0,
                Some(key) => {
                    // spec §7.1: a missing label fails too (parsed as "").
                    let value = m.labels.get(key).map(String::as_str).unwrap_or_default();
                    parse_go_int(value).map_err(|detail| PlanError::InvalidSortingLabel {
                        key: key.clone(),
                        value: value.to_string(),
                        cluster: m.name.to_string(),
                        detail,
                    })?
                }
            };
            in_stage.push((order, m.name));
        }
        in_stage.sort();

        out.push(StageUpdatingStatus {
            stage_name: stage.name.clone(),
            clusters: Some(
                in_stage
                    .into_iter()
                    .map(|(_, name)| ClusterUpdatingStatus {
                        cluster_name: name.to_string(),
                        ..Default::default()
                    })
                    .collect(),
            ),
            before_stage_task_status: task_statuses(
                stage.before_tasks(),
                |s| names::before_stage_approval_name(run_name, s),
                &stage.name,
            ),
            after_stage_task_status: task_statuses(
                stage.after_tasks(),
                |s| names::after_stage_approval_name(run_name, s),
                &stage.name,
            ),
            ..Default::default()
        });
    }

    let unplaced: Vec<String> = selected
        .iter()
        .filter(|c| !placed.contains(c.as_str()))
        .cloned()
        .collect();
    if !unplaced.is_empty() {
        return Err(PlanError::ClustersNotPlaced { clusters: unplaced });
    }
    Ok(out)
}

/// The deletion stage of a run: the targets of to-delete bindings, sorted by name.
pub fn deletion_stage(to_delete: impl IntoIterator<Item = String>) -> StageUpdatingStatus {
    let clusters: BTreeSet<String> = to_delete.into_iter().collect();
    StageUpdatingStatus {
        stage_name: DELETION_STAGE_NAME.to_string(),
        clusters: Some(
            clusters
                .into_iter()
                .map(|cluster_name| ClusterUpdatingStatus {
                    cluster_name,
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    }
}

fn task_statuses(
    tasks: &[StageTask],
    approval_name: impl Fn(&str) -> String,
    stage: &str,
) -> Option<Vec<StageTaskStatus>> {
    if tasks.is_empty() {
        return None;
    }
    Some(
        tasks
            .iter()
            .map(|t| StageTaskStatus {
                type_: t.type_,
                approval_request_name: (t.type_ == StageTaskType::Approval)
                    .then(|| approval_name(stage)),
                conditions: None,
            })
            .collect(),
    )
}

/// Controller re-check of before-stage tasks (spec §7.1); the error is the detail message.
pub fn validate_before_stage_tasks(tasks: &[StageTask]) -> Result<(), StageTaskError> {
    if tasks.len() > 1 {
        return Err(StageTaskError::TooManyBeforeTasks);
    }
    for (index, task) in tasks.iter().enumerate() {
        if task.type_ != StageTaskType::Approval {
            return Err(StageTaskError::NotAllowedBefore {
                index,
                task_type: task.type_,
            });
        }
        if task.wait_time.is_some() {
            return Err(StageTaskError::ApprovalWithWaitTime { index });
        }
    }
    Ok(())
}

/// Controller check of after-stage tasks (spec §7.1); the error is the detail message.
pub fn validate_after_stage_tasks(tasks: &[StageTask]) -> Result<(), StageTaskError> {
    let mut seen = BTreeSet::new();
    for (index, task) in tasks.iter().enumerate() {
        if !seen.insert(task.type_.as_str()) {
            return Err(StageTaskError::DuplicateAfterTask {
                task_type: task.type_,
            });
        }
        if task.type_ == StageTaskType::TimedWait {
            let wait = task.wait_time.as_deref().map(parse_go_duration);
            match wait {
                Some(Ok(d)) if !d.is_zero() => {}
                Some(Err(error)) => return Err(StageTaskError::InvalidWaitTime { index, error }),
                _ => return Err(StageTaskError::NonPositiveWaitTime { index }),
            }
        }
    }
    Ok(())
}

/// Go's `strconv.Atoi` on a 64-bit platform, with its error text.
pub fn parse_go_int(s: &str) -> Result<i64, AtoiError> {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AtoiError::InvalidSyntax(s.to_string()));
    }
    s.parse::<i64>()
        .map_err(|_| AtoiError::OutOfRange(s.to_string()))
}

#[cfg(test)]
#[path = "stage_plan_tests.rs"]
mod tests;
