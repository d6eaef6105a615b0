//! kube-rs 5 against the hub in-process (spec §6): the client code the engine runs.

mod common;

use std::time::Duration;

use common::*;
use futures::{StreamExt, TryStreamExt};
use hub::{Hub, Options, Storage};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{
    Api, DeleteParams, ListParams, Patch, PatchParams, PostParams, WatchEvent, WatchParams,
};
use kube::runtime::{reflector, watcher, WatchStreamExt};
use serde_json::json;

fn cm(name: &str, labels: &[(&str, &str)], data: &[(&str, &str)]) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name, "labels": labels.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<std::collections::BTreeMap<_, _>>()},
        "data": data.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<std::collections::BTreeMap<_, _>>(),
    }))
    .unwrap()
}

fn api_err(e: kube::Error) -> Box<kube::core::Status> {
    match e {
        kube::Error::Api(s) => s,
        other => panic!("expected an API error, got {other:?}"),
    }
}

#[tokio::test]
async fn version_reports_1_32_with_all_fields() {
    let hub = memory_hub();
    let v = client(&hub).apiserver_version().await.unwrap();
    assert_eq!((v.major.as_str(), v.minor.as_str()), ("1", "32"));
    assert!(!v.git_version.is_empty());
}

#[tokio::test]
async fn configmap_crud_assigns_server_metadata() {
    let hub = memory_hub();
    let cms: Api<ConfigMap> = Api::default_namespaced(client(&hub));
    let created = cms
        .create(&PostParams::default(), &cm("a", &[], &[("k", "v1")]))
        .await
        .unwrap();
    let meta = &created.metadata;
    assert!(meta.uid.as_deref().is_some_and(|u| u.len() == 36));
    assert!(meta.creation_timestamp.is_some());
    assert_eq!(meta.namespace.as_deref(), Some("default"));
    assert_eq!(meta.generation, None, "ConfigMaps have no generation");

    let got = cms.get("a").await.unwrap();
    assert_eq!(got.data.unwrap()["k"], "v1");

    let dup = api_err(
        cms.create(&PostParams::default(), &cm("a", &[], &[]))
            .await
            .unwrap_err(),
    );
    assert_eq!((dup.code, dup.reason.as_str()), (409, "AlreadyExists"));

    // ConfigMap PUT without resourceVersion is an unconditional update (spec §3.5).
    let replaced = cms
        .replace("a", &PostParams::default(), &cm("a", &[], &[("k", "v2")]))
        .await
        .unwrap();
    assert!(rv(&replaced.metadata) > rv(&created.metadata));
    assert_eq!(
        replaced.metadata.uid, created.metadata.uid,
        "uid is immutable"
    );

    let list = cms.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 1);
    assert!(list.metadata.resource_version.is_some());

    let deleted = cms.delete("a", &DeleteParams::default()).await.unwrap();
    assert!(deleted.is_right(), "built-ins answer DELETE with a Status");
    assert!(cms.get_opt("a").await.unwrap().is_none());
    let missing = api_err(cms.get("a").await.unwrap_err());
    assert_eq!((missing.code, missing.reason.as_str()), (404, "NotFound"));
    assert_eq!(missing.message, "configmaps \"a\" not found");
}

#[tokio::test]
async fn namespaced_create_needs_an_existing_namespace_and_valid_name() {
    let hub = memory_hub();
    let c = client(&hub);
    let nowhere: Api<ConfigMap> = Api::namespaced(c.clone(), "nowhere");
    let e = api_err(
        nowhere
            .create(&PostParams::default(), &cm("a", &[], &[]))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        (e.code, e.message.as_str()),
        (404, "namespaces \"nowhere\" not found")
    );

    let cms: Api<ConfigMap> = Api::default_namespaced(c.clone());
    let e = api_err(
        cms.create(&PostParams::default(), &cm("Bad_Name", &[], &[]))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));

    let nss: Api<Namespace> = Api::all(c);
    let ns = nss.get("default").await.unwrap();
    assert_eq!(ns.status.unwrap().phase.as_deref(), Some("Active"));
}

