//! Latency probe (issue 5): how fast the engine moves a staged rollout along.
//!
//! Starts a whole embedded fleetdeck in-process (hub, engine, member agent, three simulated
//! members with ready-at-once pods), then rolls out `ROUNDS` times, with the waits and approvals
//! removed, through each of seed 001's two flows:
//! - cluster-scoped: a namespace and a ConfigMap, through two stages (staging, then canary
//!   ordered by `order`);
//! - namespaced: the `web-app` Deployment and Service, through the `StagedUpdateStrategy` of the
//!   seed's second part (the same order), a new image each round.
//!
//! For each it reports:
//! - the step latency: from a binding's `Available` becoming True to the next cluster's binding
//!   being written `Bound` (median, p95),
//! - the apply latency: from a binding written `Bound` to its `Available` (the member agent
//!   applying, the simulated kubelet readying pods, the agent seeing them ready), and
//! - the wall time of each whole rollout, from creating the run to `Succeeded=True`.
//!
//! Run: `cargo bench -p server --bench rollout_latency` (no timing is asserted anywhere).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use kube::api::{
    Api, ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams, PostParams,
};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use serde_json::{json, Value};
use server::cli::ServeArgs;

const ROUNDS: usize = 20;
const GROUP: &str = "placement.kubernetes-fleet.io";
const VERSION: &str = "v1beta1";

/// One of seed 001's flows.
struct Flow {
    label: &'static str,
    /// Where the placement, strategy and runs live (None: cluster scope).
    namespace: Option<&'static str>,
    placement_kind: &'static str,
    placement: &'static str,
    strategy: &'static str,
    binding_kind: &'static str,
    run_kind: &'static str,
    /// The objects to create once: namespace, resources, placement, strategy.
    setup: Vec<Value>,
    /// The change that makes round `n` roll out a new snapshot.
    change: fn(usize) -> Value,
}

fn flows() -> Vec<Flow> {
    vec![
        Flow {
            label: "cluster-scoped (Namespace + ConfigMap)",
            namespace: None,
            placement_kind: "ClusterResourcePlacement",
            placement: "probe",
            strategy: "probe",
            binding_kind: "ClusterResourceBinding",
            run_kind: "ClusterStagedUpdateRun",
            setup: vec![
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "probe"}}),
                json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
                    "metadata": {"name": "probe"},
                    "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "probe"}],
                             "policy": {"placementType": "PickAll"}, "strategy": {"type": "External"}}}),
                json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateStrategy",
                    "metadata": {"name": "probe"},
                    "spec": {"stages": [
                        {"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}},
                        {"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}}, "sortingLabelKey": "order"}]}}),
            ],
            change: |round| {
                json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe", "namespace": "probe"},
                    "data": {"round": round.to_string()}})
            },
        },
        Flow {
            label: "namespaced (Deployment + Service)",
            namespace: Some("my-app-namespace"),
            placement_kind: "ResourcePlacement",
            placement: "web-app-placement",
            strategy: "app-rollout-strategy",
            binding_kind: "ResourceBinding",
            run_kind: "StagedUpdateRun",
            setup: vec![
                json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "my-app-namespace"}}),
                deployment(0),
                json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web-app", "namespace": "my-app-namespace"},
                    "spec": {"selector": {"app": "web-app"}, "ports": [{"port": 80, "targetPort": 80}]}}),
                // A namespaced placement places only into namespaces the members already have
                // (seed 001 places the namespace first, with a CRP).
                json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
                    "metadata": {"name": "my-app-namespace"},
                    "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "my-app-namespace",
                                                    "selectionScope": "NamespaceOnly"}],
                             "policy": {"placementType": "PickAll"}}}),
                json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ResourcePlacement",
                    "metadata": {"name": "web-app-placement", "namespace": "my-app-namespace"},
                    "spec": {"resourceSelectors": [
                                {"group": "apps", "version": "v1", "kind": "Deployment", "name": "web-app"},
                                {"group": "", "version": "v1", "kind": "Service", "name": "web-app"}],
                             "policy": {"placementType": "PickAll"}, "strategy": {"type": "External"}}}),
                json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "StagedUpdateStrategy",
                    "metadata": {"name": "app-rollout-strategy", "namespace": "my-app-namespace"},
                    "spec": {"stages": [
                        {"name": "dev", "labelSelector": {"matchLabels": {"environment": "staging"}}, "maxConcurrency": 2},
                        {"name": "prod", "labelSelector": {"matchLabels": {"environment": "canary"}},
                         "sortingLabelKey": "order", "maxConcurrency": 1}]}}),
            ],
            change: deployment,
        },
    ]
}

