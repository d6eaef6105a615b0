//! Resource snapshots on the hub (spec §10.1): list the placement's snapshot groups, ask
//! `app::fleet::placement::snapshot_group::plan` what to do, and do it. Used by the placement controller
//! (RollingUpdate placements) and by update runs without a `resourceSnapshotIndex`.

use std::collections::BTreeMap;

use app::fleet::placement::snapshot::ResourceSnapshotSpec;
use app::fleet::placement::snapshot_group::{plan, ExistingSnapshot, NewSnapshot, SnapshotPlan};
use app::fleet::types::merge_patch::{MetadataOnly, MetadataPatch};
use app::fleet::types::names::{
    IS_LATEST_SNAPSHOT_LABEL, NUMBER_OF_ENVELOPED_OBJECTS_ANNOTATION,
    NUMBER_OF_RESOURCE_SNAPSHOTS_ANNOTATION, PARENT_PLACEMENT_LABEL, RESOURCE_HASH_ANNOTATION,
    RESOURCE_INDEX_LABEL, SUBINDEX_OF_RESOURCE_SNAPSHOT_ANNOTATION,
};
use app::fleet::{FleetKind, Object};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::Value;

use crate::scope::{self, ApiScope};

/// The placement that owns the snapshots.
pub use app::fleet::placement::placement_ref::PlacementRef;

/// Makes the latest snapshot group of `placement` hold `resources` and returns the plan that was
/// carried out (its `index` and `master_name` are what to roll out). `S` is the snapshot kind:
/// ClusterResourceSnapshot for a ClusterResourcePlacement, ResourceSnapshot for a ResourcePlacement.
pub async fn get_or_create<S>(
    client: &kube::Client,
    placement: &PlacementRef,
    resources: &[Value],
    history_limit: u32,
) -> Result<SnapshotPlan, kube::Error>
where
    S: FleetKind<Spec = ResourceSnapshotSpec, KubeScope: ApiScope>,
{
    let api: Api<Object<S>> = scope::api::<S>(client, placement.namespace.as_deref());
    let existing: Vec<ExistingSnapshot> = api
        .list(
            &ListParams::default().labels(&format!("{PARENT_PLACEMENT_LABEL}={}", placement.name)),
        )
        .await?
        .items
        .iter()
        .filter_map(existing)
        .collect();
    let plan = plan(&placement.name, &existing, resources, history_limit);

    for name in &plan.unmark_latest {
        set_latest(&api, name, false).await?;
    }
    for new in &plan.create {
        let object = snapshot_object::<S>(placement, &plan, new);
        match api.create(&PostParams::default(), &object).await {
            Ok(_) => {}
            // Another writer got there first (a run and the placement controller): same content.
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    // Spec §10.1 step 3: make sure the master says it is the latest — a write only when it does
    // not already (a new master is created saying so).
    let labelled = plan.create.iter().any(|n| n.name == plan.mark_latest)
        || existing
            .iter()
            .any(|s| s.name == plan.mark_latest && s.is_latest == Some(true));
    if !labelled {
        set_latest(&api, &plan.mark_latest, true).await?;
    }
    for name in &plan.delete {
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(plan)
}

fn existing<S: FleetKind>(object: &Object<S>) -> Option<ExistingSnapshot> {
    let meta: &ObjectMeta = &object.metadata;
    // No labels means no index label: `None` below (not a snapshot of this placement's group).
    let labels = meta.labels.clone().unwrap_or_default();
    let annotations = meta.annotations.clone().unwrap_or_default();
    Some(ExistingSnapshot {
        name: meta.name.clone()?,
        index: labels.get(RESOURCE_INDEX_LABEL)?.parse().ok()?,
        is_latest: labels.get(IS_LATEST_SNAPSHOT_LABEL).map(|v| v == "true"),
        hash: annotations.get(RESOURCE_HASH_ANNOTATION).cloned(),
        group_size: annotations
            .get(NUMBER_OF_RESOURCE_SNAPSHOTS_ANNOTATION)
            .and_then(|v| v.parse().ok()),
        sub_index: annotations
            .get(SUBINDEX_OF_RESOURCE_SNAPSHOT_ANNOTATION)
            .and_then(|v| v.parse().ok()),
    })
}

async fn set_latest<K>(api: &Api<K>, name: &str, latest: bool) -> Result<(), kube::Error>
where
    K: kube::Resource<DynamicType = ()> + Clone + std::fmt::Debug + serde::de::DeserializeOwned,
{
    let patch = MetadataOnly::from(MetadataPatch::is_latest(latest));
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .map(|_| ())
}

/// The snapshot object for one entry of the plan (labels, annotations and owner as spec §4.1).
fn snapshot_object<S: FleetKind<Spec = ResourceSnapshotSpec>>(
    placement: &PlacementRef,
    plan: &SnapshotPlan,
    new: &NewSnapshot,
) -> Object<S> {
    let mut labels = BTreeMap::from([
        (PARENT_PLACEMENT_LABEL.to_string(), placement.name.clone()),
        (RESOURCE_INDEX_LABEL.to_string(), new.index.to_string()),
    ]);
    let mut annotations = BTreeMap::new();
    match new.sub_index {
        None => {
            labels.insert(IS_LATEST_SNAPSHOT_LABEL.into(), "true".into());
            annotations.insert(RESOURCE_HASH_ANNOTATION.to_string(), plan.hash.clone());
            annotations.insert(
                NUMBER_OF_RESOURCE_SNAPSHOTS_ANNOTATION.to_string(),
                plan.group_size.to_string(),
            );
            annotations.insert(
                NUMBER_OF_ENVELOPED_OBJECTS_ANNOTATION.to_string(),
                "0".into(),
            );
        }
        Some(k) => {
            annotations.insert(
                SUBINDEX_OF_RESOURCE_SNAPSHOT_ANNOTATION.to_string(),
                k.to_string(),
            );
        }
    }
    Object {
        api_version: S::api_version(),
        kind: S::KIND.to_string(),
        metadata: ObjectMeta {
            name: Some(new.name.clone()),
            namespace: placement.namespace.clone(),
            labels: Some(labels),
            annotations: Some(annotations),
            owner_references: Some(vec![placement.owner_reference()]),
            ..ObjectMeta::default()
        },
        spec: ResourceSnapshotSpec {
            selected_resources: new.resources.clone(),
        },
        status: None,
    }
}
