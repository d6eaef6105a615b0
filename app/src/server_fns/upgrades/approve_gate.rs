use leptos::prelude::*;

use crate::error::AppError;

/// Approves gate `gate` of upgrade run `run` as the signed-in person: its `spec.state` from
/// Pending to Completed (aks §12, what `fleetdeck gate approve` writes), at the resourceVersion
/// read, so a gate approved or skipped meanwhile is not approved twice.
#[server(prefix = "/api", endpoint = "upgrades/approve")]
pub async fn approve_gate(run: String, gate: String) -> Result<(), AppError> {
    use crate::error::respond;
    use crate::fleet::types::event::reference;
    use crate::fleet::upgrade::run::GateState;
    use crate::fleet::Gate;
    use crate::server_fns::ssr::{acting_user, explain, hub, record};
    use kube::api::{Api, PostParams};

    let user = acting_user()?;
    let api = Api::<Gate>::all(hub()?);
    let what = format!("gate {gate} of upgrade run {run}");
    let mut current = api.get(&gate).await.map_err(|e| explain(e, &what))?;
    if current.spec.target.update_run_properties.name != run {
        return Err(respond(AppError::Invalid(format!(
            "gate {gate} belongs to upgrade run {}, not {run}",
            current.spec.target.update_run_properties.name
        ))));
    }
    if current.spec.state != GateState::Pending {
        return Err(respond(AppError::Conflict(format!(
            "{what} is {:?}; only a Pending gate can be approved",
            current.spec.state
        ))));
    }
    current.spec.state = GateState::Completed;
    let written = api
        .replace(&gate, &PostParams::default(), &current)
        .await
        .map_err(|e| explain(e, &what))?;
    let label = written
        .spec
        .display_name
        .clone()
        .unwrap_or_else(|| gate.clone());
    record(
        &reference(&written),
        &user,
        "GateApproved",
        "Approve",
        format!(
            "{} approved gate {label} of upgrade run {run} from the console",
            user.name
        ),
    )
    .await;
    Ok(())
}
