//! Leader election on the embedded hub is exclusive (issue 18): two kube-lease-manager contenders
//! that both saw a free Lease race to take it with server-side apply; the hub's field ownership
//! makes the second apply a 409 conflict, so the second never believes it holds the lease.
//!
//! The race is forced, not hoped for: each contender's client goes through a gate that holds
//! every apply until both contenders have sent theirs (so both read the lease while it was
//! free), and the second apply until the first contender has read back what it wrote — the
//! interleaving in which a last-writer-wins hub let both believe they held it.

mod common;

use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{Method, Request};
use k8s_openapi::api::coordination::v1::Lease;
use kube::api::Api;
use kube_lease_manager::LeaseManagerBuilder;
use tokio::sync::Notify;
use tower::ServiceExt;

const LEASE: &str = "/apis/coordination.k8s.io/v1/namespaces/default/leases/engine";

#[derive(Default)]
struct Race {
    armed: bool,
    /// Each contender's apply has reached the gate.
    applying: [bool; 2],
    first_applier: Option<usize>,
    first_read_back: bool,
    /// The second contender's apply got its answer, and it read the lease after that.
    second_answered: Option<u16>,
    second_read_after: bool,
}

struct Gate {
    race: Mutex<Race>,
    changed: Notify,
}

impl Gate {
    fn with<R>(&self, f: impl FnOnce(&mut Race) -> R) -> R {
        let r = f(&mut self.race.lock().expect("race lock"));
        self.changed.notify_waiters();
        r
    }

    async fn wait(&self, until: impl Fn(&Race) -> bool) {
        loop {
            let changed = self.changed.notified();
            if until(&self.race.lock().expect("race lock")) {
                return;
            }
            changed.await;
        }
    }
}

/// A client of `hub` for contender `me`, through the gate.
fn contender_client(hub: &hub::Hub, gate: Arc<Gate>, me: usize) -> kube::Client {
    let router = hub.router();
    let svc = tower::service_fn(move |req: Request<kube::client::Body>| {
        let (router, gate) = (router.clone(), gate.clone());
        async move {
            let on_lease = req.uri().path() == LEASE;
            let is_apply = req.method() == Method::PATCH
                && req
                    .headers()
                    .get("content-type")
                    .is_some_and(|c| c.as_bytes().starts_with(b"application/apply-patch"));
            let armed = gate.with(|r| r.armed);
            let mut second = false;
            if armed && on_lease && is_apply {
                gate.with(|r| r.applying[me] = true);
                gate.wait(|r| r.applying[0] && r.applying[1]).await;
                second = gate.with(|r| match r.first_applier {
                    None => {
                        r.first_applier = Some(me);
                        false
                    }
                    Some(_) => true,
                });
                if second {
                    gate.wait(|r| r.first_read_back).await;
                }
            }
            let is_get = req.method() == Method::GET;
            let resp = router.oneshot(req).await?;
            if armed && on_lease {
                let code = resp.status().as_u16();
                gate.with(|r| {
                    if second {
                        r.second_answered = Some(code);
                    } else if is_get {
                        if r.first_applier == Some(me) {
                            r.first_read_back = true;
                        } else if r.second_answered.is_some() {
                            r.second_read_after = true;
                        }
                    }
                });
            }
            Ok::<_, Infallible>(resp)
        }
    });
    kube::Client::new(svc, "default")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_contenders_for_a_free_lease_never_both_hold_it() {
    let hub = common::memory_hub();
    let gate = Arc::new(Gate {
        race: Mutex::new(Race::default()),
        changed: Notify::new(),
    });
    let mut managers = Vec::new();
    for me in 0..2 {
        let client = contender_client(&hub, gate.clone(), me);
        let manager = LeaseManagerBuilder::new(client, "engine")
            .with_namespace("default")
            .with_identity(format!("replica-{me}"))
            // Long enough that nobody renews or expires while the test looks.
            .with_duration(60)
            .with_grace(10)
            .build()
            .await
            .expect("a lease manager");
        managers.push(manager);
    }
    gate.with(|r| r.armed = true);
    let mut held = Vec::new();
    for m in managers {
        held.push(m.watch().await.0);
    }

    // Wait for the race to play out: the first contender took the lease, the second's apply
    // was answered and it has read the lease since.
    gate.wait(|r| r.second_read_after).await;
    let (first, code) = gate.with(|r| (r.first_applier, r.second_answered));
    let first = first.expect("someone applied first");
    let second = 1 - first;
    assert_eq!(code, Some(409), "the second apply conflicts");
    let mut winner = held[first].clone();
    winner
        .wait_for(|h| *h)
        .await
        .expect("the first contender holds the lease");

    // The second contender must not come to believe it holds the lease too. Its campaign
    // publishes right after reading the lease; give it that chance, then look.
    let mut loser = held[second].clone();
    let believed = tokio::time::timeout(Duration::from_millis(500), loser.wait_for(|h| *h)).await;
    assert!(
        believed.is_err(),
        "replica-{second} believes it holds the lease while replica-{first} does"
    );
    assert!(*held[first].borrow());
    let leases: Api<Lease> = Api::default_namespaced(common::client(&hub));
    let lease = leases.get("engine").await.expect("the lease");
    assert_eq!(
        lease.spec.and_then(|s| s.holder_identity).as_deref(),
        Some(format!("replica-{first}").as_str())
    );
}
