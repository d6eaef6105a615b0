//! The troubleshooting panel: what a binding says about its cluster's resources, and each
//! problem of a run explained with a next step (seed 003's guide).

use super::*;

/// What the troubleshooting panel needs of a binding: why its resources are not applied or not
/// available on its cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindingTrouble {
    pub cluster: String,
    pub failed: Vec<FailedResource>,
    /// The binding's own Applied/Available message when it is false.
    pub message: Option<String>,
}

/// One resource the member agent could not apply or that is not available.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FailedResource {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub reason: String,
    pub message: String,
    /// What the member itself says, when the console could ask it (a pod's waiting reason).
    pub cause: Option<String>,
}

impl FailedResource {
    /// `Deployment test-namespace/nginx`.
    pub fn object(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{} {ns}/{}", self.kind, self.name),
            None => format!("{} {}", self.kind, self.name),
        }
    }

    /// In words, from the cluster's point of view.
    pub fn sentence(&self, cluster: &str) -> String {
        match &self.cause {
            Some(cause) => format!("{cluster}'s {} {cause}", self.object()),
            None => format!(
                "{cluster}'s {} is not ready: {} ({})",
                self.object(),
                self.message,
                self.reason
            ),
        }
    }
}

/// One failed placement as the binding reports it (KubeFleet's `ResourcePlacementError` shape).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FailedLine {
    group: String,
    kind: String,
    namespace: Option<String>,
    name: String,
    condition: Option<FailedCondition>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FailedCondition {
    reason: String,
    message: String,
}

impl BindingTrouble {
    /// What a binding of either scope says about its cluster's resources.
    pub fn of<K>(binding: &Object<K>) -> Self
    where
        K: FleetKind<Spec = ResourceBindingSpec, Status = ResourceBindingStatus>,
    {
        let status = binding.status.clone().unwrap_or_default();
        let failed = status
            .failed_placements
            .iter()
            .flatten()
            .filter_map(|f| serde_json::to_value(f).ok())
            .filter_map(|f| serde_json::from_value::<FailedLine>(f).ok())
            .map(|f| {
                let (reason, message) = f
                    .condition
                    .map(|c| (c.reason, c.message))
                    .unwrap_or_default();
                FailedResource {
                    group: f.group,
                    kind: f.kind,
                    namespace: f.namespace.filter(|ns| !ns.is_empty()),
                    name: f.name,
                    reason,
                    message,
                    cause: None,
                }
            })
            .collect();
        let conditions = status.conditions.unwrap_or_default();
        let message = [types::APPLIED, types::AVAILABLE]
            .iter()
            .filter_map(|t| find_condition(&conditions, t))
            .find(|c| c.status == FALSE)
            .map(|c| c.message.clone());
        BindingTrouble {
            cluster: binding.spec.target_cluster.clone(),
            failed,
            message,
        }
    }
}

pub(super) fn problems(
    row: &RunRow,
    conditions: &[Condition],
    stages: &[StageView],
    bindings: &[BindingTrouble],
) -> Vec<Problem> {
    let mut out = Vec::new();
    if let Some(init) = find_condition(conditions, types::INITIALIZED).filter(|c| c.status == FALSE)
    {
        out.push(Problem {
            title: "The run could not be initialized".into(),
            explanation: format!("The engine refused the run: {}", init.message),
            next_step: init_next_step(&init.message),
            details: Vec::new(),
        });
    }
    if row.pill == RunPill::Stuck {
        let stage = stages.iter().find(|s| s.counts.stuck > 0);
        let stuck: Vec<&str> = stage
            .map(|s| {
                s.chips
                    .iter()
                    .filter(|c| c.state == ClusterState::Stuck)
                    .map(|c| c.name.as_str())
                    .collect()
            })
            .unwrap_or_default();
        let mut details = Vec::new();
        for cluster in &stuck {
            match bindings.iter().find(|b| b.cluster == *cluster) {
                Some(b) if !b.failed.is_empty() => {
                    details.extend(b.failed.iter().map(|f| f.sentence(cluster)))
                }
                Some(BindingTrouble {
                    message: Some(m), ..
                }) => details.push(format!("{cluster}: {m}")),
                _ => details.push(format!(
                    "{cluster}: its resources are applied but not available yet"
                )),
            }
        }
        out.push(Problem {
            title: format!(
                "Stuck: {} not available{}",
                if stuck.is_empty() { "clusters".to_string() } else { stuck.join(", ") },
                stage.map(|s| format!(" in stage {}", s.name)).unwrap_or_default()
            ),
            explanation: "The run updated these clusters, but their resources did not become available within the stuck threshold (five minutes unless the engine was started with another --stuck-threshold). Usually the workload itself fails on the member: a bad image, a crash loop, missing resources.".into(),
            next_step: format!(
                "Look at the workload on the member (kubectl --context {} get pods -A). Fix the resources in the placement, which makes a new snapshot, then create a new run; this one can be stopped or deleted.",
                stuck.first().copied().unwrap_or("<member>")
            ),
            details,
        });
    }
    if let Some(failed) = find_condition(conditions, types::SUCCEEDED).filter(|c| c.status == FALSE)
    {
        let m = failed.message.as_str();
        let (title, explanation, next_step) = if m.contains("preempted") || m.contains("another") {
            (
                "Pre-empted by another run",
                "Another update run changed a binding this run was rolling out, so this run stopped for good.",
                "Check which run now owns the placement's clusters (usually a newer release); let it finish, or create a new run.",
            )
        } else if m.contains("not found") {
            (
                "Something the run depends on is gone",
                "The placement, its snapshot or the strategy the run uses was deleted while it ran.",
                "Recreate what is missing, then create a new run; a failed run is never retried.",
            )
        } else {
            (
                "The run failed",
                "The engine aborted the remaining stages after a non-recoverable error.",
                "Fix the cause named below, then create a new run; a failed run is never retried.",
            )
        };
        out.push(Problem {
            title: title.into(),
            explanation: explanation.into(),
            next_step: next_step.into(),
            details: vec![m.to_string()],
        });
    }
    out
}

pub(super) fn init_next_step(message: &str) -> String {
    let step = if message.contains("placement") && message.contains("not found") {
        "Create the placement, or fix spec.placementName, then create a new run."
    } else if message.contains("strategy") || message.contains("Strategy") {
        "Fix or create the strategy named in spec.stagedRolloutStrategyName, then create a new run."
    } else if message.contains("snapshot") {
        "Check spec.resourceSnapshotIndex against the placement's snapshots, then create a new run."
    } else {
        "Fix what the message names, then create a new run: initialization is not retried."
    };
    step.into()
}
