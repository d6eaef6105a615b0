//! What `fleetdeck user add|remove|link` do on a running fleetdeck: the person's entry in the
//! users file and their (Cluster)RoleBinding on its hub, reached through the data directory's
//! admin kubeconfig.

use std::path::Path;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding, RoleRef, Subject};
use kube::api::{Api, ObjectMeta, Patch, PatchParams};

use super::{check_name, link_url, Accounts, Role, DASHBOARD_URL_FILE};
use crate::{Error, Result};

/// Writes the (Cluster)RoleBinding that gives `name` the shipped role: a ClusterRoleBinding for
/// the whole fleet, or a RoleBinding in `namespace` (the namespaced runs there; the namespace is
/// made if it does not exist yet).
pub async fn bind(
    client: &kube::Client,
    name: &str,
    role: Role,
    namespace: Option<&str>,
) -> Result<()> {
    let binding_name = format!("{}-{name}", role.cluster_role());
    let role_ref = RoleRef {
        api_group: Some("rbac.authorization.k8s.io".into()),
        kind: "ClusterRole".into(),
        name: role.cluster_role().into(),
    };
    let subjects = Some(vec![Subject {
        api_group: Some("rbac.authorization.k8s.io".into()),
        kind: "User".into(),
        name: name.into(),
        namespace: None,
    }]);
    let params = PatchParams::apply("fleetdeck").force();
    let failed = |e: kube::Error| {
        Error::Accounts(format!(
            "cannot bind {name} to {} on the hub: {e}",
            role.cluster_role()
        ))
    };
    match namespace {
        None => {
            let binding = ClusterRoleBinding {
                metadata: ObjectMeta {
                    name: Some(binding_name.clone()),
                    ..Default::default()
                },
                role_ref,
                subjects,
            };
            Api::<ClusterRoleBinding>::all(client.clone())
                .patch(&binding_name, &params, &Patch::Apply(&binding))
                .await
                .map_err(failed)?;
        }
        Some(ns) => {
            // The namespace may not exist yet (its runs come later): made so the binding can be.
            let namespace = Namespace {
                metadata: ObjectMeta {
                    name: Some(ns.into()),
                    ..Default::default()
                },
                ..Default::default()
            };
            Api::<Namespace>::all(client.clone())
                .patch(ns, &params, &Patch::Apply(&namespace))
                .await
                .map_err(failed)?;
            let binding = RoleBinding {
                metadata: ObjectMeta {
                    name: Some(binding_name.clone()),
                    namespace: Some(ns.into()),
                    ..Default::default()
                },
                role_ref,
                subjects,
            };
            Api::<RoleBinding>::namespaced(client.clone(), ns)
                .patch(&binding_name, &params, &Patch::Apply(&binding))
                .await
                .map_err(failed)?;
        }
    }
    Ok(())
}

/// `fleetdeck user add`: the entry in the users file, the binding on the running hub (through the
/// data directory's admin kubeconfig), then the kubectl token and sign-in link, printed once.
pub async fn add_user(
    data_dir: &Path,
    name: &str,
    role: Role,
    namespace: Option<&str>,
) -> Result<String> {
    check_name(name)?;
    let client = hub_client(data_dir, "add users").await?;
    let accounts = Accounts::open(&data_dir.join(crate::hub_rbac::USERS_FILE))?;
    if accounts.person(name)?.is_some() {
        return Err(Error::Accounts(format!(
            "a user named {name:?} already exists"
        )));
    }
    bind(&client, name, role, namespace).await?;
    let added = accounts.add(name, role, namespace)?;
    let dashboard = dashboard_url(data_dir);
    let scope = namespace.map_or("the whole fleet".to_string(), |ns| {
        format!("namespace {ns}")
    });
    Ok(format!(
        "added {name} as {} for {scope}\n\
         sign-in link (works once, for 24 hours): {}\n\
         kubectl token (shown only now): {}\n",
        role.cluster_role(),
        link_url(&dashboard, &added.link_token),
        added.kubectl_token,
    ))
}

/// `fleetdeck user remove NAME`: the person's entry, then the binding `fleetdeck user add` wrote.
pub async fn remove_user(data_dir: &Path, name: &str) -> Result<String> {
    let client = hub_client(data_dir, "remove users").await?;
    let accounts = Accounts::open(&data_dir.join(crate::hub_rbac::USERS_FILE))?;
    let removed = accounts.remove(name)?;
    let binding = removed
        .role
        .as_deref()
        .map(|role| (format!("{role}-{name}"), removed.namespace.clone()));
    let unbound = match &binding {
        Some((binding, namespace)) => {
            let params = kube::api::DeleteParams::default();
            let deleted = match namespace {
                None => Api::<ClusterRoleBinding>::all(client.clone())
                    .delete(binding, &params)
                    .await
                    .map(|_| ()),
                Some(ns) => Api::<RoleBinding>::namespaced(client.clone(), ns)
                    .delete(binding, &params)
                    .await
                    .map(|_| ()),
            };
            match deleted {
                Ok(()) => format!("binding {binding} deleted"),
                Err(kube::Error::Api(s)) if s.code == 404 => {
                    format!("binding {binding} was already gone")
                }
                Err(e) => {
                    return Err(Error::Accounts(format!(
                        "{name} is removed from the users file, but their binding {binding} could not be deleted: {e}; delete it with kubectl"
                    )))
                }
            }
        }
        None => "no binding recorded; check the hub's bindings naming them".to_string(),
    };
    Ok(format!(
        "removed {name}: their kubectl token no longer works and their dashboard sessions end at their next request; {unbound}\n"
    ))
}

/// `fleetdeck user link NAME`: a new one-time sign-in link (a forgotten password, or a link
/// that expired). The current password keeps working until the link sets a new one.
pub async fn new_link(data_dir: &Path, name: &str) -> Result<String> {
    let accounts = Accounts::open(&data_dir.join(crate::hub_rbac::USERS_FILE))?;
    let token = accounts.issue_link(name)?;
    let dashboard = dashboard_url(data_dir);
    Ok(format!(
        "sign-in link for {name} (works once, for 24 hours): {}\n",
        link_url(&dashboard, &token)
    ))
}

/// The running hub of `data_dir`, through its admin kubeconfig.
async fn hub_client(data_dir: &Path, what: &str) -> Result<kube::Client> {
    let kubeconfig = crate::kubeconfig::path_in(data_dir);
    crate::serve::real_hub_client(&kubeconfig, Some("hub"))
        .await
        .map_err(|e| {
            Error::Accounts(format!(
                "{e}; start fleetdeck with --data-dir {} first, then {what}",
                data_dir.display()
            ))
        })
}

/// Where the running dashboard said it listens (for full links), or the default address.
fn dashboard_url(data_dir: &Path) -> String {
    std::fs::read_to_string(data_dir.join(DASHBOARD_URL_FILE))
        .map(|s| s.trim().to_string())
        .unwrap_or_else(|_| "http://127.0.0.1:3000".into())
}
