//! JSON merge patches (RFC 7386) the engine sends for fleet objects, as typed structs: a `None`
//! field is left out (unchanged), a map entry of `None` is sent as `null` (removed).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::types::names::IS_LATEST_SNAPSHOT_LABEL;

/// `metadata` labels and annotations to set (`Some`) or remove (`None`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct MetadataPatch {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub labels: Option<BTreeMap<String, Option<String>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub annotations: Option<BTreeMap<String, Option<String>>>,
}

impl MetadataPatch {
    /// Sets (or with `None` removes) one label.
    pub fn label(key: &str, value: Option<String>) -> Self {
        MetadataPatch {
            labels: Some(BTreeMap::from([(key.to_string(), value)])),
            annotations: None,
        }
    }

    /// Sets (or with `None` removes) one annotation.
    pub fn annotation(key: &str, value: Option<String>) -> Self {
        MetadataPatch {
            labels: None,
            annotations: Some(BTreeMap::from([(key.to_string(), value)])),
        }
    }

    /// A snapshot's `is-latest-snapshot` label, `"true"` or `"false"` (spec §2).
    pub fn is_latest(latest: bool) -> Self {
        Self::label(IS_LATEST_SNAPSHOT_LABEL, Some(latest.to_string()))
    }
}

/// A patch of `metadata` only.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MetadataOnly {
    pub metadata: MetadataPatch,
}

impl From<MetadataPatch> for MetadataOnly {
    fn from(metadata: MetadataPatch) -> Self {
        MetadataOnly { metadata }
    }
}

/// `metadata.finalizers` replaced as a whole, with the resourceVersion the list was read at as a
/// precondition: a finalizer another controller added in between is never dropped.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FinalizersPatch {
    pub metadata: FinalizersMeta,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FinalizersMeta {
    pub finalizers: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
}

impl FinalizersPatch {
    pub fn new(finalizers: Vec<String>, resource_version: Option<String>) -> Self {
        FinalizersPatch {
            metadata: FinalizersMeta {
                finalizers,
                resource_version,
            },
        }
    }
}

/// A merge patch applied only while the object is still at `resourceVersion` (the hub answers
/// 409 otherwise): a change decided on what a person saw is never written over a newer object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Guarded<'a, T> {
    pub metadata: ResourceVersion<'a>,
    #[serde(flatten)]
    pub patch: T,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceVersion<'a> {
    pub resource_version: &'a str,
}

impl<'a, T> Guarded<'a, T> {
    pub fn new(resource_version: &'a str, patch: T) -> Self {
        Guarded {
            metadata: ResourceVersion { resource_version },
            patch,
        }
    }
}

/// A patch of the status subresource; `status` serializes only the fields it sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusPatch<T> {
    pub status: T,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_guarded_patch_carries_the_resource_version_beside_its_body() {
        let patch = Guarded::new(
            "7",
            StatusPatch {
                status: json!({"a": 1}),
            },
        );
        assert_eq!(
            serde_json::to_value(&patch).expect("serializes"),
            json!({"metadata": {"resourceVersion": "7"}, "status": {"a": 1}})
        );
    }

    #[test]
    fn a_finalizers_patch_replaces_the_list_at_a_resource_version() {
        let patch = FinalizersPatch::new(vec!["a".into()], Some("7".into()));
        assert_eq!(
            serde_json::to_value(&patch).expect("serializes"),
            json!({"metadata": {"finalizers": ["a"], "resourceVersion": "7"}})
        );
    }

    #[test]
    fn set_and_remove_serialize_as_merge_patches() {
        let set = MetadataOnly::from(MetadataPatch::annotation("a", Some("3".into())));
        assert_eq!(
            serde_json::to_value(&set).expect("serializes"),
            json!({"metadata": {"annotations": {"a": "3"}}})
        );
        let remove = MetadataOnly::from(MetadataPatch::annotation("a", None));
        assert_eq!(
            serde_json::to_value(&remove).expect("serializes"),
            json!({"metadata": {"annotations": {"a": null}}})
        );
        assert_eq!(
            serde_json::to_value(MetadataOnly::from(MetadataPatch::is_latest(false)))
                .expect("serializes"),
            json!({"metadata": {"labels": {IS_LATEST_SNAPSHOT_LABEL: "false"}}})
        );
    }
}
