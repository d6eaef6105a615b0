use leptos::prelude::*;

use crate::error::AppError;
use crate::fleet::views::member_view::query::{FleetPage, FleetQuery};

/// One page of the Fleet page (at most `query::PAGE_SIZE` members matching `query`) with the
/// counts over the whole fleet; never the whole fleet. The rows come from the fleet view's
/// cache of the hub (`Topics::members`), so a page costs one pass over the cached rows.
#[server(prefix = "/api", endpoint = "fleet/page")]
pub async fn get_fleet_page(query: FleetQuery) -> Result<FleetPage, AppError> {
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
    Ok(crate::fleet::views::member_view::query::page(
        &rows,
        &query,
        chrono::Utc::now(),
    ))
}
