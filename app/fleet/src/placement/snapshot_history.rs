//! A placement's resource snapshot history as a person reads it (spec §4.1, §10): one entry per
//! index with its sub-index chunks joined back into the selection, which clusters run each index
//! (from the bindings), which runs rolled it out, and what a rollback to an index would change.
//! Pure: the dashboard lists the objects and calls these.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use thiserror::Error;

use crate::placement::snapshot::ResourceSnapshotSpec;
use crate::types::names::{
    IS_LATEST_SNAPSHOT_LABEL, NUMBER_OF_RESOURCE_SNAPSHOTS_ANNOTATION, RESOURCE_HASH_ANNOTATION,
    RESOURCE_INDEX_LABEL, SUBINDEX_OF_RESOURCE_SNAPSHOT_ANNOTATION,
};
use crate::types::object::{FleetKind, Object};

/// Why one snapshot object cannot be placed in the history.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HistoryError {
    #[error(
        "resource snapshot {name} has no {RESOURCE_INDEX_LABEL} label, so its index is unknown"
    )]
    MissingIndex { name: String },
    #[error("resource snapshot {name} has {label}={value:?}, which is not a non-negative integer")]
    BadNumber {
        name: String,
        label: &'static str,
        value: String,
    },
}

/// One resource snapshot object: a master (index group head) or one of its sub-indexed chunks.
#[derive(Clone, Debug, PartialEq)]
pub struct SnapshotChunk {
    pub name: String,
    pub index: u64,
    /// `None` for the master; `Some(k)` for `<placement>-<index>-<k>`.
    pub sub_index: Option<u64>,
    pub is_latest: bool,
    /// The master's `resource-hash` annotation.
    pub hash: Option<String>,
    /// The master's `number-of-resource-snapshots` annotation (the group's object count).
    pub group_size: Option<u64>,
    pub created: Option<DateTime<Utc>>,
    pub resources: Vec<Value>,
}

impl SnapshotChunk {
    /// Reads a `ClusterResourceSnapshot` or `ResourceSnapshot`.
    pub fn of<K: FleetKind<Spec = ResourceSnapshotSpec>>(
        snapshot: &Object<K>,
    ) -> Result<Self, HistoryError> {
        let name = snapshot.name().to_owned();
        let number = |label: &'static str, value: &String| {
            value.parse::<u64>().map_err(|_| HistoryError::BadNumber {
                name: name.clone(),
                label,
                value: value.clone(),
            })
        };
        let index = snapshot
            .labels()
            .get(RESOURCE_INDEX_LABEL)
            .ok_or_else(|| HistoryError::MissingIndex { name: name.clone() })
            .and_then(|v| number(RESOURCE_INDEX_LABEL, v))?;
        let annotations = snapshot.annotations();
        let sub_index = annotations
            .get(SUBINDEX_OF_RESOURCE_SNAPSHOT_ANNOTATION)
            .map(|v| number(SUBINDEX_OF_RESOURCE_SNAPSHOT_ANNOTATION, v))
            .transpose()?;
        let group_size = annotations
            .get(NUMBER_OF_RESOURCE_SNAPSHOTS_ANNOTATION)
            .map(|v| number(NUMBER_OF_RESOURCE_SNAPSHOTS_ANNOTATION, v))
            .transpose()?;
        Ok(SnapshotChunk {
            index,
            sub_index,
            is_latest: snapshot
                .labels()
                .get(IS_LATEST_SNAPSHOT_LABEL)
                .is_some_and(|v| v == "true"),
            hash: annotations.get(RESOURCE_HASH_ANNOTATION).cloned(),
            group_size,
            created: snapshot
                .metadata
                .creation_timestamp
                .as_ref()
                .and_then(|t| crate::types::condition::to_utc(&t.0)),
            resources: snapshot.spec.selected_resources.clone(),
            name,
        })
    }

    fn is_master(&self) -> bool {
        self.sub_index.is_none()
    }
}

/// One index of the history: the master and its chunks, joined.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotGroup {
    pub index: u64,
    /// The master's name, or `None` when only chunks of this index exist.
    pub master: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub hash: Option<String>,
    pub latest: bool,
    /// How many objects the master says the group has (itself included); 1 when unsaid.
    pub expected_objects: u64,
    /// The names of the objects present, master first, then chunks by sub-index.
    pub objects: Vec<String>,
    /// The selection, in order: the master's resources, then each chunk's by sub-index.
    pub resources: Vec<Value>,
    /// Size of the selection as compact JSON.
    pub bytes: usize,
}

impl SnapshotGroup {
    /// True when the master and every chunk it announces are present.
    pub fn complete(&self) -> bool {
        self.master.is_some() && self.objects.len() as u64 >= self.expected_objects
    }
}

