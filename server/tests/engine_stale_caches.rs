//! The engine reads bindings from an informer cache that may lag its own writes. Decisions that
//! would do harm on a stale view are taken from the hub: here the cache never hears of the
//! bindings the placement controller creates, and reconcile after reconcile still leaves exactly
//! one binding per cluster.

mod fleet_support;

use std::convert::Infallible;

use app::fleet::ClusterResourceBinding;
use axum::http::Request;
use fleet_support::*;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;
use tokio::sync::watch;
use tower::ServiceExt;

/// A client whose watches of ClusterResourceBindings hang until `release` says true; every
/// other request, the bindings' initial list among them, goes through at once. The engine's
/// binding cache so stays at what that first list held.
fn binding_watches_held(router: axum::Router) -> (kube::Client, watch::Sender<bool>) {
    let (release, _) = watch::channel(false);
    let service = tower::service_fn({
        let release = release.clone();
        move |req: Request<kube::client::Body>| {
            let (router, mut released) = (router.clone(), release.subscribe());
            async move {
                let binding_watch = req.uri().path().ends_with("/clusterresourcebindings")
                    && req.uri().query().is_some_and(|q| q.contains("watch=true"));
                if binding_watch {
                    let _ = released.wait_for(|r| *r).await;
                }
                Ok::<_, Infallible>(router.oneshot(req).await.unwrap_or_else(|e| match e {}))
            }
        }
    });
    (kube::Client::new(service, "default"), release)
}

async fn bindings_per_cluster(fleet: &Fleet) -> Vec<(String, usize)> {
    let bindings: Api<ClusterResourceBinding> = Api::all(fleet.hub.clone());
    let mut counts = std::collections::BTreeMap::new();
    for b in bindings
        .list(&ListParams::default().labels(&format!("kubernetes-fleet.io/parent-CRP={PLACEMENT}")))
        .await
        .expect("bindings")
        .items
    {
        *counts.entry(b.spec.target_cluster).or_insert(0) += 1;
    }
    counts.into_iter().collect()
}

#[tokio::test(start_paused = true)]
async fn a_cache_behind_the_engines_writes_never_duplicates_a_binding() {
    let mut fleet = Fleet::members(&[
        ("member1", "environment=staging"),
        ("member2", "environment=canary"),
    ])
    .await;
    let (client, release) = binding_watches_held(fleet.hub_router());
    fleet.engine().restart(client).await;

    fleet.config_map("value1").await;
    fleet.external_placement().await;
    let one_each = vec![("member1".to_string(), 1), ("member2".to_string(), 1)];
    assert_eq!(bindings_per_cluster(&fleet).await, one_each);

    // Every change of the placement reconciles it again on the same empty cache.
    for i in 0..5 {
        let crps: Api<app::fleet::ClusterResourcePlacement> = Api::all(fleet.hub.clone());
        crps.patch(
            PLACEMENT,
            &PatchParams::default(),
            &Patch::Merge(
                json!({"metadata": {"annotations": {"fleetdeck.test/poke": i.to_string()}}}),
            ),
        )
        .await
        .expect("poke the placement");
        fleet.settle().await;
    }
    assert_eq!(bindings_per_cluster(&fleet).await, one_each);

    // Once the cache catches up, a run rolls out to each binding as usual.
    release.send_replace(true);
    fleet
        .strategy(json!([{"name": "all", "labelSelector": {}}]))
        .await;
    fleet.run("example-run", None, "Run").await;
    fleet
        .wait_run("example-run", "Succeeded", is_succeeded)
        .await;
    for member in ["member1", "member2"] {
        fleet.wait_member_value(member, "value1").await;
    }
    assert_eq!(bindings_per_cluster(&fleet).await, one_each);
    fleet.stop().await;
}