#[tokio::test]
async fn custom_kind_create_drops_status_and_generation_tracks_spec() {
    let hub = memory_hub();
    let api = csurs(&client(&hub));
    let mut obj = csur("run", json!({"placementName": "p", "state": "Initialize"}));
    obj.data["status"] = json!({"conditions": [{"type": "Initialized", "status": "True"}]});
    let created = api.create(&PostParams::default(), &obj).await.unwrap();
    assert!(
        created.data.get("status").is_none(),
        "create drops .status (spec §0.7)"
    );
    assert_eq!(created.metadata.generation, Some(1));

    // Status write: generation unchanged, spec in the body ignored.
    let st = api
        .patch_status(
            "run",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"spec": {"state": "Stop"}, "status": {"policySnapshotIndexUsed": "0"}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(st.metadata.generation, Some(1));
    assert_eq!(st.data["spec"]["state"], "Initialize");
    assert_eq!(st.data["status"]["policySnapshotIndexUsed"], "0");

    // Main-resource write ignores .status and bumps generation on spec change.
    let p = api
        .patch(
            "run",
            &PatchParams::default(),
            &Patch::Merge(
                json!({"spec": {"state": "Run"}, "status": {"policySnapshotIndexUsed": "9"}}),
            ),
        )
        .await
        .unwrap();
    assert_eq!(p.metadata.generation, Some(2));
    assert_eq!(p.data["status"]["policySnapshotIndexUsed"], "0");

    // Label-only change: no generation bump.
    let l = api
        .patch(
            "run",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"labels": {"a": "b"}}})),
        )
        .await
        .unwrap();
    assert_eq!(l.metadata.generation, Some(2));

    // No-op patch keeps the resourceVersion (spec §8.8).
    let again = api
        .patch(
            "run",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"state": "Run"}})),
        )
        .await
        .unwrap();
    assert_eq!(again.metadata.resource_version, l.metadata.resource_version);

    // Custom kinds answer DELETE with the object.
    let d = api.delete("run", &DeleteParams::default()).await.unwrap();
    assert!(d.is_left());
}

