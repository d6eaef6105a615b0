//! What the dashboard's Runs page shows for each staged update run: a status pill, the latest
//! message and stage progress, derived from the run object alone. Pure and serialisable.

use serde::{Deserialize, Serialize};

use crate::staged::staged_update_run::{StagedUpdateRunSpec, StagedUpdateRunStatus};
use crate::types::condition::{find_condition, to_utc};
use crate::{FleetKind, Object};

/// One row of the Runs page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunRow {
    pub name: String,
    /// Set for a namespaced StagedUpdateRun.
    pub namespace: Option<String>,
    pub placement: String,
    pub strategy: String,
    /// `Initialize`, `Run` or `Stop`.
    pub state: String,
    /// The resource snapshot index the run rolls out, once chosen.
    pub resource_index: Option<String>,
    pub pill: RunPill,
    /// The message of the condition that decided the pill.
    pub message: String,
    pub stages_done: usize,
    pub stages_total: usize,
    pub created: Option<chrono::DateTime<chrono::Utc>>,
    /// When the first stage started, once one has.
    pub started: Option<chrono::DateTime<chrono::Utc>>,
    /// When the run succeeded or failed.
    pub ended: Option<chrono::DateTime<chrono::Utc>>,
    /// For a waiting run: which approval, or which wait and until when.
    pub waiting_for: Option<String>,
}

/// The one-word state a person scans for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RunPill {
    #[default]
    Pending,
    Initialized,
    Progressing,
    Waiting,
    Stuck,
    Stopped,
    Succeeded,
    Failed,
}

impl RunPill {
    pub fn label(self) -> &'static str {
        match self {
            RunPill::Pending => "Pending",
            RunPill::Initialized => "Initialized",
            RunPill::Progressing => "Progressing",
            RunPill::Waiting => "Waiting",
            RunPill::Stuck => "Stuck",
            RunPill::Stopped => "Stopped",
            RunPill::Succeeded => "Succeeded",
            RunPill::Failed => "Failed",
        }
    }
}

pub fn row<K>(run: &Object<K>) -> RunRow
where
    K: FleetKind<Spec = StagedUpdateRunSpec, Status = StagedUpdateRunStatus>,
{
    let status = run.status.clone().unwrap_or_default();
    let conditions = status.conditions.clone().unwrap_or_default();
    let get = |t: &str| find_condition(&conditions, t);
    let (pill, message) = match (get("Initialized"), get("Progressing"), get("Succeeded")) {
        (_, _, Some(s)) if s.status == "True" => (RunPill::Succeeded, s.message.clone()),
        (_, _, Some(s)) if s.status == "False" => (RunPill::Failed, s.message.clone()),
        (Some(i), _, _) if i.status == "False" => (RunPill::Failed, i.message.clone()),
        (_, Some(p), _) if p.reason.contains("Stuck") => (RunPill::Stuck, p.message.clone()),
        (_, Some(p), _) if p.reason.contains("Stopped") => (RunPill::Stopped, p.message.clone()),
        (_, Some(p), _) if p.reason.contains("Waiting") => (RunPill::Waiting, p.message.clone()),
        (_, Some(p), _) => (RunPill::Progressing, p.message.clone()),
        (Some(i), None, _) => (RunPill::Initialized, i.message.clone()),
        _ => (RunPill::Pending, String::new()),
    };
    let stages = status.stages_status.clone().unwrap_or_default();
    let stages_done = stages
        .iter()
        .filter(|s| {
            s.conditions
                .as_ref()
                .and_then(|c| find_condition(c, "Succeeded"))
                .is_some_and(|c| c.status == "True")
        })
        .count();
    RunRow {
        name: run.metadata.name.clone().unwrap_or_default(),
        namespace: run.metadata.namespace.clone(),
        placement: run.spec.placement_name.clone(),
        strategy: run.spec.staged_rollout_strategy_name.clone(),
        state: run
            .spec
            .state
            .map(|s| format!("{s:?}"))
            .unwrap_or_else(|| "Initialize".into()),
        resource_index: status.resource_snapshot_index_used.clone(),
        pill,
        message,
        stages_done,
        stages_total: stages.len(),
        created: run
            .metadata
            .creation_timestamp
            .as_ref()
            .and_then(|t| to_utc(&t.0)),
        started: stages
            .first()
            .and_then(|s| s.start_time.as_ref())
            .and_then(|t| to_utc(&t.0)),
        ended: get("Succeeded").and_then(|c| to_utc(&c.last_transition_time.0)),
        waiting_for: (pill == RunPill::Waiting)
            .then(|| crate::views::run_detail::waiting_for(run))
            .flatten(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ClusterStagedUpdateRun;

    fn run(status: serde_json::Value) -> ClusterStagedUpdateRun {
        serde_json::from_value(json!({
            "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateRun",
            "metadata": {"name": "example-run"},
            "spec": {"placementName": "p", "stagedRolloutStrategyName": "s", "state": "Run"},
            "status": status
        }))
        .expect("run")
    }

    fn c(t: &str, s: &str, reason: &str, message: &str) -> serde_json::Value {
        json!({"type": t, "status": s, "reason": reason, "message": message, "lastTransitionTime": "2026-01-01T00:00:00Z"})
    }

    #[test]
    fn pills_follow_the_deciding_condition() {
        let waiting = row(&run(json!({"conditions": [
            c("Initialized", "True", "UpdateRunInitializedSuccessfully", "ok"),
            c("Progressing", "False", "UpdateRunWaiting", "waiting for approval")]})));
        assert_eq!(
            (waiting.pill, waiting.message.as_str()),
            (RunPill::Waiting, "waiting for approval")
        );
        assert_eq!(waiting.state, "Run");
        let failed = row(&run(
            json!({"conditions": [c("Initialized", "False", "UpdateRunInitializeFailed", "no snapshot")]}),
        ));
        assert_eq!(failed.pill, RunPill::Failed);
        let done = row(&run(
            json!({"conditions": [c("Succeeded", "True", "UpdateRunSucceeded", "done")],
            "stagesStatus": [{"stageName": "a", "conditions": [c("Succeeded", "True", "StageUpdatingSucceeded", "")]}, {"stageName": "b"}]}),
        ));
        assert_eq!(
            (done.pill, done.stages_done, done.stages_total),
            (RunPill::Succeeded, 1, 2)
        );
        assert_eq!(row(&run(json!({}))).pill, RunPill::Pending);
    }
}
