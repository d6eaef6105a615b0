//! Why a workload's pods are not ready, in words: the first container that waits for a reason
//! a person can act on (an image that cannot be pulled, a crash loop), or a pod that cannot be
//! scheduled. Read from the member's pods, so a stuck run names the member's own reason.

use k8s_openapi::api::core::v1::Pod;

/// Waiting reasons that are only a phase of a healthy start.
const STARTING: [&str; 2] = ["ContainerCreating", "PodInitializing"];
const IMAGE: [&str; 4] = [
    "InvalidImageName",
    "ErrImagePull",
    "ImagePullBackOff",
    "ErrImageNeverPull",
];

/// `cannot pull image nginx:INVALID (InvalidImageName)`, or `None` when no pod says why.
pub fn cause(pods: &[Pod]) -> Option<String> {
    pods.iter().find_map(pod_cause)
}

fn pod_cause(pod: &Pod) -> Option<String> {
    let status = pod.status.as_ref()?;
    let containers = status
        .init_container_statuses
        .iter()
        .flatten()
        .chain(status.container_statuses.iter().flatten());
    for c in containers {
        let Some(waiting) = c.state.as_ref().and_then(|s| s.waiting.as_ref()) else {
            continue;
        };
        let reason = waiting.reason.as_deref().unwrap_or_default();
        if reason.is_empty() || STARTING.contains(&reason) {
            continue;
        }
        let image = if c.image.is_empty() {
            pod.spec
                .as_ref()
                .and_then(|s| s.containers.iter().find(|x| x.name == c.name))
                .and_then(|x| x.image.clone())
                .unwrap_or_default()
        } else {
            c.image.clone()
        };
        return Some(if IMAGE.contains(&reason) {
            format!("cannot pull image {image} ({reason})")
        } else if reason == "CrashLoopBackOff" {
            format!("keeps crashing: container {} restarts ({reason})", c.name)
        } else {
            match waiting.message.as_deref().filter(|m| !m.is_empty()) {
                Some(m) => format!("cannot start container {}: {m} ({reason})", c.name),
                None => format!("cannot start container {} ({reason})", c.name),
            }
        });
    }
    status
        .conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == "PodScheduled" && c.status == "False")
        .map(|c| {
            format!(
                "cannot be scheduled: {} ({})",
                c.message.as_deref().unwrap_or("no node fits"),
                c.reason.as_deref().unwrap_or("Unschedulable")
            )
        })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn pod(status: serde_json::Value) -> Pod {
        serde_json::from_value(json!({
            "metadata": {"name": "nginx-1"},
            "spec": {"containers": [{"name": "nginx", "image": "nginx:INVALID"}]},
            "status": status
        }))
        .expect("pod")
    }

    fn waiting(reason: &str, image: &str) -> serde_json::Value {
        json!({"containerStatuses": [{"name": "nginx", "image": image, "imageID": "", "ready": false,
            "restartCount": 0, "state": {"waiting": {"reason": reason, "message": "details"}}}]})
    }

    #[test]
    fn an_image_that_cannot_be_pulled_is_named() {
        let pods = [
            pod(waiting("ContainerCreating", "nginx:INVALID")),
            pod(waiting("InvalidImageName", "nginx:INVALID")),
        ];
        assert_eq!(
            cause(&pods).as_deref(),
            Some("cannot pull image nginx:INVALID (InvalidImageName)")
        );
        // The image comes from the spec when the status does not carry it.
        assert_eq!(
            cause(&[pod(waiting("ErrImagePull", ""))]).as_deref(),
            Some("cannot pull image nginx:INVALID (ErrImagePull)")
        );
    }

    #[test]
    fn crash_loops_config_errors_and_scheduling_read_in_words() {
        assert!(cause(&[pod(waiting("CrashLoopBackOff", "nginx:1"))])
            .is_some_and(|c| c.starts_with("keeps crashing")));
        assert_eq!(
            cause(&[pod(waiting("CreateContainerConfigError", "nginx:1"))]).as_deref(),
            Some("cannot start container nginx: details (CreateContainerConfigError)")
        );
        let unschedulable = pod(
            json!({"conditions": [{"type": "PodScheduled", "status": "False",
            "reason": "Unschedulable", "message": "0/3 nodes are available"}]}),
        );
        assert_eq!(
            cause(&[unschedulable]).as_deref(),
            Some("cannot be scheduled: 0/3 nodes are available (Unschedulable)")
        );
        assert_eq!(
            cause(&[pod(waiting("ContainerCreating", "nginx:1"))]),
            None,
            "starting is not a problem"
        );
    }
}