#[tokio::test]
async fn optimistic_concurrency_and_put_rules_for_custom_kinds() {
    let hub = memory_hub();
    let api = csurs(&client(&hub));
    let created = api
        .create(
            &PostParams::default(),
            &csur("run", json!({"placementName": "p"})),
        )
        .await
        .unwrap();

    let mut stale = created.clone();
    let mut fresh = created.clone();
    fresh.data["spec"]["placementName"] = json!("q");
    api.replace("run", &PostParams::default(), &fresh)
        .await
        .unwrap();
    stale.data["spec"]["placementName"] = json!("r");
    let e = api_err(
        api.replace("run", &PostParams::default(), &stale)
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (409, "Conflict"));
    assert!(
        e.message.contains("the object has been modified"),
        "{}",
        e.message
    );

    let mut no_rv = created.clone();
    no_rv.metadata.resource_version = None;
    let e = api_err(
        api.replace("run", &PostParams::default(), &no_rv)
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    assert!(
        e.message.contains("metadata.resourceVersion"),
        "{}",
        e.message
    );

    // A resourceVersion in a merge patch body is a precondition.
    let e = api_err(
        api.patch(
            "run",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"resourceVersion": "1"}, "spec": {"x": 1}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 409);
}

#[tokio::test]
async fn validation_hook_gives_422_with_causes() {
    let hub = memory_hub();
    let api = csurs(&client(&hub));
    let e = api_err(
        api.create(
            &PostParams::default(),
            &csur("run", json!({"state": "Bogus"})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (422, "Invalid"));
    let details = e.details.unwrap();
    assert_eq!(details.kind, "ClusterStagedUpdateRun");
    assert_eq!(details.causes[0].field, "spec.state");
    assert!(e.message.starts_with("ClusterStagedUpdateRun.placement.kubernetes-fleet.io \"run\" is invalid: spec.state: Unsupported value"));
}

#[tokio::test]
async fn patch_types_merge_json_and_strategic() {
    let hub = memory_hub();
    let c = client(&hub);
    let cms: Api<ConfigMap> = Api::default_namespaced(c.clone());
    cms.create(
        &PostParams::default(),
        &cm("a", &[], &[("x", "1"), ("y", "2")]),
    )
    .await
    .unwrap();
    let pp = PatchParams::default();
    let m = cms
        .patch(
            "a",
            &pp,
            &Patch::Merge(json!({"data": {"x": null, "z": "3"}})),
        )
        .await
        .unwrap();
    assert_eq!(
        m.data.unwrap().keys().cloned().collect::<Vec<_>>(),
        ["y", "z"]
    );
    let jp: json_patch::Patch =
        serde_json::from_value(json!([{"op": "add", "path": "/data/w", "value": "4"}])).unwrap();
    let j = cms.patch("a", &pp, &Patch::<()>::Json(jp)).await.unwrap();
    assert_eq!(j.data.unwrap()["w"], "4");
    let s = cms
        .patch("a", &pp, &Patch::Strategic(json!({"data": {"y": "22"}})))
        .await
        .unwrap();
    assert_eq!(s.data.unwrap()["y"], "22");

    let api = csurs(&c);
    api.create(&PostParams::default(), &csur("run", json!({})))
        .await
        .unwrap();
    let e = api_err(
        api.patch("run", &pp, &Patch::Strategic(json!({"spec": {"a": 1}})))
            .await
            .unwrap_err(),
    );
    assert_eq!((e.code, e.reason.as_str()), (415, "UnsupportedMediaType"));
}

#[tokio::test]
async fn label_and_field_selectors() {
    let hub = memory_hub();
    let cms: Api<ConfigMap> = Api::default_namespaced(client(&hub));
    for (n, env) in [("a", "canary"), ("b", "staging"), ("c", "prod")] {
        cms.create(
            &PostParams::default(),
            &cm(
                n,
                &[("env", env), ("kubernetes-fleet.io/parent-CRP", "p")],
                &[],
            ),
        )
        .await
        .unwrap();
    }
    cms.create(&PostParams::default(), &cm("d", &[], &[]))
        .await
        .unwrap();
    let names = |l: kube::core::ObjectList<ConfigMap>| {
        l.items
            .into_iter()
            .map(|c| c.metadata.name.unwrap())
            .collect::<Vec<_>>()
    };
    let q = |s: &str| ListParams::default().labels(s);
    assert_eq!(names(cms.list(&q("env=canary")).await.unwrap()), ["a"]);
    assert_eq!(names(cms.list(&q("env==canary")).await.unwrap()), ["a"]);
    assert_eq!(
        names(cms.list(&q("env!=canary")).await.unwrap()),
        ["b", "c", "d"]
    );
    assert_eq!(
        names(cms.list(&q("env in (canary,prod)")).await.unwrap()),
        ["a", "c"]
    );
    assert_eq!(
        names(cms.list(&q("env notin (canary)")).await.unwrap()),
        ["b", "c", "d"]
    );
    assert_eq!(names(cms.list(&q("env")).await.unwrap()), ["a", "b", "c"]);
    assert_eq!(names(cms.list(&q("!env")).await.unwrap()), ["d"]);
    assert_eq!(
        names(
            cms.list(&q("kubernetes-fleet.io/parent-CRP=p,env!=prod"))
                .await
                .unwrap()
        ),
        ["a", "b"]
    );
    assert_eq!(
        names(
            cms.list(&ListParams::default().fields("metadata.name=b"))
                .await
                .unwrap()
        ),
        ["b"]
    );
    assert_eq!(
        names(
            cms.list(&ListParams::default().fields("metadata.namespace=default,metadata.name!=b"))
                .await
                .unwrap()
        ),
        ["a", "c", "d"]
    );
    let e = api_err(
        cms.list(&ListParams::default().fields("spec.foo=x"))
            .await
            .unwrap_err(),
    );
    assert_eq!(e.code, 400);
    let e = api_err(cms.list(&q("env in (x")).await.unwrap_err());
    assert_eq!(e.code, 400);
    // All-namespaces list.
    let all: Api<ConfigMap> = Api::all(client(&hub));
    assert_eq!(
        all.list(&ListParams::default()).await.unwrap().items.len(),
        4
    );
}

#[tokio::test]
async fn raw_watch_synthetic_added_replay_and_selector_transitions() {
    let hub = memory_hub();
    let cms: Api<ConfigMap> = Api::default_namespaced(client(&hub));
    let first = cms
        .create(&PostParams::default(), &cm("a", &[("env", "x")], &[]))
        .await
        .unwrap();

    // rv "0": a synthetic ADDED for existing objects (spec §0.6).
    let mut w = cms
        .watch(&WatchParams::default().labels("env=x"), "0")
        .await
        .unwrap()
        .boxed();
    match w.try_next().await.unwrap().unwrap() {
        WatchEvent::Added(o) => assert_eq!(o.metadata.name.as_deref(), Some("a")),
        other => panic!("expected ADDED, got {other:?}"),
    }
    // Leaving the selector is DELETED, entering it is ADDED (spec §8.13).
    cms.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"env": "y"}}})),
    )
    .await
    .unwrap();
    assert!(matches!(
        w.try_next().await.unwrap().unwrap(),
        WatchEvent::Deleted(_)
    ));
    cms.patch(
        "a",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"labels": {"env": "x"}}})),
    )
    .await
    .unwrap();
    assert!(matches!(
        w.try_next().await.unwrap().unwrap(),
        WatchEvent::Added(_)
    ));

    // Replay from a resourceVersion: every later event, in order.
    let from = first.metadata.resource_version.unwrap();
    let mut r = cms
        .watch(&WatchParams::default(), &from)
        .await
        .unwrap()
        .boxed();
    let mut types = Vec::new();
    for _ in 0..2 {
        match r.try_next().await.unwrap().unwrap() {
            WatchEvent::Modified(o) => types.push(("MODIFIED", rv(&o.metadata))),
            other => panic!("expected MODIFIED, got {other:?}"),
        }
    }
    assert!(types[0].1 < types[1].1);
}

