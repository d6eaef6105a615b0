use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::RunKey;
use crate::error::AppError;

/// One line of a run's history: an Event about it, from the engine or from the console.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryLine {
    pub at: Option<DateTime<Utc>>,
    /// `Normal` or `Warning`.
    pub type_: String,
    pub reason: String,
    pub message: String,
    /// The person who acted (console actions), else the component that wrote the Event.
    pub by: String,
}

/// The run's Events, oldest first: what the engine did and every action taken in the console.
#[server(prefix = "/api", endpoint = "runs/history")]
pub async fn run_history(key: RunKey) -> Result<Vec<HistoryLine>, AppError> {
    let client = crate::server_fns::ssr::hub()?;
    ssr::load(&client, &key).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use k8s_openapi::api::core::v1::Event;
    use kube::api::{Api, ListParams};

    use super::{HistoryLine, RunKey};
    use crate::error::AppError;
    use crate::fleet::views::run_event::RunEvent;
    use crate::fleet::{types::kind, FleetKind};
    use crate::server_fns::ssr::explain;

    pub async fn load(client: &kube::Client, key: &RunKey) -> Result<Vec<HistoryLine>, AppError> {
        let (namespace, kind) = match key.namespace() {
            Some(ns) => (ns, kind::StagedUpdateRun::KIND),
            None => ("default", kind::ClusterStagedUpdateRun::KIND),
        };
        let api: Api<Event> = Api::namespaced(client.clone(), namespace);
        let fields = format!(
            "involvedObject.name={},involvedObject.kind={kind}",
            key.name
        );
        let events = api
            .list(&ListParams::default().fields(&fields))
            .await
            .map_err(|e| explain(e, "the run's events"))?;
        let mut lines: Vec<HistoryLine> = events.items.into_iter().filter_map(line).collect();
        lines.sort_by_key(|a| a.at);
        Ok(lines)
    }

    fn line(event: Event) -> Option<HistoryLine> {
        let seen = RunEvent::of(&event)?;
        Some(HistoryLine {
            at: seen.at,
            type_: seen.type_,
            reason: seen.reason,
            message: seen.message,
            by: seen.by,
        })
    }
}
