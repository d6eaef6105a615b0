//! The strategy editor's writes, driven through the router as the browser posts them, against an
//! in-memory hub: the hub's refusals come back by field and write nothing, a run's initialization
//! checks refuse what the hub accepts, an update is made against the version the edit started
//! from, and each write leaves an Event naming who acted.

use app::fleet::types::event::ACTOR_ANNOTATION;
use app::fleet::ClusterStagedUpdateStrategy;
use app::live::Topics;
use axum::http::StatusCode;
use k8s_openapi::api::core::v1::Event;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::{Api, ListParams, Patch, PatchParams};
use serde_json::Value;
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
async fn post(state: &AppState, path: &str, form: &str) -> (StatusCode, Value) {
    let cookie = signin_support::ops_cookie(state).await;
    let (status, body) = signin_support::post_form(state, Some(&cookie), path, form).await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// The form of a one-stage cluster-scoped strategy `s`, plus `extra` fields.
fn form(dry_run: bool, resource_version: &str, extra: &str) -> String {
    format!("dry_run={dry_run}&draft[name]=s&draft[resource_version]={resource_version}&draft[stages][0][name]=canary&draft[stages][0][selector]=environment=canary{extra}")
}

fn causes(body: &Value) -> Vec<(String, String)> {
    body["Rejected"]["causes"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            (
                c["field"].as_str().unwrap_or_default().to_string(),
                c["message"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

async fn reasons(client: &kube::Client) -> Vec<String> {
    Api::<Event>::namespaced(client.clone(), "default")
        .list(&ListParams::default().fields("involvedObject.name=s"))
        .await
        .expect("events")
        .items
        .into_iter()
        .filter(|e| {
            e.metadata
                .annotations
                .as_ref()
                .is_some_and(|a| a.get(ACTOR_ANNOTATION).map(String::as_str) == Some("ops"))
        })
        .filter_map(|e| e.reason)
        .collect()
}

#[tokio::test]
async fn the_hubs_refusals_come_back_by_field_and_nothing_is_written() {
    let client = hub();
    let state = AppState::in_process(&client, Topics::default());
    let (status, body) = post(
        &state,
        "/api/strategies/save",
        &form(false, "", "&draft[stages][0][max_concurrency]=0&draft[stages][1][name]=b&draft[stages][1][max_concurrency]=abc"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let causes = causes(&body);
    assert!(
        causes.contains(&(
            "spec.stages[0].maxConcurrency".into(),
            "Invalid value: \"\": maxConcurrency must be at least 1".into()
        )),
        "{causes:?}"
    );
    assert!(
        causes
            .iter()
            .any(|(f, m)| f == "spec.stages[1].maxConcurrency"
                && m.contains("should match '^(100|[1-9][0-9]?)%$'")),
        "{causes:?}"
    );
    let all = Api::<ClusterStagedUpdateStrategy>::all(client.clone())
        .list(&ListParams::default())
        .await
        .expect("list");
    assert!(
        all.items.is_empty(),
        "a refused save wrote {:?}",
        all.items.len()
    );
}

#[tokio::test]
async fn what_every_run_would_fail_on_is_refused_in_the_engines_words() {
    let client = hub();
    let state = AppState::in_process(&client, Topics::default());
    let (status, body) = post(
        &state,
        "/api/strategies/save",
        "dry_run=false&draft[name]=s&draft[stages][0][name]=canary&draft[stages][0][selector]=environment=-x&draft[stages][0][wait_after]=0s",
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let causes = causes(&body);
    let fields: Vec<&str> = causes.iter().map(|(f, _)| f.as_str()).collect();
    assert_eq!(
        fields,
        [
            "spec.stages[0].afterStageTasks",
            "spec.stages[0].labelSelector"
        ]
    );
    assert!(causes[1]
        .1
        .starts_with("the stage label selector is invalid, updateStrategy: `/s`, stage: canary, err: values[0]: Invalid value: \"-x\""));
    let got = Api::<ClusterStagedUpdateStrategy>::all(client.clone())
        .get_opt("s")
        .await
        .expect("get");
    assert!(got.is_none());
}

#[tokio::test]
async fn create_then_update_against_the_version_edited_and_delete_each_name_the_person() {
    let client = hub();
    let state = AppState::in_process(&client, Topics::default());
    let api = Api::<ClusterStagedUpdateStrategy>::all(client.clone());
    let (status, body) = post(&state, "/api/strategies/save", &form(false, "", "")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let created = api.get("s").await.expect("created");
    let version = created
        .metadata
        .resource_version
        .clone()
        .unwrap_or_default();
    assert_eq!(body["resource_version"], version.as_str());

    // kubectl labels it: the console's update keeps the label and replaces the stages.
    api.patch(
        "s",
        &PatchParams::default(),
        &Patch::Merge(serde_json::json!({"metadata": {"labels": {"team": "a"}}})),
    )
    .await
    .expect("label");
    let (status, body) = post(
        &state,
        "/api/strategies/save",
        &form(false, &version, "&draft[stages][0][max_concurrency]=2"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "an edit of an older version must not overwrite: {body}"
    );
    let current = api.get("s").await.expect("current");
    let version = current
        .metadata
        .resource_version
        .clone()
        .unwrap_or_default();
    let (status, body) = post(
        &state,
        "/api/strategies/save",
        &form(false, &version, "&draft[stages][0][max_concurrency]=2"),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let updated = api.get("s").await.expect("updated");
    assert_eq!(
        updated.spec.stages[0].max_concurrency,
        Some(IntOrString::Int(2))
    );
    assert_eq!(updated.labels().get("team").map(String::as_str), Some("a"));

    let (status, body) = post(&state, "/api/strategies/delete", "key[name]=s").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(api.get_opt("s").await.expect("get").is_none());
    assert_eq!(
        reasons(&client).await,
        [
            "CreatedFromConsole",
            "UpdatedFromConsole",
            "DeleteRequested"
        ]
    );
}
