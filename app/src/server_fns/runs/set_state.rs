use leptos::prelude::*;

use super::RunKey;
use crate::error::AppError;
use crate::fleet::staged::run_action::RunAction;

/// Starts, stops or resumes a run by writing its `spec.state`, as
/// `kubectl patch csur <name> --type=merge -p '{"spec":{"state":"Stop"}}'` does, and records who
/// did it. The write carries the resourceVersion the check was made on, so a run that changed in
/// between is refused rather than overwritten.
#[server(prefix = "/api", endpoint = "runs/set_state")]
pub async fn set_run_state(key: RunKey, action: RunAction) -> Result<(), AppError> {
    use crate::fleet::{types::kind, ClusterStagedUpdateRun, StagedUpdateRun};
    use crate::server_fns::ssr::{acting_user, hub, record};
    use kube::api::Api;

    let user = acting_user()?;
    let client = hub()?;
    let reference = match key.namespace() {
        None => {
            ssr::patch::<kind::ClusterStagedUpdateRun>(
                Api::<ClusterStagedUpdateRun>::all(client.clone()),
                &key,
                action,
            )
            .await?
        }
        Some(ns) => {
            ssr::patch::<kind::StagedUpdateRun>(
                Api::<StagedUpdateRun>::namespaced(client.clone(), ns),
                &key,
                action,
            )
            .await?
        }
    };
    record(
        &reference,
        &user,
        action.reason(),
        action.label(),
        format!("{} {} the run from the console", user.name, action.done()),
    )
    .await;
    Ok(())
}

#[cfg(feature = "ssr")]
mod ssr {
    use k8s_openapi::api::core::v1::ObjectReference;
    use kube::api::{Api, Patch, PatchParams};
    use serde::Serialize;

    use super::RunKey;
    use crate::error::{respond, AppError};
    use crate::fleet::staged::run_action::RunAction;
    use crate::fleet::staged::staged_update_run::{
        StagedUpdateRunSpec, StagedUpdateRunStatus, UpdateRunState,
    };
    use crate::fleet::types::condition::{find_condition, types};
    use crate::fleet::types::merge_patch::Guarded;
    use crate::fleet::{FleetKind, Object};
    use crate::server_fns::ssr::{explain, reference};

    /// A merge patch of `spec.state` alone.
    #[derive(Debug, Serialize)]
    struct StatePatch {
        spec: StateOnly,
    }

    #[derive(Debug, Serialize)]
    struct StateOnly {
        state: UpdateRunState,
    }

    pub async fn patch<K>(
        api: Api<Object<K>>,
        key: &RunKey,
        action: RunAction,
    ) -> Result<ObjectReference, AppError>
    where
        K: FleetKind<Spec = StagedUpdateRunSpec, Status = StagedUpdateRunStatus>,
    {
        let what = key.describe();
        let run = api.get(&key.name).await.map_err(|e| explain(e, &what))?;
        let conditions = run
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default();
        let finished = find_condition(&conditions, types::SUCCEEDED).is_some();
        let target = action
            .target(run.spec.state(), finished)
            .map_err(|refused| respond(AppError::Conflict(format!("{what}: {refused}"))))?;
        let body = Guarded::new(
            run.metadata.resource_version.as_deref().unwrap_or_default(),
            StatePatch {
                spec: StateOnly { state: target },
            },
        );
        let patched = api
            .patch(&key.name, &PatchParams::default(), &Patch::Merge(&body))
            .await
            .map_err(|e| explain(e, &what))?;
        Ok(reference(&patched))
    }
}
