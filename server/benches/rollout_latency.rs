//! Latency probe (issue 5): how fast the engine moves a staged rollout along.
//!
//! Starts a whole embedded fleetdeck in-process (hub, engine, member agent, three simulated
//! members with ready-at-once pods), then rolls a ConfigMap out `ROUNDS` times through seed 001's
//! two stages (staging, then canary ordered by `order`) with the waits and approvals removed, and
//! reports:
//! - the step latency: from a binding's `Available` becoming True to the next cluster's binding
//!   being written `Bound` (median, p95), and
//! - the wall time of each whole rollout, from creating the run to `Succeeded=True`.
//!
//! Run: `cargo bench -p server --bench rollout_latency` (no timing is asserted anywhere).

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use app::fleet::{ClusterResourceBinding, ClusterStagedUpdateRun};
use futures::StreamExt;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::{watcher, WatchStreamExt};
use serde_json::json;
use server::cli::ServeArgs;

const ROUNDS: usize = 20;

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = server::serve::start(ServeArgs::ephemeral(dir.path()))
        .await
        .expect("fleetdeck starts");
    let hub = running.client.clone();
    apply(
        &hub,
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "probe"}}),
    )
    .await;
    apply(&hub, json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
        "metadata": {"name": "probe"},
        "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "probe"}],
                 "policy": {"placementType": "PickAll"}, "strategy": {"type": "External"}}})).await;
    apply(&hub, json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateStrategy",
        "metadata": {"name": "probe"},
        "spec": {"stages": [
            {"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}},
            {"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}}, "sortingLabelKey": "order"}]}})).await;

    // Binding transitions, timestamped as they arrive.
    let bindings: Api<ClusterResourceBinding> = Api::all(hub.clone());
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut stream = watcher(bindings, watcher::Config::default())
            .applied_objects()
            .boxed();
        while let Some(Ok(b)) = stream.next().await {
            let _ = tx.send((Instant::now(), b));
        }
    });

    let runs: Api<ClusterStagedUpdateRun> = Api::all(hub.clone());
    let mut steps = Vec::new();
    let mut walls = Vec::new();
    for round in 0..ROUNDS {
        // New content, so that every run rolls a new snapshot out.
        apply(&hub, json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "probe", "namespace": "probe"},
            "data": {"round": round.to_string()}})).await;
        while rx.try_recv().is_ok() {}
        let name = format!("probe-{round}");
        let started = Instant::now();
        apply(&hub, json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateRun",
            "metadata": {"name": name},
            "spec": {"placementName": "probe", "stagedRolloutStrategyName": "probe", "state": "Run"}})).await;
        let mut available_at: BTreeMap<String, Instant> = BTreeMap::new();
        let mut bound_at: BTreeMap<String, Instant> = BTreeMap::new();
        let snapshot = loop {
            let run = runs.get(&name).await.expect("run");
            if let Some(index) = run
                .status
                .as_ref()
                .and_then(|s| s.resource_snapshot_index_used.clone())
            {
                break format!("probe-{index}-snapshot");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        loop {
            while let Ok((at, b)) = rx.try_recv() {
                let cluster = b.spec.target_cluster.clone();
                if b.spec.resource_snapshot_name.as_deref() != Some(snapshot.as_str()) {
                    continue;
                }
                bound_at.entry(cluster.clone()).or_insert(at);
                let generation = b.metadata.generation.unwrap_or(0);
                let available = b
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|c| {
                        c.iter().any(|c| {
                            c.type_ == "Available"
                                && c.status == "True"
                                && c.observed_generation == Some(generation)
                        })
                    });
                if available {
                    available_at.entry(cluster).or_insert(at);
                }
            }
            let run = runs.get(&name).await.expect("run");
            let done = run
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| {
                    c.iter()
                        .any(|c| c.type_ == "Succeeded" && c.status == "True")
                });
            if done {
                walls.push(started.elapsed());
                break;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        // The rollout order of seed 001's strategy: member2, then member3, then member1.
        for (done, next) in [("member2", "member3"), ("member3", "member1")] {
            if let (Some(a), Some(b)) = (available_at.get(done), bound_at.get(next)) {
                steps.push(b.saturating_duration_since(*a));
            }
        }
    }
    running.shutdown();
    let _ = running.wait().await;
    report("step: Available → next binding Bound", &mut steps);
    report("whole rollout (3 clusters, 2 stages, no waits)", &mut walls);
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
