//! A workload that holds each member "updating" until the test releases it: namespace
//! `test-namespace` with ConfigMap `test-cm` `{key: VALUE}` and Deployment `web`, whose pod
//! template carries VALUE (so every new value rolls new pods) and a readiness gate only the test
//! opens. A member that got the workload therefore stays not Available — its binding stays
//! unfinished — until [`Fleet::release`] sets the gate's condition on its pods, the way a load
//! balancer controller would on a real cluster.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{Api, ListParams, Patch, PatchParams};
use kube::ResourceExt;
use serde_json::json;

use super::{Fleet, DEADLINE};

/// The readiness gate of `web`'s pods.
pub const RELEASE_GATE: &str = "fleetdeck.dev/test-release";
/// The pod template annotation carrying the workload's value.
pub const VALUE_ANNOTATION: &str = "fleetdeck.dev/test-value";

/// What a member holds of the workload: the ConfigMap's `key` and the Deployment's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Contents {
    pub config_map: Option<String>,
    pub deployment: Option<String>,
}

impl Contents {
    /// Nothing placed.
    pub const NONE: Contents = Contents {
        config_map: None,
        deployment: None,
    };

    /// The whole workload of `value`.
    pub fn of(value: &str) -> Contents {
        Contents {
            config_map: Some(value.into()),
            deployment: Some(value.into()),
        }
    }
}

impl Fleet {
    /// Puts the workload of `value` on the hub (creating or updating it).
    pub async fn held_workload(&self, value: &str) {
        self.config_map(value).await;
        self.apply(json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "test-namespace"},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"metadata": {"labels": {"app": "web"},
                                               "annotations": {VALUE_ANNOTATION: value}},
                                  "spec": {"readinessGates": [{"conditionType": RELEASE_GATE}],
                                           "containers": [{"name": "web", "image": "nginx:1.27"}]}}}}))
            .await;
    }

    /// What `member` holds of the workload now.
    pub async fn contents(&self, member: &str) -> Contents {
        let client = self.member(member);
        let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "test-namespace");
        let deployments: Api<Deployment> = Api::namespaced(client, "test-namespace");
        let config_map = cms
            .get_opt("test-cm")
            .await
            .expect("member get")
            .and_then(|cm| cm.data?.get("key").cloned());
        let deployment = deployments
            .get_opt("web")
            .await
            .expect("member get")
            .and_then(|d| {
                d.spec
                    .template
                    .metadata?
                    .annotations?
                    .get(VALUE_ANNOTATION)
                    .cloned()
            });
        Contents {
            config_map,
            deployment,
        }
    }

    /// Waits until `member` holds `want`.
    pub async fn wait_contents(&self, member: &str, want: Contents) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        let mut last = self.contents(member).await;
        while last != want {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{member} never held {want:?}: {last:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
            last = self.contents(member).await;
        }
    }

    /// Lets `member`'s workload of `value` become available: waits until the member holds it,
    /// then opens the readiness gate of its pods until the Deployment reports them available.
    pub async fn release(&self, member: &str, value: &str) {
        self.wait_contents(member, Contents::of(value)).await;
        let client = self.member(member);
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), "test-namespace");
        let pods: Api<Pod> = Api::namespaced(client, "test-namespace");
        let deadline = tokio::time::Instant::now() + DEADLINE;
        loop {
            let d = deployments.get("web").await.expect("member deployment");
            let generation = d.metadata.generation.unwrap_or_default();
            let status = d.status.clone().unwrap_or_default();
            if status.observed_generation.unwrap_or(-1) >= generation
                && status.available_replicas.unwrap_or(0) >= 1
            {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{member}'s web never became available: {status:#?}"
            );
            // The kubelet rewrites a pod's status from what it read: re-open a gate it lost.
            for pod in pods
                .list(&ListParams::default().labels("app=web"))
                .await
                .expect("member pods")
                .items
            {
                let mut conditions = pod
                    .status
                    .as_ref()
                    .and_then(|s| s.conditions.clone())
                    .unwrap_or_default();
                if conditions
                    .iter()
                    .any(|c| c.type_ == RELEASE_GATE && c.status == "True")
                {
                    continue;
                }
                conditions.retain(|c| c.type_ != RELEASE_GATE);
                let mut conditions = serde_json::to_value(conditions).expect("conditions");
                conditions
                    .as_array_mut()
                    .expect("array")
                    .push(json!({"type": RELEASE_GATE, "status": "True"}));
                // A pod the kubelet just replaced may be gone: the next pass sees its successor.
                let _ = pods
                    .patch_status(
                        &pod.name_any(),
                        &PatchParams::default(),
                        &Patch::Merge(json!({"status": {"conditions": conditions}})),
                    )
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}
