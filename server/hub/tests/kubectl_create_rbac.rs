//! `kubectl create role|clusterrole|rolebinding|clusterrolebinding` send protobuf bodies (no JSON
//! fallback): the way a person grants fleetdeck's roles from the command line must work.

mod common;

use std::path::Path;

use common::kubectl::{write_kubeconfig, Kubectl, KUBECTL};
use serde_json::{json, Value};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_creates_every_rbac_kind() {
    if !Path::new(KUBECTL).exists() {
        eprintln!("SKIPPED: {KUBECTL} is not installed");
        return;
    }
    let hub = common::memory_hub();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let router = hub.router();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let dir = tempfile::tempdir().expect("temp dir");
    let k = Kubectl {
        kubeconfig: write_kubeconfig(dir.path(), port),
        cache: dir.path().join("cache"),
    };
    let get = |kind: &'static str, name: &'static str, ns: Option<&'static str>| {
        let k = &k;
        async move {
            let mut args = vec!["get", kind, name, "-o", "json"];
            if let Some(ns) = ns {
                args.extend(["-n", ns]);
            }
            let out = k.ok(&args, None).await;
            serde_json::from_str::<Value>(&out).expect("kubectl prints JSON")
        }
    };

    assert_eq!(
        k.ok(
            &[
                "create",
                "clusterrole",
                "cm-reader",
                "--verb=get,list",
                "--resource=configmaps,clusterstagedupdateruns.placement.kubernetes-fleet.io"
            ],
            None
        )
        .await
        .trim(),
        "clusterrole.rbac.authorization.k8s.io/cm-reader created"
    );
    let role = get("clusterrole", "cm-reader", None).await;
    assert_eq!(
        role["rules"],
        json!([
            {"verbs": ["get", "list"], "apiGroups": [""], "resources": ["configmaps"]},
            {"verbs": ["get", "list"], "apiGroups": ["placement.kubernetes-fleet.io"], "resources": ["clusterstagedupdateruns"]}
        ])
    );

    k.ok(
        &[
            "create",
            "clusterrole",
            "aggregated",
            "--aggregation-rule=team=fleet",
        ],
        None,
    )
    .await;
    let aggregated = get("clusterrole", "aggregated", None).await;
    assert_eq!(
        aggregated["aggregationRule"],
        json!({"clusterRoleSelectors": [{"matchLabels": {"team": "fleet"}}]})
    );

    k.ok(
        &[
            "create",
            "role",
            "approve",
            "-n",
            "default",
            "--verb=patch",
            "--resource=deployments.apps/scale",
            "--resource-name=web",
        ],
        None,
    )
    .await;
    let role = get("role", "approve", Some("default")).await;
    assert_eq!(
        role["rules"],
        json!([{"verbs": ["patch"], "apiGroups": ["apps"], "resources": ["deployments/scale"], "resourceNames": ["web"]}])
    );

    k.ok(
        &[
            "create",
            "rolebinding",
            "alma-approves",
            "-n",
            "default",
            "--role=approve",
            "--user=alma",
            "--serviceaccount=default:robot",
        ],
        None,
    )
    .await;
    let binding = get("rolebinding", "alma-approves", Some("default")).await;
    assert_eq!(
        binding["roleRef"],
        json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "approve"})
    );
    assert_eq!(
        binding["subjects"],
        json!([
            {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "alma"},
            {"kind": "ServiceAccount", "name": "robot", "namespace": "default"}
        ])
    );

    k.ok(
        &[
            "create",
            "clusterrolebinding",
            "readers",
            "--clusterrole=cm-reader",
            "--group=viewers",
        ],
        None,
    )
    .await;
    let binding = get("clusterrolebinding", "readers", None).await;
    assert_eq!(
        binding["subjects"],
        json!([{"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "viewers"}])
    );
    assert_eq!(binding["roleRef"]["name"], "cm-reader");
    server.abort();
}
