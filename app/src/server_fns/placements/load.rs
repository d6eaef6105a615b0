//! The hub reads behind the Placements pages, shared by their server functions. Each reads what
//! it needs with label selectors (a placement's snapshots and bindings carry its name) and hands
//! the objects to the pure views in `fleet::placement_view` and `fleet::snapshot_history`.

use std::collections::{BTreeMap, BTreeSet};

use kube::api::{Api, ListParams};

use super::{
    DiffRequest, HistoryEntry, PlacementDetail, PlacementKey, PlannedStage, RollbackPlan,
    RollbackRequest, SnapshotDiff,
};
use crate::error::AppError;
use crate::fleet::placement::binding::{ResourceBindingSpec, ResourceBindingStatus};
use crate::fleet::placement::resource_placement::{PlacementSpec, PlacementStatus};
use crate::fleet::placement::snapshot::ResourceSnapshotSpec;
use crate::fleet::placement::snapshot_diff::{diff_resources, summary, DiffOptions};
use crate::fleet::placement::snapshot_history::{
    self, clusters_by_index, rollback_impact, Deployment, SnapshotChunk, SnapshotGroup,
};
use crate::fleet::staged::stage_plan::{plan_stages, ClusterLabels};
use crate::fleet::staged::staged_update::StagedUpdateStrategySpec;
use crate::fleet::staged::staged_update_run::StagedUpdateRunSpec;
use crate::fleet::types::names::{
    IS_LATEST_SNAPSHOT_LABEL, PARENT_PLACEMENT_LABEL, RESOURCE_INDEX_LABEL,
};
use crate::fleet::views::placement_view::{self, ClusterCell, PlacementRow};
use crate::fleet::{
    ClusterResourceBinding, ClusterResourcePlacement, ClusterResourceSnapshot,
    ClusterStagedUpdateRun, ClusterStagedUpdateStrategy, FleetKind, MemberCluster, Object,
    ResourceBinding, ResourcePlacement, ResourceSnapshot, StagedUpdateRun, StagedUpdateStrategy,
};
use crate::server_fns::ssr::explain;

const CRP: &str = "ClusterResourcePlacement";
const RP: &str = "ResourcePlacement";

/// Lists `K` across the hub, with an optional label selector.
async fn list<K>(
    client: &kube::Client,
    selector: Option<&str>,
    what: &str,
) -> Result<Vec<K>, AppError>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    fetch(Api::all(client.clone()), selector, what).await
}

/// Lists namespaced `K` in `namespace` (all namespaces when `None`).
async fn list_in<K>(
    client: &kube::Client,
    namespace: Option<&str>,
    selector: Option<&str>,
    what: &str,
) -> Result<Vec<K>, AppError>
where
    K: kube::Resource<DynamicType = (), Scope = kube::core::NamespaceResourceScope>
        + Clone
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let api = match namespace {
        Some(ns) => Api::namespaced(client.clone(), ns),
        None => Api::all(client.clone()),
    };
    fetch(api, selector, what).await
}

async fn fetch<K>(api: Api<K>, selector: Option<&str>, what: &str) -> Result<Vec<K>, AppError>
where
    K: kube::Resource<DynamicType = ()> + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    let mut params = ListParams::default();
    if let Some(s) = selector {
        params = params.labels(s);
    }
    Ok(api.list(&params).await.map_err(|e| explain(e, what))?.items)
}

fn parent(labels: &BTreeMap<String, String>) -> Option<&str> {
    labels.get(PARENT_PLACEMENT_LABEL).map(String::as_str)
}

fn index_label(labels: &BTreeMap<String, String>) -> Option<u64> {
    labels.get(RESOURCE_INDEX_LABEL)?.parse().ok()
}

