//! The placement that owns snapshots and bindings, and the controller owner reference they carry
//! (spec §4, §5): the hub's garbage collector removes them with their placement.

use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use thiserror::Error;

use crate::placement::resource_placement::PlacementSpec;
use crate::{FleetKind, Object};

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PlacementRefError {
    /// Only an object read from the hub can own anything: it has a uid.
    #[error("placement `{0}` has no metadata.uid")]
    NoUid(String),
    #[error("placement has no metadata.name")]
    NoName,
}

/// The placement that owns snapshots and bindings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlacementRef {
    pub api_version: String,
    pub kind: String,
    pub name: String,
    /// Set for a ResourcePlacement.
    pub namespace: Option<String>,
    pub uid: String,
}

impl PlacementRef {
    /// The reference of a placement read from the hub, at its kind's storage version.
    pub fn of<K: FleetKind<Spec = PlacementSpec>>(
        placement: &Object<K>,
    ) -> Result<Self, PlacementRefError> {
        let name = placement
            .metadata
            .name
            .clone()
            .ok_or(PlacementRefError::NoName)?;
        let uid = placement
            .metadata
            .uid
            .clone()
            .ok_or_else(|| PlacementRefError::NoUid(name.clone()))?;
        Ok(PlacementRef {
            api_version: K::api_version(),
            kind: K::KIND.to_string(),
            name,
            namespace: placement.metadata.namespace.clone(),
            uid,
        })
    }

    /// The controller owner reference of everything the placement owns.
    pub fn owner_reference(&self) -> OwnerReference {
        OwnerReference {
            api_version: self.api_version.clone(),
            kind: self.kind.clone(),
            name: self.name.clone(),
            uid: self.uid.clone(),
            controller: Some(true),
            block_owner_deletion: Some(true),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::types::kind::{ClusterResourcePlacement, ResourcePlacement};

    #[test]
    fn owner_is_the_controller_at_the_storage_version() {
        let mut crp = Object::<ClusterResourcePlacement>::new("crp", PlacementSpec::default());
        assert_eq!(
            PlacementRef::of(&crp),
            Err(PlacementRefError::NoUid("crp".into()))
        );
        crp.metadata.uid = Some("u-1".into());
        crp.api_version = "placement.kubernetes-fleet.io/v1".into();
        let owner = PlacementRef::of(&crp).expect("has a uid");
        assert_eq!(owner.namespace, None);
        assert_eq!(
            serde_json::to_value(owner.owner_reference()).expect("serializes"),
            json!({
                "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
                "kind": "ClusterResourcePlacement",
                "name": "crp",
                "uid": "u-1",
                "controller": true,
                "blockOwnerDeletion": true,
            })
        );
        let mut rp =
            Object::<ResourcePlacement>::new_namespaced("ns", "rp", PlacementSpec::default());
        rp.metadata.uid = Some("u-2".into());
        let owner = PlacementRef::of(&rp).expect("has a uid");
        assert_eq!(owner.namespace.as_deref(), Some("ns"));
        assert_eq!(owner.kind, "ResourcePlacement");
    }
}
