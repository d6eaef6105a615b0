//! Override kinds on the embedded hub (placement-extras §1.1, §1.3): served in KubeFleet's three
//! versions, their CRD rules answered with the apiserver's 422, KubeFleet's validating webhook
//! with its 403 denial.

use app::fleet::{ClusterResourceOverride, ResourceOverride};
use hub::Hub;
use kube::api::{Api, DynamicObject, Patch, PatchParams, PostParams};
use kube::discovery::ApiResource;
use serde_json::{json, Value};

fn client() -> kube::Client {
    let hub = Hub::memory(server::fleet_kinds::registry());
    kube::Client::new(hub.router(), "default")
}

fn cro(spec: Value) -> ClusterResourceOverride {
    serde_json::from_value(json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
        "kind": "ClusterResourceOverride",
        "metadata": {"name": "example-cro"},
        "spec": spec,
    }))
    .expect("a CRO")
}

fn good_spec() -> Value {
    json!({
        "clusterResourceSelectors": [{"group": "", "version": "v1", "kind": "Namespace", "name": "app"}],
        "policy": {"overrideRules": [
            {"clusterSelector": {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"env": "prod"}}}]},
             "jsonPatchOverrides": [{"op": "add", "path": "/metadata/labels/cluster", "value": "${MEMBER-CLUSTER-NAME}"}]},
            {"clusterSelector": {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"env": "test"}}}]},
             "overrideType": "Delete"}
        ]}
    })
}

fn status_of(err: kube::Error) -> (u16, String, String) {
    match err {
        kube::Error::Api(status) => (status.code, status.reason, status.message),
        other => panic!("expected a Status, got {other}"),
    }
}

#[tokio::test]
async fn an_override_is_stored_with_its_defaults_and_served_in_every_version() {
    let client = client();
    let api: Api<ClusterResourceOverride> = Api::all(client.clone());
    let created = api
        .create(&PostParams::default(), &cro(good_spec()))
        .await
        .expect("create");
    let rules = &created.spec.policy.override_rules;
    assert_eq!(
        rules[0].override_type,
        Some(app::fleet::overrides::override_spec::OverrideType::JSONPatch),
        "the CRD defaults overrideType"
    );
    for version in ["v1alpha1", "v1beta1", "v1"] {
        let resource = ApiResource {
            group: "placement.kubernetes-fleet.io".into(),
            version: version.into(),
            api_version: format!("placement.kubernetes-fleet.io/{version}"),
            kind: "ClusterResourceOverride".into(),
            plural: "clusterresourceoverrides".into(),
        };
        let dynamic: Api<DynamicObject> = Api::all_with(client.clone(), &resource);
        let got = dynamic.get("example-cro").await.expect("served");
        assert_eq!(
            got.data["spec"]["policy"]["overrideRules"][1]["overrideType"],
            "Delete"
        );
    }
}

#[tokio::test]
async fn the_webhook_denies_with_403_and_kubefleets_text() {
    let api: Api<ClusterResourceOverride> = Api::all(client());
    let mut spec = good_spec();
    spec["policy"]["overrideRules"][0]["jsonPatchOverrides"][0]["path"] = json!("/metadata/name");
    let (code, reason, message) = status_of(
        api.create(&PostParams::default(), &cro(spec))
            .await
            .expect_err("denied"),
    );
    assert_eq!((code, reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        message,
        "admission webhook \"fleet.clusterresourceoverride.validating\" denied the request: \
invalid JSONPatchOverride {add /metadata/name {\"${MEMBER-CLUSTER-NAME}\"}}: cannot override metadata fields except annotations and labels"
    );
}

#[tokio::test]
async fn the_schema_and_cel_rules_answer_422_before_the_webhook() {
    let api: Api<ClusterResourceOverride> = Api::all(client());
    let mut spec = good_spec();
    spec["placement"] = json!({"name": "rp", "scope": "Namespaced"});
    let (code, _, message) = status_of(
        api.create(&PostParams::default(), &cro(spec))
            .await
            .expect_err("invalid"),
    );
    assert_eq!(code, 422);
    assert!(
        message.contains("clusterResourceOverride placement reference cannot be Namespaced scope"),
        "{message}"
    );

    let mut spec = good_spec();
    spec["policy"]["overrideRules"] = json!([]);
    let (code, _, message) = status_of(
        api.create(&PostParams::default(), &cro(spec))
            .await
            .expect_err("invalid"),
    );
    assert_eq!(code, 422, "{message}");
    assert!(message.contains("spec.policy.overrideRules"), "{message}");
}

#[tokio::test]
async fn the_placement_reference_cannot_be_added_later() {
    let client = client();
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(client.clone());
    let ns = serde_json::from_value(json!({"metadata": {"name": "app"}})).expect("namespace");
    namespaces
        .create(&PostParams::default(), &ns)
        .await
        .expect("namespace");
    let api: Api<ResourceOverride> = Api::namespaced(client, "app");
    let ro: ResourceOverride = serde_json::from_value(json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1",
        "kind": "ResourceOverride",
        "metadata": {"name": "ro-1", "namespace": "app"},
        "spec": {
            "resourceSelectors": [{"group": "", "version": "v1", "kind": "ConfigMap", "name": "cm"}],
            "policy": {"overrideRules": [{"clusterSelector": {"clusterSelectorTerms": []}, "overrideType": "Delete"}]}
        }
    }))
    .expect("RO");
    api.create(&PostParams::default(), &ro)
        .await
        .expect("create");
    let patch = json!({"spec": {"placement": {"name": "rp", "scope": "Namespaced"}}});
    let (code, _, message) = status_of(
        api.patch("ro-1", &PatchParams::default(), &Patch::Merge(patch))
            .await
            .expect_err("immutable"),
    );
    assert_eq!(code, 422);
    assert!(
        message.contains("spec: Invalid value: \"object\": The placement field is immutable"),
        "{message}"
    );
}

#[tokio::test]
async fn a_resource_already_selected_by_another_override_is_denied() {
    let api: Api<ClusterResourceOverride> = Api::all(client());
    api.create(&PostParams::default(), &cro(good_spec()))
        .await
        .expect("the first");
    // Updating the first one is fine: it is not "another" override.
    let patch = json!({"spec": {"policy": {"overrideRules": [{"clusterSelector": {"clusterSelectorTerms": []}, "overrideType": "Delete"}]}}});
    api.patch("example-cro", &PatchParams::default(), &Patch::Merge(patch))
        .await
        .expect("an update of the same override");
    let mut second = cro(good_spec());
    second.metadata.name = Some("second-cro".into());
    let (code, _, message) = status_of(
        api.create(&PostParams::default(), &second)
            .await
            .expect_err("denied"),
    );
    assert_eq!(code, 403);
    assert_eq!(
        message,
        "admission webhook \"fleet.clusterresourceoverride.validating\" denied the request: \
invalid resource selector {Group: Version:v1 Kind:Namespace Name:app LabelSelector:<nil> SelectionScope:NamespaceWithResources}: \
the resource has been selected by both second-cro and example-cro, which is not supported"
    );
}
