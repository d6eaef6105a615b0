//! The override controllers (placement-extras §1.4; KubeFleet's `clusterresourceoverride-controller`
//! and `resourceoverride-controller`): every change of a ClusterResourceOverride or
//! ResourceOverride becomes a new snapshot `<name>-<index>` labelled latest, at most ten kept, and
//! a deleted override takes its snapshots with it. What to write is decided by
//! `app::fleet::overrides::override_snapshot`.

use std::sync::Arc;
use std::time::Duration;

use app::fleet::overrides::matching::{CroSnapshot, RoSnapshot};
use app::fleet::overrides::override_snapshot::{
    override_hash, plan, snapshot_labels, ExistingSnapshot, OVERRIDE_CLEANUP_FINALIZER,
    PARENT_RESOURCE_OVERRIDE_LABEL,
};
use app::fleet::overrides::override_spec::{
    ClusterResourceOverrideSnapshotSpec, ClusterResourceOverrideSpec, ResourceOverrideSnapshotSpec,
    ResourceOverrideSpec,
};
use app::fleet::staged::run::views::OverrideInputs;
use app::fleet::types::kind;
use app::fleet::types::names::IS_LATEST_SNAPSHOT_LABEL;
use app::fleet::types::object::NoStatus;
use app::fleet::{FleetKind, Object};
use futures::StreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};
use k8s_openapi::ByteString;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::controller::{Action, Controller};
use kube::{Api, Resource};
use serde_json::json;

use super::{Context, Error, Result};
use crate::informers::Informers;
use crate::scope::{api, ApiScope};

/// An override kind and its snapshot kind.
trait OverrideKind: FleetKind<Status = NoStatus, KubeScope: ApiScope> {
    type Snapshot: FleetKind<Status = NoStatus, KubeScope: ApiScope>;
    fn snapshot_spec(spec: &Self::Spec, hash: &str) -> <Self::Snapshot as FleetKind>::Spec;
    fn snapshot_hash(spec: &<Self::Snapshot as FleetKind>::Spec) -> String;
}

impl OverrideKind for kind::ClusterResourceOverride {
    type Snapshot = kind::ClusterResourceOverrideSnapshot;
    fn snapshot_spec(
        spec: &ClusterResourceOverrideSpec,
        hash: &str,
    ) -> ClusterResourceOverrideSnapshotSpec {
        ClusterResourceOverrideSnapshotSpec {
            override_spec: spec.clone(),
            override_hash: ByteString(hash.as_bytes().to_vec()),
        }
    }
    fn snapshot_hash(spec: &ClusterResourceOverrideSnapshotSpec) -> String {
        String::from_utf8_lossy(&spec.override_hash.0).into_owned()
    }
}

impl OverrideKind for kind::ResourceOverride {
    type Snapshot = kind::ResourceOverrideSnapshot;
    fn snapshot_spec(spec: &ResourceOverrideSpec, hash: &str) -> ResourceOverrideSnapshotSpec {
        ResourceOverrideSnapshotSpec {
            override_spec: spec.clone(),
            override_hash: ByteString(hash.as_bytes().to_vec()),
        }
    }
    fn snapshot_hash(spec: &ResourceOverrideSnapshotSpec) -> String {
        String::from_utf8_lossy(&spec.override_hash.0).into_owned()
    }
}

/// Runs both controllers until their streams end.
pub async fn run(ctx: Arc<Context>, informers: Informers) {
    tokio::join!(
        run_kind::<kind::ClusterResourceOverride>(ctx.clone(), &informers),
        run_kind::<kind::ResourceOverride>(ctx, &informers),
    );
}

async fn run_kind<K: OverrideKind>(ctx: Arc<Context>, informers: &Informers)
where
    Object<K>: crate::informers::Followed,
{
    let overrides = informers.of::<Object<K>>();
    Controller::for_shared_stream(overrides.applied(), overrides.store())
        .run(reconcile::<K>, error_policy::<K>, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "override reconcile");
            }
        })
        .await;
}

fn error_policy<K: OverrideKind>(_: Arc<Object<K>>, error: &Error, ctx: Arc<Context>) -> Action {
    tracing::info!(%error, kind = K::KIND, "override reconcile failed; retrying");
    Action::requeue(ctx.config.error_backoff.max(Duration::from_millis(100)))
}

