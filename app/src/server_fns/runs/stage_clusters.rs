use leptos::prelude::*;

use super::RunKey;
use crate::error::AppError;
use crate::fleet::views::run_detail::{ClusterPage, ClusterState};

/// One page of a stage's clusters, filtered by name and state: how a stage of thousands of
/// clusters is browsed without sending them all.
#[server(prefix = "/api", endpoint = "runs/stage_clusters")]
pub async fn stage_clusters(
    key: RunKey,
    stage: String,
    filter: String,
    state: Option<ClusterState>,
    page: usize,
) -> Result<ClusterPage, AppError> {
    use kube::api::Api;

    use crate::fleet::views::run_detail;
    use crate::fleet::{ClusterStagedUpdateRun, StagedUpdateRun};
    use crate::server_fns::ssr::{explain, hub};

    let client = hub()?;
    let what = key.describe();
    Ok(match key.namespace() {
        None => {
            let run = Api::<ClusterStagedUpdateRun>::all(client)
                .get(&key.name)
                .await
                .map_err(|e| explain(e, &what))?;
            run_detail::stage_clusters(&run, &stage, &filter, state, page)
        }
        Some(ns) => {
            let run = Api::<StagedUpdateRun>::namespaced(client, ns)
                .get(&key.name)
                .await
                .map_err(|e| explain(e, &what))?;
            run_detail::stage_clusters(&run, &stage, &filter, state, page)
        }
    })
}