#[tokio::test]
async fn too_old_resource_version_is_an_in_stream_410() {
    let hub = memory_hub_with(Options {
        history: 2,
        ..Options::default()
    });
    let cms: Api<ConfigMap> = Api::default_namespaced(client(&hub));
    for i in 0..5 {
        cms.create(&PostParams::default(), &cm(&format!("c{i}"), &[], &[]))
            .await
            .unwrap();
    }
    let mut w = cms
        .watch(&WatchParams::default(), "1")
        .await
        .expect("HTTP 200, not 410 (spec §0.5)")
        .boxed();
    match w.try_next().await.unwrap().unwrap() {
        WatchEvent::Error(e) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("expected an ERROR event, got {other:?}"),
    }
}

/// The history is bounded by bytes as well as by count: old versions of large objects go, so
/// replay from before them is 410, while a live watch still gets every event, however large.
#[tokio::test]
async fn history_byte_budget_expires_old_versions_but_not_live_watches() {
    let hub = memory_hub_with(Options {
        history_bytes: 64 << 10,
        ..Options::default()
    });
    let cms: Api<ConfigMap> = Api::default_namespaced(client(&hub));
    let first = cms
        .create(&PostParams::default(), &cm("big", &[], &[]))
        .await
        .unwrap();
    let first_rv = first.metadata.resource_version.clone().unwrap();
    let mut live = cms
        .watch(&WatchParams::default(), &first_rv)
        .await
        .unwrap()
        .boxed();
    let payload = "x".repeat(40 << 10);
    for i in 0..5 {
        let data = format!("{i}{payload}");
        cms.replace("big", &PostParams::default(), &{
            let mut c = cms.get("big").await.unwrap();
            c.data = Some([("k".to_string(), data)].into());
            c
        })
        .await
        .unwrap();
    }
    for i in 0..5 {
        match live.try_next().await.unwrap().unwrap() {
            WatchEvent::Modified(c) => {
                let k = &c.data.unwrap()["k"];
                assert!(k.starts_with(&i.to_string()), "event {i} in order");
            }
            other => panic!("expected MODIFIED {i}, got {other:?}"),
        }
    }
    let mut replay = cms
        .watch(&WatchParams::default(), &first_rv)
        .await
        .expect("HTTP 200, not 410 (spec §0.5)")
        .boxed();
    match replay.try_next().await.unwrap().unwrap() {
        WatchEvent::Error(e) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("five 40 KiB versions exceed a 64 KiB history, got {other:?}"),
    }
}

