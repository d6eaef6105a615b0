//! The scheduler's decision (spec §3.1 policy, §4.2, §5): which member clusters a placement
//! picks, and how its bindings must change. Pure: the engine gathers the members and bindings,
//! and writes what these functions decide.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::placement::binding::BindingState;
use crate::placement::member_cluster::Taint;
use crate::placement::resource_placement::{
    ClusterSelectorTerm, PlacementPolicy, PlacementType, PropertySelectorOperator, Toleration,
    TolerationOperator,
};
use crate::placement::snapshot::{ClusterDecision, ClusterScore};
use crate::types::label_selector::{self, SelectorError};

/// The reason recorded for a picked cluster (KubeFleet's wording, as seed 003 shows it).
pub const PICKED_REASON: &str = "picked by scheduling policy";

/// A picked cluster's `clusterDecision.reason`, which the placement's per-cluster `Scheduled`
/// condition repeats as its message. Seed 003 shows both:
/// `Successfully scheduled resources for placement in "member2" (affinity score: 0, topology
/// spread score: 0): picked by scheduling policy`.
pub fn picked_reason(cluster: &str, affinity_score: i32) -> String {
    format!(
        "Successfully scheduled resources for placement in \"{cluster}\" (affinity score: {affinity_score}, topology spread score: 0): {PICKED_REASON}"
    )
}

/// A member cluster as the scheduler sees it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Candidate {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// Joined the fleet and not leaving; only such clusters are picked.
    pub joined: bool,
    pub taints: Vec<Taint>,
    /// `status.properties` values by name (numbers compare numerically).
    pub properties: BTreeMap<String, String>,
}

/// The outcome of scheduling one policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// Picked clusters, in pick order.
    pub selected: Vec<String>,
    /// One decision per picked cluster, then per cluster considered but not picked.
    pub decisions: Vec<ClusterDecision>,
    /// Whether the policy got all it asked for (PickN: N clusters; PickFixed: every name).
    pub fulfilled: bool,
}

/// The most decisions a policy snapshot's `status.targetClusters` holds (spec §4.2, the CRD's
/// `maxItems`); bindings carry every cluster's own decision regardless.
pub const MAX_STATUS_DECISIONS: usize = 1000;

impl Schedule {
    /// The decisions the policy snapshot's status reports: picked clusters first, at most
    /// [`MAX_STATUS_DECISIONS`] (a fleet of 10,000 would otherwise be rejected by the schema).
    pub fn status_decisions(&self) -> &[ClusterDecision] {
        &self.decisions[..self.decisions.len().min(MAX_STATUS_DECISIONS)]
    }
}

