//! When the hub says no. A hub that keeps rejecting a placement's status: the engine tells the
//! user once, with a Warning Event naming the hub's answer, backs off instead of retrying every
//! second, and catches up as soon as the hub accepts again. A binding another writer changes
//! between the engine's read and its write: the hub's 409 makes the engine read it again and
//! write on top, within the same pass.

mod fleet_support;

use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use std::collections::BTreeSet;
use std::sync::Mutex;

use app::fleet::types::condition::find_condition;
use app::fleet::{ClusterResourceBinding, ClusterResourcePlacement};
use axum::http::{Method, Request, Response, StatusCode};
use fleet_support::*;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::json;
use tower::ServiceExt;

const REJECTION: &str = "the hub is refusing placement statuses for this test";

/// Refuses every write of a placement status with 422 while `refusing`, counting the attempts.
struct Refusal {
    refusing: AtomicBool,
    attempts: AtomicUsize,
}

fn refusing_client(router: axum::Router) -> (kube::Client, Arc<Refusal>) {
    let refusal = Arc::new(Refusal {
        refusing: AtomicBool::new(true),
        attempts: AtomicUsize::new(0),
    });
    let service = tower::service_fn({
        let refusal = refusal.clone();
        move |req: Request<kube::client::Body>| {
            let (router, refusal) = (router.clone(), refusal.clone());
            async move {
                let path = req.uri().path();
                let status_write = *req.method() != Method::GET
                    && path.contains("/clusterresourceplacements/")
                    && path.ends_with("/status");
                if status_write {
                    refusal.attempts.fetch_add(1, Ordering::SeqCst);
                }
                if status_write && refusal.refusing.load(Ordering::SeqCst) {
                    let status = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                        "message": REJECTION, "reason": "Invalid", "code": 422});
                    let response = Response::builder()
                        .status(StatusCode::UNPROCESSABLE_ENTITY)
                        .header("content-type", "application/json")
                        .body(axum::body::Body::from(status.to_string()))
                        .unwrap_or_default();
                    return Ok::<_, Infallible>(response);
                }
                Ok(router.oneshot(req).await.unwrap_or_else(|e| match e {}))
            }
        }
    });
    (kube::Client::new(service, "default"), refusal)
}

