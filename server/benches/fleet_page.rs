//! Fleet page bench (issue 15: "the Fleet page stays usable at 200 and at 10,000 members").
//!
//! An in-memory hub with N MemberClusters registered as the embedded members register (labels,
//! region, a joined status), the dashboard's fleet view following them through the process's
//! shared watches, as `fleetdeck serve` runs it. Then, in-process through the router
//! (`tower::ServiceExt::oneshot`, the body read to its end), `FLEETDECK_FLEET_ROUNDS` times each
//! (default 100, after 5 unmeasured):
//! - `GET /fleet`: the whole server-rendered first page,
//! - `GET /fleet?labels=…&page=3`: a label-selector query on a later page,
//! - `POST /api/fleet/page`: the server function the page calls when the fleet changes.
//!
//! Run: `cargo bench -p server --bench fleet_page` (no timing is asserted anywhere).

mod support;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use app::live::Topics;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures::StreamExt;
use server::informers::Informers;
use server::members::registration::register;
use server::members::MemberConfig;
use support::{report, send, state, time};
use tokio_util::sync::CancellationToken;

fn member(i: usize) -> MemberConfig {
    let env = ["prod", "staging", "canary"][i % 3];
    MemberConfig {
        name: format!("member-{i:05}"),
        labels: BTreeMap::from([
            ("environment".to_string(), env.to_string()),
            ("ring".to_string(), (i % 10).to_string()),
        ]),
        region: Some(["eastus", "westeurope"][i % 2].into()),
        lightweight: true,
        cluster: Default::default(),
    }
}

fn get(path: &str) -> Request<Body> {
    Request::get(path)
        .header("host", "127.0.0.1:3000")
        .header("accept", "text/html")
        .body(Body::empty())
        .expect("request")
}

fn page_fn(labels: &str, page: usize) -> Request<Body> {
    Request::post("/api/fleet/page")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", "127.0.0.1:3000")
        .header("origin", "http://127.0.0.1:3000")
        .header("accept", "application/json")
        .body(Body::from(format!(
            "query[labels]={labels}&query[page]={page}"
        )))
        .expect("request")
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("FLEETDECK_FLEET_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    println!(
        "{rounds} rounds each after {} unmeasured; sizes are the last response's",
        support::WARM_UP
    );
    for size in [200usize, 10_000] {
        let client = kube::Client::new(
            hub::Hub::memory(server::fleet_kinds::registry()).router(),
            "default",
        );
        let started = Instant::now();
        futures::stream::iter(0..size)
            .for_each_concurrent(16, |i| {
                let client = client.clone();
                async move {
                    register(&client, &member(i), 3).await.expect("register");
                }
            })
            .await;
        let registered = started.elapsed();
        let topics = Topics::default();
        let shutdown = CancellationToken::new();
        tokio::spawn(server::web::fleet_view::run(
            Informers::new(client.clone()),
            topics.clone(),
            shutdown.clone(),
        ));
        // The view has every member once its rows are published.
        let followed = Instant::now();
        loop {
            if let Some(rows) = topics.members(Duration::from_secs(1)).await {
                if rows.len() == size {
                    break;
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        println!(
            "{size} members: registered in {:.1} s, the fleet view had them {:.2} s later",
            registered.as_secs_f64(),
            followed.elapsed().as_secs_f64()
        );
        let app = support::signed_in_router(state(&client, topics)).await;

        let first = time(rounds, || async {
            let (status, bytes, body) = send(&app, get("/fleet")).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            bytes
        })
        .await;
        report("GET /fleet (SSR, first page)", &first);

        let filtered = time(rounds, || async {
            let (status, bytes, body) = send(
                &app,
                get("/fleet?labels=environment%3Dprod%2Cring%20in%20(1%2C2%2C3)&page=3"),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            bytes
        })
        .await;
        report("GET /fleet?labels=…&page=3 (SSR)", &filtered);

        let server_fn = time(rounds, || async {
            let (status, bytes, body) = send(&app, page_fn("environment%3Dprod", 2)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            bytes
        })
        .await;
        report("POST /api/fleet/page (get_fleet_page)", &server_fn);
        shutdown.cancel();
    }
}
