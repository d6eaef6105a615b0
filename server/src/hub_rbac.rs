//! Who may do what on the embedded hub (issue 17): the users file in the data directory and the
//! ClusterRoles fleetdeck ships in `deploy/rbac`, installed at every start so that an upgrade
//! brings their new rules. Bindings are the operator's: `kubectl create clusterrolebinding …`.

use std::path::Path;

use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::api::{Api, Patch, PatchParams};

use crate::{Error, Result};

/// The users file, next to `hub.db`.
pub const USERS_FILE: &str = "users.yaml";

/// The shipped roles, as `deploy/rbac` holds them for a real hub.
const ROLES: [(&str, &str); 4] = [
    (
        "fleetdeck-viewer",
        include_str!("../../deploy/rbac/fleetdeck-viewer.yaml"),
    ),
    (
        "fleetdeck-operator",
        include_str!("../../deploy/rbac/fleetdeck-operator.yaml"),
    ),
    (
        "fleetdeck-approver",
        include_str!("../../deploy/rbac/fleetdeck-approver.yaml"),
    ),
    (
        "fleetdeck-admin",
        include_str!("../../deploy/rbac/fleetdeck-admin.yaml"),
    ),
];

fn failed(message: String) -> Error {
    Error::Hub(Box::new(hub::Error::Internal(message)))
}

/// The admin token (the kubeconfig's, `system:masters`) and the users of `<data-dir>/users.yaml`,
/// re-read when the file changes (`fleetdeck user add` beside a running fleetdeck).
pub fn authenticator(data_dir: &Path, admin_token: &str) -> Result<hub::Authenticator> {
    Ok(hub::Authenticator::watching(
        admin_token,
        &data_dir.join(USERS_FILE),
    )?)
}

/// The ClusterRoles of `deploy/rbac`.
pub fn shipped_roles() -> Result<Vec<ClusterRole>> {
    ROLES
        .iter()
        .map(|(name, yaml)| {
            serde_saphyr::from_str::<ClusterRole>(yaml)
                .map_err(|e| failed(format!("deploy/rbac/{name}.yaml does not parse: {e}")))
        })
        .collect()
}

/// Creates or replaces each shipped ClusterRole (a forced server-side apply: `rules` is an atomic
/// list, so it is replaced whole, as on kube-apiserver).
pub async fn install_roles(client: &kube::Client) -> Result<()> {
    let api: Api<ClusterRole> = Api::all(client.clone());
    let params = PatchParams::apply("fleetdeck").force();
    for role in shipped_roles()? {
        let name = role.metadata.name.clone().unwrap_or_default();
        api.patch(&name, &params, &Patch::Apply(&role))
            .await
            .map_err(|e| failed(format!("cannot install ClusterRole {name}: {e}")))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_role_parses_and_is_named_after_its_file() {
        let roles = shipped_roles().expect("the shipped roles parse");
        let names: Vec<_> = roles
            .iter()
            .map(|r| r.metadata.name.clone().unwrap_or_default())
            .collect();
        assert_eq!(names, ROLES.map(|(n, _)| n.to_string()));
        assert!(roles
            .iter()
            .all(|r| r.rules.as_ref().is_some_and(|rules| !rules.is_empty())));
    }
}