/// Picks clusters for `policy` (nil means PickAll). Fails only on a malformed cluster selector.
pub fn schedule(
    policy: Option<&PlacementPolicy>,
    candidates: &[Candidate],
) -> Result<Schedule, SelectorError> {
    let default = PlacementPolicy::default();
    let policy = policy.unwrap_or(&default);
    let placement_type = policy.placement_type.unwrap_or_default();
    let mut candidates: Vec<&Candidate> = candidates.iter().collect();
    candidates.sort_by(|a, b| a.name.cmp(&b.name));

    let mut selected = Vec::new();
    let mut rejected: Vec<(String, String)> = Vec::new();
    let fulfilled;
    match placement_type {
        PlacementType::PickFixed => {
            let wanted = policy.cluster_names.clone().unwrap_or_default();
            for name in &wanted {
                match candidates.iter().find(|c| &c.name == name) {
                    Some(c) if c.joined => selected.push((c.name.clone(), 0)),
                    Some(_) => {
                        rejected.push((name.clone(), "cluster has not joined the fleet".into()))
                    }
                    None => {
                        rejected.push((name.clone(), "cluster is not found in the fleet".into()))
                    }
                }
            }
            fulfilled = selected.len() == wanted.len();
        }
        PlacementType::PickAll | PlacementType::PickN => {
            let mut eligible = Vec::new();
            for c in &candidates {
                match ineligible(policy, c)? {
                    Some(reason) => rejected.push((c.name.clone(), reason)),
                    None => eligible.push((c.name.clone(), affinity_score(policy, c)?)),
                }
            }
            if placement_type == PlacementType::PickN {
                let n = policy.number_of_clusters.unwrap_or(0).max(0) as usize;
                // Higher preferred-affinity score first, then name (stable and explainable).
                eligible.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                for (name, _) in eligible.drain(n.min(eligible.len())..) {
                    rejected.push((
                        name,
                        "cluster is eligible but not among the best scored".into(),
                    ));
                }
                fulfilled = eligible.len() == n;
            } else {
                fulfilled = true;
            }
            selected = eligible;
        }
    }
    let decisions = selected
        .iter()
        .map(|(name, score)| ClusterDecision {
            cluster_name: name.clone(),
            selected: true,
            cluster_score: Some(ClusterScore {
                affinity_score: Some(*score),
                priority_score: Some(0),
            }),
            reason: Some(picked_reason(name, *score)),
        })
        .chain(rejected.into_iter().map(|(name, reason)| ClusterDecision {
            cluster_name: name,
            selected: false,
            cluster_score: None,
            reason: Some(reason),
        }))
        .collect();
    Ok(Schedule {
        selected: selected.into_iter().map(|(n, _)| n).collect(),
        decisions,
        fulfilled,
    })
}

/// Why a cluster cannot be picked by PickAll/PickN, or `None`.
fn ineligible(policy: &PlacementPolicy, c: &Candidate) -> Result<Option<String>, SelectorError> {
    if !c.joined {
        return Ok(Some("cluster has not joined the fleet".into()));
    }
    let tolerations = policy.tolerations.clone().unwrap_or_default();
    if let Some(taint) = c
        .taints
        .iter()
        .find(|t| !tolerations.iter().any(|tol| tolerates(tol, t)))
    {
        return Ok(Some(format!(
            "cluster has an untolerated taint {}",
            taint.key
        )));
    }
    let required = policy
        .affinity
        .as_ref()
        .and_then(|a| a.cluster_affinity.as_ref())
        .and_then(|a| {
            a.required_during_scheduling_ignored_during_execution
                .as_ref()
        });
    if let Some(required) = required {
        // Terms are ORed; an empty list selects nothing, like Kubernetes node affinity.
        let mut any = false;
        for term in &required.cluster_selector_terms {
            any |= term_matches(term, c)?;
        }
        if !any {
            return Ok(Some(
                "cluster does not match the required cluster affinity".into(),
            ));
        }
    }
    Ok(None)
}

fn tolerates(toleration: &Toleration, taint: &Taint) -> bool {
    let key_ok = match toleration.key.as_deref() {
        None | Some("") => true,
        Some(key) => key == taint.key,
    };
    let value_ok = match toleration.operator.unwrap_or_default() {
        TolerationOperator::Exists => true,
        TolerationOperator::Equal => {
            toleration.value.as_deref().unwrap_or("") == taint.value.as_deref().unwrap_or("")
        }
    };
    key_ok && value_ok
}

fn term_matches(term: &ClusterSelectorTerm, c: &Candidate) -> Result<bool, SelectorError> {
    if let Some(selector) = &term.label_selector {
        if !label_selector::matches(Some(selector), &c.labels)? {
            return Ok(false);
        }
    }
    if let Some(properties) = &term.property_selector {
        for req in &properties.match_expressions {
            let Some(have) = c.properties.get(&req.name) else {
                return Ok(false);
            };
            let Some(want) = req.values.first() else {
                return Ok(false);
            };
            if !compare(have, req.operator, want) {
                return Ok(false);
            }
        }
    }
    Ok(true)
}

