//! The real `/usr/bin/kubectl` (the 1.32 dispatcher, spec §0.1) against the hub over plain-HTTP
//! TCP with a fresh discovery cache. No token here: kubectl 1.32 does not send a bearer token
//! over plain http (observed), so token auth needs TLS in front; the layer is tested in-process.

mod common;

use std::path::Path;

use common::kubectl::{header_columns, write_kubeconfig, Kubectl, KUBECTL};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kubectl_smoke() {
    if !Path::new(KUBECTL).exists() {
        eprintln!("SKIPPED kubectl_smoke: {KUBECTL} is not installed");
        return;
    }
    let hub = common::memory_hub();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let router = hub.router();
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let dir = tempfile::tempdir().unwrap();
    let k = Kubectl {
        kubeconfig: write_kubeconfig(dir.path(), port),
        cache: dir.path().join("cache"),
    };

    let ns = k.ok(&["get", "ns"], None).await;
    assert_eq!(header_columns(&ns), ["NAME", "STATUS", "AGE"], "{ns}");
    assert!(
        ns.lines()
            .any(|l| l.starts_with("default ") && l.contains("Active")),
        "{ns}"
    );

    let cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm1\n  namespace: default\ndata:\n  key: value1\n";
    assert_eq!(
        k.ok(&["apply", "-f", "-"], Some(cm)).await.trim(),
        "configmap/cm1 created"
    );
    assert_eq!(
        k.ok(&["apply", "-f", "-"], Some(cm)).await.trim(),
        "configmap/cm1 unchanged"
    );
    let changed = cm.replace("value1", "value2");
    assert_eq!(
        k.ok(&["apply", "-f", "-"], Some(&changed)).await.trim(),
        "configmap/cm1 configured"
    );
    let yaml = k.ok(&["get", "cm", "cm1", "-o", "yaml"], None).await;
    assert!(
        yaml.contains("key: value2") && yaml.contains("uid:"),
        "{yaml}"
    );
    let cms = k.ok(&["get", "cm"], None).await;
    assert_eq!(header_columns(&cms), ["NAME", "DATA", "AGE"], "{cms}");
    assert!(
        cms.lines()
            .any(|l| l.split_whitespace().take(2).eq(["cm1", "1"])),
        "{cms}"
    );

    let run = "apiVersion: placement.kubernetes-fleet.io/v1beta1\nkind: ClusterStagedUpdateRun\nmetadata:\n  name: run1\n\
               spec:\n  placementName: example-placement\n  resourceSnapshotIndex: \"1\"\n  stagedRolloutStrategyName: example-strategy\n  state: Initialize\n";
    assert_eq!(
        k.ok(&["create", "-f", "-"], Some(run)).await.trim(),
        "clusterstagedupdaterun.placement.kubernetes-fleet.io/run1 created"
    );
    let csur = k.ok(&["get", "csur"], None).await;
    assert_eq!(
        header_columns(&csur),
        [
            "NAME",
            "PLACEMENT",
            "RESOURCE-SNAPSHOT-INDEX",
            "POLICY-SNAPSHOT-INDEX",
            "INITIALIZED",
            "PROGRESSING",
            "SUCCEEDED",
            "AGE"
        ],
        "{csur}"
    );
    assert!(csur.lines().nth(1).unwrap().starts_with("run1 "), "{csur}");
    let wide = k.ok(&["get", "csur", "-o", "wide"], None).await;
    assert_eq!(
        header_columns(&wide).last().map(String::as_str),
        Some("STRATEGY"),
        "{wide}"
    );
    assert!(
        wide.lines().nth(1).unwrap().ends_with("example-strategy"),
        "{wide}"
    );

    let patch = r#"{"spec":{"state":"Run"}}"#;
    assert_eq!(
        k.ok(
            &["patch", "csur", "run1", "--type", "merge", "-p", patch],
            None
        )
        .await
        .trim(),
        "clusterstagedupdaterun.placement.kubernetes-fleet.io/run1 patched"
    );
    assert_eq!(
        k.ok(
            &["patch", "csur", "run1", "--type", "merge", "-p", patch],
            None
        )
        .await
        .trim(),
        "clusterstagedupdaterun.placement.kubernetes-fleet.io/run1 patched (no change)"
    );
    let (ok, _, err) = k.run(&["patch", "csur", "run1", "-p", patch], None).await;
    assert!(
        !ok && err.contains("application/strategic-merge-patch+json is not supported"),
        "{err}"
    );
    let (ok, _, err) = k
        .run(
            &[
                "patch",
                "csur",
                "run1",
                "--type",
                "merge",
                "-p",
                r#"{"spec":{"state":"Bogus"}}"#,
            ],
            None,
        )
        .await;
    assert!(
        !ok && err.contains("is invalid: spec.state: Unsupported value"),
        "{err}"
    );

    assert_eq!(
        k.ok(
            &["patch", "cm", "cm1", "-p", r#"{"data":{"key":"value3"}}"#],
            None
        )
        .await
        .trim(),
        "configmap/cm1 patched"
    );
    assert_eq!(
        k.ok(&["delete", "cm", "cm1"], None).await.trim(),
        "configmap \"cm1\" deleted"
    );
    assert_eq!(
        k.ok(&["delete", "csur", "run1"], None).await.trim(),
        "clusterstagedupdaterun.placement.kubernetes-fleet.io \"run1\" deleted"
    );
    let (ok, _, err) = k.run(&["get", "cm", "cm1"], None).await;
    assert!(!ok && err.contains("NotFound"), "{err}");

    server.abort();
}
