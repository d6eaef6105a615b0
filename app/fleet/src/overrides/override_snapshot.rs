//! Override snapshots as KubeFleet's override controllers keep them (placement-extras §1.4): one
//! per revision of an override's spec, `<override>-<index>`, the newest labelled latest, at most
//! ten kept.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::types::names::IS_LATEST_SNAPSHOT_LABEL;

/// Names the override a snapshot was taken of.
pub const PARENT_RESOURCE_OVERRIDE_LABEL: &str = "kubernetes-fleet.io/parent-resource-override";
/// The snapshot's revision number.
pub const OVERRIDE_INDEX_LABEL: &str = "kubernetes-fleet.io/override-index";
/// Held by an override until its snapshots are deleted.
pub const OVERRIDE_CLEANUP_FINALIZER: &str = "kubernetes-fleet.io/override-cleanup";
/// Upstream's hard-coded history limit.
pub const MAX_SNAPSHOTS: usize = 10;

/// Lowercase hex SHA-256 of the spec's JSON.
pub fn override_hash<S: Serialize>(spec: &S) -> String {
    let json = serde_json::to_vec(spec).unwrap_or_default();
    Sha256::digest(&json)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `<override>-<index>`.
pub fn snapshot_name(override_name: &str, index: u64) -> String {
    format!("{override_name}-{index}")
}

/// An existing snapshot of the override, as the controller reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExistingSnapshot {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// `spec.overrideHash` as text.
    pub hash: String,
}

/// What to write so the snapshots reflect the override's spec.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SnapshotPlan {
    /// The oldest snapshots, removed to keep at most [`MAX_SNAPSHOTS`] after the create.
    pub delete: Vec<String>,
    /// Snapshots to label `is-latest-snapshot: "false"`.
    pub unmark_latest: Vec<String>,
    /// The unchanged latest snapshot that lost (or never had) its latest label.
    pub mark_latest: Option<String>,
    /// A new snapshot `(name, index)`, labelled latest.
    pub create: Option<(String, u64)>,
}

/// A snapshot whose index label is missing or unreadable (KubeFleet: unexpected behaviour).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("override snapshot {0} has an invalid {OVERRIDE_INDEX_LABEL} label")]
pub struct BadIndex(pub String);

/// The plan for an override named `name` whose spec hashes to `hash`.
///
/// Upstream trims the history on every reconcile, so a no-op reconcile with ten snapshots leaves
/// nine (a listed quirk); fleetdeck trims only when it creates one, so the history never shrinks
/// without a change.
pub fn plan(
    name: &str,
    hash: &str,
    existing: &[ExistingSnapshot],
) -> Result<SnapshotPlan, BadIndex> {
    let mut indexed = existing
        .iter()
        .map(|s| {
            s.labels
                .get(OVERRIDE_INDEX_LABEL)
                .and_then(|v| v.parse::<u64>().ok())
                .map(|i| (i, s))
                .ok_or_else(|| BadIndex(s.name.clone()))
        })
        .collect::<Result<Vec<_>, _>>()?;
    indexed.sort_by_key(|(i, _)| *i);
    let is_latest = |s: &ExistingSnapshot| {
        s.labels.get(IS_LATEST_SNAPSHOT_LABEL).map(String::as_str) == Some("true")
    };
    let mut plan = SnapshotPlan::default();
    match indexed.last() {
        Some((_, latest)) if latest.hash == hash => {
            if !is_latest(latest) {
                plan.mark_latest = Some(latest.name.clone());
            }
            plan.unmark_latest = indexed[..indexed.len() - 1]
                .iter()
                .filter(|(_, s)| is_latest(s))
                .map(|(_, s)| s.name.clone())
                .collect();
        }
        last => {
            let next = last.map_or(0, |(i, _)| i + 1);
            let excess = (indexed.len() + 1).saturating_sub(MAX_SNAPSHOTS);
            plan.delete = indexed[..excess]
                .iter()
                .map(|(_, s)| s.name.clone())
                .collect();
            plan.unmark_latest = indexed[excess..]
                .iter()
                .filter(|(_, s)| is_latest(s))
                .map(|(_, s)| s.name.clone())
                .collect();
            plan.create = Some((snapshot_name(name, next), next));
        }
    }
    Ok(plan)
}

/// The labels of snapshot `index` of override `name`.
pub fn snapshot_labels(name: &str, index: u64) -> BTreeMap<String, String> {
    BTreeMap::from([
        (PARENT_RESOURCE_OVERRIDE_LABEL.to_string(), name.to_string()),
        (IS_LATEST_SNAPSHOT_LABEL.to_string(), "true".to_string()),
        (OVERRIDE_INDEX_LABEL.to_string(), index.to_string()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn snap(name: &str, index: &str, latest: bool, hash: &str) -> ExistingSnapshot {
        let mut labels = snapshot_labels("cro", 0);
        labels.insert(OVERRIDE_INDEX_LABEL.into(), index.into());
        labels.insert(IS_LATEST_SNAPSHOT_LABEL.into(), latest.to_string());
        ExistingSnapshot {
            name: name.into(),
            labels,
            hash: hash.into(),
        }
    }

    #[test]
    fn the_first_snapshot_is_index_zero() {
        let p = plan("cro", "h", &[]).expect("plan");
        assert_eq!(p.create, Some(("cro-0".to_string(), 0)));
        assert!(p.delete.is_empty() && p.unmark_latest.is_empty());
    }

    #[test]
    fn an_unchanged_spec_writes_nothing_and_a_change_moves_latest() {
        let existing = [
            snap("cro-0", "0", false, "a"),
            snap("cro-1", "1", true, "b"),
        ];
        assert_eq!(
            plan("cro", "b", &existing).expect("plan"),
            SnapshotPlan::default()
        );
        let p = plan("cro", "c", &existing).expect("plan");
        assert_eq!(p.create, Some(("cro-2".to_string(), 2)));
        assert_eq!(p.unmark_latest, ["cro-1"]);
        // Index order, not name order: cro-10 follows cro-9.
        let existing = [
            snap("cro-10", "10", true, "x"),
            snap("cro-9", "9", false, "y"),
        ];
        assert_eq!(
            plan("cro", "z", &existing).expect("plan").create,
            Some(("cro-11".into(), 11))
        );
    }

    #[test]
    fn at_most_ten_remain_after_a_change_and_none_go_without_one() {
        let existing: Vec<_> = (0..10)
            .map(|i| {
                snap(
                    &format!("cro-{i}"),
                    &i.to_string(),
                    i == 9,
                    &format!("h{i}"),
                )
            })
            .collect();
        assert_eq!(
            plan("cro", "h9", &existing).expect("plan"),
            SnapshotPlan::default()
        );
        let p = plan("cro", "new", &existing).expect("plan");
        assert_eq!(p.delete, ["cro-0"]);
        assert_eq!(p.create, Some(("cro-10".to_string(), 10)));
    }

    #[test]
    fn a_lost_latest_label_is_restored_and_a_bad_index_is_an_error() {
        let existing = [snap("cro-0", "0", false, "a")];
        assert_eq!(
            plan("cro", "a", &existing).expect("plan").mark_latest,
            Some("cro-0".into())
        );
        let bad = [snap("cro-0", "zero", true, "a")];
        assert_eq!(plan("cro", "a", &bad), Err(BadIndex("cro-0".into())));
    }

    #[test]
    fn the_hash_is_lowercase_hex_sha256() {
        let h = override_hash(&serde_json::json!({}));
        assert_eq!(
            h,
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }
}