fn compare(have: &str, op: PropertySelectorOperator, want: &str) -> bool {
    let ordering = match (have.parse::<f64>(), want.parse::<f64>()) {
        (Ok(a), Ok(b)) => a.partial_cmp(&b),
        _ => Some(have.cmp(want)),
    };
    let Some(ordering) = ordering else {
        return false;
    };
    use std::cmp::Ordering::*;
    match op {
        PropertySelectorOperator::Gt => ordering == Greater,
        PropertySelectorOperator::Ge => ordering != Less,
        PropertySelectorOperator::Eq => ordering == Equal,
        PropertySelectorOperator::Ne => ordering != Equal,
        PropertySelectorOperator::Lt => ordering == Less,
        PropertySelectorOperator::Le => ordering != Greater,
    }
}

/// Sum of the weights of the preferred terms the cluster matches.
fn affinity_score(policy: &PlacementPolicy, c: &Candidate) -> Result<i32, SelectorError> {
    let preferred = policy
        .affinity
        .as_ref()
        .and_then(|a| a.cluster_affinity.as_ref())
        .and_then(|a| {
            a.preferred_during_scheduling_ignored_during_execution
                .as_ref()
        });
    let mut score = 0;
    for p in preferred.into_iter().flatten() {
        if term_matches(&p.preference, c)? {
            score += p.weight;
        }
    }
    Ok(score)
}

/// What the scheduler knows of an existing binding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExistingBinding {
    pub name: String,
    pub cluster: String,
    pub state: BindingState,
    /// The `previous-binding-state` annotation of an Unscheduled binding.
    pub previous_state: Option<BindingState>,
    pub policy_snapshot: Option<String>,
}

/// How the bindings must change to match a schedule (spec §5 "Scheduler behaviour").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BindingChanges {
    /// Clusters that get a new binding in state Scheduled.
    pub create: Vec<String>,
    /// Bindings to set Unscheduled, remembering their state.
    pub unschedule: Vec<(String, BindingState)>,
    /// Unscheduled bindings of re-picked clusters, back to their previous state.
    pub restore: Vec<(String, BindingState)>,
    /// Surviving bindings to re-point at the latest policy snapshot.
    pub repoint: Vec<String>,
}

impl BindingChanges {
    /// Nothing to write.
    pub fn is_empty(&self) -> bool {
        self.create.is_empty()
            && self.unschedule.is_empty()
            && self.restore.is_empty()
            && self.repoint.is_empty()
    }
}

