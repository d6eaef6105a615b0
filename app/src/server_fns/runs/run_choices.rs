use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the create-run form offers: placements with their snapshots, and strategies.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunChoices {
    pub placements: Vec<PlacementChoice>,
    pub strategies: Vec<StrategyChoice>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlacementChoice {
    /// Empty for a ClusterResourcePlacement.
    pub namespace: String,
    pub name: String,
    /// Resource snapshots, newest first.
    pub snapshots: Vec<SnapshotChoice>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SnapshotChoice {
    pub index: String,
    pub created: Option<DateTime<Utc>>,
    pub latest: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StrategyChoice {
    pub namespace: String,
    pub name: String,
    pub stages: Vec<String>,
}

#[server(prefix = "/api", endpoint = "runs/choices")]
pub async fn list_run_choices() -> Result<RunChoices, AppError> {
    ssr::load(&crate::server_fns::ssr::hub()?).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use kube::api::{Api, ListParams};

    use super::{PlacementChoice, RunChoices, SnapshotChoice, StrategyChoice};
    use crate::error::AppError;
    use crate::fleet::placement::snapshot::{ResourceSnapshotSpec, ResourceSnapshotStatus};
    use crate::fleet::staged::staged_update::StagedUpdateStrategySpec;
    use crate::fleet::types::condition::to_utc;
    use crate::fleet::types::names::{
        IS_LATEST_SNAPSHOT_LABEL, PARENT_PLACEMENT_LABEL, RESOURCE_INDEX_LABEL,
        SUBINDEX_OF_RESOURCE_SNAPSHOT_ANNOTATION,
    };
    use crate::fleet::{
        ClusterResourcePlacement, ClusterResourceSnapshot, ClusterStagedUpdateStrategy, FleetKind,
        Object, ResourcePlacement, ResourceSnapshot, StagedUpdateStrategy,
    };
    use crate::server_fns::ssr::explain;

    pub async fn load(client: &kube::Client) -> Result<RunChoices, AppError> {
        let all = ListParams::default();
        let crps = Api::<ClusterResourcePlacement>::all(client.clone())
            .list(&all)
            .await
            .map_err(|e| explain(e, "the cluster resource placements"))?;
        let rps = Api::<ResourcePlacement>::all(client.clone())
            .list(&all)
            .await
            .map_err(|e| explain(e, "the resource placements"))?;
        let csnaps = Api::<ClusterResourceSnapshot>::all(client.clone())
            .list(&all)
            .await
            .map_err(|e| explain(e, "the cluster resource snapshots"))?;
        let snaps = Api::<ResourceSnapshot>::all(client.clone())
            .list(&all)
            .await
            .map_err(|e| explain(e, "the resource snapshots"))?;
        let mut placements: Vec<PlacementChoice> = crps
            .items
            .iter()
            .map(|p| PlacementChoice {
                namespace: String::new(),
                name: p.name().to_string(),
                snapshots: snapshots_of(&csnaps.items, None, p.name()),
            })
            .chain(rps.items.iter().map(|p| PlacementChoice {
                namespace: p.namespace().unwrap_or_default().to_string(),
                name: p.name().to_string(),
                snapshots: snapshots_of(&snaps.items, p.namespace(), p.name()),
            }))
            .collect();
        placements.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        let cstrategies = Api::<ClusterStagedUpdateStrategy>::all(client.clone())
            .list(&all)
            .await
            .map_err(|e| explain(e, "the cluster staged update strategies"))?;
        let strategies = Api::<StagedUpdateStrategy>::all(client.clone())
            .list(&all)
            .await
            .map_err(|e| explain(e, "the staged update strategies"))?;
        let mut strategies: Vec<StrategyChoice> = cstrategies
            .items
            .iter()
            .map(|s| strategy(s, String::new()))
            .chain(
                strategies
                    .items
                    .iter()
                    .map(|s| strategy(s, s.namespace().unwrap_or_default().to_string())),
            )
            .collect();
        strategies.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        Ok(RunChoices {
            placements,
            strategies,
        })
    }

    fn strategy<K: FleetKind<Spec = StagedUpdateStrategySpec>>(
        s: &Object<K>,
        namespace: String,
    ) -> StrategyChoice {
        StrategyChoice {
            namespace,
            name: s.name().to_string(),
            stages: s.spec.stages.iter().map(|st| st.name.clone()).collect(),
        }
    }

    /// The placement's master snapshots (sub-index chunks left out), newest index first.
    fn snapshots_of<K>(
        all: &[Object<K>],
        namespace: Option<&str>,
        placement: &str,
    ) -> Vec<SnapshotChoice>
    where
        K: FleetKind<Spec = ResourceSnapshotSpec, Status = ResourceSnapshotStatus>,
    {
        let mut out: Vec<SnapshotChoice> = all
            .iter()
            .filter(|s| s.namespace() == namespace)
            .filter(|s| {
                s.labels().get(PARENT_PLACEMENT_LABEL).map(String::as_str) == Some(placement)
            })
            .filter(|s| {
                !s.annotations()
                    .contains_key(SUBINDEX_OF_RESOURCE_SNAPSHOT_ANNOTATION)
            })
            .filter_map(|s| {
                Some(SnapshotChoice {
                    index: s.labels().get(RESOURCE_INDEX_LABEL)?.clone(),
                    created: s
                        .metadata
                        .creation_timestamp
                        .as_ref()
                        .and_then(|t| to_utc(&t.0)),
                    latest: s.labels().get(IS_LATEST_SNAPSHOT_LABEL).map(String::as_str)
                        == Some("true"),
                })
            })
            .collect();
        out.sort_by_key(|s| std::cmp::Reverse(s.index.parse::<u64>().unwrap_or(0)));
        out
    }
}