/// The list page's rows (every placement) or just `only`'s.
pub async fn rows(
    client: &kube::Client,
    only: Option<&PlacementKey>,
) -> Result<Vec<PlacementRow>, AppError> {
    let latest = format!("{IS_LATEST_SNAPSHOT_LABEL}=true");
    let mut out = Vec::new();
    if only.is_none_or(|k| k.namespace().is_none()) {
        let selector = only.map(|k| format!("{PARENT_PLACEMENT_LABEL}={}", k.name));
        let placements: Vec<ClusterResourcePlacement> =
            list(client, None, "the cluster resource placements").await?;
        let masters: Vec<ClusterResourceSnapshot> =
            list(client, Some(&latest), "the cluster resource snapshots").await?;
        let bindings: Vec<ClusterResourceBinding> =
            list(client, selector.as_deref(), "the cluster resource bindings").await?;
        for p in placements
            .iter()
            .filter(|p| only.is_none_or(|k| k.name == p.name()))
        {
            out.push(row_of(p, &masters, &bindings, CRP));
        }
    }
    if only.is_none_or(|k| k.namespace().is_some()) {
        let ns = only.and_then(PlacementKey::namespace);
        let selector = only.map(|k| format!("{PARENT_PLACEMENT_LABEL}={}", k.name));
        let placements: Vec<ResourcePlacement> =
            list_in(client, ns, None, "the resource placements").await?;
        let masters: Vec<ResourceSnapshot> =
            list_in(client, ns, Some(&latest), "the resource snapshots").await?;
        let bindings: Vec<ResourceBinding> =
            list_in(client, ns, selector.as_deref(), "the resource bindings").await?;
        for p in placements
            .iter()
            .filter(|p| only.is_none_or(|k| k.name == p.name()))
        {
            out.push(row_of(p, &masters, &bindings, RP));
        }
    }
    out.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
    Ok(out)
}

fn row_of<P, S, B>(
    placement: &Object<P>,
    latest_masters: &[Object<S>],
    bindings: &[Object<B>],
    prefix: &str,
) -> PlacementRow
where
    P: FleetKind<Spec = PlacementSpec, Status = PlacementStatus>,
    S: FleetKind<Spec = ResourceSnapshotSpec>,
    B: FleetKind<Spec = ResourceBindingSpec, Status = ResourceBindingStatus>,
{
    let mine = |labels: &BTreeMap<String, String>, ns: Option<&str>| {
        parent(labels) == Some(placement.name()) && ns == placement.namespace()
    };
    let latest = latest_masters
        .iter()
        .filter(|s| mine(s.labels(), s.namespace()))
        .filter_map(|s| index_label(s.labels()))
        .max();
    // Masters are named `<placement>-<index>-snapshot` (spec §4.1): the bindings' snapshot
    // names give their index without listing every snapshot with its resources.
    let cells = bindings
        .iter()
        .filter(|b| mine(b.labels(), b.namespace()))
        .map(|b| {
            let index_of: BTreeMap<String, u64> = b
                .spec
                .resource_snapshot_name
                .iter()
                .filter_map(|n| Some((n.clone(), master_index(placement.name(), n)?)))
                .collect();
            ClusterCell::of(&b.spec, b.status.as_ref(), b.generation(), &index_of)
        })
        .collect();
    placement_view::row(
        placement.namespace(),
        placement.name(),
        prefix,
        &placement.spec,
        placement.status.as_ref(),
        latest,
        cells,
    )
}

/// The index in a master snapshot's name, `<placement>-<index>-snapshot`.
fn master_index(placement: &str, snapshot: &str) -> Option<u64> {
    snapshot
        .strip_prefix(placement)?
        .strip_prefix('-')?
        .strip_suffix("-snapshot")?
        .parse()
        .ok()
}

/// The placement's snapshot history: readable groups, and the objects that are not.
async fn history(
    client: &kube::Client,
    key: &PlacementKey,
) -> Result<(Vec<SnapshotGroup>, Vec<String>), AppError> {
    let selector = format!("{PARENT_PLACEMENT_LABEL}={}", key.name);
    let chunks: Vec<Result<SnapshotChunk, snapshot_history::HistoryError>> = match key.namespace() {
        None => list::<ClusterResourceSnapshot>(
            client,
            Some(&selector),
            "the cluster resource snapshots",
        )
        .await?
        .iter()
        .map(SnapshotChunk::of)
        .collect(),
        Some(ns) => {
            list_in::<ResourceSnapshot>(client, Some(ns), Some(&selector), "the resource snapshots")
                .await?
                .iter()
                .map(SnapshotChunk::of)
                .collect()
        }
    };
    let mut problems = Vec::new();
    let mut readable = Vec::new();
    for c in chunks {
        match c {
            Ok(c) => readable.push(c),
            Err(e) => problems.push(e.to_string()),
        }
    }
    Ok((snapshot_history::groups(readable), problems))
}

/// Runs of this placement as `(path, name, index, strategy, created)`, newest first.
type RunFacts = (
    String,
    String,
    Option<String>,
    String,
    Option<chrono::DateTime<chrono::Utc>>,
);

