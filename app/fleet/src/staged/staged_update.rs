//! `ClusterStagedUpdateStrategy` / `StagedUpdateStrategy`: stages, their selectors, concurrency
//! and before/after tasks (spec §7.1).

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::types::label_selector::LabelSelector;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StagedUpdateStrategySpec {
    /// Required, max 31.
    #[serde(default)]
    pub stages: Vec<StageConfig>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageConfig {
    /// `^[a-z0-9]+$`, max 63.
    pub name: String,
    /// Nil selects no cluster, `{}` selects every scheduled cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label_selector: Option<LabelSelector>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sorting_label_key: Option<String>,
    /// Int ≥ 1 or `1%`–`100%`; CRD default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_concurrency: Option<IntOrString>,
    /// Max 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_stage_tasks: Option<Vec<StageTask>>,
    /// Max 1, Approval only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before_stage_tasks: Option<Vec<StageTask>>,
}

impl StageConfig {
    pub fn before_tasks(&self) -> &[StageTask] {
        self.before_stage_tasks.as_deref().unwrap_or_default()
    }

    pub fn after_tasks(&self) -> &[StageTask] {
        self.after_stage_tasks.as_deref().unwrap_or_default()
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct StageTask {
    #[serde(rename = "type")]
    pub type_: StageTaskType,
    /// Go duration string (`1m`, `1h30m`; shown as `1m0s` once copied into a run).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_time: Option<String>,
}

impl StageTask {
    pub fn approval() -> Self {
        StageTask {
            type_: StageTaskType::Approval,
            wait_time: None,
        }
    }

    pub fn timed_wait(wait_time: &str) -> Self {
        StageTask {
            type_: StageTaskType::TimedWait,
            wait_time: Some(wait_time.to_string()),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum StageTaskType {
    #[default]
    TimedWait,
    Approval,
}

impl StageTaskType {
    pub fn as_str(self) -> &'static str {
        match self {
            StageTaskType::TimedWait => "TimedWait",
            StageTaskType::Approval => "Approval",
        }
    }
}

impl std::fmt::Display for StageTaskType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The strategy as copied into a run's `stagedUpdateStrategySnapshot` (spec §7.3, §9.2 step 3):
/// `waitTime` removed from Approval tasks and TimedWait durations printed the way Go prints a
/// `metav1.Duration` (`1m` → `1m0s`, as the seeds show). Unparseable durations stay verbatim.
pub fn strategy_snapshot(spec: &StagedUpdateStrategySpec) -> StagedUpdateStrategySpec {
    let mut copy = spec.clone();
    for stage in &mut copy.stages {
        for tasks in [&mut stage.before_stage_tasks, &mut stage.after_stage_tasks]
            .into_iter()
            .flatten()
        {
            for task in tasks.iter_mut() {
                match task.type_ {
                    StageTaskType::Approval => task.wait_time = None,
                    StageTaskType::TimedWait => {
                        if let Some(w) = &task.wait_time {
                            if let Ok(d) = crate::staged::wait_time::parse_go_duration(w) {
                                task.wait_time =
                                    Some(crate::staged::wait_time::format_go_duration(d));
                            }
                        }
                    }
                }
            }
        }
    }
    copy
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_strips_approval_wait_and_normalises_durations() {
        let spec = StagedUpdateStrategySpec {
            stages: vec![StageConfig {
                name: "staging".into(),
                after_stage_tasks: Some(vec![
                    StageTask::timed_wait("1m"),
                    StageTask {
                        type_: StageTaskType::Approval,
                        wait_time: Some("5m".into()),
                    },
                ]),
                ..Default::default()
            }],
        };
        let snap = strategy_snapshot(&spec);
        let tasks = snap.stages[0].after_tasks();
        assert_eq!(tasks[0].wait_time.as_deref(), Some("1m0s"));
        assert_eq!(tasks[1].wait_time, None);
    }
}
