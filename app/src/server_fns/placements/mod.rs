//! The Placements pages' server functions: the list, one placement with its snapshot history,
//! the diff between two snapshots, and the plan of a rollback. All read the hub; the rollback
//! itself is an ordinary run created with `runs::create_run`.

mod diff_snapshots;
mod get_placement;
mod list_placements;
#[cfg(feature = "ssr")]
pub(crate) mod load;
mod rollback_plan;

pub use diff_snapshots::*;
pub use get_placement::*;
pub use list_placements::*;
pub use rollback_plan::*;

use serde::{Deserialize, Serialize};

/// Names a placement: a ClusterResourcePlacement when `namespace` is empty, else a
/// ResourcePlacement. Strings, so forms post it as plain fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PlacementKey {
    #[serde(default)]
    pub namespace: String,
    pub name: String,
}

impl PlacementKey {
    pub fn new(namespace: Option<&str>, name: &str) -> Self {
        PlacementKey {
            namespace: namespace.unwrap_or_default().to_string(),
            name: name.to_string(),
        }
    }

    pub fn namespace(&self) -> Option<&str> {
        Some(self.namespace.as_str()).filter(|ns| !ns.is_empty())
    }

    /// `/placements/<name>` or `/placements/<namespace>/<name>`.
    pub fn path(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("/placements/{ns}/{}", self.name),
            None => format!("/placements/{}", self.name),
        }
    }

    /// `name` or `namespace/name`: how a run's form names the placement.
    pub fn reference(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// `placement example-placement` or `placement team-a/example`.
    pub fn describe(&self) -> String {
        format!("placement {}", self.reference())
    }
}
