//! Authentication, impersonation and RBAC authorization of every request (DESIGN.md
//! "Security"): the same model as a real hub, so the dashboard and kubectl meet one set of rules.
//! `system:masters` (the embedded kubeconfig's admin) bypasses RBAC, as on kube-apiserver.

mod bootstrap;
pub mod rbac;
pub mod request_info;
pub(crate) mod review;
pub mod users;

use std::sync::Arc;

use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, Role, RoleBinding};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::state::HubState;
use crate::status::{Error, Result};
use crate::store::Store;
use rbac::{Decision, Policy};
use users::{Authenticator, AUTHENTICATED, MASTERS};

/// An authenticated (or impersonated) user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub groups: Vec<String>,
}

impl UserInfo {
    fn is_master(&self) -> bool {
        self.groups.iter().any(|g| g == MASTERS)
    }

    /// Who calls through the unauthenticated in-process router (the engine, tests): the
    /// apiserver's own loopback identity.
    pub(crate) fn in_process() -> UserInfo {
        UserInfo {
            name: "system:apiserver".into(),
            groups: vec![MASTERS.into(), AUTHENTICATED.into()],
        }
    }
}

/// What a request asks, as kube-apiserver's `authorizer.Attributes`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Attributes {
    pub verb: String,
    pub resource_request: bool,
    /// The URL path of a non-resource request.
    pub path: String,
    pub group: String,
    pub version: String,
    pub resource: String,
    pub subresource: String,
    pub namespace: String,
    pub name: String,
}

/// The user a request runs as, put on the request for the handlers (access reviews).
#[derive(Clone, Debug)]
pub(crate) struct Requester(pub UserInfo);

/// Paths served to anyone, as kube-apiserver's `system:public-info-viewer` does; the kubectl
/// dispatcher probes `/version` before every command (spec §0.1).
fn is_public(path: &str) -> bool {
    matches!(path, "/version" | "/healthz" | "/readyz" | "/livez")
}

/// The middleware: authenticate, impersonate, authorize, then hand the user to the handlers.
pub(crate) async fn guard(
    hub: &Arc<HubState>,
    authn: &Authenticator,
    req: Request,
    next: Next,
) -> Response {
    if is_public(req.uri().path()) {
        return next.run(req).await;
    }
    // The scheme is case-insensitive (RFC 7235), as kube-apiserver reads it.
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(user) = token.and_then(|t| authn.authenticate(t)) else {
        return Error::Unauthorized.into_response();
    };
    run_as(hub, user, req, next).await
}

/// The in-process router's middleware: its callers (the engine, the dashboard) are the hub's
/// own, trusted as `system:masters`, but a request carrying `Impersonate-User` runs as that
/// user under RBAC — how the console acts on the hub as the signed-in person.
pub(crate) async fn in_process(hub: &Arc<HubState>, req: Request, next: Next) -> Response {
    if !req.headers().contains_key(IMPERSONATE_USER)
        && !req.headers().contains_key(IMPERSONATE_GROUP)
    {
        return next.run(req).await;
    }
    run_as(hub, UserInfo::in_process(), req, next).await
}

const IMPERSONATE_USER: &str = "Impersonate-User";
const IMPERSONATE_GROUP: &str = "Impersonate-Group";

/// Impersonates if asked, authorizes, then runs the request as the resulting user.
async fn run_as(hub: &Arc<HubState>, user: UserInfo, mut req: Request, next: Next) -> Response {
    let mut policy = None;
    let original = user.name.clone();
    let user = match impersonate(&hub.store, &mut policy, user, req.headers()) {
        Ok(user) => user,
        Err(e) => return e.into_response(),
    };
    let impersonated = user.name != original;
    // Used up, as kube-apiserver removes them: nothing further in must act on them again.
    req.headers_mut().remove(IMPERSONATE_USER);
    req.headers_mut().remove(IMPERSONATE_GROUP);
    let query = req.uri().query().unwrap_or("");
    let attrs = request_info::attributes(req.method(), req.uri().path(), query);
    let dry_run = form_urlencoded::parse(query.as_bytes()).any(|(k, _)| k == "dryRun");
    if !user.is_master() {
        let policy = policy.get_or_insert_with(|| load_policy(&hub.store));
        let d = policy.authorize(&user, &attrs);
        if !d.allowed {
            return forbidden(&user, &attrs, &d.reason).into_response();
        }
    }
    let method = req.method().clone();
    req.extensions_mut().insert(Requester(user.clone()));
    let response = next.run(req).await;
    let is_write = matches!(
        method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    );
    if response.status().is_success() && is_write && !dry_run && attrs.resource_request {
        // A create's name is in its body, not its URL: the handler leaves it on the response.
        let created = response
            .extensions()
            .get::<crate::writes::CreatedName>()
            .map(|c| c.0.clone());
        hub.writes.announce(crate::writes::Write {
            user: user.name,
            groups: user.groups,
            impersonated,
            verb: attrs.verb,
            group: attrs.group,
            resource: attrs.resource,
            subresource: attrs.subresource,
            namespace: attrs.namespace,
            name: created.unwrap_or(attrs.name),
        });
    }
    response
}

/// The authorizer chain: `system:masters` first, then RBAC.
pub(crate) fn authorize(policy: &Policy, user: &UserInfo, attrs: &Attributes) -> Decision {
    if user.is_master() {
        return Decision {
            allowed: true,
            reason: String::new(),
        };
    }
    policy.authorize(user, attrs)
}

