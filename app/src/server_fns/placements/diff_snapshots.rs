use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::PlacementKey;
use crate::error::AppError;
use crate::fleet::placement::snapshot_diff::{DiffSummary, ResourceDiff};

/// What the diff page asks for: two indexes of one placement's history.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DiffRequest {
    pub placement: PlacementKey,
    pub from: u64,
    pub to: u64,
    /// Keep uid, resourceVersion, managedFields, status… in the texts.
    #[serde(default)]
    pub show_noise: bool,
}

/// Every resource of both snapshots, matched by identity, with its YAML on each side.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SnapshotDiff {
    pub summary: DiffSummary,
    pub resources: Vec<ResourceDiff>,
    /// Clusters running each side now (empty when none do).
    pub from_clusters: Vec<String>,
    pub to_clusters: Vec<String>,
}

#[server(prefix = "/api", endpoint = "placements/diff")]
pub async fn diff_snapshots(request: DiffRequest) -> Result<SnapshotDiff, AppError> {
    use crate::error::respond;
    let client = crate::server_fns::ssr::hub()?;
    super::load::diff(&client, &request).await.map_err(respond)
}