async fn failure_events(fleet: &Fleet, object: &str) -> Vec<Event> {
    let events: Api<Event> = Api::namespaced(fleet.hub.clone(), "default");
    events
        .list(&ListParams::default())
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| {
            e.reason.as_deref() == Some("ReconcileFailed")
                && e.involved_object.name.as_deref() == Some(object)
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn a_rejected_placement_status_is_reported_once_backed_off_and_caught_up() {
    let mut fleet = Fleet::members(&[("member1", "environment=staging")]).await;
    let (client, refusal) = refusing_client(fleet.hub_router());
    fleet.engine().restart(client).await;
    fleet.config_map("value1").await;
    fleet
        .apply(json!({"apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
            "metadata": {"name": PLACEMENT},
            "spec": {"resourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "test-namespace"}],
                     "policy": {"placementType": "PickAll"}, "strategy": {"type": "RollingUpdate"}}}))
        .await;

    // The user reads why in `kubectl describe crp`: one Warning with the hub's answer.
    let events = eventually("a ReconcileFailed event", || async {
        let events = failure_events(&fleet, PLACEMENT).await;
        if events.is_empty() {
            Err(events)
        } else {
            Ok(events)
        }
    })
    .await;
    let event = &events[0];
    assert_eq!(event.type_.as_deref(), Some("Warning"));
    assert_eq!(
        event.involved_object.kind.as_deref(),
        Some("ClusterResourcePlacement")
    );
    let message = event.message.as_deref().unwrap_or_default();
    assert_eq!(
        message,
        format!("hub request failed: {REJECTION} (422 Invalid); retrying")
    );

    // Two minutes of refusals: retried with a doubling backoff (1 s, 2 s, 4 s, …), not every
    // second, and still only the one event.
    fleet.settle().await;
    let before = refusal.attempts.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(120)).await;
    let retries = refusal.attempts.load(Ordering::SeqCst) - before;
    assert!(
        (2..=10).contains(&retries),
        "{retries} retries in two minutes"
    );
    assert_eq!(failure_events(&fleet, PLACEMENT).await.len(), 1);

    // The hub accepts again: within the longest backoff (five minutes) the status is there.
    refusal.refusing.store(false, Ordering::SeqCst);
    let crps: Api<ClusterResourcePlacement> = Api::all(fleet.hub.clone());
    fleet.elapse(Duration::from_secs(5 * 60)).await;
    let crp = crps.get(PLACEMENT).await.expect("crp");
    let conditions = crp
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    let scheduled = find_condition(conditions, "ClusterResourcePlacementScheduled")
        .map(|c| (c.status.clone(), c.reason.clone()));
    assert_eq!(
        scheduled,
        Some(("True".into(), "SchedulingPolicyFulfilled".into()))
    );
    fleet.wait_member_value("member1", "value1").await;
    fleet.stop().await;
}

/// Before the first replace of each binding's spec, another writer annotates that binding on the
/// hub, so the replace carries a stale resourceVersion and the hub answers 409.
fn meddling_client(router: axum::Router) -> (kube::Client, Arc<Mutex<BTreeSet<String>>>) {
    let touched = Arc::new(Mutex::new(BTreeSet::new()));
    let service = tower::service_fn({
        let touched = touched.clone();
        move |req: Request<kube::client::Body>| {
            let (router, touched) = (router.clone(), touched.clone());
            async move {
                let prefix = "/apis/placement.kubernetes-fleet.io/v1beta1/clusterresourcebindings/";
                let name = req
                    .uri()
                    .path()
                    .strip_prefix(prefix)
                    .filter(|rest| !rest.contains('/'))
                    .map(str::to_string);
                let first = match (&name, *req.method() == Method::PUT) {
                    (Some(name), true) => touched
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .insert(name.clone()),
                    _ => false,
                };
                if let (Some(name), true) = (name, first) {
                    let other = kube::Client::new(router.clone(), "default");
                    let bindings: Api<ClusterResourceBinding> = Api::all(other);
                    let meddle =
                        json!({"metadata": {"annotations": {"fleetdeck.test/touched": "true"}}});
                    bindings
                        .patch(&name, &PatchParams::default(), &Patch::Merge(meddle))
                        .await
                        .expect("the other writer's patch");
                }
                Ok::<_, Infallible>(router.oneshot(req).await.unwrap_or_else(|e| match e {}))
            }
        }
    });
    (kube::Client::new(service, "default"), touched)
}

#[tokio::test(start_paused = true)]
async fn a_binding_changed_under_the_engine_is_read_again_and_updated_in_the_same_pass() {
    let mut fleet = Fleet::members(&[
        ("member1", "environment=staging"),
        ("member2", "environment=staging"),
    ])
    .await;
    fleet.config_map("value1").await;
    fleet.external_placement().await;
    fleet
        .strategy(json!([{"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}}]))
        .await;
    fleet.wait_scheduled(&["member1", "member2"]).await;
    let (client, touched) = meddling_client(fleet.hub_router());
    fleet.engine().restart(client).await;

    fleet.run("example-run", None, "Run").await;
    fleet
        .wait_run("example-run", "Succeeded", is_succeeded)
        .await;
    for member in ["member1", "member2"] {
        let binding = fleet.binding(member).await;
        assert!(
            touched
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(binding.metadata.name.as_deref().unwrap_or_default()),
            "{member}'s binding was meddled with"
        );
        // Written on top of the other writer's change, not instead of it.
        let annotations = binding.metadata.annotations.unwrap_or_default();
        assert_eq!(
            annotations
                .get("fleetdeck.test/touched")
                .map(String::as_str),
            Some("true")
        );
        fleet.wait_member_value(member, "value1").await;
    }
    // The 409 was handled inside the pass: no failed reconcile for the user to read about.
    assert_eq!(failure_events(&fleet, "example-run").await, Vec::new());
    fleet.stop().await;
}