#[tokio::test]
async fn bookmarks_and_timeout_end_the_stream() {
    let hub = memory_hub();
    let cms: Api<ConfigMap> = Api::default_namespaced(client(&hub));
    cms.create(&PostParams::default(), &cm("a", &[], &[]))
        .await
        .unwrap();
    let rv_now = hub.resource_version().to_string();
    let wp = WatchParams::default().timeout(1);
    let events: Vec<_> = cms
        .watch(&wp, &rv_now)
        .await
        .unwrap()
        .try_collect()
        .await
        .unwrap();
    assert!(
        matches!(events.last(), Some(WatchEvent::Bookmark(_))),
        "{events:?}"
    );
}

#[tokio::test]
async fn watcher_reaches_init_done_and_sees_changes() {
    let hub = memory_hub();
    let cms: Api<ConfigMap> = Api::default_namespaced(client(&hub));
    cms.create(&PostParams::default(), &cm("a", &[], &[]))
        .await
        .unwrap();
    let mut s = watcher(cms.clone(), watcher::Config::default()).boxed();
    let mut seen = Vec::new();
    while let Some(ev) = s.try_next().await.unwrap() {
        match ev {
            watcher::Event::Init => seen.push("Init".to_string()),
            watcher::Event::InitApply(o) => {
                seen.push(format!("InitApply({})", o.metadata.name.unwrap()))
            }
            watcher::Event::InitDone => {
                seen.push("InitDone".into());
                cms.create(&PostParams::default(), &cm("b", &[], &[]))
                    .await
                    .unwrap();
            }
            watcher::Event::Apply(o) => {
                seen.push(format!("Apply({})", o.metadata.name.unwrap()));
                break;
            }
            watcher::Event::Delete(_) => panic!("unexpected delete"),
        }
    }
    assert_eq!(seen, ["Init", "InitApply(a)", "InitDone", "Apply(b)"]);
}

#[tokio::test]
async fn streaming_list_reflector_becomes_ready() {
    let hub = memory_hub();
    let api = csurs(&client(&hub));
    api.create(&PostParams::default(), &csur("r1", json!({})))
        .await
        .unwrap();
    let cms: Api<ConfigMap> = Api::default_namespaced(client(&hub));
    cms.create(&PostParams::default(), &cm("a", &[], &[]))
        .await
        .unwrap();
    let (reader, writer) = reflector::store::<ConfigMap>();
    let stream = reflector(
        writer,
        watcher(cms, watcher::Config::default().streaming_lists()),
    )
    .applied_objects();
    let task = tokio::spawn(async move {
        futures::pin_mut!(stream);
        while stream.try_next().await.is_ok_and(|o| o.is_some()) {}
    });
    tokio::time::timeout(Duration::from_secs(20), reader.wait_until_ready())
        .await
        .expect("store ready")
        .unwrap();
    assert_eq!(reader.state().len(), 1);
    task.abort();
}

