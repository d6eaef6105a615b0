//! Shared fixtures: a CRD-like example kind (spec kubefleet-staged-update.md §8 columns).
#![allow(dead_code)]

pub mod kubectl;
pub mod rbac;

use hub::{Cause, Hub, KindSpec, PrinterColumn as Col, Registry, Scope};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde_json::Value;

pub fn csur_kind() -> KindSpec {
    let cond = |t: &str| format!(".status.conditions[?(@.type==\"{t}\")].status");
    KindSpec::new(
        "placement.kubernetes-fleet.io",
        "v1beta1",
        "ClusterStagedUpdateRun",
        "clusterstagedupdateruns",
        Scope::Cluster,
    )
    .short_names(&["csur"])
    .categories(&["fleet", "fleet-placement"])
    .status_subresource()
    .columns(vec![
        Col::new("Placement", "string", ".spec.placementName"),
        Col::new(
            "Resource-Snapshot-Index",
            "string",
            ".spec.resourceSnapshotIndex",
        ),
        Col::new(
            "Policy-Snapshot-Index",
            "string",
            ".status.policySnapshotIndexUsed",
        ),
        Col::new("Initialized", "string", &cond("Initialized")),
        Col::new("Progressing", "string", &cond("Progressing")),
        Col::new("Succeeded", "string", &cond("Succeeded")),
        Col::age(),
        Col::new("Strategy", "string", ".spec.stagedRolloutStrategyName").wide(),
    ])
    .validate(
        |_old, new| match new.pointer("/spec/state").and_then(Value::as_str) {
            None | Some("Initialize" | "Run" | "Stop") => Ok(()),
            Some(s) => Err(vec![Cause::new(
                "FieldValueNotSupported",
                "spec.state",
                format!(
                    "Unsupported value: {s:?}: supported values: \"Initialize\", \"Run\", \"Stop\""
                ),
            )]),
        },
    )
}

pub fn registry() -> Registry {
    let mut r = Registry::new();
    r.register(csur_kind());
    r
}

pub fn memory_hub() -> Hub {
    Hub::memory(registry())
}

/// A memory hub with store options other than the defaults.
pub fn memory_hub_with(opts: hub::Options) -> Hub {
    Hub::open_with(hub::Storage::Memory, registry(), opts).expect("a memory hub opens")
}

/// A client of `hub`: in-process through the router by default, or over a real TCP connection
/// when `HUB_TRANSPORT=tcp` (CI runs the conformance suite both ways).
pub fn client(hub: &Hub) -> kube::Client {
    if std::env::var("HUB_TRANSPORT").as_deref() != Ok("tcp") {
        return kube::Client::new(hub.router(), "default");
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    let port = listener.local_addr().expect("local address").port();
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    let router = hub.router();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let url: axum::http::Uri = format!("http://127.0.0.1:{port}").parse().expect("url");
    kube::Client::try_from(kube::Config::new(url)).expect("client over TCP")
}

pub fn csur_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk(
            "placement.kubernetes-fleet.io",
            "v1beta1",
            "ClusterStagedUpdateRun",
        ),
        "clusterstagedupdateruns",
    )
}

pub fn csurs(client: &kube::Client) -> Api<DynamicObject> {
    Api::all_with(client.clone(), &csur_resource())
}

pub fn csur(name: &str, spec: Value) -> DynamicObject {
    let mut o = DynamicObject::new(name, &csur_resource());
    o.data = serde_json::json!({ "spec": spec });
    o
}

pub fn rv(meta: &kube::api::ObjectMeta) -> u64 {
    meta.resource_version
        .as_deref()
        .unwrap_or("0")
        .parse()
        .unwrap()
}

/// Every kind of the generated CRDs in deploy/crds, registered through `KindSpec::from_crd`.
pub fn fleet_registry() -> Registry {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../deploy/crds");
    let mut reg = Registry::new();
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let crd: Value = serde_saphyr::from_str(&text).unwrap();
        reg.register(KindSpec::from_crd(&crd).unwrap());
    }
    reg
}
