//! Resource snapshot groups (spec §4.1, §10.1): how a selection becomes one index group of
//! snapshots, and what to do given the groups that already exist. Pure: the engine lists the
//! existing snapshots, calls [`plan`], and carries out the returned steps.

use serde_json::Value;

use crate::placement::snapshot::resource_hash;
use crate::types::names::{master_resource_snapshot_name, sub_resource_snapshot_name};

/// Objects of one group stay within this many bytes of JSON each (spec §4.1: 800 KiB).
pub const MAX_CHUNK_BYTES: usize = 800 * 1024;

/// Default `revisionHistoryLimit` when unset or not positive (spec §10.3).
pub const DEFAULT_REVISION_HISTORY_LIMIT: u32 = 10;

/// What the engine knows of one existing resource snapshot of the placement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExistingSnapshot {
    pub name: String,
    /// The `resource-index` label.
    pub index: u64,
    /// The `is-latest-snapshot` label, when present.
    pub is_latest: Option<bool>,
    /// The `resource-hash` annotation: present only on a master.
    pub hash: Option<String>,
    /// The `number-of-resource-snapshots` annotation of a master.
    pub group_size: Option<u64>,
    /// The `subindex-of-resource-snapshot` annotation of a sub-indexed snapshot.
    pub sub_index: Option<u64>,
}

impl ExistingSnapshot {
    fn is_master(&self) -> bool {
        self.hash.is_some()
    }
}

/// One snapshot object to create.
#[derive(Clone, Debug, PartialEq)]
pub struct NewSnapshot {
    pub name: String,
    pub index: u64,
    /// `None` for the master, `Some(k)` for `<p>-<i>-<k>`.
    pub sub_index: Option<u64>,
    pub resources: Vec<Value>,
}

/// The steps that make the latest group hold `resources`.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotPlan {
    /// The index whose master the placement (or run) uses afterwards.
    pub index: u64,
    pub master_name: String,
    pub hash: String,
    /// Total objects in the group (the master's `number-of-resource-snapshots`).
    pub group_size: u64,
    /// Masters whose `is-latest-snapshot` label must become `"false"`.
    pub unmark_latest: Vec<String>,
    /// The master that must carry `is-latest-snapshot: "true"` (it may already).
    pub mark_latest: String,
    /// Snapshots to delete (whole old groups beyond the history limit).
    pub delete: Vec<String>,
    /// Snapshots to create, master first.
    pub create: Vec<NewSnapshot>,
}

impl SnapshotPlan {
    /// True when the latest group already holds this content completely.
    pub fn is_noop(&self) -> bool {
        self.create.is_empty() && self.delete.is_empty() && self.unmark_latest.is_empty()
    }
}

/// Splits the selection, in order, into chunks of at most [`MAX_CHUNK_BYTES`] of JSON; an object
/// larger than that gets a chunk of its own. An empty selection is one empty chunk.
pub fn chunk(resources: &[Value], max_bytes: usize) -> Vec<Vec<Value>> {
    let mut chunks: Vec<Vec<Value>> = vec![Vec::new()];
    let mut size = 0;
    for resource in resources {
        let bytes = serde_json::to_vec(resource).map(|v| v.len()).unwrap_or(0);
        let current = chunks.last().map_or(0, Vec::len);
        if current > 0 && size + bytes > max_bytes {
            chunks.push(Vec::new());
            size = 0;
        }
        size += bytes;
        if let Some(last) = chunks.last_mut() {
            last.push(resource.clone());
        }
    }
    chunks
}