#[tokio::test]
async fn watcher_relists_after_410() {
    let hub = memory_hub_with(Options {
        history: 3,
        ..Options::default()
    });
    let cms: Api<ConfigMap> = Api::default_namespaced(client(&hub));
    cms.create(&PostParams::default(), &cm("a", &[], &[]))
        .await
        .unwrap();
    let mut s = watcher(cms.clone(), watcher::Config::default()).boxed();
    let mut inits = 0;
    let mut applied_after_relist = 0;
    while let Some(ev) = tokio::time::timeout(Duration::from_secs(20), s.next())
        .await
        .expect("watcher progresses")
    {
        match ev {
            Ok(watcher::Event::Init) => inits += 1,
            Ok(watcher::Event::InitDone) if inits == 1 => {
                // The list RV falls out of the 3-event history before the watch starts.
                for i in 0..10 {
                    cms.create(&PostParams::default(), &cm(&format!("n{i}"), &[], &[]))
                        .await
                        .unwrap();
                }
            }
            Ok(watcher::Event::InitApply(_)) if inits == 2 => applied_after_relist += 1,
            Ok(watcher::Event::InitDone) => break,
            Ok(_) => {}
            Err(e) => assert!(
                e.to_string().contains("Expired") || e.to_string().contains("too old"),
                "{e}"
            ),
        }
    }
    assert_eq!(inits, 2, "one relist after the in-stream 410");
    assert_eq!(applied_after_relist, 11);
}

#[tokio::test]
async fn finalizers_hold_deletion_until_removed() {
    let hub = memory_hub();
    let api = csurs(&client(&hub));
    let mut o = csur("run", json!({}));
    o.metadata.finalizers = Some(vec!["example.dev/cleanup".into()]);
    api.create(&PostParams::default(), &o).await.unwrap();
    let d = api
        .delete("run", &DeleteParams::default())
        .await
        .unwrap()
        .left()
        .unwrap();
    assert!(d.metadata.deletion_timestamp.is_some());
    assert_eq!(
        d.metadata.generation,
        Some(2),
        "markAsDeleting bumps generation"
    );
    assert!(api.get_opt("run").await.unwrap().is_some());
    let e = api_err(
        api.patch(
            "run",
            &PatchParams::default(),
            &Patch::Merge(json!({"metadata": {"finalizers": ["example.dev/cleanup", "new"]}})),
        )
        .await
        .unwrap_err(),
    );
    assert_eq!(e.code, 422);
    api.patch(
        "run",
        &PatchParams::default(),
        &Patch::Merge(json!({"metadata": {"finalizers": null}})),
    )
    .await
    .unwrap();
    assert!(api.get_opt("run").await.unwrap().is_none());
}

#[tokio::test]
async fn owner_deletion_collects_dependents_and_namespace_deletion_empties_it() {
    let hub = memory_hub();
    let c = client(&hub);
    let api = csurs(&c);
    let owner = api
        .create(&PostParams::default(), &csur("run", json!({})))
        .await
        .unwrap();
    let nss: Api<Namespace> = Api::all(c.clone());
    nss.create(
        &PostParams::default(),
        &serde_json::from_value(json!({"metadata": {"name": "work"}})).unwrap(),
    )
    .await
    .unwrap();
    let cms: Api<ConfigMap> = Api::namespaced(c.clone(), "work");
    let mut child = cm("child", &[], &[]);
    child.metadata.owner_references = Some(vec![serde_json::from_value(json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterStagedUpdateRun",
        "name": "run", "uid": owner.metadata.uid.clone().unwrap()}))
    .unwrap()]);
    cms.create(&PostParams::default(), &child).await.unwrap();
    cms.create(&PostParams::default(), &cm("other", &[], &[]))
        .await
        .unwrap();

    api.delete("run", &DeleteParams::background())
        .await
        .unwrap();
    assert!(
        cms.get_opt("child").await.unwrap().is_none(),
        "dependent collected by uid"
    );
    assert!(cms.get_opt("other").await.unwrap().is_some());

    nss.delete("work", &DeleteParams::default()).await.unwrap();
    assert!(nss.get_opt("work").await.unwrap().is_none());
    assert!(cms.get_opt("other").await.unwrap().is_none());
}

