use leptos::prelude::*;

use super::StrategyKey;
use crate::error::AppError;

/// Deletes a strategy, as `kubectl delete` does. Runs already initialized keep the copy in their
/// status (spec §7.1); new runs naming it fail to initialize. The audit Event is written first,
/// while the strategy still exists to name.
#[server(prefix = "/api", endpoint = "strategies/delete")]
pub async fn delete_strategy(key: StrategyKey) -> Result<(), AppError> {
    use crate::fleet::{ClusterStagedUpdateStrategy, StagedUpdateStrategy};
    use crate::server_fns::ssr::hub;
    use kube::api::Api;

    let client = hub()?;
    match key.namespace() {
        None => {
            super::ssr::delete(
                Api::<ClusterStagedUpdateStrategy>::all(client.clone()),
                &key,
            )
            .await?
        }
        Some(ns) => {
            super::ssr::delete(
                Api::<StagedUpdateStrategy>::namespaced(client.clone(), ns),
                &key,
            )
            .await?
        }
    }
    // A plain form (no JavaScript) lands back on the list.
    leptos_axum::redirect("/strategies");
    Ok(())
}
