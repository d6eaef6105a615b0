//! `?dryRun=All` answers as kube-apiserver's DryRunnableStorage does: a create comes back without
//! a resourceVersion, an update or patch with the one in storage, and nothing is stored.

mod common;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use serde_json::json;

fn cm(name: &str, value: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "metadata": {"name": name},
        "data": {"key": value},
    }))
    .unwrap()
}

#[tokio::test]
async fn dry_runs_keep_the_stored_resource_version() {
    let hub = common::memory_hub();
    let cms: Api<ConfigMap> = Api::namespaced(common::client(&hub), "default");
    let dry = PostParams {
        dry_run: true,
        ..Default::default()
    };

    let created = cms.create(&dry, &cm("c", "v1")).await.unwrap();
    assert_eq!(created.metadata.resource_version, None);
    assert!(
        created.metadata.uid.is_some(),
        "defaults and uid still apply"
    );
    assert!(cms.get_opt("c").await.unwrap().is_none());

    let stored = cms
        .create(&PostParams::default(), &cm("c", "v1"))
        .await
        .unwrap();
    let rv = stored.metadata.resource_version.clone();
    let before = hub.resource_version();

    let patched = cms
        .patch(
            "c",
            &PatchParams::default().dry_run(),
            &Patch::Merge(json!({"data": {"key": "v2"}})),
        )
        .await
        .unwrap();
    assert_eq!(patched.metadata.resource_version, rv);
    assert_eq!(patched.data.unwrap()["key"], "v2");

    let mut replacement = stored.clone();
    replacement.data = Some([("key".to_string(), "v3".to_string())].into());
    let replaced = cms.replace("c", &dry, &replacement).await.unwrap();
    assert_eq!(replaced.metadata.resource_version, rv);

    // A built-in kind answers an immediate delete with a Status, dry or not.
    let deleted = cms
        .delete("c", &DeleteParams::default().dry_run())
        .await
        .unwrap();
    assert!(deleted.is_right(), "{deleted:?}");

    let now = cms.get("c").await.unwrap();
    assert_eq!(now.data.unwrap()["key"], "v1");
    assert_eq!(now.metadata.resource_version, rv);
    assert_eq!(hub.resource_version(), before, "no write happened");
}

#[tokio::test]
async fn a_dry_run_delete_in_the_body_deletes_nothing() {
    let hub = common::memory_hub();
    let runs = common::csurs(&common::client(&hub));
    let stored = runs
        .create(
            &PostParams::default(),
            &common::csur("r", json!({"placementName": "p"})),
        )
        .await
        .unwrap();
    // kube-rs sends `{"dryRun":["All"]}` as the DeleteOptions body, not as a query parameter.
    let answer = runs
        .delete("r", &DeleteParams::default().dry_run())
        .await
        .unwrap();
    let obj = answer
        .left()
        .expect("a custom kind answers with the object");
    assert_eq!(
        obj.metadata.resource_version,
        stored.metadata.resource_version
    );
    assert!(runs.get_opt("r").await.unwrap().is_some());
}