/// Groups chunks by index, newest index first; chunks join their master in sub-index order.
pub fn groups(chunks: Vec<SnapshotChunk>) -> Vec<SnapshotGroup> {
    let mut by_index: BTreeMap<u64, Vec<SnapshotChunk>> = BTreeMap::new();
    for chunk in chunks {
        by_index.entry(chunk.index).or_default().push(chunk);
    }
    by_index
        .into_iter()
        .rev()
        .map(|(index, mut chunks)| {
            // Master (no sub-index) first, then chunks 1, 2, …
            chunks.sort_by_key(|c| (c.sub_index.is_some(), c.sub_index));
            let master = chunks.first().filter(|c| c.is_master());
            let resources: Vec<Value> = chunks
                .iter()
                .flat_map(|c| c.resources.iter().cloned())
                .collect();
            SnapshotGroup {
                index,
                master: master.map(|m| m.name.clone()),
                created: master.and_then(|m| m.created),
                hash: master.and_then(|m| m.hash.clone()),
                latest: master.is_some_and(|m| m.is_latest),
                expected_objects: master.and_then(|m| m.group_size).unwrap_or(1),
                objects: chunks.iter().map(|c| c.name.clone()).collect(),
                bytes: resources
                    .iter()
                    .map(|r| serde_json::to_vec(r).map_or(0, |v| v.len()))
                    .sum(),
                resources,
            }
        })
        .collect()
}

/// What one binding says about its cluster: the master snapshot it rolls out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    pub cluster: String,
    /// `spec.resourceSnapshotName`; `None` for a binding not yet given one.
    pub snapshot: Option<String>,
}

/// Clusters by the index they run; `None` collects clusters on no known snapshot (not yet
/// bound, or bound to a snapshot no longer in the history). Cluster names are sorted.
pub fn clusters_by_index(
    deployments: &[Deployment],
    history: &[SnapshotGroup],
) -> BTreeMap<Option<u64>, Vec<String>> {
    let index_of: BTreeMap<&str, u64> = history
        .iter()
        .filter_map(|g| g.master.as_deref().map(|m| (m, g.index)))
        .collect();
    let mut out: BTreeMap<Option<u64>, BTreeSet<String>> = BTreeMap::new();
    for d in deployments {
        let index = d.snapshot.as_deref().and_then(|s| index_of.get(s).copied());
        out.entry(index).or_default().insert(d.cluster.clone());
    }
    out.into_iter()
        .map(|(k, v)| (k, v.into_iter().collect()))
        .collect()
}

/// What rolling every cluster to `target` would do: who changes, from which index, who stays.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RollbackImpact {
    pub target: u64,
    /// Clusters already on the target.
    pub unchanged: Vec<String>,
    /// Clusters that change, grouped by the index they run now (`None`: no known snapshot).
    /// A list of pairs on the wire: JSON object keys must be strings, and `None` is not one.
    #[serde(with = "pairs")]
    pub changing: BTreeMap<Option<u64>, Vec<String>>,
}

/// A map (de)serialised as a list of `[key, value]` pairs.
mod pairs {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer, K: Serialize, V: Serialize>(
        map: &BTreeMap<K, V>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(map.iter())
    }

