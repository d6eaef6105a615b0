//! The built-in kinds the hub always serves, with hand-written columns standing in for the Go
//! printers (spec §3.3) and the create-time defaults of their upstream strategies (spec §3.4).

mod rbac;
mod workloads;

use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{json, Value};

use crate::registry::{KindSpec, NameRule, PrinterColumn as Col, Registry, Scope};
use crate::selector::LabelSelector;

fn count(v: Option<&Value>) -> usize {
    v.and_then(Value::as_object).map(|m| m.len()).unwrap_or(0)
}

fn str_at<'a>(o: &'a Value, path: &[&str]) -> Option<&'a str> {
    path.iter()
        .try_fold(o, |v, p| v.get(*p))
        .and_then(Value::as_str)
}

fn int_at(o: &Value, path: &[&str]) -> i64 {
    path.iter()
        .try_fold(o, |v, p| v.get(*p))
        .and_then(Value::as_i64)
        .unwrap_or(0)
}

static NEXT_CLUSTER_IP: AtomicU32 = AtomicU32::new(10);

/// Service defaults: type ClusterIP, an assigned clusterIP, TCP ports with targetPort = port.
fn service_defaults(svc: &mut Value) {
    let spec = svc
        .as_object_mut()
        .map(|m| m.entry("spec").or_insert_with(|| json!({})));
    let Some(spec) = spec.and_then(Value::as_object_mut) else {
        return;
    };
    spec.entry("type").or_insert_with(|| json!("ClusterIP"));
    spec.entry("sessionAffinity")
        .or_insert_with(|| json!("None"));
    if spec
        .get("clusterIP")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        let n = NEXT_CLUSTER_IP.fetch_add(1, Ordering::Relaxed);
        let ip = format!("10.96.{}.{}", (n >> 8) & 0xff, n & 0xff);
        spec.insert("clusterIP".into(), json!(ip));
        spec.insert("clusterIPs".into(), json!([ip]));
    }
    if let Some(Value::Array(ports)) = spec.get_mut("ports") {
        for p in ports.iter_mut().filter_map(Value::as_object_mut) {
            p.entry("protocol").or_insert_with(|| json!("TCP"));
            if let Some(port) = p.get("port").cloned() {
                p.entry("targetPort").or_insert(port);
            }
        }
    }
}

fn service_ports(o: &Value) -> Value {
    let ports: Vec<String> = o
        .pointer("/spec/ports")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|p| {
            format!(
                "{}/{}",
                int_at(p, &["port"]),
                str_at(p, &["protocol"]).unwrap_or("TCP")
            )
        })
        .collect();
    Value::String(if ports.is_empty() {
        "<none>".into()
    } else {
        ports.join(",")
    })
}

fn namespace_defaults(ns: &mut Value) {
    let name = ns
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    ns["spec"] = json!({"finalizers": ["kubernetes"]});
    ns["status"] = json!({"phase": "Active"});
    if let Some(m) = ns.get_mut("metadata").and_then(Value::as_object_mut) {
        let labels = m.entry("labels").or_insert_with(|| json!({}));
        if let Some(l) = labels.as_object_mut() {
            l.insert("kubernetes.io/metadata.name".into(), json!(name));
        }
    }
}

