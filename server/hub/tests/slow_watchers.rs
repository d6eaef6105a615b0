//! A thousand watches whose clients never read (issue 21): writers and well-behaved watches are
//! not held up, what the hub keeps for the silent ones is bounded, and after the grace period it
//! lets them go; one that comes back from its old resourceVersion gets 410 and must relist.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use hub::{Hub, Options, Registry, Storage};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, PostParams, WatchEvent, WatchParams};
use serde_json::json;

const SILENT: usize = 1000;
const WRITES: usize = 200;
/// Each ConfigMap's payload: 200 of them are ~1.6 MB per watch, more than the silent clients'
/// small sockets and the watch's own 256 KiB buffer hold.
const PAYLOAD: usize = 8 << 10;

/// The process's resident set in bytes (Linux).
fn rss(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .expect("a VmRSS/VmHWM line")
}

async fn open_watches_become(hub: &Hub, want: usize) {
    // A guard against hanging, not a timing requirement.
    for _ in 0..3000 {
        let open = hub.open_watches().get("configmaps").copied().unwrap_or(0);
        if open == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!(
        "configmap watches open: {:?}, want {want}",
        hub.open_watches()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_watchers_are_let_go_without_holding_up_anyone() {
    let hub = Hub::open_with(
        Storage::Memory,
        Registry::new(),
        Options {
            history: 100,
            slow_watch_grace: Duration::from_millis(300),
            ..Options::default()
        },
    )
    .expect("hub");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = hub.router();
    tokio::spawn(async move { axum::serve(listener, router).await });

    let start_rv = hub.resource_version();
    // The silent clients: a watch request each, and then never a read.
    let mut silent = Vec::with_capacity(SILENT);
    for _ in 0..SILENT {
        // A small receive buffer, so the kernel cannot hide a client that never reads.
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
        let s = socket.connect(addr).await.expect("connect");
        let req = format!(
            "GET /api/v1/namespaces/default/configmaps?watch=true&resourceVersion={start_rv} HTTP/1.1\r\nHost: hub\r\n\r\n"
        );
        s.writable().await.expect("writable");
        let sent = s.try_write(req.as_bytes()).expect("send request");
        assert_eq!(sent, req.len(), "the request fits one write");
        silent.push(s);
    }
    open_watches_become(&hub, SILENT).await;
    let before = rss("VmRSS:");

    // A well-behaved watch, and the writes.
    let cms: Api<ConfigMap> = Api::default_namespaced(kube::Client::new(hub.router(), "default"));
    let mut good = cms
        .watch(&WatchParams::default(), &start_rv.to_string())
        .await
        .expect("watch")
        .boxed();
    // It reads as events come, like any live client.
    let reader = tokio::spawn(async move {
        let mut seen = 0;
        while seen < WRITES {
            match good.try_next().await.expect("good watch") {
                Some(WatchEvent::Added(cm)) => {
                    assert_eq!(cm.metadata.name, Some(format!("cm-{seen}")), "in order");
                    seen += 1;
                }
                Some(WatchEvent::Bookmark(_)) => {}
                other => panic!("the good watch got {other:?} after {seen} events"),
            }
        }
    });
    let payload = "x".repeat(PAYLOAD);
    let started = std::time::Instant::now();
    for i in 0..WRITES {
        let cm: ConfigMap = serde_json::from_value(json!({
            "metadata": {"name": format!("cm-{i}")}, "data": {"payload": payload}
        }))
        .expect("configmap");
        cms.create(&PostParams::default(), &cm)
            .await
            .expect("writes are never held up by watchers");
    }
    println!("{WRITES} writes in {:?}", started.elapsed());
    reader
        .await
        .expect("the good watch saw every write, in order");

    // The silent ones are let go (the good one has ended: its reader is done).
    open_watches_become(&hub, 0).await;
    let peak = rss("VmHWM:");
    // Unbounded, each silent watch would hold up to all 200 events (~1.6 MB, ~1.6 GB in all);
    // bounded, each keeps at most its 256 KiB buffer until let go.
    let grew = peak.saturating_sub(before);
    println!(
        "RSS before the writes {before} B, peak {peak} B (+{grew} B for {SILENT} silent watches)"
    );
    assert!(
        grew < 512 << 20,
        "silent watches made the process grow by {grew} bytes"
    );

    // One comes back from where it started: its resourceVersion has left the history.
    let mut back = cms
        .watch(&WatchParams::default(), &start_rv.to_string())
        .await
        .expect("watch answers 200, the error is in-stream")
        .boxed();
    match back.try_next().await.expect("stream") {
        Some(WatchEvent::Error(e)) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("expected 410 Expired, got {other:?}"),
    }
    drop(silent);
}
