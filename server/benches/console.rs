//! Run console bench (issue 15's bar: the run page's SSR under 50 ms p50 at 1,000 clusters).
//!
//! Builds the dashboard's router over an in-memory hub (no engine, no members), creates a
//! ClusterStagedUpdateRun whose status — written through the status subresource, as the engine
//! writes it — is a rollout in the middle: the first stages done (clusters Started and
//! Succeeded, a TimedWait elapsed, an approval accepted), the run waiting at an approval
//! (`Progressing=False`, `UpdateRunWaiting`), the later stages pending. Then it times, in-process
//! through the router (`tower::ServiceExt::oneshot`, the body read to its end):
//! - `GET /runs/<name>`: the whole server-rendered page,
//! - `POST /api/runs/get`: the `get_run` server function alone (what the page reloads live),
//! - `POST /api/runs/history`: the run's Events (the page's other server function),
//! - the hub read alone (`Api::get` of the run through kube's client), and
//! - `run_detail::detail` alone (the pure derivation of the page's view),
//!
//! each `FLEETDECK_CONSOLE_ROUNDS` times (default 100, after 5 unmeasured) for a run of 3 clusters
//! in 2 stages and one of 1,000 clusters in 5 stages, and prints p50/p95 and the response sizes.
//!
//! Run: `cargo bench -p server --bench console` (no timing is asserted anywhere).

mod support;

use app::fleet::staged::approval::ApprovalRequestSpec;
use app::fleet::staged::staged_update_run::{StagedUpdateRunSpec, UpdateRunState};
use app::fleet::types::condition::Time;
use app::fleet::types::names::TARGET_UPDATE_RUN_LABEL;
use app::fleet::views::run_detail::{self, ApprovalFacts};
use app::fleet::{ClusterApprovalRequest, ClusterStagedUpdateRun};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::ResourceExt;
use serde_json::{json, Value};
use support::{report, send, state, time};

const TIME: &str = "2026-12-05T10:00:00Z";

fn cond(type_: &str, status: &str, reason: &str, message: &str) -> Value {
    json!({"type": type_, "status": status, "reason": reason, "message": message,
           "observedGeneration": 1, "lastTransitionTime": TIME})
}

/// The shape of one run: `clusters` spread evenly over `stages`, each stage followed by a
/// TimedWait and an Approval; the first `done` stages finished, stage `done - 1`'s approval
/// waiting (the run's position), the rest pending.
struct Shape {
    name: &'static str,
    clusters: usize,
    stages: usize,
    done: usize,
}

fn stage_name(i: usize) -> String {
    format!("stage{i}")
}

fn strategy(shape: &Shape) -> Value {
    let stages: Vec<Value> = (0..shape.stages)
        .map(|i| {
            json!({"name": stage_name(i),
                   "labelSelector": {"matchLabels": {"stage": stage_name(i)}},
                   "sortingLabelKey": "order",
                   "maxConcurrency": "25%",
                   "afterStageTasks": [{"type": "TimedWait", "waitTime": "1m"}, {"type": "Approval"}]})
        })
        .collect();
    json!({"stages": stages})
}

fn approval_name(shape: &Shape, stage: usize) -> String {
    format!("{}-after-{}", shape.name, stage_name(stage))
}

