//! The Strategies pages' server functions: the list, one strategy, what the plan preview needs
//! (members and placements, loaded once; the browser plans), and the writes — save (a create or
//! an update, checked with a server-side dry run first) and delete — as kubectl would make them.

mod delete_strategy;
mod get_strategy;
mod list_strategies;
mod preview_context;
mod save_strategy;
#[cfg(feature = "ssr")]
mod ssr;

pub use delete_strategy::*;
pub use get_strategy::*;
pub use list_strategies::*;
pub use preview_context::*;
pub use save_strategy::*;

use serde::{Deserialize, Serialize};

/// Names a strategy: a ClusterStagedUpdateStrategy when `namespace` is empty, else a
/// StagedUpdateStrategy. Strings, so forms post it as plain fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StrategyKey {
    #[serde(default)]
    pub namespace: String,
    pub name: String,
}

impl StrategyKey {
    pub fn new(namespace: Option<&str>, name: &str) -> Self {
        StrategyKey {
            namespace: namespace.unwrap_or_default().to_string(),
            name: name.to_string(),
        }
    }

    pub fn namespace(&self) -> Option<&str> {
        Some(self.namespace.as_str()).filter(|ns| !ns.is_empty())
    }

    /// `/strategies/<name>` or `/strategies/<namespace>/<name>`.
    pub fn path(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("/strategies/{ns}/{}", self.name),
            None => format!("/strategies/{}", self.name),
        }
    }

    /// `name` or `namespace/name`, as a run's form names it.
    pub fn reference(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("{ns}/{}", self.name),
            None => self.name.clone(),
        }
    }

    /// `ClusterStagedUpdateStrategy example` or `StagedUpdateStrategy team-a/example`.
    pub fn describe(&self) -> String {
        match self.namespace() {
            Some(_) => format!("StagedUpdateStrategy {}", self.reference()),
            None => format!("ClusterStagedUpdateStrategy {}", self.name),
        }
    }
}
