//! Scheduling-policy snapshots (spec §4.2, extras §3.7): whether the placement's policy needs a
//! new snapshot, which one, which snapshots stop being the latest, PickN's `number-of-clusters`
//! annotation, and the snapshot status the scheduler reports. Pure: the placement controller
//! lists the snapshots, calls [`plan`] and [`scheduled_status`], and writes what they return.

use std::collections::BTreeMap;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use thiserror::Error;

use crate::placement::placement_ref::PlacementRef;
use crate::placement::resource_placement::{PlacementPolicy, PlacementType};
use crate::placement::scheduling::Schedule;
use crate::placement::snapshot::{
    resource_hash, SchedulingPolicySnapshotSpec, SchedulingPolicySnapshotStatus,
};
use crate::types::condition::{
    messages, new_condition, reasons, set_condition, types, Condition, Time, FALSE, TRUE,
};
use crate::types::merge_patch::MetadataPatch;
use crate::types::names::{
    policy_snapshot_name, IS_LATEST_SNAPSHOT_LABEL, NUMBER_OF_CLUSTERS_ANNOTATION,
    PARENT_PLACEMENT_LABEL, POLICY_INDEX_LABEL,
};
use crate::{FleetKind, Object};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicySnapshotError {
    #[error("cannot hash the scheduling policy: {0}")]
    Hash(String),
    /// A new snapshot's index follows the latest one's, so the latest must say its own.
    #[error("the latest policy snapshot `{0}` has no valid `{POLICY_INDEX_LABEL}` label")]
    NoIndex(String),
}

/// What the placement controller knows of an existing policy snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExistingPolicySnapshot {
    pub name: String,
    /// The `policy-index` label, if it parses.
    pub index: Option<u64>,
    /// `is-latest-snapshot: "true"`.
    pub is_latest: bool,
    pub policy_hash: String,
    /// The `number-of-clusters` annotation.
    pub number_of_clusters: Option<String>,
}

impl ExistingPolicySnapshot {
    pub fn of<K: FleetKind<Spec = SchedulingPolicySnapshotSpec>>(snapshot: &Object<K>) -> Self {
        let labels = snapshot.labels();
        ExistingPolicySnapshot {
            name: snapshot.name().to_string(),
            index: labels.get(POLICY_INDEX_LABEL).and_then(|i| i.parse().ok()),
            is_latest: labels.get(IS_LATEST_SNAPSHOT_LABEL).map(String::as_str) == Some("true"),
            policy_hash: snapshot.spec.policy_hash.clone(),
            number_of_clusters: snapshot
                .annotations()
                .get(NUMBER_OF_CLUSTERS_ANNOTATION)
                .cloned(),
        }
    }
}

/// What to write so that the placement's latest policy snapshot holds its current policy.
#[derive(Clone, Debug, PartialEq)]
pub enum PolicySnapshotPlan {
    /// The latest snapshot already holds the policy; PickN's count may need a patch (a change of
    /// N alone keeps the snapshot, spec §4.2).
    Keep {
        name: String,
        number_of_clusters: Option<MetadataPatch>,
    },
    /// The policy changed (or there is no snapshot yet): every snapshot that says it is the
    /// latest stops saying so, then `snapshot` is created.
    Create {
        unmark_latest: Vec<String>,
        snapshot: Box<NewPolicySnapshot>,
    },
}

impl PolicySnapshotPlan {
    /// The snapshot the placement is scheduled against.
    pub fn name(&self) -> &str {
        match self {
            PolicySnapshotPlan::Keep { name, .. } => name,
            PolicySnapshotPlan::Create { snapshot, .. } => &snapshot.name,
        }
    }
}

/// A policy snapshot to create: labels, annotations and owner as spec §4.2.
#[derive(Clone, Debug, PartialEq)]
pub struct NewPolicySnapshot {
    pub name: String,
    pub index: u64,
    pub metadata: ObjectMeta,
    pub spec: SchedulingPolicySnapshotSpec,
}

impl NewPolicySnapshot {
    /// The object to create, of the owner's scope's policy snapshot kind.
    pub fn to_object<K: FleetKind<Spec = SchedulingPolicySnapshotSpec>>(&self) -> Object<K> {
        Object {
            api_version: K::api_version(),
            kind: K::KIND.to_string(),
            metadata: self.metadata.clone(),
            spec: self.spec.clone(),
            status: None,
        }
    }
}

/// `spec.policyHash`: base64 of the SHA-256 hex of the policy without `numberOfClusters` (a
/// change of N alone keeps the snapshot, spec §4.2). No policy hashes as `null` (PickAll).
pub fn policy_hash(policy: Option<&PlacementPolicy>) -> Result<String, PolicySnapshotError> {
    let mut hashed =
        serde_json::to_value(policy).map_err(|e| PolicySnapshotError::Hash(e.to_string()))?;
    if let Some(map) = hashed.as_object_mut() {
        map.remove("numberOfClusters");
    }
    Ok(base64(resource_hash(&[hashed]).as_bytes()))
}

