//! Hub benchmarks (issue 4 "Bar"): sustained durable writes per second to the SQLite store
//! (ConfigMap creates and updates through the router, each one fsynced before it is acknowledged),
//! and the latency from a write to its delivery on 100 concurrent watches.
//!
//! `CARGO_TARGET_DIR=/tmp/hub-target cargo bench -p hub --bench store`

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use futures::StreamExt;
use hub::{Hub, KindSpec, Registry, Scope, Storage};
use serde_json::json;
use tokio::sync::mpsc;
use tower::ServiceExt;

const CMS: &str = "/api/v1/namespaces/default/configmaps";

async fn send(hub: &Hub, method: &str, uri: &str, ct: &str, body: String) -> u16 {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", ct)
        .body(Body::from(body))
        .expect("request");
    let resp = hub.router().oneshot(req).await.expect("infallible");
    let code = resp.status().as_u16();
    let _ = axum::body::to_bytes(resp.into_body(), usize::MAX).await;
    code
}

fn durable_writes(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::open(Storage::Sqlite(dir.path().join("hub.db")), Registry::new()).expect("open");
    let mut group = c.benchmark_group("sqlite_durable_writes");
    group.throughput(Throughput::Elements(1));
    let mut n = 0u64;
    group.bench_function("create_configmap", |b| {
        b.iter(|| {
            n += 1;
            let body = json!({"metadata": {"name": format!("cm-{n}")}, "data": {"k": "v"}});
            let code = rt.block_on(send(
                &hub,
                "POST",
                CMS,
                "application/json",
                body.to_string(),
            ));
            assert_eq!(code, 201);
        })
    });
    rt.block_on(send(
        &hub,
        "POST",
        CMS,
        "application/json",
        json!({"metadata": {"name": "hot"}}).to_string(),
    ));
    let mut m = 0u64;
    group.bench_function("update_configmap", |b| {
        b.iter(|| {
            m += 1;
            let patch = json!({"data": {"seq": m.to_string()}}).to_string();
            let uri = format!("{CMS}/hot");
            let code = rt.block_on(send(
                &hub,
                "PATCH",
                &uri,
                "application/merge-patch+json",
                patch,
            ));
            assert_eq!(code, 200);
        })
    });
    group.finish();
}

/// Opens `n` watches on ConfigMaps from the current resourceVersion; each reports
/// (sequence number, arrival time) for every MODIFIED event it reads.
async fn open_watches(hub: &Hub, n: usize) -> mpsc::UnboundedReceiver<(u64, Instant)> {
    let (tx, rx) = mpsc::unbounded_channel();
    let rv = hub.resource_version();
    for _ in 0..n {
        let uri = format!("{CMS}?watch=true&resourceVersion={rv}");
        let req = Request::builder()
            .uri(uri)
            .body(Body::empty())
            .expect("request");
        let resp = hub.router().oneshot(req).await.expect("infallible");
        let tx = tx.clone();
        tokio::spawn(async move {
            let mut stream = resp.into_body().into_data_stream();
            let mut buf = Vec::new();
            while let Some(Ok(chunk)) = stream.next().await {
                buf.extend_from_slice(&chunk);
                while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                    let line: Vec<u8> = buf.drain(..=pos).collect();
                    let now = Instant::now();
                    let Ok(ev) = serde_json::from_slice::<serde_json::Value>(&line) else {
                        continue;
                    };
                    let seq = ev["object"]["data"]["seq"]
                        .as_str()
                        .and_then(|s| s.parse().ok());
                    if let Some(seq) = seq {
                        let _ = tx.send((seq, now));
                    }
                }
            }
        });
    }
    rx
}

fn watch_latency(c: &mut Criterion) {
    const WATCHERS: usize = 100;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let hub = Hub::open(Storage::Sqlite(dir.path().join("hub.db")), Registry::new()).expect("open");
    rt.block_on(send(
        &hub,
        "POST",
        CMS,
        "application/json",
        json!({"metadata": {"name": "w"}}).to_string(),
    ));
    let mut rx = rt.block_on(open_watches(&hub, WATCHERS));
    let mut per_delivery: Vec<Duration> = Vec::new();
    let mut seq = 0u64;
    let mut group = c.benchmark_group("watch_fanout");
    group.sample_size(30);
    group.bench_function("write_to_delivery_on_100_watches", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                seq += 1;
                let patch = json!({"data": {"seq": seq.to_string()}}).to_string();
                let start = Instant::now();
                rt.block_on(async {
                    let uri = format!("{CMS}/w");
                    send(&hub, "PATCH", &uri, "application/merge-patch+json", patch).await;
                    let mut got = 0;
                    while got < WATCHERS {
                        let (s, at) = rx.recv().await.expect("watchers alive");
                        if s == seq {
                            got += 1;
                            per_delivery.push(at - start);
                        }
                    }
                });
                total += start.elapsed();
            }
            total
        })
    });
    group.finish();
    per_delivery.sort();
    let pct = |p: f64| per_delivery[((per_delivery.len() - 1) as f64 * p) as usize];
    if !per_delivery.is_empty() {
        println!(
            "watch_fanout: {} deliveries on {WATCHERS} watches: median {:?}, p95 {:?}, max {:?}",
            per_delivery.len(),
            pct(0.5),
            pct(0.95),
            pct(1.0)
        );
    }
}

