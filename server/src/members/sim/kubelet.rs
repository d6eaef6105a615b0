//! The simulated kubelet and deployment controller of a simulated member: for every Deployment it
//! keeps `replicas` pods of the current template, makes them ready after a delay, reports the
//! Deployment's status like the real controllers — and never readies a pod whose image the
//! simulated runtime cannot pull (`InvalidImageName`, seed 003's stuck rollout). A pod with
//! `readinessGates` is Ready only once something else (a load balancer controller, a test) sets
//! each gate's condition True in the pod's status, as on a real kubelet.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use app::fleet::types::merge_patch::StatusPatch;
use futures::StreamExt;
use k8s_openapi::api::apps::v1::{Deployment, DeploymentCondition, DeploymentStatus};
use k8s_openapi::api::core::v1::{
    ContainerState, ContainerStateRunning, ContainerStateWaiting, ContainerStatus, Pod,
    PodCondition, PodStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::watcher;
use kube::{Resource, ResourceExt};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::image;

/// The label that ties pods to one template revision, as the real ReplicaSet controller sets it.
const TEMPLATE_HASH: &str = "pod-template-hash";

/// Runs until `shutdown` is cancelled.
pub async fn run(client: kube::Client, ready_after: Duration, shutdown: CancellationToken) {
    let deployments: Api<Deployment> = Api::all(client.clone());
    let pods: Api<Pod> = Api::all(client.clone());
    let context = Arc::new(Kubelet {
        client,
        ready_after,
    });
    Controller::new(deployments, watcher::Config::default())
        .owns(pods, watcher::Config::default())
        .graceful_shutdown_on(async move { shutdown.cancelled().await })
        .run(reconcile, error_policy, context)
        .for_each(|result| async move {
            if let Err(e) = result {
                debug!("simulated kubelet: {e}");
            }
        })
        .await;
}

struct Kubelet {
    client: kube::Client,
    ready_after: Duration,
}

#[derive(Debug, thiserror::Error)]
enum KubeletError {
    #[error("kube: {0}")]
    Kube(#[from] kube::Error),
    #[error("deployment {0} has no namespace or uid")]
    Incomplete(String),
}

fn error_policy(_: Arc<Deployment>, error: &KubeletError, _: Arc<Kubelet>) -> Action {
    warn!("simulated kubelet: {error}");
    Action::requeue(Duration::from_secs(2))
}

async fn reconcile(deployment: Arc<Deployment>, ctx: Arc<Kubelet>) -> Result<Action, KubeletError> {
    let name = deployment.name_any();
    let (Some(namespace), Some(uid)) = (deployment.namespace(), deployment.uid()) else {
        return Err(KubeletError::Incomplete(name));
    };
    if deployment.meta().deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), &namespace);
    let deployments: Api<Deployment> = Api::namespaced(ctx.client.clone(), &namespace);
    let spec = deployment.spec.clone();
    let replicas = spec.replicas.unwrap_or(1).max(0) as usize;
    let hash = template_hash(&spec.template);
    let selector = spec
        .selector
        .match_labels
        .clone()
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",");

    let owned: Vec<Pod> = pods
        .list(&ListParams::default().labels(&selector))
        .await?
        .items
        .into_iter()
        .filter(|p| p.owner_references().iter().any(|o| o.uid == uid))
        .collect();
    // Old revisions go at once: the simulation rolls without surge.
    let (current, stale): (Vec<Pod>, Vec<Pod>) = owned
        .into_iter()
        .partition(|p| p.labels().get(TEMPLATE_HASH) == Some(&hash));
    for pod in stale.iter().chain(current.iter().skip(replicas)) {
        pods.delete(&pod.name_any(), &DeleteParams::default())
            .await?;
    }
    let mut current: Vec<Pod> = current.into_iter().take(replicas).collect();
    while current.len() < replicas {
        let pod = new_pod(&deployment, &uid, &hash, current.len());
        current.push(pods.create(&PostParams::default(), &pod).await?);
    }

    let now = Timestamp::now();
    let mut ready = 0;
    let mut wait = None::<Duration>;
    for pod in &current {
        let created = pod.creation_timestamp().map_or(now, |t| t.0);
        let observed = observe_pod(pod, created, now, ctx.ready_after);
        if observed.ready {
            ready += 1;
        }
        wait = match (wait, observed.ready_in) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if pod.status.as_ref() != Some(&observed.status) {
            pods.patch_status(
                &pod.name_any(),
                &PatchParams::default(),
                &Patch::Merge(&StatusPatch {
                    status: &observed.status,
                }),
            )
            .await?;
        }
    }

    let generation = deployment.meta().generation.unwrap_or(0);
    let status = deployment_status(replicas as i32, ready, generation, now);
    if !same_status(deployment.status.as_ref(), &status) {
        deployments
            .patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(&status_patch(&status)),
            )
            .await?;
    }
    Ok(match wait {
        Some(delay) => Action::requeue(delay),
        None => Action::await_change(),
    })
}