/// The `number-of-clusters` annotation: PickN's N, absent for other policies (spec §2).
pub fn number_of_clusters(policy: Option<&PlacementPolicy>) -> Option<String> {
    policy
        .filter(|p| p.placement_type == Some(PlacementType::PickN))
        .and_then(|p| p.number_of_clusters)
        .map(|n| n.to_string())
}

/// The snapshot that is the latest: the highest index among those labelled latest, or, if none
/// is (a crash between unmarking and creating), the highest index of all.
pub fn latest(existing: &[ExistingPolicySnapshot]) -> Option<&ExistingPolicySnapshot> {
    existing
        .iter()
        .filter(|s| s.is_latest)
        .max_by_key(|s| s.index)
        .or_else(|| existing.iter().max_by_key(|s| s.index))
}

/// Decides the policy snapshot of `owner` for `policy`, given its `existing` snapshots.
pub fn plan(
    owner: &PlacementRef,
    policy: Option<&PlacementPolicy>,
    existing: &[ExistingPolicySnapshot],
) -> Result<PolicySnapshotPlan, PolicySnapshotError> {
    let hash = policy_hash(policy)?;
    let count = number_of_clusters(policy);
    let latest = latest(existing);
    if let Some(latest) = latest.filter(|s| s.policy_hash == hash) {
        let number_of_clusters = (latest.number_of_clusters != count)
            .then(|| MetadataPatch::annotation(NUMBER_OF_CLUSTERS_ANNOTATION, count));
        return Ok(PolicySnapshotPlan::Keep {
            name: latest.name.clone(),
            number_of_clusters,
        });
    }
    let index = match latest {
        None => 0,
        Some(s) => {
            s.index
                .ok_or_else(|| PolicySnapshotError::NoIndex(s.name.clone()))?
                + 1
        }
    };
    let unmark_latest = existing
        .iter()
        .filter(|s| s.is_latest)
        .map(|s| s.name.clone())
        .collect();
    let name = policy_snapshot_name(&owner.name, index);
    let annotations = count
        .map(|n| (NUMBER_OF_CLUSTERS_ANNOTATION.to_string(), n))
        .into_iter()
        .collect();
    let metadata = ObjectMeta {
        name: Some(name.clone()),
        namespace: owner.namespace.clone(),
        labels: Some(BTreeMap::from([
            (PARENT_PLACEMENT_LABEL.to_string(), owner.name.clone()),
            (POLICY_INDEX_LABEL.to_string(), index.to_string()),
            (IS_LATEST_SNAPSHOT_LABEL.to_string(), "true".to_string()),
        ])),
        annotations: Some(annotations),
        owner_references: Some(vec![owner.owner_reference()]),
        ..ObjectMeta::default()
    };
    Ok(PolicySnapshotPlan::Create {
        unmark_latest,
        snapshot: Box::new(NewPolicySnapshot {
            name,
            index,
            metadata,
            spec: SchedulingPolicySnapshotSpec {
                policy: policy.cloned(),
                policy_hash: hash,
            },
        }),
    })
}

/// The snapshot's `Scheduled` condition: True once the policy got every cluster it asked for
/// (spec §4.2); `found` is the number of clusters picked (placement-extras §3.5 step 4).
pub fn scheduled_condition(
    fulfilled: bool,
    found: usize,
    snapshot_generation: i64,
    now: &Time,
) -> Condition {
    let (status, reason, message) = if fulfilled {
        (
            TRUE,
            reasons::SCHEDULING_POLICY_FULFILLED,
            messages::scheduling_policy_fulfilled(found),
        )
    } else {
        (
            FALSE,
            reasons::SCHEDULING_POLICY_UNFULFILLED,
            messages::scheduling_policy_unfulfilled(found),
        )
    };
    new_condition(
        types::SCHEDULED,
        status,
        reason,
        &message,
        snapshot_generation,
        now,
    )
}

/// The snapshot status for `schedule` of the placement at `placement_generation`, or `None` when
/// `current` already says it: the observed generation, `Scheduled` (other conditions kept), and
/// at most 1,000 target clusters (spec §4.2, [`Schedule::status_decisions`]).
pub fn scheduled_status(
    current: Option<&SchedulingPolicySnapshotStatus>,
    snapshot_generation: i64,
    placement_generation: i64,
    schedule: &Schedule,
    now: &Time,
) -> Option<SchedulingPolicySnapshotStatus> {
    let mut conditions = current
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    set_condition(
        &mut conditions,
        scheduled_condition(
            schedule.fulfilled,
            schedule.selected.len(),
            snapshot_generation,
            now,
        ),
    );
    let desired = SchedulingPolicySnapshotStatus {
        observed_crp_generation: Some(placement_generation),
        conditions: Some(conditions),
        target_clusters: Some(schedule.status_decisions().to_vec()),
    };
    (current != Some(&desired)).then_some(desired)
}

/// Standard base64 with padding (RFC 4648 §4), as Go writes a `[]byte` in JSON.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18u32, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "policy_snapshot_tests.rs"]
mod tests;