    pub fn deserialize<'de, D, K, V>(deserializer: D) -> Result<BTreeMap<K, V>, D::Error>
    where
        D: Deserializer<'de>,
        K: Deserialize<'de> + Ord,
        V: Deserialize<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

impl RollbackImpact {
    pub fn changing_count(&self) -> usize {
        self.changing.values().map(Vec::len).sum()
    }
}

pub fn rollback_impact(
    target: u64,
    by_index: &BTreeMap<Option<u64>, Vec<String>>,
) -> RollbackImpact {
    let mut impact = RollbackImpact {
        target,
        ..RollbackImpact::default()
    };
    for (index, clusters) in by_index {
        if *index == Some(target) {
            impact.unchanged = clusters.clone();
        } else {
            impact.changing.insert(*index, clusters.clone());
        }
    }
    impact
}

/// The runs (by display name) that rolled out each index, from the runs' chosen indexes.
pub fn runs_by_index<'a>(
    runs: impl IntoIterator<Item = (&'a str, Option<&'a str>)>,
) -> BTreeMap<u64, Vec<String>> {
    let mut out: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (run, index) in runs {
        if let Some(index) = index.and_then(|i| i.parse::<u64>().ok()) {
            out.entry(index).or_default().push(run.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn an_impact_with_clusters_not_rolled_out_yet_crosses_the_wire() {
        let impact = super::RollbackImpact {
            target: 0,
            unchanged: vec!["member2".into()],
            changing: [
                (None, vec!["member1".to_string()]),
                (Some(1), vec!["member3".to_string()]),
            ]
            .into_iter()
            .collect(),
        };
        let json = serde_json::to_string(&impact).expect("serialises with a None key");
        assert_eq!(
            json,
            r#"{"target":0,"unchanged":["member2"],"changing":[[null,["member1"]],[1,["member3"]]]}"#
        );
        let back: super::RollbackImpact = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, impact);
    }

    use super::*;
    use crate::ClusterResourceSnapshot;
    use serde_json::json;

    fn snapshot(name: &str, index: &str, annotations: Value, resources: Value) -> SnapshotChunk {
        let object: ClusterResourceSnapshot = serde_json::from_value(json!({
            "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
            "kind": "ClusterResourceSnapshot",
            "metadata": {
                "name": name,
                "creationTimestamp": "2026-12-06T10:00:00Z",
                "labels": {RESOURCE_INDEX_LABEL: index, IS_LATEST_SNAPSHOT_LABEL: "false"},
                "annotations": annotations,
            },
            "spec": {"selectedResources": resources},
        }))
        .expect("a valid snapshot");
        SnapshotChunk::of(&object).expect("readable")
    }

    fn cm(name: &str) -> Value {
        json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}})
    }

    #[test]
    fn chunks_join_their_master_in_sub_index_order_newest_index_first() {
        let groups = groups(vec![
            snapshot(
                "crp-1-2",
                "1",
                json!({SUBINDEX_OF_RESOURCE_SNAPSHOT_ANNOTATION: "2"}),
                json!([cm("c")]),
            ),
            snapshot(
                "crp-0-snapshot",
                "0",
                json!({RESOURCE_HASH_ANNOTATION: "h0", NUMBER_OF_RESOURCE_SNAPSHOTS_ANNOTATION: "1"}),
                json!([cm("x")]),
            ),
            snapshot(
                "crp-1-1",
                "1",
                json!({SUBINDEX_OF_RESOURCE_SNAPSHOT_ANNOTATION: "1"}),
                json!([cm("b")]),
            ),
            snapshot(
                "crp-1-snapshot",
                "1",
                json!({RESOURCE_HASH_ANNOTATION: "h1", NUMBER_OF_RESOURCE_SNAPSHOTS_ANNOTATION: "3"}),
                json!([cm("a")]),
            ),
        ]);
        assert_eq!(groups.iter().map(|g| g.index).collect::<Vec<_>>(), [1, 0]);
        let names: Vec<&str> = groups[0]
            .resources
            .iter()
            .filter_map(|r| r.pointer("/metadata/name").and_then(Value::as_str))
            .collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(groups[0].objects, ["crp-1-snapshot", "crp-1-1", "crp-1-2"]);
        assert!(groups[0].complete());
        assert_eq!(groups[0].hash.as_deref(), Some("h1"));
        assert!(groups[0].bytes > 0);
    }

    #[test]
    fn a_group_missing_a_chunk_or_its_master_is_incomplete() {
        let partial = groups(vec![
            snapshot(
                "crp-2-snapshot",
                "2",
                json!({NUMBER_OF_RESOURCE_SNAPSHOTS_ANNOTATION: "2"}),
                json!([]),
            ),
            snapshot(
                "crp-3-1",
                "3",
                json!({SUBINDEX_OF_RESOURCE_SNAPSHOT_ANNOTATION: "1"}),
                json!([]),
            ),
        ]);
        assert!(!partial[0].complete(), "index 3 has no master");
        assert_eq!(partial[0].master, None);
        assert!(
            !partial[1].complete(),
            "index 2 announces 2 objects, holds 1"
        );
    }

    #[test]
    fn unreadable_snapshots_say_what_is_wrong() {
        let object: ClusterResourceSnapshot = serde_json::from_value(json!({
            "apiVersion": "placement.kubernetes-fleet.io/v1beta1", "kind": "ClusterResourceSnapshot",
            "metadata": {"name": "crp-x", "labels": {RESOURCE_INDEX_LABEL: "first"}},
        }))
        .expect("valid object");
        assert_eq!(
            SnapshotChunk::of(&object).err().map(|e| e.to_string()),
            Some(format!("resource snapshot crp-x has {RESOURCE_INDEX_LABEL}=\"first\", which is not a non-negative integer"))
        );
    }

    #[test]
    fn clusters_group_by_the_index_they_run_and_a_rollback_names_who_changes() {
        let history = groups(vec![
            snapshot("crp-0-snapshot", "0", json!({}), json!([])),
            snapshot("crp-1-snapshot", "1", json!({}), json!([])),
        ]);
        let on = |cluster: &str, snapshot: Option<&str>| Deployment {
            cluster: cluster.into(),
            snapshot: snapshot.map(Into::into),
        };
        let by_index = clusters_by_index(
            &[
                on("member3", Some("crp-1-snapshot")),
                on("member1", Some("crp-1-snapshot")),
                on("member2", Some("crp-0-snapshot")),
                on("member4", None),
                on("member5", Some("crp-9-snapshot")),
            ],
            &history,
        );
        assert_eq!(by_index[&Some(1)], ["member1", "member3"]);
        assert_eq!(by_index[&Some(0)], ["member2"]);
        assert_eq!(by_index[&None], ["member4", "member5"]);
        let impact = rollback_impact(0, &by_index);
        assert_eq!(impact.unchanged, ["member2"]);
        assert_eq!(impact.changing_count(), 4);
        assert_eq!(impact.changing[&Some(1)], ["member1", "member3"]);
    }

    #[test]
    fn runs_are_listed_under_the_index_they_rolled_out() {
        let runs = runs_by_index([
            ("run-1", Some("0")),
            ("run-2", Some("1")),
            ("run-3", None),
            ("run-4", Some("1")),
        ]);
        assert_eq!(runs[&1], ["run-2", "run-4"]);
        assert_eq!(runs[&0], ["run-1"]);
        assert_eq!(runs.len(), 2);
    }
}
