//! The Placements pages' view of one placement: its policy and strategy in a word, each
//! scheduled cluster with the snapshot index it runs, and its state in plain words — so a
//! half-finished rollout is obvious at a glance. Pure, shared by the server and the browser.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::placement::binding::{BindingState, ResourceBindingSpec, ResourceBindingStatus};
use crate::placement::resource_placement::{
    PlacementSpec, PlacementStatus, PlacementType, RolloutStrategyType,
};
use crate::types::condition::{find_condition, find_condition_at, types, FALSE, TRUE};

/// How a placement's state reads at a glance.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Tone {
    /// Every scheduled cluster runs the latest snapshot and it is available.
    Settled,
    /// Clusters are on their way (or waiting for a run, with the External strategy).
    Moving,
    /// Something failed or cannot be scheduled.
    Trouble,
    #[default]
    Unknown,
}

/// One scheduled cluster as the placement's binding shows it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ClusterCell {
    pub cluster: String,
    /// The snapshot index the binding rolls out (`None`: not given one yet).
    pub index: Option<u64>,
    /// `Scheduled`, `Bound` or `Unscheduled`.
    pub state: String,
    /// The binding's `Available` at its generation: `None` while not reported.
    pub available: Option<bool>,
    /// The first condition that is not True, in rollout order, with its message.
    pub problem: Option<String>,
}

impl ClusterCell {
    /// Reads a binding; `index_of` maps master snapshot names to their index.
    pub fn of(
        spec: &ResourceBindingSpec,
        status: Option<&ResourceBindingStatus>,
        generation: i64,
        index_of: &BTreeMap<String, u64>,
    ) -> Self {
        let conditions = status
            .and_then(|s| s.conditions.as_deref())
            .unwrap_or_default();
        let available =
            find_condition_at(conditions, types::AVAILABLE, generation).map(|c| c.status == TRUE);
        let problem = [
            types::ROLLOUT_STARTED,
            types::OVERRIDDEN,
            types::WORK_SYNCHRONIZED,
            types::APPLIED,
            types::AVAILABLE,
        ]
        .into_iter()
        .filter_map(|t| find_condition_at(conditions, t, generation))
        .find(|c| c.status == FALSE)
        .map(|c| format!("{}: {}", c.type_, c.message));
        ClusterCell {
            cluster: spec.target_cluster.clone(),
            index: spec
                .resource_snapshot_name
                .as_ref()
                .and_then(|n| index_of.get(n).copied()),
            state: match spec.state {
                BindingState::Scheduled => "Scheduled",
                BindingState::Bound => "Bound",
                BindingState::Unscheduled => "Unscheduled",
            }
            .to_string(),
            available,
            problem,
        }
    }
}

/// One placement as the list and the detail page show it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlacementRow {
    /// Set for a namespaced ResourcePlacement.
    pub namespace: Option<String>,
    pub name: String,
    /// `PickAll`, `PickN (3)` or `PickFixed (member1, member2)`.
    pub policy: String,
    /// `RollingUpdate` or `External`.
    pub strategy: String,
    /// How many resources the latest snapshot selects.
    pub selected: usize,
    pub latest_index: Option<u64>,
    /// Scheduled clusters, by name.
    pub clusters: Vec<ClusterCell>,
    pub tone: Tone,
    /// The state in words: what it is doing and, when stuck, why.
    pub headline: String,
}

