use leptos::prelude::*;

use crate::error::AppError;
use crate::fleet::views::run_view::RunRow;

/// Every staged update run, cluster-scoped and namespaced, with its state at a glance.
#[server(prefix = "/api", endpoint = "runs/list")]
pub async fn list_runs() -> Result<Vec<RunRow>, AppError> {
    use crate::error::respond;
    let topics = use_context::<crate::live::Topics>()
        .ok_or_else(|| respond(AppError::Unavailable("the runs view is not running".into())))?;
    let rows = topics
        .runs(std::time::Duration::from_secs(3))
        .await
        .ok_or_else(|| {
            respond(AppError::Unavailable(
                "the run list is not available yet; reload in a moment".into(),
            ))
        })?;
    Ok(rows.as_ref().clone())
}
