use leptos::prelude::*;

use crate::error::AppError;
use crate::fleet::views::upgrade_view::UpgradeDetail;

/// One upgrade run as its page shows it: stages → groups → members with their versions, waits
/// and gates, and which actions apply now.
#[server(prefix = "/api", endpoint = "upgrades/get")]
pub async fn get_upgrade(name: String) -> Result<UpgradeDetail, AppError> {
    use crate::fleet::types::names::GATE_UPDATE_RUN_LABEL;
    use crate::fleet::views::upgrade_view::detail;
    use crate::fleet::{Gate, MemberCluster, UpdateRun};
    use crate::server_fns::ssr::{catalogue, explain, hub};
    use kube::api::{Api, ListParams};

    let client = hub()?;
    let what = format!("upgrade run {name}");
    let run = Api::<UpdateRun>::all(client.clone())
        .get(&name)
        .await
        .map_err(|e| explain(e, &what))?;
    let members = Api::<MemberCluster>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| explain(e, "the member clusters"))?
        .items;
    let gates = Api::<Gate>::all(client)
        .list(&ListParams::default().labels(&format!("{GATE_UPDATE_RUN_LABEL}={name}")))
        .await
        .map_err(|e| explain(e, "the run's gates"))?
        .items;
    // Without a readable catalogue the page still shows the run; only the targets of members
    // not upgraded yet are missing.
    let catalogue = catalogue().load().unwrap_or_default();
    Ok(detail(
        &run,
        &members,
        &gates,
        &catalogue,
        chrono::Utc::now(),
    ))
}