/// Spec §10.1 without throttling (fleetdeck snapshots at once; DESIGN.md departures).
pub fn plan(
    placement: &str,
    existing: &[ExistingSnapshot],
    resources: &[Value],
    history_limit: u32,
) -> SnapshotPlan {
    let hash = resource_hash(resources);
    let chunks = chunk(resources, MAX_CHUNK_BYTES);
    let group_size = chunks.len() as u64;
    let latest = latest_master(existing);

    if let Some(latest) = latest.filter(|m| m.hash.as_deref() == Some(hash.as_str())) {
        // Same content: reuse the group, recreating only missing sub-indexed objects (a crash
        // between creating the master and its chunks).
        let index = latest.index;
        let have: Vec<u64> = existing
            .iter()
            .filter(|s| s.index == index)
            .filter_map(|s| s.sub_index)
            .collect();
        let create = chunks
            .into_iter()
            .enumerate()
            .skip(1)
            .filter(|(k, _)| !have.contains(&(*k as u64 - 1)))
            .map(|(k, resources)| NewSnapshot {
                name: sub_resource_snapshot_name(placement, index, k as u64 - 1),
                index,
                sub_index: Some(k as u64 - 1),
                resources,
            })
            .collect();
        return SnapshotPlan {
            index,
            master_name: latest.name.clone(),
            hash,
            group_size: latest.group_size.unwrap_or(group_size),
            unmark_latest: Vec::new(),
            mark_latest: latest.name.clone(),
            delete: Vec::new(),
            create,
        };
    }

    let index = latest.map_or(0, |m| m.index + 1);
    let unmark_latest = existing
        .iter()
        .filter(|s| s.is_master() && s.is_latest == Some(true))
        .map(|s| s.name.clone())
        .collect();
    // Keep the newest `limit - 1` old groups so that, with the new one, `limit` groups remain.
    let limit = if history_limit == 0 {
        DEFAULT_REVISION_HISTORY_LIMIT
    } else {
        history_limit
    } as usize;
    let mut indices: Vec<u64> = existing.iter().map(|s| s.index).collect();
    indices.sort_unstable();
    indices.dedup();
    let keep_from = indices.len().saturating_sub(limit - 1);
    let doomed: Vec<u64> = indices[..keep_from].to_vec();
    let delete = existing
        .iter()
        .filter(|s| doomed.contains(&s.index))
        .map(|s| s.name.clone())
        .collect();
    let master_name = master_resource_snapshot_name(placement, index);
    let create = chunks
        .into_iter()
        .enumerate()
        .map(|(k, resources)| match k {
            0 => NewSnapshot {
                name: master_name.clone(),
                index,
                sub_index: None,
                resources,
            },
            k => NewSnapshot {
                name: sub_resource_snapshot_name(placement, index, k as u64 - 1),
                index,
                sub_index: Some(k as u64 - 1),
                resources,
            },
        })
        .collect();
    SnapshotPlan {
        index,
        master_name: master_name.clone(),
        hash,
        group_size,
        unmark_latest,
        mark_latest: master_name,
        delete,
        create,
    }
}

