use leptos::prelude::*;

use crate::error::AppError;
use crate::fleet::views::profile_view::ProfileRow;

/// Every auto-upgrade profile (aks §11) as the signed-in person may read them, by name.
#[server(prefix = "/api", endpoint = "upgrades/profiles")]
pub async fn list_profiles() -> Result<Vec<ProfileRow>, AppError> {
    use crate::fleet::views::profile_view::profile_row;
    use crate::fleet::AutoUpgradeProfile;
    use crate::server_fns::ssr::{explain, hub};
    use kube::api::{Api, ListParams};

    let profiles = Api::<AutoUpgradeProfile>::all(hub()?)
        .list(&ListParams::default())
        .await
        .map_err(|e| explain(e, "the auto-upgrade profiles"))?;
    let mut rows: Vec<ProfileRow> = profiles.items.iter().map(profile_row).collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

/// "Generate run" (aks §11 `generateUpdateRun`) as the signed-in person: the profile's run for
/// what its channel offers now, NOT started, created under the name derived from the upgrade —
/// the same upgrade again returns the existing run. The same path as `fleetdeck
/// autoupgradeprofile generate-update-run` ([`crate::auto_upgrade_actions`]); the hub's RBAC
/// (`create` on `updateruns`) decides. Returns what happened, in words.
#[server(prefix = "/api", endpoint = "upgrades/generate")]
pub async fn generate_upgrade_run(profile: String) -> Result<String, AppError> {
    use crate::auto_upgrade_actions::{make_run, ProfileActionError};
    use crate::error::respond;
    use crate::fleet::types::event::reference;
    use crate::fleet::AutoUpgradeProfile;
    use crate::server_fns::ssr::{acting_user, catalogue, explain, hub, record};
    use kube::api::Api;

    let user = acting_user()?;
    let client = hub()?;
    let what = format!("auto-upgrade profile {profile}");
    let p = Api::<AutoUpgradeProfile>::all(client.clone())
        .get(&profile)
        .await
        .map_err(|e| explain(e, &what))?;
    let catalogue = catalogue()
        .load()
        .map_err(|e| respond(AppError::Unavailable(e)))?;
    let made = make_run(&client, &p, &catalogue, false, chrono::Utc::now())
        .await
        .map_err(|e| match e {
            ProfileActionError::Kube(e) => explain(e, "the profile's update run"),
            other => respond(AppError::Conflict(format!("{what}: {other}"))),
        })?;
    let message = made.message();
    record(
        &reference(&p),
        &user,
        "UpdateRunGenerated",
        "GenerateUpdateRun",
        format!("{} generated a run from the console: {message}", user.name),
    )
    .await;
    Ok(message)
}
