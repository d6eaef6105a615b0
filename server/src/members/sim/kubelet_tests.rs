use super::*;
use k8s_openapi::api::core::v1::{Container, PodSpec};
use serde_json::json;

fn pod(image: &str) -> Pod {
    Pod {
        spec: Some(PodSpec {
            containers: vec![Container {
                name: "web".into(),
                image: Some(image.into()),
                ..Container::default()
            }],
            ..PodSpec::default()
        }),
        ..Pod::default()
    }
}

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + seconds).expect("time")
}

fn waiting_reason(observed: &ObservedPod) -> Option<String> {
    observed.status.container_statuses.as_ref()?[0]
        .state
        .as_ref()?
        .waiting
        .as_ref()?
        .reason
        .clone()
}

#[test]
fn a_pod_becomes_ready_after_the_delay() {
    let early = observe_pod(&pod("nginx:1.20"), at(0), at(1), Duration::from_secs(3));
    assert!(!early.ready);
    assert_eq!(early.ready_in, Some(Duration::from_secs(2)));
    assert_eq!(waiting_reason(&early).as_deref(), Some("ContainerCreating"));
    assert_eq!(early.status.phase.as_deref(), Some("Pending"));

    let later = observe_pod(&pod("nginx:1.20"), at(0), at(3), Duration::from_secs(3));
    assert!(later.ready);
    assert_eq!(later.ready_in, None);
    assert_eq!(later.status.phase.as_deref(), Some("Running"));
}

#[test]
fn an_invalid_image_never_becomes_ready() {
    let observed = observe_pod(
        &pod("nginx:INVALID"),
        at(0),
        at(3600),
        Duration::from_secs(1),
    );
    assert!(!observed.ready);
    assert_eq!(observed.ready_in, None, "nothing to wait for");
    assert_eq!(
        waiting_reason(&observed).as_deref(),
        Some("InvalidImageName")
    );
}

#[test]
fn a_pod_with_a_readiness_gate_is_ready_only_once_the_gate_is_true() {
    let mut gated = pod("nginx:1.20");
    gated.spec.as_mut().expect("spec").readiness_gates =
        Some(vec![k8s_openapi::api::core::v1::PodReadinessGate {
            condition_type: "example.com/ready".into(),
        }]);
    let closed = observe_pod(&gated, at(0), at(5), Duration::ZERO);
    assert!(!closed.ready, "the gate has no condition yet");
    assert_eq!(closed.ready_in, None, "nothing the kubelet waits for");
    assert_eq!(closed.status.phase.as_deref(), Some("Running"));
    let status = |o: &ObservedPod, t: &str| {
        o.status
            .conditions
            .iter()
            .flatten()
            .find(|c| c.type_ == t)
            .map(|c| c.status.clone())
    };
    assert_eq!(status(&closed, "ContainersReady").as_deref(), Some("True"));
    assert_eq!(status(&closed, "Ready").as_deref(), Some("False"));

    let mut opened = gated.clone();
    opened.status = Some(PodStatus {
        conditions: Some(vec![PodCondition {
            type_: "example.com/ready".into(),
            status: "True".into(),
            ..PodCondition::default()
        }]),
        ..PodStatus::default()
    });
    let open = observe_pod(&opened, at(0), at(5), Duration::ZERO);
    assert!(open.ready);
    assert_eq!(status(&open, "Ready").as_deref(), Some("True"));
    assert_eq!(
        status(&open, "example.com/ready").as_deref(),
        Some("True"),
        "the gate's condition is kept, not overwritten"
    );
    let slow = observe_pod(&opened, at(0), at(1), Duration::from_secs(3));
    assert!(
        !slow.ready,
        "an open gate does not skip the containers' delay"
    );
}

#[test]
fn deployment_status_follows_ready_pods() {
    let partial = deployment_status(3, 1, 2, at(0));
    assert_eq!(partial.ready_replicas, Some(1));
    assert_eq!(partial.unavailable_replicas, Some(2));
    assert_eq!(partial.observed_generation, Some(2));
    let available = &partial.conditions.as_ref().expect("conditions")[0];
    assert_eq!(
        (available.type_.as_deref(), available.status.as_deref()),
        (Some("Available"), Some("False"))
    );

    let none = deployment_status(3, 0, 1, at(0));
    assert_eq!(
        none.ready_replicas, None,
        "omitted like the real controller does"
    );
    let full = deployment_status(3, 3, 1, at(0));
    assert_eq!(full.available_replicas, Some(3));
    assert_eq!(
        full.conditions.as_ref().expect("conditions")[0]
            .status
            .as_deref(),
        Some("True")
    );
}

#[test]
fn a_status_patch_clears_the_counts_of_pods_no_longer_ready() {
    // A rollout replaced the one ready pod with one not ready yet: the stored
    // `availableReplicas: 1` must go, or the member agent reports the Deployment available.
    let patch =
        serde_json::to_value(status_patch(&deployment_status(1, 0, 2, at(0)))).expect("serializes");
    assert_eq!(
        patch["status"]["availableReplicas"],
        serde_json::Value::Null
    );
    assert_eq!(patch["status"]["readyReplicas"], serde_json::Value::Null);
    assert!(patch["status"]
        .as_object()
        .expect("status")
        .contains_key("availableReplicas"));
    assert_eq!(patch["status"]["unavailableReplicas"], json!(1));
    assert_eq!(patch["status"]["observedGeneration"], json!(2));
    let mut stored = json!({"availableReplicas": 1, "readyReplicas": 1, "replicas": 1});
    json_patch_merge(&mut stored, &patch["status"]);
    assert_eq!(stored.get("availableReplicas"), None);
    assert_eq!(stored.get("readyReplicas"), None);
}

/// RFC 7386, as the API server applies a merge patch.
fn json_patch_merge(target: &mut serde_json::Value, patch: &serde_json::Value) {
    match (target.as_object_mut(), patch.as_object()) {
        (Some(t), Some(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    json_patch_merge(t.entry(k.clone()).or_insert(json!({})), v);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

#[test]
fn template_hash_and_pod_suffix_are_stable() {
    let template = json!({"spec": {"containers": [{"name": "web", "image": "nginx:1.20"}]}});
    assert_eq!(template_hash(&template), template_hash(&template.clone()));
    assert_eq!(template_hash(&template).len(), 10);
    assert_eq!(pod_suffix("uid", 0), pod_suffix("uid", 0));
    assert_ne!(pod_suffix("uid", 0), pod_suffix("uid", 1));
}