/// The master labelled latest, or else the one with the highest index (spec §4.1).
pub fn latest_master(existing: &[ExistingSnapshot]) -> Option<&ExistingSnapshot> {
    let masters = || existing.iter().filter(|s| s.is_master());
    masters()
        .filter(|s| s.is_latest == Some(true))
        .max_by_key(|s| s.index)
        .or_else(|| masters().max_by_key(|s| s.index))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn master(index: u64, latest: bool, resources: &[Value]) -> ExistingSnapshot {
        ExistingSnapshot {
            name: master_resource_snapshot_name("p", index),
            index,
            is_latest: Some(latest),
            hash: Some(resource_hash(resources)),
            group_size: Some(1),
            sub_index: None,
        }
    }

    fn cm(value: &str) -> Vec<Value> {
        vec![
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"k": value}}),
        ]
    }

    #[test]
    fn the_first_selection_creates_index_zero() {
        let plan = plan("p", &[], &cm("v1"), 10);
        assert_eq!(plan.index, 0);
        assert_eq!(plan.master_name, "p-0-snapshot");
        assert_eq!(plan.create.len(), 1);
        assert_eq!(plan.create[0].resources, cm("v1"));
        assert!(plan.unmark_latest.is_empty() && plan.delete.is_empty());
    }

    #[test]
    fn unchanged_content_reuses_the_latest_group() {
        let plan = plan(
            "p",
            &[master(0, false, &cm("v1")), master(1, true, &cm("v2"))],
            &cm("v2"),
            10,
        );
        assert_eq!(plan.index, 1);
        assert!(plan.is_noop());
        assert_eq!(plan.mark_latest, "p-1-snapshot");
    }

    #[test]
    fn changed_content_creates_the_next_index_and_moves_the_latest_label() {
        let plan = plan("p", &[master(0, true, &cm("v1"))], &cm("v2"), 10);
        assert_eq!(plan.index, 1);
        assert_eq!(plan.unmark_latest, ["p-0-snapshot"]);
        assert_eq!(plan.mark_latest, "p-1-snapshot");
        assert_eq!(plan.create[0].name, "p-1-snapshot");
    }

    #[test]
    fn rolling_back_content_is_still_a_new_index() {
        // spec §10.4: content equal to an older group is a new group; only the latest counts.
        let plan = plan(
            "p",
            &[master(0, false, &cm("v1")), master(1, true, &cm("v2"))],
            &cm("v1"),
            10,
        );
        assert_eq!(plan.index, 2);
    }

    #[test]
    fn without_a_latest_label_the_highest_index_is_latest() {
        let mut a = master(0, false, &cm("v1"));
        a.is_latest = None;
        let mut b = master(3, false, &cm("v2"));
        b.is_latest = None;
        assert_eq!(
            latest_master(&[a.clone(), b.clone()]).map(|m| m.index),
            Some(3)
        );
        assert_eq!(plan("p", &[a, b], &cm("v9"), 10).index, 4);
    }

    #[test]
    fn old_groups_beyond_the_history_limit_are_deleted_oldest_first() {
        let existing: Vec<ExistingSnapshot> = (0..3)
            .map(|i| master(i, i == 2, &cm(&format!("v{i}"))))
            .collect();
        let plan = plan("p", &existing, &cm("new"), 2);
        assert_eq!(plan.delete, ["p-0-snapshot", "p-1-snapshot"]);
        assert_eq!(plan.index, 3);
        let plan_keep = super::plan("p", &existing, &cm("new"), 0);
        assert!(plan_keep.delete.is_empty(), "0 means the default of 10");
    }

    #[test]
    fn large_selections_are_split_into_sub_indexed_snapshots() {
        let big = |i: usize| json!({"kind": "ConfigMap", "metadata": {"name": format!("c{i}")}, "data": {"k": "x".repeat(300 * 1024)}});
        let resources: Vec<Value> = (0..5).map(big).collect();
        let plan = plan("p", &[], &resources, 10);
        let names: Vec<&str> = plan.create.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["p-0-snapshot", "p-0-0", "p-0-1"]);
        assert_eq!(plan.group_size, 3);
        assert_eq!(
            plan.create
                .iter()
                .map(|s| s.resources.len())
                .collect::<Vec<_>>(),
            [2, 2, 1]
        );
    }

    #[test]
    fn a_missing_chunk_of_the_latest_group_is_recreated() {
        let big = |i: usize| json!({"kind": "ConfigMap", "metadata": {"name": format!("c{i}")}, "data": {"k": "x".repeat(500 * 1024)}});
        let resources: Vec<Value> = (0..2).map(big).collect();
        let mut m = master(0, true, &resources);
        m.group_size = Some(2);
        let plan = plan("p", &[m], &resources, 10);
        assert_eq!(plan.index, 0);
        assert_eq!(plan.create.len(), 1);
        assert_eq!(plan.create[0].name, "p-0-0");
    }

    #[test]
    fn an_empty_selection_is_one_empty_master() {
        assert_eq!(chunk(&[], MAX_CHUNK_BYTES), vec![Vec::<Value>::new()]);
    }
}
