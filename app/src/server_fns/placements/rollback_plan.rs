use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::PlacementKey;
use crate::error::AppError;
use crate::fleet::placement::snapshot_diff::DiffSummary;
use crate::fleet::placement::snapshot_history::RollbackImpact;

/// Rolling a placement back (or forward) to one index with one strategy.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RollbackRequest {
    pub placement: PlacementKey,
    pub target: u64,
    /// `name` or `namespace/name`; empty for the placement's last strategy.
    #[serde(default)]
    pub strategy: String,
}

/// What a rollback run would do, before it exists.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RollbackPlan {
    pub impact: RollbackImpact,
    /// For each index clusters run now: how the target differs from it.
    pub changes: Vec<(Option<u64>, DiffSummary)>,
    pub strategy: String,
    /// The strategies a rollback may use (the placement's scope).
    pub strategies: Vec<String>,
    /// Stages in order with their clusters, as the run will compute them at initialization.
    pub stages: Vec<PlannedStage>,
    /// Why the strategy cannot plan this placement (the run would fail to initialize so).
    pub plan_error: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStage {
    pub name: String,
    pub clusters: Vec<String>,
}

#[server(prefix = "/api", endpoint = "placements/rollback-plan")]
pub async fn plan_rollback(request: RollbackRequest) -> Result<RollbackPlan, AppError> {
    use crate::error::respond;
    let client = crate::server_fns::ssr::hub()?;
    super::load::rollback(&client, &request)
        .await
        .map_err(respond)
}