/// A short, stable hash of the pod template, as the pods' `pod-template-hash` label.
fn template_hash(template: &impl serde::Serialize) -> String {
    let bytes = serde_json::to_vec(template).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    digest.iter().take(5).map(|b| format!("{b:02x}")).collect()
}

fn new_pod(deployment: &Deployment, uid: &str, hash: &str, index: usize) -> Pod {
    let spec = deployment.spec.clone();
    let template = spec.template;
    let mut labels: BTreeMap<String, String> = template
        .metadata
        .as_ref()
        .and_then(|m| m.labels.clone())
        .unwrap_or_default();
    labels.insert(TEMPLATE_HASH.into(), hash.into());
    Pod {
        metadata: ObjectMeta {
            name: Some(format!(
                "{}-{hash}-{}",
                deployment.name_any(),
                pod_suffix(uid, index)
            )),
            namespace: deployment.namespace(),
            labels: Some(labels),
            owner_references: Some(vec![OwnerReference {
                api_version: "apps/v1".into(),
                kind: "Deployment".into(),
                name: deployment.name_any(),
                uid: uid.into(),
                controller: Some(true),
                block_owner_deletion: Some(true),
            }]),
            ..ObjectMeta::default()
        },
        spec: template.spec,
        status: None,
    }
}

/// Five characters from the alphabet Kubernetes uses for generated names, stable per slot.
fn pod_suffix(uid: &str, index: usize) -> String {
    const ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";
    let digest = Sha256::digest(format!("{uid}/{index}").as_bytes());
    digest
        .iter()
        .take(5)
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}

/// What the kubelet reports for a pod at `now`.
#[derive(Debug, PartialEq)]
pub struct ObservedPod {
    pub status: PodStatus,
    pub ready: bool,
    /// When a pull-able pod will become ready; `None` once ready or never.
    pub ready_in: Option<Duration>,
}

/// The pure core: a pod's containers are ready `ready_after` its creation unless one of its
/// images cannot be pulled, in which case they wait with `InvalidImageName` forever; the pod is
/// Ready when its containers are and every readiness gate's condition is True. The gates'
/// conditions belong to whoever sets them: they are carried over from the pod's status as found.
pub fn observe_pod(
    pod: &Pod,
    created: Timestamp,
    now: Timestamp,
    ready_after: Duration,
) -> ObservedPod {
    let containers = pod
        .spec
        .as_ref()
        .map(|s| s.containers.clone())
        .unwrap_or_default();
    let broken: Vec<(String, String)> = containers
        .iter()
        .filter_map(|c| {
            let image = c.image.clone().unwrap_or_default();
            image::invalid_reason(&image).map(|reason| (c.name.clone(), reason))
        })
        .collect();
    let elapsed = now.duration_since(created).unsigned_abs();
    let running = broken.is_empty() && elapsed >= ready_after;
    let ready_in = (broken.is_empty() && !running).then(|| ready_after.saturating_sub(elapsed));
    let found = pod
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let gates: Vec<PodCondition> = pod
        .spec
        .as_ref()
        .and_then(|s| s.readiness_gates.clone())
        .unwrap_or_default()
        .iter()
        .filter_map(|g| found.iter().find(|c| c.type_ == g.condition_type).cloned())
        .collect();
    let gates_open = pod
        .spec
        .as_ref()
        .and_then(|s| s.readiness_gates.as_ref())
        .is_none_or(|gates| {
            gates.iter().all(|g| {
                found
                    .iter()
                    .any(|c| c.type_ == g.condition_type && c.status == "True")
            })
        });
    let ready = running && gates_open;
    let started = Time(created);
    let statuses = containers
        .iter()
        .map(|c| {
            let waiting = |reason: &str, message: Option<String>| ContainerState {
                waiting: Some(ContainerStateWaiting {
                    reason: Some(reason.into()),
                    message,
                }),
                ..ContainerState::default()
            };
            let state = match broken.iter().find(|(name, _)| name == &c.name) {
                Some((_, message)) => waiting("InvalidImageName", Some(message.clone())),
                None if running => ContainerState {
                    running: Some(ContainerStateRunning {
                        started_at: Some(started.clone()),
                    }),
                    ..ContainerState::default()
                },
                None => waiting("ContainerCreating", None),
            };
            ContainerStatus {
                name: c.name.clone(),
                image: c.image.clone().unwrap_or_default(),
                image_id: String::new(),
                ready: running,
                restart_count: 0,
                started: Some(running),
                state: Some(state),
                ..ContainerStatus::default()
            }
        })
        .collect();
    let condition = |type_: &str, ok: bool| PodCondition {
        type_: type_.into(),
        status: if ok { "True" } else { "False" }.into(),
        last_transition_time: Some(started.clone()),
        ..PodCondition::default()
    };
    let status = PodStatus {
        phase: Some(if running { "Running" } else { "Pending" }.into()),
        conditions: Some(
            [
                condition("PodScheduled", true),
                condition("Initialized", true),
                condition("ContainersReady", running),
                condition("Ready", ready),
            ]
            .into_iter()
            .chain(gates)
            .collect(),
        ),
        container_statuses: Some(statuses),
        start_time: Some(started.clone()),
        ..PodStatus::default()
    };
    ObservedPod {
        status,
        ready,
        ready_in,
    }
}

