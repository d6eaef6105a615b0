use leptos::prelude::*;

use crate::error::AppError;

/// Approves a gate: writes `Approved=True` on the request's status subresource with the
/// request's current `metadata.generation` as `observedGeneration` and the comment in its
/// message — what `kubectl patch … --subresource=status` does in the seeds — then records who
/// approved on the request and on its run. `namespace` is empty for a ClusterApprovalRequest.
#[server(prefix = "/api", endpoint = "approvals/approve")]
pub async fn approve(namespace: String, name: String, comment: String) -> Result<(), AppError> {
    use kube::api::Api;

    use crate::fleet::{types::kind, ApprovalRequest, ClusterApprovalRequest};
    use crate::server_fns::ssr::{acting_user, hub, service_hub};

    let user = acting_user()?;
    let client = hub()?;
    if namespace.is_empty() {
        let api = Api::<ClusterApprovalRequest>::all(client.clone());
        let service = service_hub().ok().map(Api::all);
        ssr::approve_in::<kind::ClusterApprovalRequest, kind::ClusterStagedUpdateRun>(
            api, service, None, &name, &comment, &user,
        )
        .await
    } else {
        let api = Api::<ApprovalRequest>::namespaced(client.clone(), &namespace);
        let service = service_hub().ok().map(|c| Api::namespaced(c, &namespace));
        ssr::approve_in::<kind::ApprovalRequest, kind::StagedUpdateRun>(
            api,
            service,
            Some(&namespace),
            &name,
            &comment,
            &user,
        )
        .await
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use k8s_openapi::api::core::v1::ObjectReference;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
    use kube::api::{Api, Patch, PatchParams};
    use serde::Serialize;

    use crate::error::{respond, AppError};
    use crate::fleet::staged::approval::{ApprovalRequestSpec, ApprovalRequestStatus};
    use crate::fleet::types::condition::Time;
    use crate::fleet::types::merge_patch::{Guarded, StatusPatch};
    use crate::fleet::views::approval_view::{approve, ApproveError};
    use crate::fleet::views::attribution::approved_by;
    use crate::fleet::{FleetKind, Object};
    use crate::server_fns::acting_user::ActingUser;
    use crate::server_fns::ssr::{explain, record, reference};

    /// The status conditions, as a merge patch (guarded by the resourceVersion: an approval
    /// decided on a request that changed meanwhile is refused, never written blind).
    #[derive(Debug, Serialize)]
    struct Conditions {
        conditions: Vec<Condition>,
    }

    /// `service` is the same API as the dashboard itself (not the person), for the annotation.
    pub async fn approve_in<A, R>(
        api: Api<Object<A>>,
        service: Option<Api<Object<A>>>,
        namespace: Option<&str>,
        name: &str,
        comment: &str,
        user: &ActingUser,
    ) -> Result<(), AppError>
    where
        A: FleetKind<Spec = ApprovalRequestSpec, Status = ApprovalRequestStatus>,
        R: FleetKind,
    {
        let what = format!("approval request {name}");
        let request = api.get(name).await.map_err(|e| explain(e, &what))?;
        let conditions = request
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default();
        let now = Time(k8s_openapi::jiff::Timestamp::now());
        let conditions = approve(&conditions, request.generation(), &user.name, comment, &now)
            .map_err(|e| {
                respond(match e {
                    ApproveError::CommentTooLong(_) => AppError::Invalid(e.to_string()),
                    _ => AppError::Conflict(format!("{what}: {e}")),
                })
            })?;
        let message = conditions
            .last()
            .map(|c| c.message.clone())
            .unwrap_or_default();
        let body = Guarded::new(
            request
                .metadata
                .resource_version
                .as_deref()
                .unwrap_or_default(),
            StatusPatch {
                status: Conditions { conditions },
            },
        );
        let approved = api
            .patch_status(name, &PatchParams::default(), &Patch::Merge(&body))
            .await
            .map_err(|e| explain(e, &what))?;
        // The approver on the request itself, for whoever reads it with kubectl. The person may
        // only write the status, so the dashboard writes this with its own identity.
        if let Some(service) = service {
            if let Err(error) = service
                .patch(
                    name,
                    &PatchParams::default(),
                    &Patch::Merge(&approved_by(&user.name)),
                )
                .await
            {
                tracing::warn!(%error, name, "could not name the approver on the request");
            }
        }
        let stage = &approved.spec.target_stage;
        let audit = format!(
            "{} approved {name} (stage {stage}) from the console: {message}",
            user.name
        );
        record(
            &reference(&approved),
            user,
            "Approved",
            "Approve",
            audit.clone(),
        )
        .await;
        // The run's history shows it too: the Event names the run by reference.
        let run = ObjectReference {
            api_version: Some(R::api_version()),
            kind: Some(R::KIND.to_string()),
            name: Some(approved.spec.parent_stage_rollout.clone()),
            namespace: namespace.map(str::to_string),
            ..Default::default()
        };
        record(&run, user, "Approved", "Approve", audit).await;
        Ok(())
    }
}