fn status(shape: &Shape) -> Value {
    let per_stage = shape.clusters.div_ceil(shape.stages);
    let stages: Vec<Value> = (0..shape.stages)
        .map(|i| {
            let finished = i < shape.done;
            let last_done = i + 1 == shape.done;
            let first = i * per_stage;
            let last = ((i + 1) * per_stage).min(shape.clusters);
            let clusters: Vec<Value> = (first..last)
                .map(|c| {
                    let conditions = if finished {
                        vec![
                            cond("Started", "True", "ClusterUpdatingStarted", "Cluster update started"),
                            cond("Succeeded", "True", "ClusterUpdatingSucceeded", "Cluster update completed successfully"),
                        ]
                    } else {
                        vec![]
                    };
                    json!({"clusterName": format!("member-{c:05}"), "conditions": conditions})
                })
                .collect();
            let mut stage = json!({"stageName": stage_name(i), "clusters": clusters});
            if finished {
                let approval = if last_done {
                    vec![cond("ApprovalRequestCreated", "True", "StageTaskApprovalRequestCreated", "ApprovalRequest object is created")]
                } else {
                    vec![
                        cond("ApprovalRequestCreated", "True", "StageTaskApprovalRequestCreated", "ApprovalRequest object is created"),
                        cond("ApprovalRequestApproved", "True", "StageTaskApprovalRequestApproved", "ApprovalRequest object is approved"),
                    ]
                };
                stage["afterStageTaskStatus"] = json!([
                    {"type": "TimedWait", "conditions": [cond("WaitTimeElapsed", "True", "AfterStageTaskWaitTimeElapsed", "Wait time elapsed")]},
                    {"type": "Approval", "approvalRequestName": approval_name(shape, i), "conditions": approval},
                ]);
                stage["startTime"] = json!(TIME);
                stage["conditions"] = if last_done {
                    json!([cond("Progressing", "False", "StageUpdatingWaiting", "All clusters in the stage are updated, waiting for after-stage tasks to complete")])
                } else {
                    stage["endTime"] = json!(TIME);
                    json!([
                        cond("Progressing", "False", "StageUpdatingSucceeded", "All clusters in the stage are updated and after-stage tasks are completed"),
                        cond("Succeeded", "True", "StageUpdatingSucceeded", "Stage update completed successfully"),
                    ])
                };
            } else {
                stage["afterStageTaskStatus"] = json!([
                    {"type": "TimedWait"},
                    {"type": "Approval", "approvalRequestName": approval_name(shape, i)},
                ]);
            }
            stage
        })
        .collect();
    json!({
        "policySnapshotIndexUsed": "0",
        "policyObservedClusterCount": shape.clusters,
        "resourceSnapshotIndexUsed": "0",
        "appliedStrategy": {"type": "ClientSideApply", "comparisonOption": "PartialComparison", "whenToApply": "Always", "whenToTakeOver": "Always"},
        "stagedUpdateStrategySnapshot": strategy(shape),
        "stagesStatus": stages,
        "deletionStageStatus": {"stageName": "kubernetes-fleet.io/deleteStage", "clusters": []},
        "conditions": [
            cond("Initialized", "True", "UpdateRunInitializedSuccessfully", "The UpdateRun initialized successfully"),
            cond("Progressing", "False", "UpdateRunWaiting", "The update run is waiting for after-stage tasks to complete"),
        ],
    })
}

/// Creates the run, writes its status through the status subresource and creates the approval
/// request it waits for. Returns the status' size as the hub serves it.
async fn create(client: &kube::Client, shape: &Shape) -> usize {
    let runs = Api::<ClusterStagedUpdateRun>::all(client.clone());
    let run = ClusterStagedUpdateRun::new(
        shape.name,
        StagedUpdateRunSpec {
            placement_name: "bench-placement".into(),
            staged_rollout_strategy_name: "bench-strategy".into(),
            state: Some(UpdateRunState::Run),
            ..Default::default()
        },
    );
    runs.create(&PostParams::default(), &run)
        .await
        .expect("create the run");
    runs.patch_status(
        shape.name,
        &PatchParams::default(),
        &Patch::Merge(json!({"status": status(shape)})),
    )
    .await
    .expect("write the run's status");
    let waiting = shape.done - 1;
    let mut request = ClusterApprovalRequest::new(
        &approval_name(shape, waiting),
        ApprovalRequestSpec {
            parent_stage_rollout: shape.name.into(),
            target_stage: stage_name(waiting),
        },
    );
    request
        .labels_mut()
        .insert(TARGET_UPDATE_RUN_LABEL.into(), shape.name.into());
    Api::<ClusterApprovalRequest>::all(client.clone())
        .create(&PostParams::default(), &request)
        .await
        .expect("create the approval request");
    let written = Api::<ClusterStagedUpdateRun>::all(client.clone())
        .get_status(shape.name)
        .await
        .expect("read back");
    let stages = written
        .status
        .as_ref()
        .and_then(|s| s.stages_status.as_ref())
        .map(|s| s.iter().map(|s| s.clusters().len()).sum::<usize>())
        .unwrap_or_default();
    assert_eq!(stages, shape.clusters, "the hub kept every cluster");
    serde_json::to_vec(&written).expect("json").len()
}