/// `Impersonate-User` / `Impersonate-Group`: each asked-for identity needs `impersonate` on
/// `users`, `groups` (or the service account), checked before the request is run as it.
fn impersonate(
    store: &Store,
    policy: &mut Option<Policy>,
    actor: UserInfo,
    headers: &HeaderMap,
) -> Result<UserInfo> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .map(str::to_string)
            .collect()
    };
    let user = values(IMPERSONATE_USER).into_iter().next();
    let groups = values(IMPERSONATE_GROUP);
    let Some(name) = user else {
        if groups.is_empty() {
            return Ok(actor);
        }
        return Err(Error::BadRequest(
            "requested impersonation of groups without impersonating a user".into(),
        ));
    };
    let mut asked = Vec::new();
    let mut new_groups = Vec::new();
    match name
        .strip_prefix("system:serviceaccount:")
        .and_then(|s| s.split_once(':'))
    {
        Some((ns, sa)) => {
            asked.push(Attributes {
                namespace: ns.into(),
                resource: "serviceaccounts".into(),
                name: sa.into(),
                ..impersonation("")
            });
            new_groups.extend([
                "system:serviceaccounts".to_string(),
                format!("system:serviceaccounts:{ns}"),
            ]);
        }
        None => asked.push(Attributes {
            resource: "users".into(),
            name: name.clone(),
            ..impersonation("")
        }),
    }
    for g in &groups {
        asked.push(Attributes {
            resource: "groups".into(),
            name: g.clone(),
            ..impersonation("")
        });
        new_groups.push(g.clone());
    }
    if !actor.is_master() {
        let policy = policy.get_or_insert_with(|| load_policy(store));
        for attrs in &asked {
            let d = policy.authorize(&actor, attrs);
            if !d.allowed {
                return Err(forbidden(&actor, attrs, &d.reason));
            }
        }
    }
    if !new_groups
        .iter()
        .any(|g| g == AUTHENTICATED || g == "system:unauthenticated")
    {
        new_groups.push(AUTHENTICATED.into());
    }
    Ok(UserInfo {
        name,
        groups: new_groups,
    })
}

fn impersonation(group: &str) -> Attributes {
    Attributes {
        verb: "impersonate".into(),
        resource_request: true,
        group: group.into(),
        version: "v1".into(),
        ..Default::default()
    }
}

/// The 403, worded as kube-apiserver's `responsewriters.Forbidden` + `NewForbidden`.
pub(crate) fn forbidden(user: &UserInfo, a: &Attributes, reason: &str) -> Error {
    let what = if !a.resource_request {
        format!("User {:?} cannot {} path {:?}", user.name, a.verb, a.path)
    } else {
        let resource = if a.subresource.is_empty() {
            a.resource.clone()
        } else {
            format!("{}/{}", a.resource, a.subresource)
        };
        let scope = if a.namespace.is_empty() {
            "at the cluster scope".to_string()
        } else {
            format!("in the namespace {:?}", a.namespace)
        };
        format!(
            "User {:?} cannot {} resource {resource:?} in API group {:?} {scope}",
            user.name, a.verb, a.group
        )
    };
    let what = if reason.is_empty() {
        what
    } else {
        format!("{what}: {reason}")
    };
    let qualified = match (a.resource_request, a.group.is_empty()) {
        (false, _) => String::new(),
        (true, true) => a.resource.clone(),
        (true, false) => format!("{}.{}", a.resource, a.group),
    };
    let message = if qualified.is_empty() {
        format!("forbidden: {what}")
    } else if a.name.is_empty() {
        format!("{qualified} is forbidden: {what}")
    } else {
        format!("{qualified} {:?} is forbidden: {what}", a.name)
    };
    Error::Denied {
        group: if a.resource_request {
            a.group.clone()
        } else {
            String::new()
        },
        resource: if a.resource_request {
            a.resource.clone()
        } else {
            String::new()
        },
        name: a.name.clone(),
        message,
    }
}

/// The RBAC objects in the store, plus the bootstrap roles any of them does not replace.
/// Objects that do not decode were refused at admission; one that slips through grants nothing.
pub(crate) fn load_policy(store: &Store) -> Policy {
    let mut p = Policy {
        cluster_roles: typed(store, "clusterroles"),
        roles: typed(store, "roles"),
        cluster_role_bindings: typed(store, "clusterrolebindings"),
        role_bindings: typed(store, "rolebindings"),
    };
    bootstrap::add_missing(&mut p);
    p
}

fn typed<T: DeserializeOwned>(store: &Store, plural: &str) -> Vec<T> {
    let (objs, _) = store.list(&format!("{plural}.rbac.authorization.k8s.io"), None);
    objs.iter()
        .filter_map(|o| match serde_json::from_value::<T>(Value::clone(o)) {
            Ok(t) => Some(t),
            Err(e) => {
                tracing::warn!(error = %e, kind = plural, "an RBAC object does not decode; it grants nothing");
                None
            }
        })
        .collect()
}

/// Admission for the RBAC kinds: what the authorizer cannot decode is refused at write time.
pub(crate) fn decodes_as<T: DeserializeOwned>(
    new: &Value,
) -> std::result::Result<(), Vec<crate::status::Cause>> {
    serde_json::from_value::<T>(new.clone())
        .map(|_| ())
        .map_err(|e| vec![crate::status::Cause::invalid("", e.to_string())])
}

/// The four RBAC kinds' admission checks, by kind name.
pub(crate) fn rbac_check(
    kind: &str,
) -> fn(&Value) -> std::result::Result<(), Vec<crate::status::Cause>> {
    match kind {
        "ClusterRole" => decodes_as::<ClusterRole>,
        "Role" => decodes_as::<Role>,
        "ClusterRoleBinding" => decodes_as::<ClusterRoleBinding>,
        _ => decodes_as::<RoleBinding>,
    }
}