#[tokio::test]
async fn sqlite_restart_keeps_objects_and_resource_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hub.db");
    let (uid, last_rv) = {
        let hub = Hub::open(Storage::Sqlite(path.clone()), registry()).unwrap();
        let cms: Api<ConfigMap> = Api::default_namespaced(client(&hub));
        let c = cms
            .create(&PostParams::default(), &cm("keep", &[], &[("k", "v")]))
            .await
            .unwrap();
        cms.create(&PostParams::default(), &cm("gone", &[], &[]))
            .await
            .unwrap();
        cms.delete("gone", &DeleteParams::default()).await.unwrap();
        (c.metadata.uid.unwrap(), hub.resource_version())
    };
    let hub = Hub::open(Storage::Sqlite(path), registry()).unwrap();
    assert_eq!(
        hub.resource_version(),
        last_rv,
        "the counter survives, deletes included"
    );
    let cms: Api<ConfigMap> = Api::default_namespaced(client(&hub));
    let kept = cms.get("keep").await.unwrap();
    assert_eq!(kept.metadata.uid.unwrap(), uid);
    assert_eq!(kept.data.unwrap()["k"], "v");
    assert!(cms.get_opt("gone").await.unwrap().is_none());
    let next = cms
        .create(&PostParams::default(), &cm("new", &[], &[]))
        .await
        .unwrap();
    assert!(rv(&next.metadata) > last_rv);
}

#[tokio::test]
async fn bearer_token_layer_guards_everything_but_version() {
    use tower::ServiceExt;
    let hub = memory_hub();
    let req = |path: &str, token: Option<&str>| {
        let mut b = axum::http::Request::builder().uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        b.body(axum::body::Body::empty()).unwrap()
    };
    let code = |r: axum::response::Response| r.status().as_u16();
    let router = hub.router_with_token("s3cret");
    assert_eq!(
        code(router.clone().oneshot(req("/version", None)).await.unwrap()),
        200
    );
    assert_eq!(
        code(
            router
                .clone()
                .oneshot(req("/api/v1/namespaces", None))
                .await
                .unwrap()
        ),
        401
    );
    assert_eq!(
        code(
            router
                .clone()
                .oneshot(req("/api/v1/namespaces", Some("wrong")))
                .await
                .unwrap()
        ),
        401
    );
    assert_eq!(
        code(
            router
                .oneshot(req("/api/v1/namespaces", Some("s3cret")))
                .await
                .unwrap()
        ),
        200
    );
}

/// `max_body` moves the 413 limit (fleetdeck's embedded fleet hub takes 64 MiB).
#[tokio::test]
async fn a_larger_body_limit_admits_what_the_default_rejects() {
    let data = "a".repeat(4 * 1024 * 1024);
    let big = || cm("big", &[], &[("x", &data)]);
    let default_hub = memory_hub();
    let cms: Api<ConfigMap> = Api::default_namespaced(client(&default_hub));
    match cms.create(&PostParams::default(), &big()).await {
        Err(kube::Error::Api(s)) => assert_eq!(s.code, 413),
        other => panic!("4 MiB over the default 3 MiB limit: {other:?}"),
    }
    let roomy = memory_hub_with(Options {
        max_body: 8 << 20,
        ..Options::default()
    });
    let cms: Api<ConfigMap> = Api::default_namespaced(client(&roomy));
    let created = cms.create(&PostParams::default(), &big()).await.unwrap();
    assert_eq!(created.data.unwrap()["x"].len(), data.len());
}

