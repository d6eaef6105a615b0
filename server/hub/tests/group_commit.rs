//! Group commit (issue 20): concurrent writes share SQLite transactions, are acknowledged only
//! once theirs is durable, reach watchers in resourceVersion order, and a commit that fails (here:
//! the database's quota is full) fails every write in it and keeps nothing of them, in memory, in
//! watches or on disk; writes succeed again once deletions free space.
//!
//! The SIGKILL side (no acknowledged write lost with concurrent writers) is `crash_durability.rs`.

use std::collections::{BTreeMap, BTreeSet};

use futures::{StreamExt, TryStreamExt};
use hub::{Hub, Options, Registry, Storage};
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, ListParams, PostParams, WatchEvent, WatchParams};
use serde_json::json;

fn cms(hub: &Hub) -> Api<ConfigMap> {
    Api::default_namespaced(kube::Client::new(hub.router(), "default"))
}

fn configmap(name: &str, payload: usize) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "data": {"payload": "x".repeat(payload)}
    }))
    .expect("configmap")
}

fn rv_of(cm: &ConfigMap) -> u64 {
    cm.metadata
        .resource_version
        .as_deref()
        .and_then(|rv| rv.parse().ok())
        .expect("numeric resourceVersion")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_writes_share_commits_and_watchers_see_resource_version_order() {
    const WRITERS: usize = 64;
    const EACH: usize = 20;
    let dir = tempfile::tempdir().expect("temp dir");
    let hub = Hub::open(Storage::Sqlite(dir.path().join("hub.db")), Registry::new()).expect("open");
    let api = cms(&hub);
    let from = hub.resource_version().to_string();
    let mut watch = api
        .watch(&WatchParams::default(), &from)
        .await
        .expect("watch")
        .boxed();

    let tasks: Vec<_> = (0..WRITERS)
        .map(|w| {
            let api = api.clone();
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..EACH {
                    let created = api
                        .create(&PostParams::default(), &configmap(&format!("w{w}-{i}"), 16))
                        .await
                        .expect("create");
                    acked.push(rv_of(&created));
                }
                acked
            })
        })
        .collect();
    let mut acked = BTreeSet::new();
    for t in tasks {
        acked.extend(t.await.expect("writer"));
    }
    assert_eq!(acked.len(), WRITERS * EACH, "every write got its own rv");

    let mut seen = Vec::new();
    while seen.len() < acked.len() {
        match watch.try_next().await.expect("watch stream") {
            Some(WatchEvent::Added(cm)) => seen.push(rv_of(&cm)),
            Some(WatchEvent::Bookmark(_)) => {}
            other => panic!("unexpected watch event {other:?}"),
        }
    }
    assert!(
        seen.windows(2).all(|w| w[0] < w[1]),
        "watch events out of resourceVersion order"
    );
    assert_eq!(
        seen.iter().copied().collect::<BTreeSet<_>>(),
        acked,
        "the watch saw exactly the acknowledged writes"
    );

    let stats = hub.commit_stats();
    assert!(
        stats.writes >= (WRITERS * EACH) as u64,
        "every write was committed: {stats:?}"
    );
    assert!(
        stats.groups < stats.writes,
        "{} concurrent writers never shared a commit: {stats:?}",
        WRITERS
    );
    println!("{stats:?}");
}

/// A quota small enough to fill with a few hundred 4 KiB ConfigMaps.
const QUOTA: u64 = 512 << 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_failed_commit_fails_its_whole_group_and_keeps_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("hub.db");
    let hub = Hub::open_with(
        Storage::Sqlite(db.clone()),
        Registry::new(),
        Options {
            quota_bytes: Some(QUOTA),
            ..Options::default()
        },
    )
    .expect("open");
    let api = cms(&hub);
    let mut watch = api
        .watch(&WatchParams::default(), &hub.resource_version().to_string())
        .await
        .expect("watch")
        .boxed();

    // 16 writers each create until the hub refuses one.
    let tasks: Vec<_> = (0..16)
        .map(|w| {
            let api = api.clone();
            tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0.. {
                    let name = format!("w{w}-{i}");
                    match api
                        .create(&PostParams::default(), &configmap(&name, 4096))
                        .await
                    {
                        Ok(_) => acked.push(name),
                        Err(kube::Error::Api(status)) => return (acked, name, status),
                        Err(other) => panic!("not a Status: {other}"),
                    }
                }
                unreachable!("the loop only ends by returning")
            })
        })
        .collect();
    let mut acked = BTreeSet::new();
    let mut refused = BTreeSet::new();
    for t in tasks {
        let (ok, failed, status) = t.await.expect("writer");
        assert_eq!(
            (status.code, status.reason.as_str()),
            (500, "InternalError")
        );
        assert!(
            status.message.contains("the hub's database is full")
                && status.message.contains("Nothing of it was applied"),
            "the refusal says what happened and what to do: {}",
            status.message
        );
        acked.extend(ok);
        refused.insert(failed);
    }

    // Memory holds exactly the acknowledged writes: no refused object is readable or listed.
    let listed: BTreeSet<String> = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|cm| cm.metadata.name)
        .collect();
    assert_eq!(listed, acked, "listed objects are the acknowledged ones");
    for name in &refused {
        assert!(
            api.get_opt(name).await.expect("get").is_none(),
            "{name} was refused but is readable"
        );
    }

    // The watch saw the acknowledged writes and nothing else.
    let mut watched = BTreeSet::new();
    while watched.len() < acked.len() {
        match watch.try_next().await.expect("watch stream") {
            Some(WatchEvent::Added(cm)) => {
                let name = cm.metadata.name.unwrap_or_default();
                assert!(acked.contains(&name), "watch saw unacknowledged {name}");
                watched.insert(name);
            }
            Some(WatchEvent::Bookmark(_)) => {}
            other => panic!("unexpected watch event {other:?}"),
        }
    }

    // Space returns when objects go: deleting half of them lets writes succeed again.
    let deleted: Vec<String> = acked.iter().step_by(2).cloned().collect();
    for name in &deleted {
        api.delete(name, &DeleteParams::default())
            .await
            .expect("a delete frees space");
    }
    api.create(
        &PostParams::default(),
        &configmap("after-space-returned", 4096),
    )
    .await
    .expect("writes resume once space returns");
    // A refused write left nothing behind, so retrying it is an ordinary create.
    let retried = refused.first().expect("a refused write").clone();
    api.create(&PostParams::default(), &configmap(&retried, 16))
        .await
        .expect("a refused write can be made again");
    drop(watch);
    drop(api);
    drop(hub);

    // And the disk agrees with what was acknowledged.
    let reopened = Hub::open(Storage::Sqlite(db), Registry::new()).expect("reopen");
    let on_disk: BTreeMap<String, ConfigMap> = cms(&reopened)
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .map(|cm| (cm.metadata.name.clone().unwrap_or_default(), cm))
        .collect();
    let mut expected: BTreeSet<String> = acked;
    for name in &deleted {
        expected.remove(name);
    }
    expected.insert("after-space-returned".into());
    expected.insert(retried);
    assert_eq!(
        on_disk.keys().cloned().collect::<BTreeSet<_>>(),
        expected,
        "the database holds exactly the acknowledged writes"
    );
}
