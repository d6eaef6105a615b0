use leptos::prelude::*;

use crate::error::AppError;

/// Deletes an upgrade run that is not active, as the signed-in person (RBAC: `delete` on
/// `updateruns`). An active run (Running, Pending, Stopping) is refused with the reason the
/// hub's delete admission gives too (aks §8.5): stop it first. Its gates go with it.
#[server(prefix = "/api", endpoint = "upgrades/delete")]
pub async fn delete_upgrade(name: String) -> Result<(), AppError> {
    use crate::error::respond;
    use crate::fleet::types::event::reference;
    use crate::fleet::upgrade::spec_change::check_delete;
    use crate::fleet::UpdateRun;
    use crate::server_fns::ssr::{acting_user, explain, hub, record};
    use kube::api::{Api, DeleteParams};

    let user = acting_user()?;
    let api = Api::<UpdateRun>::all(hub()?);
    let what = format!("upgrade run {name}");
    let run = api.get(&name).await.map_err(|e| explain(e, &what))?;
    let state = run
        .status
        .as_ref()
        .and_then(|s| s.status.as_ref())
        .and_then(|s| s.state)
        .unwrap_or_default();
    check_delete(state).map_err(|e| respond(AppError::Conflict(format!("{what}: {e}"))))?;
    let message = format!("{} deleted the upgrade run from the console", user.name);
    record(
        &reference(&run),
        &user,
        "UpgradeRunDeleted",
        "Delete",
        message,
    )
    .await;
    api.delete(&name, &DeleteParams::default())
        .await
        .map_err(|e| explain(e, &what))?;
    // A plain form (no JavaScript) lands back on the list.
    leptos_axum::redirect("/upgrades");
    Ok(())
}
