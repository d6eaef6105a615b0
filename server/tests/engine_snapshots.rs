//! Resource selection and snapshot groups against the in-process hub (spec §4.1, §10.1).

use app::fleet::types::kind;
use app::fleet::{ClusterResourcePlacement, ClusterResourceSnapshot};
use hub::Hub;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::ResourceExt;
use serde_json::json;
use server::engine::selection::Selector;
use server::engine::snapshots::{get_or_create, PlacementRef};

async fn fleet() -> kube::Client {
    kube::Client::new(
        Hub::memory(server::fleet_kinds::registry()).router(),
        "default",
    )
}

async fn seed_namespace(client: &kube::Client, value: &str) {
    let ns: Api<Namespace> = Api::all(client.clone());
    let _ = ns
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "test-namespace"}})).expect("ns"),
        )
        .await;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "test-namespace");
    let cm = json!({"metadata": {"name": "test-cm", "namespace": "test-namespace"}, "data": {"key": value}});
    if cms.get_opt("test-cm").await.expect("get").is_none() {
        cms.create(
            &PostParams::default(),
            &serde_json::from_value(cm).expect("cm"),
        )
        .await
        .expect("create cm");
    } else {
        cms.patch(
            "test-cm",
            &PatchParams::default(),
            &Patch::Merge(json!({"data": {"key": value}})),
        )
        .await
        .expect("patch cm");
    }
}

async fn placement(client: &kube::Client) -> (ClusterResourcePlacement, PlacementRef) {
    let api: Api<ClusterResourcePlacement> = Api::all(client.clone());
    let crp: ClusterResourcePlacement = serde_json::from_value(json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourcePlacement",
        "metadata": {"name": "example-placement"},
        "spec": {
            "resourceSelectors": [{"group": "", "kind": "Namespace", "name": "test-namespace", "version": "v1"}],
            "policy": {"placementType": "PickAll"},
            "strategy": {"type": "External"}
        }
    }))
    .expect("crp");
    let crp = api
        .create(&PostParams::default(), &crp)
        .await
        .expect("create crp");
    let reference = PlacementRef {
        api_version: "placement.kubernetes-fleet.io/v1beta1".into(),
        kind: "ClusterResourcePlacement".into(),
        name: crp.name_any(),
        namespace: None,
        uid: crp.uid().expect("uid"),
    };
    (crp, reference)
}

#[tokio::test(start_paused = true)]
async fn a_namespace_selection_takes_the_namespace_and_its_contents_cleaned() {
    let client = fleet().await;
    seed_namespace(&client, "value1").await;
    let (crp, _) = placement(&client).await;
    let selector = Selector::discover(client.clone()).await.expect("discovery");
    let selected = selector.select(&crp.spec, None).await.expect("select");
    let kinds: Vec<(&str, &str)> = selected
        .iter()
        .map(|o| {
            (
                o["kind"].as_str().unwrap_or_default(),
                o["metadata"]["name"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [("Namespace", "test-namespace"), ("ConfigMap", "test-cm")]
    );
    assert_eq!(selected[1]["data"]["key"], "value1");
    assert!(
        selected[1]["metadata"].get("uid").is_none()
            && selected[1]["metadata"].get("resourceVersion").is_none()
    );
}

#[tokio::test(start_paused = true)]
async fn snapshot_groups_follow_the_content() {
    let client = fleet().await;
    seed_namespace(&client, "value1").await;
    let (crp, reference) = placement(&client).await;
    let selector = Selector::discover(client.clone()).await.expect("discovery");
    let snapshots: Api<ClusterResourceSnapshot> = Api::all(client.clone());

    let first = get_or_create::<kind::ClusterResourceSnapshot>(
        &client,
        &reference,
        &selector.select(&crp.spec, None).await.expect("select"),
        10,
    )
    .await
    .expect("snapshot");
    assert_eq!(
        (first.index, first.master_name.as_str()),
        (0, "example-placement-0-snapshot")
    );
    let master = snapshots
        .get("example-placement-0-snapshot")
        .await
        .expect("master");
    let labels = master.labels();
    assert_eq!(labels["kubernetes-fleet.io/is-latest-snapshot"], "true");
    assert_eq!(
        labels["kubernetes-fleet.io/parent-CRP"],
        "example-placement"
    );
    assert_eq!(labels["kubernetes-fleet.io/resource-index"], "0");
    assert_eq!(
        master.annotations()["kubernetes-fleet.io/number-of-resource-snapshots"],
        "1"
    );
    assert_eq!(
        master.annotations()["kubernetes-fleet.io/resource-hash"].len(),
        64
    );
    assert_eq!(master.owner_references()[0].name, "example-placement");

    // Unchanged content: the same group.
    let again = get_or_create::<kind::ClusterResourceSnapshot>(
        &client,
        &reference,
        &selector.select(&crp.spec, None).await.expect("select"),
        10,
    )
    .await
    .expect("snapshot");
    assert_eq!(again.index, 0);

    // New content: index 1 becomes the latest.
    seed_namespace(&client, "value2").await;
    let second = get_or_create::<kind::ClusterResourceSnapshot>(
        &client,
        &reference,
        &selector.select(&crp.spec, None).await.expect("select"),
        10,
    )
    .await
    .expect("snapshot");
    assert_eq!(second.master_name, "example-placement-1-snapshot");
    let latest: Vec<String> = snapshots
        .list(&ListParams::default().labels("kubernetes-fleet.io/is-latest-snapshot=true"))
        .await
        .expect("list")
        .items
        .iter()
        .map(|s| s.name_any())
        .collect();
    assert_eq!(latest, ["example-placement-1-snapshot"]);
    let content = snapshots
        .get("example-placement-1-snapshot")
        .await
        .expect("get")
        .spec
        .selected_resources;
    assert_eq!(content[1]["data"]["key"], "value2");

    // Deleting the placement takes its snapshots along (owner references).
    let placements: Api<ClusterResourcePlacement> = Api::all(client.clone());
    placements
        .delete("example-placement", &DeleteParams::default())
        .await
        .expect("delete");
    assert!(snapshots
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .is_empty());
}