pub fn register_builtins(reg: &mut Registry) {
    reg.register(
        KindSpec::builtin("", "v1", "Namespace", "namespaces", Scope::Cluster)
            .typed::<k8s_openapi::api::core::v1::Namespace>()
            .short_names(&["ns"])
            .status_subresource()
            .name_rule(NameRule::Label)
            .defaults(namespace_defaults)
            .field_label("status.phase", "status.phase")
            .columns(vec![
                Col::new("Status", "string", ".status.phase"),
                Col::age(),
            ]),
    );
    reg.register(
        KindSpec::builtin("", "v1", "ConfigMap", "configmaps", Scope::Namespaced)
            .typed::<k8s_openapi::api::core::v1::ConfigMap>()
            .short_names(&["cm"])
            .columns(vec![
                Col::computed("Data", "integer", |o| {
                    json!(count(o.get("data")) + count(o.get("binaryData")))
                }),
                Col::age(),
            ]),
    );
    reg.register(
        KindSpec::builtin("", "v1", "Secret", "secrets", Scope::Namespaced)
            .typed::<k8s_openapi::api::core::v1::Secret>()
            // SetDefaults_Secret.
            .defaults(|s| {
                if let Some(m) = s.as_object_mut() {
                    m.entry("type").or_insert_with(|| json!("Opaque"));
                }
            })
            .field_label("type", "type")
            .columns(vec![
                Col::new("Type", "string", ".type"),
                Col::computed("Data", "integer", |o| json!(count(o.get("data")))),
                Col::age(),
            ]),
    );
    reg.register(
        KindSpec::builtin("", "v1", "Service", "services", Scope::Namespaced)
            .short_names(&["svc"])
            .categories(&["all"])
            .status_subresource()
            .name_rule(NameRule::Label)
            .defaults(service_defaults)
            .columns(vec![
                Col::new("Type", "string", ".spec.type"),
                Col::new("Cluster-IP", "string", ".spec.clusterIP"),
                Col::computed("External-IP", "string", |o| {
                    json!(o
                        .pointer("/spec/externalIPs/0")
                        .and_then(Value::as_str)
                        .unwrap_or("<none>"))
                }),
                Col::computed("Port(s)", "string", service_ports),
                Col::age(),
                Col::computed("Selector", "string", |o| {
                    let sel = LabelSelector::render_object(
                        &json!({"matchLabels": o.pointer("/spec/selector")}),
                    );
                    json!(if sel.is_empty() {
                        "<none>".to_string()
                    } else {
                        sel
                    })
                })
                .wide(),
            ]),
    );
    reg.register(
        KindSpec::builtin("", "v1", "Event", "events", Scope::Namespaced)
            .short_names(&["ev"])
            .field_label("involvedObject.name", "involvedObject.name")
            .field_label("involvedObject.namespace", "involvedObject.namespace")
            .field_label("involvedObject.kind", "involvedObject.kind")
            .field_label("involvedObject.uid", "involvedObject.uid")
            .field_label("involvedObject.apiVersion", "involvedObject.apiVersion")
            .field_label(
                "involvedObject.resourceVersion",
                "involvedObject.resourceVersion",
            )
            .field_label("involvedObject.fieldPath", "involvedObject.fieldPath")
            .field_label("reason", "reason")
            .field_label("type", "type")
            .field_label("source", "source.component")
            .columns(vec![
                Col::new("Last Seen", "date", ".lastTimestamp"),
                Col::new("Type", "string", ".type"),
                Col::new("Reason", "string", ".reason"),
                Col::computed("Object", "string", |o| {
                    let kind = str_at(o, &["involvedObject", "kind"])
                        .unwrap_or("")
                        .to_lowercase();
                    json!(format!(
                        "{kind}/{}",
                        str_at(o, &["involvedObject", "name"]).unwrap_or("")
                    ))
                }),
                Col::new("Message", "string", ".message"),
            ]),
    );
    // kube-runtime's Recorder writes events.k8s.io/v1 (spec §6.2); served as its own kind here.
    reg.register(
        KindSpec::builtin("events.k8s.io", "v1", "Event", "events", Scope::Namespaced)
            .short_names(&["ev"])
            .columns(vec![
                Col::new("Reason", "string", ".reason"),
                Col::new("Note", "string", ".note"),
                Col::age(),
            ]),
    );
    workloads::register(reg);
    rbac::register(reg);
    reg.register(
        KindSpec::builtin(
            "coordination.k8s.io",
            "v1",
            "Lease",
            "leases",
            Scope::Namespaced,
        )
        .typed::<k8s_openapi::api::coordination::v1::Lease>()
        .columns(vec![
            Col::new("Holder", "string", ".spec.holderIdentity"),
            Col::age(),
        ]),
    );
}
