//! The scheduler's decision (spec §3.1 policy, §4.2, §5): which member clusters a placement
//! picks, and how its bindings must change. Pure: the engine gathers the members and bindings,
//! and writes what these functions decide.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::placement::binding::BindingState;
use crate::placement::member_cluster::Taint;
use crate::placement::resource_placement::{
    ClusterSelectorTerm, PlacementPolicy, PlacementType, PropertySelectorOperator,
    PropertySortOrder, PropertySorter, Toleration, TolerationOperator,
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

/// KubeFleet's decision reason for a scored cluster left out of a PickN pick (framework.go).
pub fn not_picked_reason(cluster: &str, affinity_score: i32) -> String {
    format!(
        "Cluster \"{cluster}\" does not score high enough (affinity score: {affinity_score}, topology spread score: 0)"
    )
}

/// A filter plugin's refusal as the scheduler framework's Status prints it (`<code>, <reason>`).
fn unschedulable(reason: &str) -> String {
    format!("ClusterUnschedulable, {reason}")
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
    // Scored but not among the best N (PickN), in pick order.
    let mut not_picked: Vec<(String, i32)> = Vec::new();
    // Filtered out, by name.
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
                    // placement-extras §4.2 step 5: a PickFixed placement keeps the name of a
                    // cluster that left (KubeFleet's `pickFixedNotFoundClusterReasonTemplate`).
                    None => rejected.push((
                        name.clone(),
                        format!("Specified cluster {name:?} is not found"),
                    )),
                }
            }
            fulfilled = selected.len() == wanted.len();
        }
        PlacementType::PickAll | PlacementType::PickN => {
            let mut eligible = Vec::new();
            for c in &candidates {
                match ineligible(policy, c)? {
                    Some(reason) => rejected.push((c.name.clone(), reason)),
                    None => {
                        eligible.push((c.name.clone(), affinity_score(policy, c, &candidates)?))
                    }
                }
            }
            if placement_type == PlacementType::PickN {
                let n = policy.number_of_clusters.unwrap_or(0).max(0) as usize;
                // placement-extras §3.4: KubeFleet sorts with sort.Reverse, so score descending
                // and, on equal scores, cluster name DESCENDING.
                eligible.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| b.0.cmp(&a.0)));
                not_picked = eligible.split_off(n.min(eligible.len()));
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
        .chain(not_picked.iter().map(|(name, score)| ClusterDecision {
            cluster_name: name.clone(),
            selected: false,
            cluster_score: Some(ClusterScore {
                affinity_score: Some(*score),
                priority_score: Some(0),
            }),
            reason: Some(not_picked_reason(name, *score)),
        }))
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
    // placement-extras §3.2: filters run ClusterAffinity, ClusterEligibility, TaintToleration.
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
            return Ok(Some(unschedulable(
                "cluster does not match with any of the required cluster affinity terms",
            )));
        }
    }
    if !c.joined {
        return Ok(Some("cluster has not joined the fleet".into()));
    }
    let tolerations = policy.tolerations.clone().unwrap_or_default();
    if let Some(taint) = c
        .taints
        .iter()
        .find(|t| !tolerations.iter().any(|tol| tolerates(tol, t)))
    {
        // Go's `%+v` of the *Taint.
        return Ok(Some(unschedulable(&format!(
            "taint &{{Key:{} Value:{} Effect:{:?}}} cannot be tolerated",
            taint.key,
            taint.value.as_deref().unwrap_or_default(),
            taint.effect
        ))));
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
    // An empty toleration effect matches every effect (§3.2).
    let effect_ok = toleration.effect.is_none_or(|e| e == taint.effect);
    key_ok && value_ok && effect_ok
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

/// placement-extras §3.3: each preferred term with a non-zero weight whose selectors match adds
/// its weight, or with a `propertySorter` the weight scaled by where the cluster's value sits
/// between the fleet's lowest and highest (`fleet` is every cluster, reporting or not).
fn affinity_score(
    policy: &PlacementPolicy,
    c: &Candidate,
    fleet: &[&Candidate],
) -> Result<i32, SelectorError> {
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
        if p.weight == 0 {
            continue;
        }
        let mut term = p.preference.clone();
        let sorter = term.property_sorter.take();
        if !term_matches(&term, c)? {
            continue;
        }
        score += match &sorter {
            None => p.weight,
            Some(sorter) => sorted_weight(sorter, p.weight, c, fleet),
        };
    }
    Ok(score)
}

/// A property's value as a number; a value that does not parse counts as not reported.
fn property(c: &Candidate, name: &str) -> Option<f64> {
    c.properties
        .get(name)
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|v| v.is_finite())
}

fn sorted_weight(sorter: &PropertySorter, weight: i32, c: &Candidate, fleet: &[&Candidate]) -> i32 {
    let values = fleet.iter().filter_map(|m| property(m, &sorter.name));
    let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    if min >= max {
        return 0; // nobody reports it, or everybody the same value
    }
    // A cluster that does not report the property counts as 0 (§3.3).
    let v = property(c, &sorter.name).unwrap_or(0.0);
    let position = (v - min) / (max - min);
    let scaled = match sorter.sort_order {
        PropertySortOrder::Descending => position,
        PropertySortOrder::Ascending => 1.0 - position,
    };
    // Go's math.Round: halves away from zero, as f64::round.
    (scaled * f64::from(weight)).round() as i32
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
#[path = "scheduling_tests.rs"]
mod tests;
