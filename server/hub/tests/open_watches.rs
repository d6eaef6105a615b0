//! `Hub::open_watches` counts the watch streams open per resource: from the moment a watch
//! starts streaming until its client goes away (issue 14 counts a whole fleetdeck's watches
//! with it).

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use futures::StreamExt;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, WatchEvent, WatchParams};

/// Polls until `hub.open_watches()` is `want`, or fails after a few seconds with what it was.
async fn open_watches_become(hub: &hub::Hub, want: &[(&str, usize)]) {
    let want: BTreeMap<String, usize> = want.iter().map(|(k, n)| (k.to_string(), *n)).collect();
    let mut seen = hub.open_watches();
    for _ in 0..500 {
        if seen == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
        seen = hub.open_watches();
    }
    assert_eq!(seen, want, "open watches");
}

#[tokio::test]
async fn a_watch_counts_while_its_stream_is_open_per_resource() {
    let hub = memory_hub();
    let client = client(&hub);
    assert!(hub.open_watches().is_empty(), "no watch yet");

    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let mut first = cms
        .watch(&WatchParams::default(), "0")
        .await
        .expect("watch")
        .boxed();
    let second = cms
        .watch(&WatchParams::default(), "0")
        .await
        .expect("watch")
        .boxed();
    let runs = csurs(&client)
        .watch(&WatchParams::default(), "0")
        .await
        .expect("watch")
        .boxed();
    open_watches_become(
        &hub,
        &[
            ("configmaps", 2),
            ("clusterstagedupdateruns.placement.kubernetes-fleet.io", 1),
        ],
    )
    .await;

    // The counted stream is the live one: it still delivers.
    cms.create(
        &Default::default(),
        &serde_json::from_value(serde_json::json!({"metadata": {"name": "a"}})).expect("cm"),
    )
    .await
    .expect("create");
    match first.next().await {
        Some(Ok(WatchEvent::Added(cm))) => assert_eq!(cm.metadata.name.as_deref(), Some("a")),
        other => panic!("expected ADDED a, got {other:?}"),
    }

    drop(second);
    open_watches_become(
        &hub,
        &[
            ("configmaps", 1),
            ("clusterstagedupdateruns.placement.kubernetes-fleet.io", 1),
        ],
    )
    .await;
    drop(first);
    drop(runs);
    open_watches_become(&hub, &[]).await;
}

#[tokio::test]
async fn a_watch_that_times_out_is_not_left_counted() {
    let hub = memory_hub();
    let cms: Api<ConfigMap> = Api::namespaced(client(&hub), "default");
    let mut timed = cms
        .watch(&WatchParams::default().timeout(1), "0")
        .await
        .expect("watch")
        .boxed();
    open_watches_become(&hub, &[("configmaps", 1)]).await;
    while timed.next().await.is_some() {}
    open_watches_become(&hub, &[]).await;
}
