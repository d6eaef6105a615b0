use leptos::prelude::*;

use crate::error::AppError;
pub use crate::fleet::views::permission_view::{ConsoleAction, Gate, Permissions};

/// What the signed-in person may do in `namespace` (or on cluster-scoped objects), as the hub
/// answers a SelfSubjectAccessReview per action asked as them: the pages disable the rest.
#[server(prefix = "/api", endpoint = "permissions")]
pub async fn my_permissions(namespace: Option<String>) -> Result<Permissions, AppError> {
    use k8s_openapi::api::authorization::v1::{
        ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
    };
    use kube::api::{Api, PostParams};

    use crate::server_fns::ssr::{acting_user, explain, hub};

    let user = acting_user()?;
    let client = hub()?;
    let namespace = namespace.filter(|ns| !ns.is_empty());
    let api = Api::<SelfSubjectAccessReview>::all(client);
    let mut allowed = Vec::new();
    for action in ConsoleAction::ALL {
        let access = action.access(namespace.is_some());
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(access.verb.into()),
                    group: Some(access.group.into()),
                    resource: Some(access.resource.into()),
                    subresource: Some(access.subresource.to_string()).filter(|s| !s.is_empty()),
                    namespace: namespace.clone().filter(|_| !action.cluster_scoped()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let answer = api
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| explain(e, "the access review"))?;
        if answer.status.is_some_and(|s| s.allowed) {
            allowed.push(action);
        }
    }
    Ok(Permissions {
        user: user.label(),
        namespace,
        allowed,
    })
}
