mod create_run;
mod delete_run;
mod get_run;
mod history;
mod list_runs;
mod run_choices;
mod set_state;
mod stage_clusters;

pub use create_run::*;
pub use delete_run::*;
pub use get_run::*;
pub use history::*;
pub use list_runs::*;
pub use run_choices::*;
pub use set_state::*;
pub use stage_clusters::*;

use serde::{Deserialize, Serialize};

/// Names a run: a ClusterStagedUpdateRun when `namespace` is empty, else a StagedUpdateRun.
/// Strings rather than an `Option`, so that the action forms post it as plain form fields.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RunKey {
    #[serde(default)]
    pub namespace: String,
    pub name: String,
}

impl RunKey {
    pub fn new(namespace: Option<&str>, name: &str) -> Self {
        RunKey {
            namespace: namespace.unwrap_or_default().to_string(),
            name: name.to_string(),
        }
    }

    pub fn namespace(&self) -> Option<&str> {
        Some(self.namespace.as_str()).filter(|ns| !ns.is_empty())
    }

    /// `/runs/<name>` or `/runs/<namespace>/<name>`.
    pub fn path(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("/runs/{ns}/{}", self.name),
            None => format!("/runs/{}", self.name),
        }
    }

    /// How a person reads it: `run example-run` or `run team-a/example-run`.
    pub fn describe(&self) -> String {
        match self.namespace() {
            Some(ns) => format!("run {ns}/{}", self.name),
            None => format!("run {}", self.name),
        }
    }
}