async fn reconcile<K: OverrideKind>(o: Arc<Object<K>>, ctx: Arc<Context>) -> Result<Action> {
    let client = &ctx.client;
    let ns = o.metadata.namespace.as_deref();
    let name = o.name().to_string();
    let overrides = api::<K>(client, ns);
    let snapshots = api::<K::Snapshot>(client, ns);
    let of_override =
        ListParams::default().labels(&format!("{PARENT_RESOURCE_OVERRIDE_LABEL}={name}"));
    let finalizers = o.metadata.finalizers.clone().unwrap_or_default();
    let has_finalizer = finalizers.iter().any(|f| f == OVERRIDE_CLEANUP_FINALIZER);
    if o.metadata.deletion_timestamp.is_some() {
        if has_finalizer {
            for s in snapshots.list(&of_override).await?.items {
                ignore_not_found(snapshots.delete(s.name(), &DeleteParams::default()).await)?;
            }
            let rest: Vec<String> = finalizers
                .into_iter()
                .filter(|f| f != OVERRIDE_CLEANUP_FINALIZER)
                .collect();
            set_finalizers(&overrides, &name, rest).await?;
        }
        return Ok(Action::await_change());
    }
    if !has_finalizer {
        let mut all = finalizers;
        all.push(OVERRIDE_CLEANUP_FINALIZER.to_string());
        set_finalizers(&overrides, &name, all).await?;
    }
    let hash = override_hash(&o.spec);
    let existing: Vec<ExistingSnapshot> = snapshots
        .list(&of_override)
        .await?
        .items
        .iter()
        .map(|s| ExistingSnapshot {
            name: s.name().to_string(),
            labels: s.labels().clone(),
            hash: K::snapshot_hash(&s.spec),
        })
        .collect();
    let plan = plan(&name, &hash, &existing).map_err(|e| Error::InvalidObject(e.to_string()))?;
    for old in &plan.delete {
        ignore_not_found(snapshots.delete(old, &DeleteParams::default()).await)?;
    }
    for (target, latest) in plan
        .unmark_latest
        .iter()
        .map(|n| (n, "false"))
        .chain(plan.mark_latest.iter().map(|n| (n, "true")))
    {
        let patch = json!({"metadata": {"labels": {IS_LATEST_SNAPSHOT_LABEL: latest}}});
        snapshots
            .patch(target, &PatchParams::default(), &Patch::Merge(&patch))
            .await?;
    }
    if let Some((snapshot_name, index)) = plan.create {
        let owner = OwnerReference {
            api_version: K::api_version(),
            kind: K::KIND.to_string(),
            name: name.clone(),
            uid: o.meta().uid.clone().unwrap_or_default(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        };
        let snapshot = Object::<K::Snapshot> {
            api_version: <K::Snapshot as FleetKind>::api_version(),
            kind: <K::Snapshot as FleetKind>::KIND.to_string(),
            metadata: ObjectMeta {
                name: Some(snapshot_name),
                namespace: ns.map(str::to_string),
                labels: Some(snapshot_labels(&name, index)),
                owner_references: Some(vec![owner]),
                ..ObjectMeta::default()
            },
            spec: K::snapshot_spec(&o.spec, &hash),
            status: None,
        };
        match snapshots.create(&PostParams::default(), &snapshot).await {
            Ok(_) => {}
            // Written by an earlier pass that failed after the create: the next pass sees it.
            Err(kube::Error::Api(s)) if s.code == 409 => {
                return Ok(Action::requeue(Duration::from_millis(100)))
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Action::await_change())
}

fn ignore_not_found<T>(result: kube::Result<T>) -> Result<()> {
    match result {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

async fn set_finalizers<K: OverrideKind>(
    api: &Api<Object<K>>,
    name: &str,
    finalizers: Vec<String>,
) -> Result<()> {
    let patch = json!({"metadata": {"finalizers": finalizers}});
    api.patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await?;
    Ok(())
}

/// The hub's latest override snapshots, all namespaces (placement-extras §1.5 step 1).
pub async fn latest_snapshots(client: &kube::Client) -> Result<OverrideInputs> {
    let latest = ListParams::default().labels(&format!("{IS_LATEST_SNAPSHOT_LABEL}=true"));
    let cros = Api::<app::fleet::ClusterResourceOverrideSnapshot>::all(client.clone())
        .list(&latest)
        .await?;
    let ros = Api::<app::fleet::ResourceOverrideSnapshot>::all(client.clone())
        .list(&latest)
        .await?;
    Ok(OverrideInputs {
        cluster_resource_overrides: cros
            .items
            .into_iter()
            .map(|s| CroSnapshot {
                name: s.name().to_string(),
                spec: s.spec,
            })
            .collect(),
        resource_overrides: ros
            .items
            .into_iter()
            .map(|s| RoSnapshot {
                name: s.name().to_string(),
                namespace: s.metadata.namespace.clone().unwrap_or_default(),
                spec: s.spec,
            })
            .collect(),
        resources: Default::default(),
    })
}
