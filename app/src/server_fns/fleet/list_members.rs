use leptos::prelude::*;

use crate::error::AppError;
use crate::fleet::views::member_view::MemberRow;

/// The Fleet page's rows: every member cluster with its labels, health and what each placement
/// runs there.
#[server(prefix = "/api", endpoint = "fleet/members")]
pub async fn list_members() -> Result<Vec<MemberRow>, AppError> {
    use crate::error::respond;
    let topics = use_context::<crate::live::Topics>().ok_or_else(|| {
        respond(AppError::Unavailable(
            "the fleet view is not running".into(),
        ))
    })?;
    // Right after start the first rows may still be on their way from the hub.
    let rows = topics
        .members(std::time::Duration::from_secs(3))
        .await
        .ok_or_else(|| {
            respond(AppError::Unavailable(
                "the member list is not available yet; reload in a moment".into(),
            ))
        })?;
    Ok(rows.as_ref().clone())
}
