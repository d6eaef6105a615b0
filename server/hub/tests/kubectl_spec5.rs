//! Spec §5's kubectl command list (plus the `kubectl create` generators of spec §0.2 and the Pod and
//! Deployment printers) with the real kubectl over TCP, against a hub serving the kinds of the
//! generated CRDs in deploy/crds, checking printed columns and values.

mod common;

use common::kubectl::header_columns;

/// The row of `out` whose first column is `name`, split into cells.
fn row(out: &str, name: &str) -> Vec<String> {
    out.lines()
        .map(|l| l.split_whitespace().map(String::from).collect::<Vec<_>>())
        .find(|cells| cells.first().map(String::as_str) == Some(name))
        .unwrap_or_else(|| panic!("no row {name} in:\n{out}"))
}

const RUN: &str = "apiVersion: placement.kubernetes-fleet.io/v1\nkind: ClusterStagedUpdateRun\n\
metadata:\n  name: example-run\nspec:\n  placementName: example-placement\n  resourceSnapshotIndex: \"1\"\n  \
stagedRolloutStrategyName: example-strategy\n";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spec_section_5_command_list() {
    let hub = hub::Hub::memory(common::fleet_registry());
    let dir = tempfile::tempdir().unwrap();
    let Some((k, server)) = common::kubectl::serve(&hub, dir.path()).await else {
        return;
    };
    let ns = ["-n", "test-namespace"];

    let resources = k.ok(&["api-resources"], None).await;
    let csur = row(&resources, "clusterstagedupdateruns");
    assert_eq!(
        csur[1..],
        [
            "csur",
            "placement.kubernetes-fleet.io/v1",
            "false",
            "ClusterStagedUpdateRun"
        ],
        "{resources}"
    );
    assert_eq!(row(&resources, "pods")[1..], ["po", "v1", "true", "Pod"]);

    // The protobuf generators (spec §0.2).
    let created = [
        (
            vec!["create", "ns", "test-namespace"],
            "namespace/test-namespace created",
        ),
        (
            vec!["create", "cm", "test-cm", "--from-literal=key=value1"],
            "configmap/test-cm created",
        ),
        (
            vec![
                "create",
                "secret",
                "generic",
                "s1",
                "--from-literal=pw=hunter2",
            ],
            "secret/s1 created",
        ),
        (
            vec![
                "create",
                "deployment",
                "web",
                "--image=nginx:1.20",
                "--port=80",
            ],
            "deployment.apps/web created",
        ),
        (
            vec!["create", "service", "clusterip", "svc1", "--tcp=80:8080"],
            "service/svc1 created",
        ),
    ];
    for (i, (args, want)) in created.into_iter().enumerate() {
        let mut args = args;
        if i > 0 {
            args.extend(ns);
        }
        assert_eq!(k.ok(&args, None).await.trim(), want);
    }
    let secrets = k
        .ok(&["get", "secrets", "-n", "test-namespace"], None)
        .await;
    assert_eq!(header_columns(&secrets), ["NAME", "TYPE", "DATA", "AGE"]);
    assert_eq!(row(&secrets, "s1")[1..3], ["Opaque", "1"], "{secrets}");

    let deploys = k.ok(&["get", "deploy", "-n", "test-namespace"], None).await;
    assert_eq!(
        header_columns(&deploys),
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    );
    assert_eq!(row(&deploys, "web")[1..4], ["0/1", "0", "0"], "{deploys}");
    let wide = k
        .ok(
            &["get", "deploy", "-n", "test-namespace", "-o", "wide"],
            None,
        )
        .await;
    assert_eq!(
        header_columns(&wide)[5..],
        ["CONTAINERS", "IMAGES", "SELECTOR"]
    );
    assert_eq!(
        row(&wide, "web")[5..],
        ["nginx", "nginx:1.20", "app=web"],
        "{wide}"
    );
    let strategy = k
        .ok(
            &["get", "deploy", "web", "-n", "test-namespace", "-o",
              "jsonpath={.spec.strategy.type} {.spec.template.spec.containers[0].imagePullPolicy}"],
            None,
        )
        .await;
    assert_eq!(strategy, "RollingUpdate IfNotPresent");

    let svcs = k.ok(&["get", "svc", "-n", "test-namespace"], None).await;
    assert_eq!(
        header_columns(&svcs),
        [
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE"
        ]
    );
    let svc1 = row(&svcs, "svc1");
    assert_eq!(
        [&svc1[1], &svc1[3], &svc1[4]],
        ["ClusterIP", "<none>", "80/TCP"]
    );
    assert!(svc1[2].starts_with("10.96."), "{svcs}");

    // patch (strategic by default), edit, set image, expose.
    let patch = r#"{"data":{"key":"value2"}}"#;
    assert_eq!(
        k.ok(
            &[
                "patch",
                "configmap",
                "test-cm",
                "-n",
                "test-namespace",
                "-p",
                patch
            ],
            None
        )
        .await
        .trim(),
        "configmap/test-cm patched"
    );
    let (ok, out, err) = k
        .run_env(
            &["edit", "cm", "test-cm", "-n", "test-namespace"],
            None,
            &[("EDITOR", "sed -i s/value2/value3/")],
        )
        .await;
    assert!(ok && out.trim() == "configmap/test-cm edited", "{out}{err}");
    assert_eq!(
        k.ok(
            &[
                "get",
                "cm",
                "test-cm",
                "-n",
                "test-namespace",
                "-o",
                "jsonpath={.data.key}"
            ],
            None
        )
        .await,
        "value3"
    );
    assert_eq!(
        k.ok(
            &[
                "set",
                "image",
                "deployment/web",
                "nginx=nginx:1.21",
                "-n",
                "test-namespace"
            ],
            None
        )
        .await
        .trim(),
        "deployment.apps/web image updated"
    );
    assert_eq!(
        k.ok(
            &[
                "expose",
                "deployment",
                "web",
                "--port=80",
                "--target-port=80",
                "-n",
                "test-namespace"
            ],
            None
        )
        .await
        .trim(),
        "service/web exposed"
    );

    // Pods as the simulated kubelet writes them: status through the subresource.
    let pod = r#"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web-1","namespace":"test-namespace"},
                  "spec":{"containers":[{"name":"nginx","image":"nginx:1.21"}]}}"#;
    k.ok(&["apply", "-f", "-"], Some(pod)).await;
    let status = r#"{"status":{"phase":"Pending","containerStatuses":[{"name":"nginx","ready":false,
        "restartCount":0,"image":"nginx:1.21","imageID":"","state":{"waiting":{"reason":"InvalidImageName"}}}]}}"#;
    k.ok(
        &[
            "patch",
            "pod",
            "web-1",
            "-n",
            "test-namespace",
            "--subresource=status",
            "--type=merge",
            "-p",
            status,
        ],
        None,
    )
    .await;
    let pods = k.ok(&["get", "pods", "-n", "test-namespace"], None).await;
    assert_eq!(
        header_columns(&pods),
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    );
    assert_eq!(
        row(&pods, "web-1")[1..4],
        ["0/1", "InvalidImageName", "0"],
        "{pods}"
    );

    // The custom kinds of the real CRDs: apply, columns, CEL transition rule, describe, delete.
    assert_eq!(
        k.ok(&["apply", "-f", "-"], Some(RUN)).await.trim(),
        "clusterstagedupdaterun.placement.kubernetes-fleet.io/example-run created"
    );
    let runs = k.ok(&["get", "csur"], None).await;
    assert_eq!(
        header_columns(&runs)[..3],
        ["NAME", "PLACEMENT", "RESOURCE-SNAPSHOT-INDEX"]
    );
    assert_eq!(
        row(&runs, "example-run")[1..3],
        ["example-placement", "1"],
        "{runs}"
    );
    let state = |s: &str| format!(r#"{{"spec":{{"state":"{s}"}}}}"#);
    assert_eq!(
        k.ok(
            &[
                "patch",
                "csur",
                "example-run",
                "--type=merge",
                "-p",
                &state("Run")
            ],
            None
        )
        .await
        .trim(),
        "clusterstagedupdaterun.placement.kubernetes-fleet.io/example-run patched"
    );
    let (ok, _, err) = k
        .run(
            &[
                "patch",
                "csur",
                "example-run",
                "--type=merge",
                "-p",
                &state("Initialize"),
            ],
            None,
        )
        .await;
    assert!(!ok, "Run → Initialize is refused");
    assert!(
        err.contains(r#"The ClusterStagedUpdateRun "example-run" is invalid: spec.state: Invalid value: "string": invalid state transition: cannot transition from Run to Initialize"#),
        "{err}"
    );
    let described = k.ok(&["describe", "csur", "example-run"], None).await;
    assert!(
        described.contains("Name:") && described.contains("example-placement"),
        "{described}"
    );
    assert_eq!(
        k.ok(&["delete", "csur", "example-run"], None).await.trim(),
        "clusterstagedupdaterun.placement.kubernetes-fleet.io \"example-run\" deleted"
    );
    server.abort();
}