#[tokio::test]
async fn bad_requests_get_status_bodies() {
    use tower::ServiceExt;
    let hub = memory_hub();
    let send = |method: &str, path: &str, ct: &str, body: Vec<u8>| {
        let router = hub.router();
        let req = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", ct)
            .body(axum::body::Body::from(body))
            .unwrap();
        async move {
            let resp = router.oneshot(req).await.unwrap();
            let code = resp.status().as_u16();
            let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX)
                .await
                .unwrap();
            let status: serde_json::Value = serde_json::from_slice(&bytes).expect("a Status body");
            assert_eq!(status["kind"], "Status");
            assert_eq!(status["code"], code);
            (
                code,
                status["reason"].as_str().unwrap_or_default().to_string(),
            )
        }
    };
    let cms = "/api/v1/namespaces/default/configmaps";
    assert_eq!(
        send("POST", cms, "application/json", b"{not json".to_vec()).await,
        (400, "BadRequest".into())
    );
    assert_eq!(
        send("POST", cms, "application/json", b"[1,2]".to_vec()).await,
        (400, "BadRequest".into())
    );
    let big = format!(
        "{{\"metadata\":{{\"name\":\"big\"}},\"data\":{{\"x\":\"{}\"}}}}",
        "a".repeat(3 * 1024 * 1024)
    );
    assert_eq!(
        send("POST", cms, "application/json", big.into_bytes())
            .await
            .0,
        413
    );
    assert_eq!(
        send("GET", "/apis/nope.dev/v1/things", "", vec![]).await,
        (404, "NotFound".into())
    );
    assert_eq!(
        send(
            "GET",
            "/api/v1/namespaces/default/configmaps?labelSelector=a+in+(b",
            "",
            vec![]
        )
        .await
        .0,
        400
    );
    assert_eq!(
        send("PATCH", &format!("{cms}/x"), "text/plain", b"{}".to_vec())
            .await
            .0,
        415
    );
    assert_eq!(
        send(
            "POST",
            cms,
            "application/vnd.kubernetes.protobuf",
            b"k8s\0".to_vec()
        )
        .await
        .0,
        415
    );
}

/// A kube-runtime `Controller` with an owned kind reaches readiness and reconciles: existing
/// objects at start, new ones, and an owner again when its dependent is deleted (the `owns`
/// watch maps the dependent back through its ownerReference).
#[tokio::test]
async fn controller_reconciles_existing_new_and_owned_objects() {
    use kube::runtime::controller::{Action, Controller};
    use kube::Resource;
    use std::sync::Arc;

    let hub = memory_hub();
    let client = client(&hub);
    let cms: Api<ConfigMap> = Api::default_namespaced(client.clone());
    let source = |name: &str| cm(name, &[("role", "source")], &[("k", name)]);
    cms.create(&PostParams::default(), &source("before"))
        .await
        .unwrap();

    async fn reconcile(
        obj: Arc<ConfigMap>,
        cms: Arc<Api<ConfigMap>>,
    ) -> Result<Action, kube::Error> {
        let name = obj.metadata.name.clone().unwrap_or_default();
        let mut derived = cm(&format!("{name}-derived"), &[("role", "derived")], &[]);
        derived.metadata.owner_references = obj.controller_owner_ref(&()).map(|o| vec![o]);
        match cms.create(&PostParams::default(), &derived).await {
            Ok(_) => Ok(Action::await_change()),
            Err(kube::Error::Api(s)) if s.code == 409 => Ok(Action::await_change()),
            Err(e) => Err(e),
        }
    }
    let controller = Controller::new(
        cms.clone(),
        watcher::Config::default().labels("role=source"),
    )
    .owns(
        cms.clone(),
        watcher::Config::default().labels("role=derived"),
    )
    .run(
        reconcile,
        |_, _, _| Action::requeue(Duration::from_millis(100)),
        Arc::new(cms.clone()),
    )
    .for_each(|_| async {});
    let task = tokio::spawn(controller);

    let derived_exists = |name: &'static str| {
        let cms = cms.clone();
        async move {
            tokio::time::timeout(Duration::from_secs(20), async {
                while cms.get_opt(name).await.unwrap().is_none() {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            })
            .await
            .unwrap_or_else(|_| panic!("{name} was never created by the controller"));
        }
    };
    derived_exists("before-derived").await;
    cms.create(&PostParams::default(), &source("after"))
        .await
        .unwrap();
    derived_exists("after-derived").await;
    let first_uid = cms.get("after-derived").await.unwrap().metadata.uid;
    cms.delete("after-derived", &DeleteParams::default())
        .await
        .unwrap();
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            if let Some(d) = cms.get_opt("after-derived").await.unwrap() {
                if d.metadata.uid != first_uid {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("deleting the dependent re-reconciles its owner, which re-creates it");
    task.abort();
}
