//! The fleet kinds on the embedded hub: registered from the generated CRDs, admitted by the
//! model's validation, and usable through kube-rs with the model's typed objects.

use app::fleet::{ClusterStagedUpdateRun, ClusterStagedUpdateStrategy};
use hub::Hub;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn client() -> kube::Client {
    let hub = Hub::memory(server::fleet_kinds::registry());
    kube::Client::new(hub.router(), "default")
}

fn strategy(stage_name: &str) -> ClusterStagedUpdateStrategy {
    serde_json::from_value(json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
        "kind": "ClusterStagedUpdateStrategy",
        "metadata": {"name": "example-strategy"},
        "spec": {"stages": [{"name": stage_name, "labelSelector": {"matchLabels": {"environment": "staging"}}}]}
    }))
    .expect("strategy")
}

fn invalid_message(err: kube::Error) -> String {
    match err {
        kube::Error::Api(status) => {
            assert_eq!(status.code, 422, "{status:?}");
            assert_eq!(status.reason, "Invalid");
            status.message
        }
        other => panic!("expected a 422 Status, got {other}"),
    }
}

#[tokio::test]
async fn a_strategy_is_admitted_by_the_model_and_read_back_typed() {
    let api: Api<ClusterStagedUpdateStrategy> = Api::all(client());
    let created = api
        .create(&PostParams::default(), &strategy("staging"))
        .await
        .expect("create");
    assert_eq!(created.spec.stages[0].name, "staging");
    let listed = api.list(&ListParams::default()).await.expect("list");
    assert_eq!(listed.items.len(), 1);
}

#[tokio::test]
async fn a_stage_name_breaking_the_pattern_is_rejected_with_the_apiservers_message() {
    let api: Api<ClusterStagedUpdateStrategy> = Api::all(client());
    let err = api
        .create(&PostParams::default(), &strategy("Dev"))
        .await
        .expect_err("rejected");
    let message = invalid_message(err);
    assert!(
        message.contains(r#"spec.stages[0].name: Invalid value: "Dev": spec.stages[0].name in body should match '^[a-z0-9]+$'"#),
        "{message}"
    );
    assert_eq!(
        message.matches("in body should match").count(),
        1,
        "reported once: {message}"
    );
    assert!(
        message.starts_with(r#"ClusterStagedUpdateStrategy.placement.kubernetes-fleet.io "example-strategy" is invalid"#),
        "{message}"
    );
}

#[tokio::test]
async fn a_run_cannot_go_back_from_run_to_initialize() {
    let api: Api<ClusterStagedUpdateRun> = Api::all(client());
    let run: ClusterStagedUpdateRun = serde_json::from_value(json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
        "kind": "ClusterStagedUpdateRun",
        "metadata": {"name": "example-run"},
        "spec": {"placementName": "example-placement", "stagedRolloutStrategyName": "example-strategy", "state": "Run"}
    }))
    .expect("run");
    api.create(&PostParams::default(), &run)
        .await
        .expect("create");
    let err = api
        .patch(
            "example-run",
            &PatchParams::default(),
            &Patch::Merge(json!({"spec": {"state": "Initialize"}})),
        )
        .await
        .expect_err("rejected");
    let message = invalid_message(err);
    assert!(
        message.contains("invalid state transition: cannot transition from Run to Initialize"),
        "{message}"
    );
}