/// What the engine does most: status writes on a large custom object (an update run's status
/// with one entry per cluster), in memory so no fsync hides the per-write CPU (field management,
/// validation, copying). Issue 18 compares this before and after managedFields.
fn status_writes(c: &mut Criterion) {
    const CLUSTERS: usize = 2_000;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut reg = Registry::new();
    reg.register(
        KindSpec::new("example.dev", "v1", "Run", "runs", Scope::Cluster).status_subresource(),
    );
    let hub = Hub::memory(reg);
    let uri = "/apis/example.dev/v1/runs";
    rt.block_on(send(
        &hub,
        "POST",
        uri,
        "application/json",
        json!({"apiVersion": "example.dev/v1", "kind": "Run", "metadata": {"name": "big"},
            "spec": {"stages": 3}})
        .to_string(),
    ));
    let clusters: Vec<_> = (0..CLUSTERS)
        .map(|i| {
            json!({"clusterName": format!("member-{i}"), "conditions": [
            {"type": "Started", "status": "True", "reason": "ClusterUpdatingStarted",
             "lastTransitionTime": "2026-12-07T10:00:00Z", "observedGeneration": 1}]})
        })
        .collect();
    let mut n = 0u64;
    let mut group = c.benchmark_group("memory_status_writes");
    group.throughput(Throughput::Elements(1));
    group.bench_function("merge_patch_status_of_2000_clusters", |b| {
        b.iter(|| {
            n += 1;
            let patch = json!({"status": {"observed": n, "clusters": clusters}}).to_string();
            let code = rt.block_on(send(
                &hub,
                "PATCH",
                &format!("{uri}/big/status"),
                "application/merge-patch+json",
                patch,
            ));
            assert_eq!(code, 200);
        })
    });
    group.finish();
}

/// The same 2,000-cluster status write on a kind with the shipped ClusterStagedUpdateRun schema,
/// so that validation and defaulting run as they do for the engine's own status writes.
fn crd_status_writes(c: &mut Criterion) {
    const CLUSTERS: usize = 2_000;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let crd_file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/crds/placement.kubernetes-fleet.io_clusterstagedupdateruns.yaml"
    );
    let crd: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(crd_file).expect("the CRD file"))
            .expect("CRD YAML");
    let schema = crd["spec"]["versions"]
        .as_array()
        .and_then(|vs| vs.iter().find(|v| v["name"] == "v1beta1"))
        .map(|v| v["schema"]["openAPIV3Schema"].clone())
        .expect("a v1beta1 schema");
    let mut reg = Registry::new();
    reg.register(
        KindSpec::new(
            "placement.kubernetes-fleet.io",
            "v1beta1",
            "ClusterStagedUpdateRun",
            "clusterstagedupdateruns",
            Scope::Cluster,
        )
        .status_subresource()
        .openapi_schema(schema),
    );
    let hub = Hub::memory(reg);
    let uri = "/apis/placement.kubernetes-fleet.io/v1beta1/clusterstagedupdateruns";
    let code = rt.block_on(send(
        &hub,
        "POST",
        uri,
        "application/json",
        json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateRun",
            "metadata": {"name": "big"},
            "spec": {"placementName": "p", "stagedRolloutStrategyName": "s"}})
        .to_string(),
    ));
    assert_eq!(code, 201);
    let mut n = 0u64;
    let mut group = c.benchmark_group("memory_status_writes");
    group.throughput(Throughput::Elements(1));
    group.bench_function("csur_status_of_2000_clusters", |b| {
        b.iter(|| {
            n += 1;
            let clusters: Vec<_> = (0..CLUSTERS)
                .map(|i| {
                    json!({"clusterName": format!("member-{i}"), "conditions": [
                    {"type": "Started", "status": "True", "reason": "ClusterUpdatingStarted",
                     "message": "", "lastTransitionTime": "2026-12-07T10:00:00Z",
                     "observedGeneration": if i == 0 { n } else { 1 }}]})
                })
                .collect();
            let patch =
                json!({"status": {"stagesStatus": [{"stageName": "s0", "clusters": clusters}]}})
                    .to_string();
            let code = rt.block_on(send(
                &hub,
                "PATCH",
                &format!("{uri}/big/status"),
                "application/merge-patch+json",
                patch,
            ));
            assert_eq!(code, 200);
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    durable_writes,
    watch_latency,
    status_writes,
    crd_status_writes
);
criterion_main!(benches);
