//! Pod and Deployment: the kube-apiserver printers (`printPod`, `printDeployment` in
//! pkg/printers/internalversion) and the apps/v1 + core/v1 defaulting that `kubectl create
//! deployment` output shows (SetDefaults_Deployment, SetDefaults_PodSpec, SetDefaults_Container).

use serde_json::{json, Map, Value};

use crate::registry::{KindSpec, PrinterColumn as Col, Registry, ScaleSpec, Scope};
use crate::selector::LabelSelector;
use crate::table::human_duration;

fn int_at(o: &Value, pointer: &str) -> i64 {
    o.pointer(pointer).and_then(Value::as_i64).unwrap_or(0)
}

fn str_at<'a>(o: &'a Value, pointer: &str) -> &'a str {
    o.pointer(pointer).and_then(Value::as_str).unwrap_or("")
}

fn array_at<'a>(o: &'a Value, pointer: &str) -> impl Iterator<Item = &'a Value> {
    o.pointer(pointer)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn containers_field(o: &Value, field: &str) -> Value {
    let items: Vec<&str> = array_at(o, "/spec/template/spec/containers")
        .filter_map(|c| c.get(field).and_then(Value::as_str))
        .collect();
    json!(items.join(","))
}

fn or_insert(m: &mut Map<String, Value>, key: &str, v: Value) {
    m.entry(key).or_insert(v);
}

/// SetDefaults_PodSpec and SetDefaults_Container, as far as kubectl-created objects show them.
pub(crate) fn pod_spec_defaults(spec: &mut Value) {
    let Some(m) = spec.as_object_mut() else {
        return;
    };
    or_insert(m, "restartPolicy", json!("Always"));
    or_insert(m, "terminationGracePeriodSeconds", json!(30));
    or_insert(m, "dnsPolicy", json!("ClusterFirst"));
    or_insert(m, "securityContext", json!({}));
    or_insert(m, "schedulerName", json!("default-scheduler"));
    for list in ["initContainers", "containers"] {
        let Some(Value::Array(cs)) = m.get_mut(list) else {
            continue;
        };
        for c in cs.iter_mut().filter_map(Value::as_object_mut) {
            let image = c.get("image").and_then(Value::as_str).unwrap_or("");
            // An untagged or `:latest` image is always pulled (SetDefaults_Container).
            let tag = image.rsplit('/').next().unwrap_or("");
            let latest = !tag.contains(':') && !tag.contains('@') || tag.ends_with(":latest");
            let policy = if latest { "Always" } else { "IfNotPresent" };
            or_insert(c, "imagePullPolicy", json!(policy));
            or_insert(c, "resources", json!({}));
            or_insert(c, "terminationMessagePath", json!("/dev/termination-log"));
            or_insert(c, "terminationMessagePolicy", json!("File"));
            if let Some(Value::Array(ports)) = c.get_mut("ports") {
                for p in ports.iter_mut().filter_map(Value::as_object_mut) {
                    or_insert(p, "protocol", json!("TCP"));
                }
            }
        }
    }
}

/// SetDefaults_Deployment (apps/v1).
fn deployment_defaults(d: &mut Value) {
    let Some(spec) = d.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    or_insert(spec, "replicas", json!(1));
    or_insert(
        spec,
        "strategy",
        json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}),
    );
    or_insert(spec, "revisionHistoryLimit", json!(10));
    or_insert(spec, "progressDeadlineSeconds", json!(600));
    if let Some(pod) = spec.get_mut("template").and_then(|t| t.get_mut("spec")) {
        pod_spec_defaults(pod);
    }
}

fn pod_defaults(p: &mut Value) {
    if let Some(spec) = p.get_mut("spec") {
        pod_spec_defaults(spec);
    }
    let Some(m) = p.as_object_mut() else {
        return;
    };
    let status = m.entry("status").or_insert_with(|| json!({}));
    if let Some(s) = status.as_object_mut() {
        or_insert(s, "phase", json!("Pending"));
    }
}

/// `printPod`'s STATUS: the pod reason or phase, overridden by a container's waiting or terminated
/// reason, and `Terminating` once deletion started.
fn pod_status(o: &Value) -> String {
    let mut reason = str_at(o, "/status/phase").to_string();
    let pod_reason = str_at(o, "/status/reason");
    if !pod_reason.is_empty() {
        reason = pod_reason.into();
    }
    let total_init = array_at(o, "/spec/initContainers").count();
    let mut initializing = false;
    for (i, c) in array_at(o, "/status/initContainerStatuses").enumerate() {
        let terminated = c.pointer("/state/terminated");
        if terminated.is_some_and(|t| t.get("exitCode").and_then(Value::as_i64) == Some(0)) {
            continue;
        }
        initializing = true;
        let waiting = str_at(c, "/state/waiting/reason");
        reason = match terminated {
            Some(t) => match t.get("reason").and_then(Value::as_str) {
                Some(r) if !r.is_empty() => format!("Init:{r}"),
                _ => format!("Init:ExitCode:{}", int_at(t, "/exitCode")),
            },
            None if !waiting.is_empty() && waiting != "PodInitializing" => {
                format!("Init:{waiting}")
            }
            None => format!("Init:{i}/{total_init}"),
        };
        break;
    }
    if !initializing {
        let mut has_running = false;
        for c in array_at(o, "/status/containerStatuses")
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
        {
            let waiting = str_at(c, "/state/waiting/reason");
            let terminated = c.pointer("/state/terminated");
            if !waiting.is_empty() {
                reason = waiting.into();
            } else if let Some(t) = terminated {
                reason = match t.get("reason").and_then(Value::as_str) {
                    Some(r) if !r.is_empty() => r.into(),
                    _ if t.get("signal").and_then(Value::as_i64).unwrap_or(0) != 0 => {
                        format!("Signal:{}", int_at(t, "/signal"))
                    }
                    _ => format!("ExitCode:{}", int_at(t, "/exitCode")),
                };
            } else if c.get("ready").and_then(Value::as_bool) == Some(true)
                && c.pointer("/state/running").is_some()
            {
                has_running = true;
            }
        }
        if reason == "Completed" && has_running {
            reason = "Running".into();
        }
    }
    if o.pointer("/metadata/deletionTimestamp").is_some() {
        reason = if pod_reason == "NodeLost" {
            "Unknown".into()
        } else {
            "Terminating".into()
        };
    }
    reason
}

