//! The embedded hub's RBAC as a started fleetdeck serves it: the shipped ClusterRoles are
//! installed, users.yaml's people get exactly their bindings' rights over HTTPS, and
//! `kubectl auth can-i` answers as RBAC says (through the real binary, with each user's token).

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;
use server::cli::ServeArgs;

async fn admin_client(kubeconfig: &std::path::Path) -> kube::Client {
    let config = Kubeconfig::read_from(kubeconfig).expect("kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(config, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig is usable");
    kube::Client::try_from(config).expect("client")
}

/// A data directory whose users.yaml holds `vera` and `alma`, tokens `<name>-token`.
fn data_dir_with_users() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let users = hub::UsersFile {
        users: ["vera", "alma"]
            .iter()
            .map(|u| hub::UserEntry::new(u, hub::token_sha256(&format!("{u}-token"))))
            .collect(),
    };
    let yaml = serde_saphyr::to_string(&users).expect("users serialise");
    std::fs::write(dir.path().join(server::hub_rbac::USERS_FILE), yaml).expect("write users.yaml");
    dir
}

async fn bind(client: &kube::Client, user: &str, role: &str) {
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": format!("{user}-{role}")},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]
    }))
    .expect("a binding");
    Api::<ClusterRoleBinding>::all(client.clone())
        .create(&PostParams::default(), &binding)
        .await
        .expect("the admin binds");
}

#[tokio::test]
async fn the_shipped_roles_are_installed_and_bind_users_from_the_users_file() {
    let dir = data_dir_with_users();
    let running = server::serve::start(ServeArgs::ephemeral(dir.path()))
        .await
        .expect("starts");
    let admin = admin_client(&running.kubeconfig).await;
    let roles = Api::<ClusterRole>::all(admin.clone())
        .list(&ListParams::default())
        .await
        .expect("the admin lists roles");
    let mut names: Vec<String> = roles
        .items
        .iter()
        .filter_map(|r| r.metadata.name.clone())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "fleetdeck-admin",
            "fleetdeck-approver",
            "fleetdeck-operator",
            "fleetdeck-viewer"
        ]
    );
    bind(&admin, "vera", "fleetdeck-viewer").await;

    let mut config = Kubeconfig::read_from(&running.kubeconfig).expect("kubeconfig");
    for user in &mut config.auth_infos {
        if let Some(auth) = user.auth_info.as_mut() {
            auth.token = Some("vera-token".to_string().into());
        }
    }
    let config = kube::Config::from_custom_kubeconfig(config, &KubeConfigOptions::default())
        .await
        .expect("config");
    let vera = kube::Client::try_from(config).expect("client");
    let strategies: Api<app::fleet::ClusterStagedUpdateStrategy> = Api::all(vera.clone());
    strategies
        .list(&ListParams::default())
        .await
        .expect("a viewer lists");
    let strategy: app::fleet::ClusterStagedUpdateStrategy = serde_json::from_value(json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
        "kind": "ClusterStagedUpdateStrategy",
        "metadata": {"name": "s"},
        "spec": {"stages": [{"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}}]}
    }))
    .expect("strategy");
    match strategies.create(&PostParams::default(), &strategy).await {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 403);
            assert_eq!(
                status.message,
                "clusterstagedupdatestrategies.placement.kubernetes-fleet.io is forbidden: User \"vera\" cannot create resource \"clusterstagedupdatestrategies\" in API group \"placement.kubernetes-fleet.io\" at the cluster scope"
            );
        }
        other => panic!("expected 403, got {other:?}"),
    }
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

/// kubectl against one hub; the discovery cache is the test's own and warm after the first
/// command, as a user's is (kubectl cannot word a refused *discovery*: it says "unknown").
struct Kubectl {
    kubeconfig: std::path::PathBuf,
    cache: tempfile::TempDir,
}

/// Runs kubectl with `token` (the kubeconfig's own when none); (exit success, stdout, stderr).
async fn kubectl(k: &Kubectl, token: Option<&str>, args: &[&str]) -> (bool, String, String) {
    let mut cmd = tokio::process::Command::new("/usr/bin/kubectl");
    cmd.arg("--kubeconfig")
        .arg(&k.kubeconfig)
        .arg("--cache-dir")
        .arg(k.cache.path());
    if let Some(t) = token {
        cmd.arg("--token").arg(t);
    }
    let out = cmd.args(args).output().await.expect("kubectl runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

#[tokio::test]
async fn kubectl_auth_can_i_answers_as_rbac_says() {
    if !std::path::Path::new("/usr/bin/kubectl").exists() {
        eprintln!("SKIPPED: /usr/bin/kubectl is not installed");
        return;
    }
    let dir = data_dir_with_users();
    let running = server::serve::start(ServeArgs::ephemeral(dir.path()))
        .await
        .expect("starts");
    let admin = admin_client(&running.kubeconfig).await;
    let kc = Kubectl {
        kubeconfig: running.kubeconfig.clone(),
        cache: tempfile::tempdir().expect("cache dir"),
    };
    bind(&admin, "alma", "fleetdeck-approver").await;
    bind(&admin, "vera", "fleetdeck-viewer").await;

    let approve = [
        "auth",
        "can-i",
        "update",
        "clusterapprovalrequests",
        "--subresource=status",
    ];
    let (_, out, err) = kubectl(&kc, Some("alma-token"), &approve).await;
    assert_eq!(out, "yes", "{err}");
    let (ok, out, _) = kubectl(&kc, Some("vera-token"), &approve).await;
    assert_eq!((ok, out.as_str()), (false, "no"));
    let (ok, out, _) = kubectl(&kc, Some("alma-token"), &["auth", "can-i", "patch", "csur"]).await;
    assert_eq!((ok, out.as_str()), (false, "no"));
    assert_eq!(
        kubectl(&kc, Some("vera-token"), &["auth", "can-i", "list", "csur"])
            .await
            .1,
        "yes"
    );
    // The kubeconfig's own token is the admin: the seeds' context can do anything.
    assert_eq!(
        kubectl(&kc, None, &["auth", "can-i", "delete", "csur"])
            .await
            .1,
        "yes"
    );
    // A refusal reads as kube-apiserver's.
    let (ok, _, err) = kubectl(&kc, Some("vera-token"), &["delete", "csur", "nope"]).await;
    assert!(!ok);
    assert_eq!(
        err,
        "Error from server (Forbidden): clusterstagedupdateruns.placement.kubernetes-fleet.io \"nope\" is forbidden: User \"vera\" cannot delete resource \"clusterstagedupdateruns\" in API group \"placement.kubernetes-fleet.io\" at the cluster scope"
    );
    // vera may not act as alma.
    let (ok, _, err) = kubectl(&kc, Some("vera-token"), &["get", "csur", "--as", "alma"]).await;
    assert!(!ok);
    assert!(
        err.contains("users \"alma\" is forbidden: User \"vera\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"),
        "{err}"
    );
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}
