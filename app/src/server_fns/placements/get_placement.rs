use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::PlacementKey;
use crate::error::AppError;
use crate::fleet::views::placement_view::PlacementRow;

/// One placement's page: its row, its snapshot history and the runs that used each index.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlacementDetail {
    pub row: PlacementRow,
    /// Newest index first.
    pub history: Vec<HistoryEntry>,
    /// Snapshot objects that could not be read, each with the reason.
    pub problems: Vec<String>,
    /// Strategies a rollback run may use (in the placement's scope), by reference.
    pub strategies: Vec<String>,
    /// The strategy of the placement's newest run: the rollback's default.
    pub last_strategy: Option<String>,
}

/// One index of the history, without its resources (the diff loads those).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub index: u64,
    pub created: Option<DateTime<Utc>>,
    pub hash: Option<String>,
    pub latest: bool,
    pub resources: usize,
    pub bytes: usize,
    /// Objects present / announced (master plus sub-index chunks).
    pub objects: usize,
    pub expected_objects: u64,
    pub complete: bool,
    /// Runs (paths and names) that rolled this index out.
    pub runs: Vec<(String, String)>,
    /// Clusters that run this index now.
    pub clusters: Vec<String>,
}

/// Runs by index, as `(path, name)`.
pub type RunsByIndex = BTreeMap<u64, Vec<(String, String)>>;

#[server(prefix = "/api", endpoint = "placements/get")]
pub async fn get_placement(key: PlacementKey) -> Result<PlacementDetail, AppError> {
    use crate::error::respond;
    let client = crate::server_fns::ssr::hub()?;
    super::load::detail(&client, &key).await.map_err(respond)
}