async fn runs_of(client: &kube::Client, key: &PlacementKey) -> Result<Vec<RunFacts>, AppError> {
    fn facts<K: FleetKind<Spec = StagedUpdateRunSpec>>(
        runs: &[Object<K>],
        placement: &str,
        path: impl Fn(&Object<K>) -> String,
        index: impl Fn(&Object<K>) -> Option<String>,
    ) -> Vec<RunFacts> {
        runs.iter()
            .filter(|r| r.spec.placement_name == placement)
            .map(|r| {
                (
                    path(r),
                    r.name().to_owned(),
                    index(r),
                    r.spec.staged_rollout_strategy_name.clone(),
                    r.metadata
                        .creation_timestamp
                        .as_ref()
                        .and_then(|t| crate::fleet::types::condition::to_utc(&t.0)),
                )
            })
            .collect()
    }
    let mut out = match key.namespace() {
        None => {
            let runs: Vec<ClusterStagedUpdateRun> =
                list(client, None, "the cluster staged update runs").await?;
            facts(
                &runs,
                &key.name,
                |r| format!("/runs/{}", r.name()),
                |r| {
                    r.status
                        .as_ref()
                        .and_then(|s| s.resource_snapshot_index_used.clone())
                },
            )
        }
        Some(ns) => {
            let runs: Vec<StagedUpdateRun> =
                list_in(client, Some(ns), None, "the staged update runs").await?;
            facts(
                &runs,
                &key.name,
                |r| format!("/runs/{ns}/{}", r.name()),
                |r| {
                    r.status
                        .as_ref()
                        .and_then(|s| s.resource_snapshot_index_used.clone())
                },
            )
        }
    };
    out.sort_by_key(|r| std::cmp::Reverse(r.4));
    Ok(out)
}

