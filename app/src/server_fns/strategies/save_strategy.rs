use leptos::prelude::*;

use crate::error::AppError;
use crate::fleet::views::strategy_form::StrategyDraft;

/// Saves a strategy as kubectl would: a create when the draft has no `resourceVersion`, else an
/// update against that version (a concurrent change is a conflict, never overwritten).
///
/// Every save is first sent as a server-side dry run (`dryRun=All`), so the hub's own messages
/// come back by field before anything is written; then the checks a run's initialization makes
/// (label selectors, task lists, spec §9.3 step 4), which the hub does not make. With `dry_run`
/// nothing is written. Answers the draft as stored, with its new `resourceVersion`.
#[server(prefix = "/api", endpoint = "strategies/save")]
pub async fn save_strategy(draft: StrategyDraft, dry_run: bool) -> Result<StrategyDraft, AppError> {
    use crate::error::respond;
    use crate::server_fns::ssr::{acting_user, hub, record};

    let user = acting_user()?;
    let client = hub()?;
    let spec = super::ssr::checked_spec(&draft).map_err(respond)?;
    super::ssr::write(&client, &draft, spec.clone(), true)
        .await
        .map_err(respond)?;
    super::ssr::initialization_checks(&draft, &spec).map_err(respond)?;
    if dry_run {
        return Ok(draft);
    }
    let (saved, object) = super::ssr::write(&client, &draft, spec, false)
        .await
        .map_err(respond)?;
    let (reason, verb) = if draft.resource_version.is_empty() {
        ("CreatedFromConsole", "created")
    } else {
        ("UpdatedFromConsole", "updated")
    };
    let stages = saved.stages.len();
    record(
        &object,
        &user,
        reason,
        if verb == "created" {
            "Create"
        } else {
            "Update"
        },
        format!(
            "{} {verb} the strategy from the console ({stages} stage{})",
            user.name,
            if stages == 1 { "" } else { "s" }
        ),
    )
    .await;
    // A plain form (no JavaScript) lands on the strategy's page.
    leptos_axum::redirect(&super::StrategyKey::new(saved.namespace(), &saved.name).path());
    Ok(saved)
}
