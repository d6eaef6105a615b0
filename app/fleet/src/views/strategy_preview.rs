//! The strategy editor's plan preview: which scheduled clusters a strategy puts in which stage, in
//! which order, how many update at once, and which ones no stage takes. It calls the engine's own
//! [`plan_stages`] and [`effective_max_concurrency`] on the strategy as a run would copy it, so the
//! browser shows what initialization would compute (spec §9.3 step 4), without asking the server.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::staged::concurrency::effective_max_concurrency;
use crate::staged::stage_plan::{plan_stages, ClusterLabels, PlanError};
use crate::staged::staged_update::{strategy_snapshot, StagedUpdateStrategySpec};

/// What a run of the strategy would plan over the given clusters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrategyPreview {
    /// Every stage in order; empty when planning failed before the last stage.
    pub stages: Vec<StagePreview>,
    /// Scheduled clusters that no stage selects, by name.
    pub unmatched: Vec<String>,
    /// Why a run would fail to initialize, in the engine's words; `None` when it would plan.
    pub error: Option<String>,
    /// The stage `error` is about, when the engine's message names one.
    pub error_stage: Option<usize>,
}

/// One stage of the preview.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StagePreview {
    pub name: String,
    /// In update order (`sortingLabelKey`, then name).
    pub clusters: Vec<String>,
    /// Clusters updating at once; `None` when `maxConcurrency` is invalid (see `concurrency_error`).
    pub max_concurrency: Option<usize>,
    pub concurrency_error: Option<String>,
    /// The clusters in windows of `max_concurrency`, in order: how they go if each takes as long.
    pub batches: Vec<Vec<String>>,
}

impl StrategyPreview {
    /// True when a run would initialize with this plan and could start every stage.
    pub fn plans(&self) -> bool {
        self.error.is_none() && self.stages.iter().all(|s| s.concurrency_error.is_none())
    }
}

/// Plans `spec` (named `strategy_key`, `ns/name` or `/name`) over `members`, of which `scheduled`
/// are the placement's scheduled clusters. Unmatched clusters do not hide the stages: they are
/// listed, and the stages are what the rest would give.
pub fn preview<'a>(
    strategy_key: &str,
    spec: &StagedUpdateStrategySpec,
    members: impl IntoIterator<Item = ClusterLabels<'a>> + Clone,
    scheduled: &BTreeSet<String>,
) -> StrategyPreview {
    // The run plans the strategy as copied into its status (spec §9.3 step 4).
    let snapshot = strategy_snapshot(spec);
    let plan = |selected: &BTreeSet<String>| {
        plan_stages(
            "preview",
            strategy_key,
            &snapshot.stages,
            members.clone(),
            selected,
        )
    };
    let (planned, unmatched, error) = match plan(scheduled) {
        Ok(stages) => (Ok(stages), Vec::new(), None),
        Err(PlanError::ClustersNotPlaced { clusters }) => {
            let rest: BTreeSet<String> = scheduled
                .iter()
                .filter(|c| !clusters.contains(c))
                .cloned()
                .collect();
            let e = PlanError::ClustersNotPlaced {
                clusters: clusters.clone(),
            };
            (plan(&rest), clusters, Some(e))
        }
        Err(e) => (Err(e.clone()), Vec::new(), Some(e)),
    };
    let error_stage = error.as_ref().and_then(|e| match e {
        PlanError::BeforeStageTasksInvalid { stage, .. }
        | PlanError::AfterStageTasksInvalid { stage, .. }
        | PlanError::LabelSelectorInvalid { stage, .. } => {
            snapshot.stages.iter().position(|s| s.name == *stage)
        }
        _ => None,
    });
    let stages = planned
        .map(|stages| {
            stages
                .into_iter()
                .zip(&snapshot.stages)
                .map(|(planned, config)| {
                    let clusters: Vec<String> = planned
                        .clusters
                        .unwrap_or_default()
                        .into_iter()
                        .map(|c| c.cluster_name)
                        .collect();
                    let m =
                        effective_max_concurrency(config.max_concurrency.as_ref(), clusters.len());
                    let batches = match &m {
                        Ok(m) => clusters.chunks(*m).map(<[String]>::to_vec).collect(),
                        Err(_) => Vec::new(),
                    };
                    StagePreview {
                        name: planned.stage_name,
                        max_concurrency: m.as_ref().ok().copied(),
                        concurrency_error: m.err().map(|e| e.to_string()),
                        batches,
                        clusters,
                    }
                })
                .collect()
        })
        .unwrap_or_default();
    StrategyPreview {
        stages,
        unmatched,
        error: error.map(|e| e.to_string()),
        error_stage,
    }
}

#[cfg(test)]
#[path = "strategy_preview_tests.rs"]
mod tests;
