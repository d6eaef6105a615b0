//! Simulated member clusters: registered on the fleet hub with their labels, reachable through
//! their own kubeconfig context, and running a kubelet that readies good pods and never readies
//! an image the simulated runtime cannot pull (seed 003's stuck rollout).

use std::time::Duration;

use app::fleet::MemberCluster;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::api::{Api, ListParams, PostParams};
use kube::runtime::wait::await_condition;
use serde_json::json;
use server::cli::ServeArgs;

fn args(data_dir: &std::path::Path, members: &[&str]) -> ServeArgs {
    ServeArgs {
        member: members.iter().map(|m| m.to_string()).collect(),
        ..ServeArgs::ephemeral(data_dir)
    }
}

fn deployment(name: &str, image: &str, replicas: i32) -> Deployment {
    serde_json::from_value(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {"containers": [{"name": "web", "image": image}]}}
        }
    }))
    .expect("deployment")
}

/// Waits for a condition, bounded so that a broken kubelet fails the test instead of hanging it.
async fn wait_for(
    api: &Api<Deployment>,
    name: &str,
    what: &str,
    check: impl Fn(&Deployment) -> bool,
) -> Deployment {
    let cond = move |d: Option<&Deployment>| d.is_some_and(&check);
    match tokio::time::timeout(
        Duration::from_secs(30),
        await_condition(api.clone(), name, cond),
    )
    .await
    {
        Ok(Ok(Some(d))) => d,
        other => panic!("deployment {name} never got {what}: {other:?}"),
    }
}

fn available(d: &Deployment) -> Option<&str> {
    d.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_.as_deref() == Some("Available"))?
        .status
        .as_deref()
}

#[tokio::test]
async fn members_join_the_fleet_with_their_labels_and_the_member_name_label() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = server::serve::start(args(
        dir.path(),
        &[
            "east:environment=canary,order=1",
            "west:environment=staging",
        ],
    ))
    .await
    .expect("starts");
    let fleet: Api<MemberCluster> = Api::all(running.client.clone());
    let members = fleet
        .list(&ListParams::default())
        .await
        .expect("list")
        .items;
    let labels: Vec<(String, String, String)> = members
        .iter()
        .map(|m| {
            let l = m.metadata.labels.clone().unwrap_or_default();
            (
                m.metadata.name.clone().unwrap_or_default(),
                l["environment"].clone(),
                l["kubernetes-fleet.io/member-name"].clone(),
            )
        })
        .collect();
    assert_eq!(
        labels,
        [
            ("east".into(), "canary".into(), "east".into()),
            ("west".into(), "staging".into(), "west".into())
        ]
    );
    let joined = members[0]
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    assert!(
        joined
            .iter()
            .any(|c| c.type_ == "Joined" && c.status == "True"),
        "{joined:?}"
    );
    // The kubeconfig names one context per member.
    let kubeconfig = std::fs::read_to_string(&running.kubeconfig).expect("kubeconfig");
    for context in ["hub", "east", "west"] {
        assert!(
            kubeconfig.contains(&format!("name: {context}")),
            "{kubeconfig}"
        );
    }
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

#[tokio::test]
async fn the_kubelet_readies_good_pods_and_never_an_invalid_image() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = server::serve::start(args(dir.path(), &["member2:environment=staging"]))
        .await
        .expect("starts");
    let member = running.members[0].client.clone();
    let deployments: Api<Deployment> = Api::namespaced(member.clone(), "default");
    deployments
        .create(&PostParams::default(), &deployment("good", "nginx:1.20", 2))
        .await
        .expect("create");
    deployments
        .create(
            &PostParams::default(),
            &deployment("bad", "nginx:INVALID", 3),
        )
        .await
        .expect("create");

    let good = wait_for(&deployments, "good", "Available=True", |d| {
        available(d) == Some("True")
    })
    .await;
    assert_eq!(good.status.as_ref().and_then(|s| s.ready_replicas), Some(2));
    let bad = wait_for(&deployments, "bad", "a status", |d| available(d).is_some()).await;
    assert_eq!(available(&bad), Some("False"));
    assert_eq!(
        bad.status.as_ref().and_then(|s| s.unavailable_replicas),
        Some(3)
    );

    let pods: Api<Pod> = Api::namespaced(member, "default");
    let bad_pods = pods
        .list(&ListParams::default().labels("app=bad"))
        .await
        .expect("pods")
        .items;
    assert_eq!(bad_pods.len(), 3);
    for pod in bad_pods {
        let waiting = pod
            .status
            .and_then(|s| s.container_statuses)
            .and_then(|c| c.into_iter().next())
            .and_then(|c| c.state)
            .and_then(|s| s.waiting)
            .and_then(|w| w.reason);
        assert_eq!(waiting.as_deref(), Some("InvalidImageName"));
    }
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_fleet_config_adds_lightweight_members_without_ports_or_contexts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("fleet.yaml");
    std::fs::write(
        &config,
        "members:\n  - name: full\n    labels: {environment: staging}\ngroups:\n  - count: 2\n    name: \"light{i}\"\n    lightweight: true\n    region: westeurope\n    labels: {stage: \"s{i%2}\"}\n",
    )
    .expect("write");
    let running = server::serve::start(ServeArgs {
        fleet_config: Some(config),
        member: vec!["extra:environment=canary".into()],
        ..ServeArgs::ephemeral(dir.path())
    })
    .await
    .expect("starts");
    let names: Vec<(&str, bool)> = running
        .members
        .iter()
        .map(|m| (m.config.name.as_str(), m.addr.is_some()))
        .collect();
    assert_eq!(
        names,
        [
            ("full", true),
            ("light0", false),
            ("light1", false),
            ("extra", true)
        ]
    );
    let fleet: Api<MemberCluster> = Api::all(running.client.clone());
    let light = fleet.get("light1").await.expect("registered");
    assert_eq!(
        light
            .metadata
            .labels
            .as_ref()
            .and_then(|l| l.get("stage"))
            .map(String::as_str),
        Some("s1")
    );
    let region = light
        .status
        .as_ref()
        .and_then(|s| s.properties.as_ref())
        .and_then(|p| p.get("fleetdeck.dev/region"))
        .map(|p| p.value.as_str());
    assert_eq!(region, Some("westeurope"));
    // A lightweight member's API is real, in-process: the default namespace exists.
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> =
        Api::all(running.members[1].client.clone());
    namespaces
        .get("default")
        .await
        .expect("the member serves its API");
    let kubeconfig = std::fs::read_to_string(&running.kubeconfig).expect("kubeconfig");
    assert!(kubeconfig.contains("name: full"), "{kubeconfig}");
    assert!(!kubeconfig.contains("light0"), "{kubeconfig}");
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_bad_fleet_config_fails_the_start_with_the_file_and_entry_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("fleet.yaml");
    std::fs::write(&config, "groups:\n  - count: 2\n    name: \"Bad{i}\"\n").expect("write");
    let error = server::serve::start(ServeArgs {
        fleet_config: Some(config),
        ..ServeArgs::ephemeral(dir.path())
    })
    .await
    .err()
    .expect("refuses to start")
    .to_string();
    assert!(
        error.contains("fleet.yaml") && error.contains("groups[0].name"),
        "{error}"
    );
}
