use leptos::prelude::*;

use crate::error::AppError;
use crate::live::Activity;

/// The feed as it stands, oldest first: what the page renders before the live stream takes over.
#[server(prefix = "/api", endpoint = "activity/list")]
pub async fn list_activity() -> Result<Vec<Activity>, AppError> {
    let feed = use_context::<crate::live::Feed>().ok_or_else(|| {
        crate::error::respond(AppError::Unavailable(
            "the activity feed is not running".into(),
        ))
    })?;
    let mut entries = feed.list();
    let excess = entries.len().saturating_sub(super::VISIBLE_ENTRIES);
    entries.drain(..excess);
    Ok(entries)
}
