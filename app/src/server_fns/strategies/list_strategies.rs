use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::StrategyKey;
use crate::error::AppError;

/// One strategy in the list.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrategyRow {
    pub key: StrategyKey,
    /// Stage names in order.
    pub stages: Vec<String>,
}

/// Every ClusterStagedUpdateStrategy, then every StagedUpdateStrategy by namespace and name.
#[server(prefix = "/api", endpoint = "strategies/list")]
pub async fn list_strategies() -> Result<Vec<StrategyRow>, AppError> {
    use crate::error::respond;
    let client = crate::server_fns::ssr::hub()?;
    let mut rows: Vec<StrategyRow> = super::ssr::all(&client)
        .await
        .map_err(respond)?
        .into_iter()
        .map(|(key, spec)| StrategyRow {
            key,
            stages: spec.stages.into_iter().map(|s| s.name).collect(),
        })
        .collect();
    rows.sort_by(|a, b| (&a.key.namespace, &a.key.name).cmp(&(&b.key.namespace, &b.key.name)));
    Ok(rows)
}
