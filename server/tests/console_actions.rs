//! The console's actions, driven through the router as the browser posts them, against an
//! in-memory hub: what each writes to the hub (exactly what kubectl would), the audit Event that
//! names who acted, and the message a person gets when an action no longer applies.

use app::fleet::staged::approval::ApprovalRequestSpec;
use app::fleet::staged::staged_update_run::{StagedUpdateRunSpec, UpdateRunState};
use app::fleet::types::event::ACTOR_ANNOTATION;
use app::fleet::{ClusterApprovalRequest, ClusterStagedUpdateRun};
use app::live::Topics;
use axum::http::StatusCode;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams, PostParams};
use server::web::AppState;

mod signin_support;

fn hub() -> kube::Client {
    kube::Client::new(
        hub::Hub::memory(server::fleet_kinds::registry()).router(),
        "default",
    )
}

/// Posts a server function's form as the page does (same origin), signed in as `ops`
/// (fleetdeck-admin; who may do what is console_signin.rs' subject).
async fn post(state: &AppState, path: &str, form: &str) -> (StatusCode, String) {
    let cookie = signin_support::ops_cookie(state).await;
    signin_support::post_form(state, Some(&cookie), path, form).await
}

async fn console_events(client: &kube::Client, name: &str) -> Vec<Event> {
    Api::<Event>::namespaced(client.clone(), "default")
        .list(&ListParams::default().fields(&format!("involvedObject.name={name}")))
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| {
            e.metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.contains_key(ACTOR_ANNOTATION))
        })
        .collect()
}

#[tokio::test]
async fn approve_writes_approved_at_the_current_generation_and_names_the_approver() {
    let client = hub();
    let api = Api::<ClusterApprovalRequest>::all(client.clone());
    let request = ClusterApprovalRequest::new(
        "example-run-before-canary",
        ApprovalRequestSpec {
            parent_stage_rollout: "example-run".into(),
            target_stage: "canary".into(),
        },
    );
    let created = api
        .create(&PostParams::default(), &request)
        .await
        .expect("create");
    let generation = created.generation();
    let st = AppState::in_process(&client, Topics::default());

    let (status, body) = post(
        &st,
        "/api/approvals/approve",
        "namespace=&name=example-run-before-canary&comment=canary+looks+good",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let approved = api
        .get_status("example-run-before-canary")
        .await
        .expect("get");
    let conditions = approved
        .status
        .and_then(|s| s.conditions)
        .unwrap_or_default();
    let cond = conditions
        .iter()
        .find(|c| c.type_ == "Approved")
        .expect("Approved condition");
    assert_eq!(cond.status, "True");
    assert_eq!(cond.observed_generation, Some(generation));
    assert_eq!(cond.message, "Approved by ops: canary looks good");
    // The approver on the request itself, for kubectl readers.
    let annotations = approved.metadata.annotations.unwrap_or_default();
    assert_eq!(
        annotations
            .get("fleetdeck.dev/approved-by")
            .map(String::as_str),
        Some("ops")
    );

    // The audit trail: on the request and on its run, naming the approver.
    for object in ["example-run-before-canary", "example-run"] {
        let events = console_events(&client, object).await;
        assert_eq!(events.len(), 1, "one console event on {object}");
        assert_eq!(events[0].reason.as_deref(), Some("Approved"));
        assert!(events[0]
            .message
            .as_deref()
            .unwrap_or_default()
            .starts_with("ops approved"));
    }

    // A second approval (another tab, a stale page) is refused with a reason, not a silent no-op.
    let (status, body) = post(
        &st,
        "/api/approvals/approve",
        "namespace=&name=example-run-before-canary&comment=",
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.contains("already approved (Approved by ops: canary looks good)"),
        "{body}"
    );

    let (status, body) = post(
        &st,
        "/api/approvals/approve",
        "namespace=&name=gone&comment=",
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(
        body.contains("approval request gone does not exist on the hub"),
        "{body}"
    );
}

#[tokio::test]
async fn start_stop_and_resume_write_spec_state_and_refuse_what_no_longer_applies() {
    let client = hub();
    let runs = Api::<ClusterStagedUpdateRun>::all(client.clone());
    let run = ClusterStagedUpdateRun::new(
        "example-run",
        StagedUpdateRunSpec {
            placement_name: "example-placement".into(),
            staged_rollout_strategy_name: "example-strategy".into(),
            state: Some(UpdateRunState::Initialize),
            ..Default::default()
        },
    );
    runs.create(&PostParams::default(), &run)
        .await
        .expect("create");
    let st = AppState::in_process(&client, Topics::default());
    let set = |action: &str| format!("key[namespace]=&key[name]=example-run&action={action}");

    for (action, state) in [
        ("Start", UpdateRunState::Run),
        ("Stop", UpdateRunState::Stop),
        ("Resume", UpdateRunState::Run),
    ] {
        let (status, body) = post(&st, "/api/runs/set_state", &set(action)).await;
        assert_eq!(status, StatusCode::OK, "{action}: {body}");
        assert_eq!(
            runs.get("example-run").await.expect("run").spec.state,
            Some(state),
            "{action}"
        );
    }
    let (status, body) = post(&st, "/api/runs/set_state", &set("Start")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("the run is already running"), "{body}");

    let reasons: Vec<String> = console_events(&client, "example-run")
        .await
        .into_iter()
        .filter_map(|e| e.reason)
        .collect();
    let mut sorted = reasons.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        ["ResumeRequested", "StartRequested", "StopRequested"]
    );

    let (status, body) = post(
        &st,
        "/api/runs/delete",
        "key[namespace]=&key[name]=example-run",
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(
        runs.get_opt("example-run").await.expect("get").is_none(),
        "deleted"
    );
}