fn page(name: &str) -> Request<Body> {
    Request::get(format!("/runs/{name}"))
        .header("host", "127.0.0.1:3000")
        .header("accept", "text/html")
        .body(Body::empty())
        .expect("request")
}

fn server_fn(path: &str, name: &str) -> Request<Body> {
    Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", "127.0.0.1:3000")
        .header("origin", "http://127.0.0.1:3000")
        .header("accept", "application/json")
        .body(Body::from(format!("key[namespace]=&key[name]={name}")))
        .expect("request")
}

#[tokio::main]
async fn main() {
    let rounds: usize = std::env::var("FLEETDECK_CONSOLE_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let client = kube::Client::new(
        hub::Hub::memory(server::fleet_kinds::registry()).router(),
        "default",
    );
    let app = support::signed_in_router(state(&client, app::live::Topics::default())).await;
    let shapes = [
        Shape {
            name: "run-3",
            clusters: 3,
            stages: 2,
            done: 1,
        },
        Shape {
            name: "run-1000",
            clusters: 1_000,
            stages: 5,
            done: 2,
        },
    ];
    println!(
        "{rounds} rounds each after {} unmeasured; sizes are the last response's",
        support::WARM_UP
    );
    for shape in &shapes {
        let status_bytes = create(&client, shape).await;
        println!(
            "{}: {} clusters in {} stages, waiting at {}'s approval; the run is {status_bytes} B of JSON",
            shape.name,
            shape.clusters,
            shape.stages,
            stage_name(shape.done - 1)
        );

        let ssr = time(rounds, || async {
            let (status, size, body) = send(&app, page(shape.name)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            size
        })
        .await;
        report(&format!("GET /runs/{} (SSR page)", shape.name), &ssr);

        let get = time(rounds, || async {
            let (status, size, body) = send(&app, server_fn("/api/runs/get", shape.name)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            size
        })
        .await;
        report("POST /api/runs/get (get_run)", &get);

        let history = time(rounds, || async {
            let (status, size, body) = send(&app, server_fn("/api/runs/history", shape.name)).await;
            assert_eq!(status, StatusCode::OK, "{body}");
            size
        })
        .await;
        report("POST /api/runs/history (run_history)", &history);

        let runs = Api::<ClusterStagedUpdateRun>::all(client.clone());
        let hub_read = time(rounds, || async {
            let run = runs.get(shape.name).await.expect("get");
            run.status
                .map(|s| s.stages_status.map_or(0, |s| s.len()))
                .unwrap_or_default()
        })
        .await;
        report(
            "  of which: hub read of the run (Api::get)",
            &(hub_read.0, 0),
        );

        let run = runs.get(shape.name).await.expect("get");
        let approvals = vec![ApprovalFacts {
            name: approval_name(shape, shape.done - 1),
            generation: 1,
            conditions: vec![],
        }];
        let now = Time(k8s_openapi::jiff::Timestamp::now());
        let derive = time(rounds, || async {
            let detail = run_detail::detail(&run, &approvals, &[], &now);
            detail.stages.len()
        })
        .await;
        report("  of which: run_detail::detail (pure)", &(derive.0, 0));
    }
}