/// Linear in the number of clusters and bindings: a fleet of 10,000 members reschedules on every
/// binding event, so pairwise scans are not an option. A cluster with several bindings is judged
/// by the first one in `existing`.
pub fn binding_changes(
    selected: &[String],
    existing: &[ExistingBinding],
    policy_snapshot: &str,
) -> BindingChanges {
    let mut by_cluster: HashMap<&str, &ExistingBinding> = HashMap::with_capacity(existing.len());
    for b in existing {
        by_cluster.entry(b.cluster.as_str()).or_insert(b);
    }
    let picked: HashSet<&str> = selected.iter().map(String::as_str).collect();
    let mut changes = BindingChanges::default();
    for cluster in selected {
        match by_cluster.get(cluster.as_str()) {
            None => changes.create.push(cluster.clone()),
            Some(b) if b.state == BindingState::Unscheduled => changes.restore.push((
                b.name.clone(),
                b.previous_state.unwrap_or(BindingState::Scheduled),
            )),
            Some(b) if b.policy_snapshot.as_deref() != Some(policy_snapshot) => {
                changes.repoint.push(b.name.clone())
            }
            Some(_) => {}
        }
    }
    for b in existing {
        if b.state != BindingState::Unscheduled && !picked.contains(b.cluster.as_str()) {
            changes.unschedule.push((b.name.clone(), b.state));
        }
    }
    changes
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn member(name: &str, labels: &[(&str, &str)]) -> Candidate {
        Candidate {
            name: name.into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            joined: true,
            ..Candidate::default()
        }
    }

    fn fleet() -> Vec<Candidate> {
        vec![
            member("member3", &[("environment", "canary"), ("order", "1")]),
            member("member1", &[("environment", "canary"), ("order", "2")]),
            member("member2", &[("environment", "staging")]),
        ]
    }

    fn policy(json: serde_json::Value) -> PlacementPolicy {
        serde_json::from_value(json).expect("policy")
    }

    #[test]
    fn the_snapshot_status_reports_at_most_a_thousand_decisions_picked_first() {
        let mut clusters: Vec<Candidate> = (0..1200)
            .map(|i| member(&format!("m{i:04}"), &[("env", "prod")]))
            .collect();
        clusters.push(member("other", &[("env", "dev")]));
        let p = policy(
            json!({"placementType": "PickAll", "affinity": {"clusterAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms": [
                {"labelSelector": {"matchLabels": {"env": "prod"}}}]}}}}),
        );
        let s = schedule(Some(&p), &clusters).expect("schedule");
        assert_eq!(s.selected.len(), 1200);
        assert_eq!(s.decisions.len(), 1201);
        let reported = s.status_decisions();
        assert_eq!(reported.len(), MAX_STATUS_DECISIONS);
        assert!(reported.iter().all(|d| d.selected));
        assert_eq!(reported[0].cluster_name, "m0000");
    }

    #[test]
    fn pick_all_takes_every_joined_cluster_in_name_order() {
        let mut clusters = fleet();
        clusters.push(Candidate {
            joined: false,
            ..member("member4", &[])
        });
        let s = schedule(None, &clusters).expect("schedule");
        assert_eq!(s.selected, ["member1", "member2", "member3"]);
        assert!(s.fulfilled);
        assert_eq!(
            s.decisions[0].reason.as_deref(),
            Some("Successfully scheduled resources for placement in \"member1\" (affinity score: 0, topology spread score: 0): picked by scheduling policy")
        );
        assert!(!s.decisions[3].selected);
    }

    #[test]
    fn required_affinity_filters_clusters() {
        let p = policy(
            json!({"placementType": "PickAll", "affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
            {"clusterSelectorTerms": [{"labelSelector": {"matchLabels": {"environment": "canary"}}}]}}}}),
        );
        assert_eq!(
            schedule(Some(&p), &fleet()).expect("schedule").selected,
            ["member1", "member3"]
        );
    }

    #[test]
    fn pick_n_prefers_higher_scores_and_reports_shortfall() {
        let p = policy(
            json!({"placementType": "PickN", "numberOfClusters": 2, "affinity": {"clusterAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 10, "preference": {"labelSelector": {"matchLabels": {"environment": "staging"}}}}]}}}),
        );
        let s = schedule(Some(&p), &fleet()).expect("schedule");
        assert_eq!(s.selected, ["member2", "member1"]);
        assert!(s.fulfilled);
        let too_many = policy(json!({"placementType": "PickN", "numberOfClusters": 5}));
        assert!(
            !schedule(Some(&too_many), &fleet())
                .expect("schedule")
                .fulfilled
        );
    }

    #[test]
    fn pick_fixed_takes_the_named_clusters_and_flags_missing_ones() {
        let p = policy(json!({"placementType": "PickFixed", "clusterNames": ["member2", "ghost"]}));
        let s = schedule(Some(&p), &fleet()).expect("schedule");
        assert_eq!(s.selected, ["member2"]);
        assert!(!s.fulfilled);
        assert_eq!(
            s.decisions[1].reason.as_deref(),
            Some("cluster is not found in the fleet")
        );
    }

    #[test]
    fn taints_need_tolerations() {
        let mut clusters = fleet();
        clusters[2].taints = vec![serde_json::from_value(
            json!({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}),
        )
        .expect("taint")];
        assert_eq!(
            schedule(None, &clusters).expect("schedule").selected,
            ["member1", "member3"]
        );
        let p = policy(
            json!({"tolerations": [{"key": "dedicated", "operator": "Equal", "value": "gpu"}]}),
        );
        assert_eq!(
            schedule(Some(&p), &clusters).expect("schedule").selected,
            ["member1", "member2", "member3"]
        );
    }

    #[test]
    fn property_selectors_compare_numbers() {
        let mut clusters = fleet();
        clusters[0]
            .properties
            .insert("kubernetes-fleet.io/node-count".into(), "5".into());
        clusters[1]
            .properties
            .insert("kubernetes-fleet.io/node-count".into(), "3".into());
        let p = policy(
            json!({"affinity": {"clusterAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"clusterSelectorTerms":
            [{"propertySelector": {"matchExpressions": [{"name": "kubernetes-fleet.io/node-count", "operator": "Ge", "values": ["4"]}]}}]}}}}),
        );
        assert_eq!(
            schedule(Some(&p), &clusters).expect("schedule").selected,
            ["member3"]
        );
    }

    #[test]
    fn binding_changes_create_unschedule_restore_and_repoint() {
        let b = |name: &str, cluster: &str, state, prev, snap: &str| ExistingBinding {
            name: name.into(),
            cluster: cluster.into(),
            state,
            previous_state: prev,
            policy_snapshot: Some(snap.into()),
        };
        let existing = vec![
            b("b1", "member1", BindingState::Bound, None, "p-0"),
            b(
                "b2",
                "member2",
                BindingState::Unscheduled,
                Some(BindingState::Bound),
                "p-0",
            ),
            b("b4", "member4", BindingState::Scheduled, None, "p-1"),
        ];
        let changes = binding_changes(
            &["member1".into(), "member2".into(), "member3".into()],
            &existing,
            "p-1",
        );
        assert_eq!(changes.create, ["member3"]);
        assert_eq!(changes.restore, [("b2".to_string(), BindingState::Bound)]);
        assert_eq!(changes.repoint, ["b1"]);
        assert_eq!(
            changes.unschedule,
            [("b4".to_string(), BindingState::Scheduled)]
        );
    }

    /// The pairwise definition the linear version must agree with.
    fn binding_changes_reference(
        selected: &[String],
        existing: &[ExistingBinding],
        policy_snapshot: &str,
    ) -> BindingChanges {
        let mut changes = BindingChanges::default();
        for cluster in selected {
            match existing.iter().find(|b| &b.cluster == cluster) {
                None => changes.create.push(cluster.clone()),
                Some(b) if b.state == BindingState::Unscheduled => changes.restore.push((
                    b.name.clone(),
                    b.previous_state.unwrap_or(BindingState::Scheduled),
                )),
                Some(b) if b.policy_snapshot.as_deref() != Some(policy_snapshot) => {
                    changes.repoint.push(b.name.clone())
                }
                Some(_) => {}
            }
        }
        for b in existing {
            if b.state != BindingState::Unscheduled && !selected.contains(&b.cluster) {
                changes.unschedule.push((b.name.clone(), b.state));
            }
        }
        changes
    }

    proptest::proptest! {
        #[test]
        fn binding_changes_agree_with_the_pairwise_definition(
            selected in proptest::collection::vec(0u8..12, 0..12),
            existing in proptest::collection::vec((0u8..12, 0u8..3, 0u8..3, proptest::bool::ANY), 0..16),
        ) {
            let state = |n: u8| match n {
                0 => BindingState::Scheduled,
                1 => BindingState::Bound,
                _ => BindingState::Unscheduled,
            };
            let selected: Vec<String> = selected.iter().map(|c| format!("m{c}")).collect();
            let existing: Vec<ExistingBinding> = existing
                .iter()
                .enumerate()
                .map(|(i, (cluster, st, prev, latest))| ExistingBinding {
                    name: format!("b{i}"),
                    cluster: format!("m{cluster}"),
                    state: state(*st),
                    previous_state: (*prev < 2).then(|| state(*prev)),
                    policy_snapshot: Some(if *latest { "p-1" } else { "p-0" }.into()),
                })
                .collect();
            proptest::prop_assert_eq!(
                binding_changes(&selected, &existing, "p-1"),
                binding_changes_reference(&selected, &existing, "p-1")
            );
        }
    }
}
