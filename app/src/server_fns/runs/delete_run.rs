use leptos::prelude::*;

use super::RunKey;
use crate::error::AppError;

/// Deletes a run, as `kubectl delete csur <name>` does. Its approval requests go with it (the
/// hub collects them by owner); clusters keep what they already run. The audit Event is written
/// first, on the run, so the deletion is recorded while the run still exists to name.
#[server(prefix = "/api", endpoint = "runs/delete")]
pub async fn delete_run(key: RunKey) -> Result<(), AppError> {
    use kube::api::Api;

    use crate::fleet::{ClusterStagedUpdateRun, StagedUpdateRun};
    use crate::server_fns::ssr::hub;

    let client = hub()?;
    match key.namespace() {
        None => ssr::delete(Api::<ClusterStagedUpdateRun>::all(client.clone()), &key).await,
        Some(ns) => ssr::delete(Api::<StagedUpdateRun>::namespaced(client.clone(), ns), &key).await,
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use kube::api::{Api, DeleteParams};

    use super::RunKey;
    use crate::error::AppError;
    use crate::fleet::{FleetKind, Object};
    use crate::server_fns::ssr::{acting_user, explain, record, reference};

    pub async fn delete<K: FleetKind>(api: Api<Object<K>>, key: &RunKey) -> Result<(), AppError> {
        let user = acting_user()?;
        let what = key.describe();
        let run = api.get(&key.name).await.map_err(|e| explain(e, &what))?;
        let message = format!("{} deleted the run from the console", user.name);
        record(
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
        Ok(())
    }
}