/// Strategies in the placement's scope: `name` (cluster) or `namespace/name`, sorted.
async fn strategies(
    client: &kube::Client,
    key: &PlacementKey,
) -> Result<Vec<(String, StagedUpdateStrategySpec)>, AppError> {
    let mut out: Vec<(String, StagedUpdateStrategySpec)> = match key.namespace() {
        None => list::<ClusterStagedUpdateStrategy>(
            client,
            None,
            "the cluster staged update strategies",
        )
        .await?
        .into_iter()
        .map(|s| (s.name().to_owned(), s.spec))
        .collect(),
        Some(ns) => {
            list_in::<StagedUpdateStrategy>(client, Some(ns), None, "the staged update strategies")
                .await?
                .into_iter()
                .map(|s| (format!("{ns}/{}", s.name()), s.spec))
                .collect()
        }
    };
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

fn not_found(key: &PlacementKey) -> AppError {
    AppError::NotFound(format!(
        "{} does not exist on the hub (it may have been deleted)",
        key.describe()
    ))
}

pub async fn detail(
    client: &kube::Client,
    key: &PlacementKey,
) -> Result<PlacementDetail, AppError> {
    let row = rows(client, Some(key))
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| not_found(key))?;
    let (groups, problems) = history(client, key).await?;
    let runs = runs_of(client, key).await?;
    let strategies = strategies(client, key).await?;
    let scope_ref = |name: &str| match key.namespace() {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_owned(),
    };
    let runs_by_index =
        snapshot_history::runs_by_index(runs.iter().map(|r| (r.0.as_str(), r.2.as_deref())));
    let names: BTreeMap<&str, &str> = runs.iter().map(|r| (r.0.as_str(), r.1.as_str())).collect();
    let history = groups
        .iter()
        .map(|g| HistoryEntry {
            index: g.index,
            created: g.created,
            hash: g.hash.clone(),
            latest: g.latest,
            resources: g.resources.len(),
            bytes: g.bytes,
            objects: g.objects.len(),
            expected_objects: g.expected_objects,
            complete: g.complete(),
            runs: runs_by_index
                .get(&g.index)
                .map(|paths| {
                    paths
                        .iter()
                        .map(|p| (p.clone(), names.get(p.as_str()).unwrap_or(&"").to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            clusters: row
                .clusters
                .iter()
                .filter(|c| c.index == Some(g.index))
                .map(|c| c.cluster.clone())
                .collect(),
        })
        .collect();
    Ok(PlacementDetail {
        last_strategy: runs.first().map(|r| scope_ref(&r.3)),
        strategies: strategies.into_iter().map(|(name, _)| name).collect(),
        row,
        history,
        problems,
    })
}

fn group<'a>(
    groups: &'a [SnapshotGroup],
    key: &PlacementKey,
    index: u64,
) -> Result<&'a SnapshotGroup, AppError> {
    let group = groups.iter().find(|g| g.index == index).ok_or_else(|| {
        AppError::NotFound(format!(
            "{} has no snapshot {index}: it may have been pruned by revisionHistoryLimit; pick one from its history",
            key.describe()
        ))
    })?;
    if !group.complete() {
        return Err(AppError::Conflict(format!(
            "snapshot {index} of {} is incomplete ({} of {} objects present); wait for it to be written or pick another",
            key.describe(),
            group.objects.len(),
            group.expected_objects
        )));
    }
    Ok(group)
}

pub async fn diff(client: &kube::Client, request: &DiffRequest) -> Result<SnapshotDiff, AppError> {
    let key = &request.placement;
    let (groups, _) = history(client, key).await?;
    let (from, to) = (
        group(&groups, key, request.from)?,
        group(&groups, key, request.to)?,
    );
    let resources = diff_resources(
        &from.resources,
        &to.resources,
        DiffOptions {
            show_noise: request.show_noise,
        },
    );
    let row = rows(client, Some(key)).await?.into_iter().next();
    let on = |index: u64| -> Vec<String> {
        row.iter()
            .flat_map(|r| r.clusters.iter())
            .filter(|c| c.index == Some(index))
            .map(|c| c.cluster.clone())
            .collect()
    };
    Ok(SnapshotDiff {
        summary: summary(&resources),
        resources,
        from_clusters: on(request.from),
        to_clusters: on(request.to),
    })
}

pub async fn rollback(
    client: &kube::Client,
    request: &RollbackRequest,
) -> Result<RollbackPlan, AppError> {
    let key = &request.placement;
    let detail = detail(client, key).await?;
    let (groups, _) = history(client, key).await?;
    let target = group(&groups, key, request.target)?;
    let deployments: Vec<Deployment> = detail
        .row
        .clusters
        .iter()
        .map(|c| Deployment {
            cluster: c.cluster.clone(),
            snapshot: c.index.and_then(|i| {
                groups
                    .iter()
                    .find(|g| g.index == i)
                    .and_then(|g| g.master.clone())
            }),
        })
        .collect();
    let by_index = clusters_by_index(&deployments, &groups);
    let impact = rollback_impact(request.target, &by_index);
    let changes = impact
        .changing
        .keys()
        .map(|from| {
            let old = from
                .and_then(|i| groups.iter().find(|g| g.index == i))
                .map(|g| g.resources.as_slice())
                .unwrap_or_default();
            (
                *from,
                summary(&diff_resources(
                    old,
                    &target.resources,
                    DiffOptions::default(),
                )),
            )
        })
        .collect();
    let strategy = if request.strategy.trim().is_empty() {
        detail
            .last_strategy
            .clone()
            .or_else(|| detail.strategies.first().cloned())
            .ok_or_else(|| {
                AppError::Invalid(format!(
                    "no staged update strategy exists for {}: create one (kubectl apply) first",
                    key.describe()
                ))
            })?
    } else {
        request.strategy.trim().to_owned()
    };
    let all = strategies(client, key).await?;
    let spec = all
        .iter()
        .find(|(name, _)| *name == strategy)
        .map(|(_, spec)| spec)
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "strategy {strategy} does not exist in the placement's scope; pick one of: {}",
                detail.strategies.join(", ")
            ))
        })?;
    let members: Vec<MemberCluster> = list(client, None, "the member clusters").await?;
    let selected: BTreeSet<String> = detail
        .row
        .clusters
        .iter()
        .filter(|c| c.state != "Unscheduled")
        .map(|c| c.cluster.clone())
        .collect();
    let strategy_key = match key.namespace() {
        Some(_) => strategy.clone(),
        None => format!("/{strategy}"),
    };
    let planned = plan_stages(
        "rollback",
        &strategy_key,
        &spec.stages,
        members.iter().map(ClusterLabels::from),
        &selected,
    )
    .map(|stages| {
        stages
            .into_iter()
            .map(|s| PlannedStage {
                name: s.stage_name,
                clusters: s
                    .clusters
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| c.cluster_name)
                    .collect(),
            })
            .collect()
    })
    .map_err(|e| e.to_string());
    let (stages, plan_error) = match planned {
        Ok(stages) => (stages, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    Ok(RollbackPlan {
        impact,
        changes,
        strategy,
        strategies: detail.strategies,
        stages,
        plan_error,
    })
}