/// The Deployment status the real controller would write for `ready` of `replicas` pods, all of
/// the current template.
pub fn deployment_status(
    replicas: i32,
    ready: usize,
    generation: i64,
    now: Timestamp,
) -> DeploymentStatus {
    let ready = ready as i32;
    let available = ready >= replicas;
    let condition = |type_: &str, ok: bool, reason: &str, message: &str| DeploymentCondition {
        type_: Some(type_.into()),
        status: Some(if ok { "True" } else { "False" }.into()),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_transition_time: Some(Time(now)),
        last_update_time: Some(Time(now)),
    };
    DeploymentStatus {
        observed_generation: Some(generation),
        replicas: Some(replicas),
        updated_replicas: Some(replicas),
        ready_replicas: (ready > 0).then_some(ready),
        available_replicas: (ready > 0).then_some(ready),
        unavailable_replicas: (replicas > ready).then_some(replicas - ready),
        conditions: Some(vec![
            if available {
                condition(
                    "Available",
                    true,
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                )
            } else {
                condition(
                    "Available",
                    false,
                    "MinimumReplicasUnavailable",
                    "Deployment does not have minimum availability.",
                )
            },
            condition(
                "Progressing",
                true,
                "NewReplicaSetAvailable",
                "ReplicaSet has successfully progressed.",
            ),
        ]),
        ..DeploymentStatus::default()
    }
}

/// The merge patch that makes the stored status `status`. The real controller writes the whole
/// status, so a count that drops to zero (and is omitted, like `availableReplicas` once the ready
/// pods are replaced) disappears; a merge patch keeps what it omits, so it must say `null`, which
/// `DeploymentStatus` cannot: its body is the typed status's JSON with those nulls added.
fn status_patch(status: &DeploymentStatus) -> StatusPatch<serde_json::Value> {
    let mut value = serde_json::to_value(status).unwrap_or_default();
    if let Some(fields) = value.as_object_mut() {
        for key in [
            "availableReplicas",
            "readyReplicas",
            "unavailableReplicas",
            "updatedReplicas",
            "replicas",
            "terminatingReplicas",
        ] {
            fields.entry(key).or_insert(serde_json::Value::Null);
        }
    }
    StatusPatch { status: value }
}

/// Equal but for condition timestamps, so an unchanged state is not written again.
fn same_status(old: Option<&DeploymentStatus>, new: &DeploymentStatus) -> bool {
    let strip = |s: &DeploymentStatus| {
        let mut s = s.clone();
        for c in s.conditions.iter_mut().flatten() {
            c.last_transition_time = None;
            c.last_update_time = None;
        }
        s
    };
    old.is_some_and(|old| strip(old) == strip(new))
}

#[cfg(test)]
#[path = "kubelet_tests.rs"]
mod tests;