/// Seed 001's `web-app` Deployment (`kubectl create deployment web-app --image=nginx:1.20
/// --port=80`), with a new image tag each round.
fn deployment(round: usize) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web-app", "namespace": "my-app-namespace", "labels": {"app": "web-app"}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web-app"}},
                 "template": {"metadata": {"labels": {"app": "web-app"}},
                              "spec": {"containers": [{"name": "nginx", "image": format!("nginx:1.{}", 20 + round),
                                                       "ports": [{"containerPort": 80}]}]}}}})
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = server::serve::start(ServeArgs::ephemeral(dir.path()))
        .await
        .expect("fleetdeck starts");
    let hub = running.client.clone();
    for flow in flows() {
        measure(&hub, &flow).await;
    }
    running.shutdown();
    let _ = running.wait().await;
}

async fn measure(hub: &kube::Client, flow: &Flow) {
    for object in &flow.setup {
        apply(hub, object.clone()).await;
    }
    let fleet = |kind: &str| ApiResource::from_gvk(&GroupVersionKind::gvk(GROUP, VERSION, kind));
    let scoped = |resource: &ApiResource| -> Api<DynamicObject> {
        match flow.namespace {
            Some(ns) => Api::namespaced_with(hub.clone(), ns, resource),
            None => Api::all_with(hub.clone(), resource),
        }
    };
    // Binding transitions, timestamped as they arrive.
    let bindings = scoped(&fleet(flow.binding_kind));
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let watch = tokio::spawn(async move {
        let mut stream = watcher(bindings, watcher::Config::default())
            .applied_objects()
            .boxed();
        while let Some(Ok(b)) = stream.next().await {
            let _ = tx.send((Instant::now(), serde_json::to_value(b).unwrap_or_default()));
        }
    });

    // A run created before the placement's policy snapshot is scheduled fails for good (spec
    // §14), so wait for the placement's Scheduled condition first.
    let placements = scoped(&fleet(flow.placement_kind));
    loop {
        let placement = placements.get(flow.placement).await.expect("placement");
        let scheduled = placement.data["status"]["conditions"]
            .as_array()
            .is_some_and(|c| {
                c.iter().any(|c| {
                    c["type"].as_str().is_some_and(|t| t.ends_with("Scheduled"))
                        && c["status"] == "True"
                })
            });
        if scheduled {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let runs = scoped(&fleet(flow.run_kind));
    let (mut steps, mut applies, mut walls) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        // New content, so that every run rolls a new snapshot out.
        apply(hub, (flow.change)(round)).await;
        while rx.try_recv().is_ok() {}
        let name = format!("probe-{round}");
        let started = Instant::now();
        let mut run = json!({"apiVersion": format!("{GROUP}/{VERSION}"), "kind": flow.run_kind,
            "metadata": {"name": name},
            "spec": {"placementName": flow.placement, "stagedRolloutStrategyName": flow.strategy, "state": "Run"}});
        if let Some(ns) = flow.namespace {
            run["metadata"]["namespace"] = json!(ns);
        }
        apply(hub, run).await;
        let snapshot = loop {
            let run = runs.get(&name).await.expect("run");
            if let Some(index) = run.data["status"]["resourceSnapshotIndexUsed"].as_str() {
                break format!("{}-{index}-snapshot", flow.placement);
            }
            give_up_after_a_minute(started, &run);
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        let mut available_at: BTreeMap<String, Instant> = BTreeMap::new();
        let mut bound_at: BTreeMap<String, Instant> = BTreeMap::new();
        loop {
            while let Ok((at, b)) = rx.try_recv() {
                if b["spec"]["resourceSnapshotName"].as_str() != Some(snapshot.as_str())
                    || b["spec"]["state"] != "Bound"
                {
                    continue;
                }
                let cluster = b["spec"]["targetCluster"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                bound_at.entry(cluster.clone()).or_insert(at);
                let generation = b["metadata"]["generation"].as_i64();
                let available = b["status"]["conditions"].as_array().is_some_and(|c| {
                    c.iter().any(|c| {
                        c["type"] == "Available"
                            && c["status"] == "True"
                            && c["observedGeneration"].as_i64() == generation
                    })
                });
                if available {
                    available_at.entry(cluster).or_insert(at);
                }
            }
            let run = runs.get(&name).await.expect("run");
            let done = run.data["status"]["conditions"]
                .as_array()
                .is_some_and(|c| {
                    c.iter()
                        .any(|c| c["type"] == "Succeeded" && c["status"] == "True")
                });
            if done {
                walls.push(started.elapsed());
                break;
            }
            give_up_after_a_minute(started, &run);
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // The rollout order of both of seed 001's strategies: member2, then member3, then member1.
        for (done, next) in [("member2", "member3"), ("member3", "member1")] {
            if let (Some(a), Some(b)) = (available_at.get(done), bound_at.get(next)) {
                steps.push(b.saturating_duration_since(*a));
            }
        }
        for (cluster, bound) in &bound_at {
            if let Some(available) = available_at.get(cluster) {
                applies.push(available.saturating_duration_since(*bound));
            }
        }
    }
    watch.abort();
    println!("{}:", flow.label);
    report("  step: Available → next binding Bound", &mut steps);
    report("  apply: binding Bound → Available", &mut applies);
    report(
        "  whole rollout (3 clusters, 2 stages, no waits)",
        &mut walls,
    );
}

/// A run that is stuck would keep the probe waiting for ever; say why instead.
fn give_up_after_a_minute(started: Instant, run: &DynamicObject) {
    if started.elapsed() > Duration::from_secs(60) {
        panic!(
            "run {} has not succeeded after a minute: {}",
            run.name_any(),
            run.data["status"]
        );
    }
}

async fn apply(client: &kube::Client, object: serde_json::Value) {
    let gvk = (
        object["apiVersion"].as_str().unwrap_or_default(),
        object["kind"].as_str().unwrap_or_default(),
    );
    let (api_version, kind) = (gvk.0.to_string(), gvk.1.to_string());
    let (group, version) = api_version.split_once('/').unwrap_or(("", &api_version));
    let resource =
        kube::api::ApiResource::from_gvk(&kube::api::GroupVersionKind::gvk(group, version, &kind));
    let api: Api<kube::api::DynamicObject> = match object["metadata"]["namespace"].as_str() {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &resource),
        None => Api::all_with(client.clone(), &resource),
    };
    let name = object["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let body: kube::api::DynamicObject = serde_json::from_value(object.clone()).expect("object");
    if api.get_opt(&name).await.expect("get").is_some() {
        api.patch(&name, &PatchParams::default(), &Patch::Merge(object))
            .await
            .expect("patch");
    } else {
        api.create(&PostParams::default(), &body)
            .await
            .expect("create");
    }
}

fn report(what: &str, samples: &mut [Duration]) {
    samples.sort();
    let pick = |q: f64| {
        samples
            .get(((samples.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or_default()
    };
    println!(
        "{what}: n={} median={:.1} ms p95={:.1} ms max={:.1} ms",
        samples.len(),
        pick(0.5).as_secs_f64() * 1e3,
        pick(0.95).as_secs_f64() * 1e3,
        samples.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
}
