use leptos::prelude::*;

use crate::error::AppError;
use crate::fleet::views::upgrade_view::UpgradeRow;

/// Every upgrade run, newest first, as the signed-in person may read them.
#[server(prefix = "/api", endpoint = "upgrades/list")]
pub async fn list_upgrades() -> Result<Vec<UpgradeRow>, AppError> {
    use crate::fleet::views::upgrade_view::row;
    use crate::fleet::UpdateRun;
    use crate::server_fns::ssr::{explain, hub};
    use kube::api::{Api, ListParams};

    let runs = Api::<UpdateRun>::all(hub()?)
        .list(&ListParams::default())
        .await
        .map_err(|e| explain(e, "the upgrade runs"))?;
    let mut rows: Vec<UpgradeRow> = runs.items.iter().map(row).collect();
    // Newest first; the name breaks ties so the order never flickers.
    rows.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.name.cmp(&b.name)));
    Ok(rows)
}