impl PlacementRow {
    /// `namespace/name` or `name`: how runs and URLs name it.
    pub fn reference(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// Clusters per index they run, newest index first (`None`, no snapshot yet, last).
    pub fn by_index(&self) -> Vec<(Option<u64>, usize)> {
        let mut counts: BTreeMap<std::cmp::Reverse<Option<u64>>, usize> = BTreeMap::new();
        for c in &self.clusters {
            *counts.entry(std::cmp::Reverse(c.index)).or_default() += 1;
        }
        counts.into_iter().map(|(k, n)| (k.0, n)).collect()
    }
}

/// `prefix` is the condition type prefix: `ClusterResourcePlacement` or `ResourcePlacement`.
#[allow(clippy::too_many_arguments)]
pub fn row(
    namespace: Option<&str>,
    name: &str,
    prefix: &str,
    spec: &PlacementSpec,
    status: Option<&PlacementStatus>,
    latest_index: Option<u64>,
    mut clusters: Vec<ClusterCell>,
) -> PlacementRow {
    clusters.sort_by(|a, b| a.cluster.cmp(&b.cluster));
    let policy = spec.policy.as_ref();
    let policy = match spec.placement_type() {
        PlacementType::PickAll => "PickAll".to_string(),
        PlacementType::PickN => format!(
            "PickN ({})",
            policy.and_then(|p| p.number_of_clusters).unwrap_or(0)
        ),
        PlacementType::PickFixed => format!(
            "PickFixed ({})",
            policy
                .and_then(|p| p.cluster_names.as_ref())
                .map(|n| n.join(", "))
                .unwrap_or_default()
        ),
    };
    let external = spec.strategy_type() == RolloutStrategyType::External;
    let (tone, headline) = headline(prefix, status, latest_index, &clusters, external);
    PlacementRow {
        namespace: namespace.map(str::to_owned),
        name: name.to_owned(),
        policy,
        strategy: spec.strategy_type().as_str().to_string(),
        selected: status
            .and_then(|s| s.selected_resources.as_ref())
            .map_or(0, Vec::len),
        latest_index,
        clusters,
        tone,
        headline,
    }
}

fn headline(
    prefix: &str,
    status: Option<&PlacementStatus>,
    latest: Option<u64>,
    clusters: &[ClusterCell],
    external: bool,
) -> (Tone, String) {
    let conditions = status
        .and_then(|s| s.conditions.as_deref())
        .unwrap_or_default();
    if let Some(c) = find_condition(conditions, &format!("{prefix}{}", types::SCHEDULED))
        .filter(|c| c.status == FALSE)
    {
        return (Tone::Trouble, format!("Not scheduled: {}", c.message));
    }
    if clusters.is_empty() {
        return (Tone::Unknown, "No cluster is scheduled yet.".into());
    }
    let total = clusters.len();
    if let Some(failing) = clusters.iter().find(|c| c.problem.is_some()) {
        let count = clusters.iter().filter(|c| c.problem.is_some()).count();
        return (
            Tone::Trouble,
            format!(
                "{count} of {total} clusters in trouble; {}: {}",
                failing.cluster,
                failing.problem.as_deref().unwrap_or_default()
            ),
        );
    }
    let on_latest = clusters
        .iter()
        .filter(|c| latest.is_some() && c.index == latest)
        .count();
    let available = clusters
        .iter()
        .filter(|c| c.index == latest && c.available == Some(true))
        .count();
    let latest_text = latest.map_or("no snapshot".to_string(), |i| format!("snapshot {i}"));
    if on_latest == total && available == total {
        return (
            Tone::Settled,
            format!("All {total} clusters run {latest_text} and it is available."),
        );
    }
    // With External, a run decides the index: all on an older one is a finished rollback.
    if let Some(index) = clusters[0].index.filter(|_| external) {
        if clusters
            .iter()
            .all(|c| c.index == Some(index) && c.available == Some(true))
        {
            return (
                Tone::Settled,
                format!(
                    "All {total} clusters run snapshot {index} and it is available; the latest, \
                     {latest_text}, is not rolled out (a run chose the older one)."
                ),
            );
        }
    }
    let mut elsewhere: BTreeMap<Option<u64>, usize> = BTreeMap::new();
    for c in clusters.iter().filter(|c| c.index != latest) {
        *elsewhere.entry(c.index).or_default() += 1;
    }
    let rest: Vec<String> = elsewhere
        .iter()
        .rev()
        .map(|(index, n)| match index {
            Some(i) => format!("{n} on snapshot {i}"),
            None => format!("{n} not rolled out yet"),
        })
        .collect();
    let mut text = format!("{on_latest} of {total} clusters on {latest_text}");
    if !rest.is_empty() {
        text.push_str(&format!(" ({})", rest.join(", ")));
    }
    if on_latest > available {
        text.push_str(&format!(", {available} available"));
    }
    text.push('.');
    if external && on_latest < total {
        text.push_str(" The External strategy waits for a staged update run to move the rest.");
    }
    (Tone::Moving, text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::placement::resource_placement::{PlacementPolicy, RolloutStrategy};
    use crate::types::condition::new_condition;

    fn cell(cluster: &str, index: Option<u64>, available: Option<bool>) -> ClusterCell {
        ClusterCell {
            cluster: cluster.into(),
            index,
            state: "Bound".into(),
            available,
            problem: None,
        }
    }

    fn external() -> PlacementSpec {
        PlacementSpec {
            strategy: Some(RolloutStrategy {
                type_: Some(RolloutStrategyType::External),
                ..RolloutStrategy::default()
            }),
            ..PlacementSpec::default()
        }
    }

    #[test]
    fn a_half_finished_rollout_says_who_is_where() {
        let r = row(
            None,
            "example-placement",
            "ClusterResourcePlacement",
            &external(),
            None,
            Some(1),
            vec![
                cell("member2", Some(0), Some(true)),
                cell("member1", Some(1), Some(true)),
                cell("member3", None, None),
            ],
        );
        assert_eq!(r.tone, Tone::Moving);
        assert_eq!(
            r.headline,
            "1 of 3 clusters on snapshot 1 (1 on snapshot 0, 1 not rolled out yet). \
             The External strategy waits for a staged update run to move the rest."
        );
        assert_eq!(r.clusters[0].cluster, "member1", "sorted by name");
        assert_eq!(r.by_index(), [(Some(1), 1), (Some(0), 1), (None, 1)]);
        assert_eq!(r.strategy, "External");
        assert_eq!(r.policy, "PickAll");
    }

    #[test]
    fn a_finished_rollback_is_settled_with_external_and_moving_with_rolling_update() {
        let clusters = || {
            vec![
                cell("member1", Some(0), Some(true)),
                cell("member2", Some(0), Some(true)),
            ]
        };
        let r = row(
            None,
            "p",
            "ClusterResourcePlacement",
            &external(),
            None,
            Some(1),
            clusters(),
        );
        assert_eq!(r.tone, Tone::Settled);
        assert_eq!(
            r.headline,
            "All 2 clusters run snapshot 0 and it is available; the latest, snapshot 1, is not \
             rolled out (a run chose the older one)."
        );
        let rolling = PlacementSpec::default();
        let r = row(
            None,
            "p",
            "ClusterResourcePlacement",
            &rolling,
            None,
            Some(1),
            clusters(),
        );
        assert_eq!(
            r.tone,
            Tone::Moving,
            "RollingUpdate moves them to the latest"
        );
        // Not all available yet: still moving, with External too.
        let mut waiting = clusters();
        waiting[1].available = None;
        let r = row(
            None,
            "p",
            "ClusterResourcePlacement",
            &external(),
            None,
            Some(1),
            waiting,
        );
        assert_eq!(r.tone, Tone::Moving);
    }

    #[test]
    fn settled_when_every_cluster_runs_the_latest_and_it_is_available() {
        let spec = PlacementSpec {
            policy: Some(PlacementPolicy {
                placement_type: Some(PlacementType::PickN),
                number_of_clusters: Some(2),
                ..PlacementPolicy::default()
            }),
            ..PlacementSpec::default()
        };
        let both = vec![
            cell("a", Some(2), Some(true)),
            cell("b", Some(2), Some(true)),
        ];
        let r = row(
            None,
            "p",
            "ClusterResourcePlacement",
            &spec,
            None,
            Some(2),
            both,
        );
        assert_eq!((r.tone, r.policy.as_str()), (Tone::Settled, "PickN (2)"));
        assert_eq!(
            r.headline,
            "All 2 clusters run snapshot 2 and it is available."
        );
        let waiting = vec![cell("a", Some(2), Some(true)), cell("b", Some(2), None)];
        let r = row(
            None,
            "p",
            "ClusterResourcePlacement",
            &spec,
            None,
            Some(2),
            waiting,
        );
        assert_eq!(r.tone, Tone::Moving);
        assert_eq!(r.headline, "2 of 2 clusters on snapshot 2, 1 available.");
    }

    #[test]
    fn trouble_names_the_cluster_and_the_scheduler_speaks_first() {
        let mut failing = cell("member3", Some(0), Some(false));
        failing.problem = Some("Applied: Failed to apply manifests".into());
        let r = row(
            None,
            "p",
            "ClusterResourcePlacement",
            &PlacementSpec::default(),
            None,
            Some(0),
            vec![cell("member1", Some(0), Some(true)), failing],
        );
        assert_eq!(r.tone, Tone::Trouble);
        assert_eq!(
            r.headline,
            "1 of 2 clusters in trouble; member3: Applied: Failed to apply manifests"
        );
        let status = PlacementStatus {
            conditions: Some(vec![new_condition(
                "ClusterResourcePlacementScheduled",
                FALSE,
                "SchedulingPolicyUnfulfilled",
                "could not find 3 clusters",
                1,
                &crate::types::condition::Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH),
            )]),
            ..PlacementStatus::default()
        };
        let r = row(
            None,
            "p",
            "ClusterResourcePlacement",
            &PlacementSpec::default(),
            Some(&status),
            None,
            vec![],
        );
        assert_eq!(
            (r.tone, r.headline.as_str()),
            (Tone::Trouble, "Not scheduled: could not find 3 clusters")
        );
    }

    #[test]
    fn a_binding_becomes_a_cell_with_its_index_and_first_problem() {
        let index_of = BTreeMap::from([("p-1-snapshot".to_string(), 1)]);
        let spec = ResourceBindingSpec {
            state: BindingState::Bound,
            resource_snapshot_name: Some("p-1-snapshot".into()),
            target_cluster: "member1".into(),
            ..ResourceBindingSpec::default()
        };
        let t = crate::types::condition::Time(k8s_openapi::jiff::Timestamp::UNIX_EPOCH);
        let status = ResourceBindingStatus {
            conditions: Some(vec![
                new_condition(types::ROLLOUT_STARTED, TRUE, "RolloutStarted", "", 3, &t),
                new_condition(
                    types::APPLIED,
                    FALSE,
                    "ManifestsNotApplied",
                    "nginx cannot be applied",
                    3,
                    &t,
                ),
                new_condition(types::AVAILABLE, FALSE, "NotAvailableYet", "old", 2, &t),
            ]),
            ..ResourceBindingStatus::default()
        };
        let c = ClusterCell::of(&spec, Some(&status), 3, &index_of);
        assert_eq!(c.index, Some(1));
        assert_eq!(c.state, "Bound");
        assert_eq!(
            c.problem.as_deref(),
            Some("Applied: nginx cannot be applied")
        );
        assert_eq!(
            c.available, None,
            "an Available from generation 2 does not count"
        );
    }
}
