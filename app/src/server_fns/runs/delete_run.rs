use leptos::prelude::*;

use super::RunKey;
use crate::error::AppError;

/// Deletes a run, as `kubectl delete csur <name>` does. Its approval requests go with it (the
/// hub collects them by owner); clusters keep what they already run. The audit Event is written
/// first, on the run, so the deletion is recorded while the run still exists to name.
#[server(prefix = "/api", endpoint = "runs/delete")]
pub async fn delete_run(key: RunKey) -> Result<(), AppError> {
    use kube::api::{Api, DeleteParams};

    use crate::fleet::{ClusterStagedUpdateRun, StagedUpdateRun};
    use crate::server_fns::ssr::{acting_user, explain, hub, record, reference};

    let user = acting_user()?;
    let client = hub()?;
    let what = key.describe();
    let message = format!("{} deleted the run from the console", user.name);
    match key.namespace() {
        None => {
            let api = Api::<ClusterStagedUpdateRun>::all(client.clone());
            let run = api.get(&key.name).await.map_err(|e| explain(e, &what))?;
            record(
                &client,
                &reference(&run),
                &user,
                "DeleteRequested",
                "Delete",
                message,
            )
            .await;
            api.delete(&key.name, &DeleteParams::default())
                .await
                .map_err(|e| explain(e, &what))?;
        }
        Some(ns) => {
            let api = Api::<StagedUpdateRun>::namespaced(client.clone(), ns);
            let run = api.get(&key.name).await.map_err(|e| explain(e, &what))?;
            record(
                &client,
                &reference(&run),
                &user,
                "DeleteRequested",
                "Delete",
                message,
            )
            .await;
            api.delete(&key.name, &DeleteParams::default())
                .await
                .map_err(|e| explain(e, &what))?;
        }
    }
    Ok(())
}
