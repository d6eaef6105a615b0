use leptos::prelude::*;

use crate::error::AppError;
use crate::fleet::views::approval_view::ApprovalRow;

/// Every ClusterApprovalRequest and ApprovalRequest: waiting ones first, oldest first.
#[server(prefix = "/api", endpoint = "approvals/list")]
pub async fn list_approvals() -> Result<Vec<ApprovalRow>, AppError> {
    use kube::api::{Api, ListParams};

    use crate::fleet::views::approval_view::{inbox_order, row};
    use crate::fleet::{ApprovalRequest, ClusterApprovalRequest};
    use crate::server_fns::ssr::{explain, hub};

    let client = hub()?;
    let all = ListParams::default();
    let cluster = Api::<ClusterApprovalRequest>::all(client.clone())
        .list(&all)
        .await
        .map_err(|e| explain(e, "the cluster approval requests"))?;
    let namespaced = Api::<ApprovalRequest>::all(client)
        .list(&all)
        .await
        .map_err(|e| explain(e, "the approval requests"))?;
    let mut rows: Vec<ApprovalRow> = cluster
        .items
        .iter()
        .map(row)
        .chain(namespaced.items.iter().map(row))
        .collect();
    inbox_order(&mut rows);
    Ok(rows)
}
