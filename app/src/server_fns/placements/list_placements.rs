use leptos::prelude::*;

use crate::error::AppError;
use crate::fleet::views::placement_view::PlacementRow;

/// Every ClusterResourcePlacement and ResourcePlacement with its state in words and where each
/// scheduled cluster stands, cluster-scoped ones first, then by namespace and name.
#[server(prefix = "/api", endpoint = "placements/list")]
pub async fn list_placements() -> Result<Vec<PlacementRow>, AppError> {
    use crate::error::respond;
    let client = crate::server_fns::ssr::hub()?;
    super::load::rows(&client, None).await.map_err(respond)
}