/// RESTARTS: the sum of restartCount, with the age of the latest restart when there was one.
fn pod_restarts(o: &Value) -> Value {
    let statuses: Vec<&Value> = array_at(o, "/status/containerStatuses").collect();
    let restarts: i64 = statuses.iter().map(|c| int_at(c, "/restartCount")).sum();
    let last = statuses
        .iter()
        .filter_map(|c| c.pointer("/lastState/terminated/finishedAt"))
        .filter_map(Value::as_str)
        .filter_map(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
        .max();
    match last {
        Some(t) if restarts > 0 => {
            let ago = chrono::Utc::now().signed_duration_since(t).num_seconds();
            json!(format!("{restarts} ({} ago)", human_duration(ago)))
        }
        _ => json!(restarts.to_string()),
    }
}

fn pod_ready(o: &Value) -> Value {
    let total = array_at(o, "/spec/containers").count();
    let ready = array_at(o, "/status/containerStatuses")
        .filter(|c| c.get("ready").and_then(Value::as_bool) == Some(true))
        .count();
    json!(format!("{ready}/{total}"))
}

fn none_if_empty(s: &str) -> Value {
    json!(if s.is_empty() { "<none>" } else { s })
}

pub fn register(reg: &mut Registry) {
    reg.register(
        KindSpec::builtin("", "v1", "Pod", "pods", Scope::Namespaced)
            .short_names(&["po"])
            .categories(&["all"])
            .status_subresource()
            .defaults(pod_defaults)
            .field_label("spec.nodeName", "spec.nodeName")
            .field_label("spec.restartPolicy", "spec.restartPolicy")
            .field_label("spec.schedulerName", "spec.schedulerName")
            .field_label("spec.serviceAccountName", "spec.serviceAccountName")
            .field_label("status.phase", "status.phase")
            .field_label("status.podIP", "status.podIP")
            .columns(vec![
                Col::computed("Ready", "string", pod_ready)
                    .description("The aggregate readiness state of this pod for accepting traffic."),
                Col::computed("Status", "string", |o| json!(pod_status(o)))
                    .description("The aggregate status of the containers in this pod."),
                Col::computed("Restarts", "string", pod_restarts)
                    .description("The number of times the containers in this pod have been restarted and when the last container in this pod has restarted."),
                Col::age(),
                Col::computed("IP", "string", |o| none_if_empty(str_at(o, "/status/podIP")))
                    .wide(),
                Col::computed("Node", "string", |o| none_if_empty(str_at(o, "/spec/nodeName")))
                    .wide(),
                Col::computed("Nominated Node", "string", |o| {
                    none_if_empty(str_at(o, "/status/nominatedNodeName"))
                })
                .wide(),
                Col::computed("Readiness Gates", "string", |o| {
                    let gates = array_at(o, "/spec/readinessGates").count();
                    json!(if gates == 0 { "<none>".to_string() } else { format!("0/{gates}") })
                })
                .wide(),
            ]),
    );
    reg.register(
        KindSpec::builtin("apps", "v1", "Deployment", "deployments", Scope::Namespaced)
            .short_names(&["deploy"])
            .categories(&["all"])
            .status_subresource()
            .with_generation()
            .scale(ScaleSpec::replicas())
            .defaults(deployment_defaults)
            .columns(vec![
                Col::computed("Ready", "string", |o| {
                    json!(format!(
                        "{}/{}",
                        int_at(o, "/status/readyReplicas"),
                        int_at(o, "/spec/replicas")
                    ))
                })
                .description("Number of the pod with ready state"),
                Col::computed("Up-to-date", "string", |o| {
                    json!(int_at(o, "/status/updatedReplicas").to_string())
                })
                .description("Total number of non-terminated pods targeted by this deployment that have the desired template spec."),
                Col::computed("Available", "string", |o| {
                    json!(int_at(o, "/status/availableReplicas").to_string())
                })
                .description("Total number of available pods (ready for at least minReadySeconds) targeted by this deployment."),
                Col::age(),
                Col::computed("Containers", "string", |o| containers_field(o, "name")).wide(),
                Col::computed("Images", "string", |o| containers_field(o, "image")).wide(),
                Col::computed("Selector", "string", |o| {
                    let sel = o
                        .pointer("/spec/selector")
                        .map(LabelSelector::render_object)
                        .unwrap_or_default();
                    none_if_empty(&sel)
                })
                .wide(),
            ]),
    );
}
