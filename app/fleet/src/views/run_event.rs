//! A Kubernetes Event about an update run, as the console shows it: in the run's history and,
//! as it happens, in the Overview's activity feed. Who acted is the console user named in the
//! Event's actor annotation, else the component that wrote it (the engine).

use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Event;

use crate::types::condition::to_utc;
use crate::types::event::ACTOR_ANNOTATION;
use crate::types::kind::{ClusterStagedUpdateRun, StagedUpdateRun};
use crate::FleetKind;

/// One Event about a run, in the words the console shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunEvent {
    pub at: Option<DateTime<Utc>>,
    /// `Normal` or `Warning`.
    pub type_: String,
    pub reason: String,
    pub message: String,
    /// The person who acted (console actions), else the component that wrote the Event.
    pub by: String,
    /// The run's namespace; `None` for a ClusterStagedUpdateRun.
    pub namespace: Option<String>,
    pub run: String,
}

impl RunEvent {
    /// The Event's view when it is about a ClusterStagedUpdateRun or a StagedUpdateRun.
    pub fn of(event: &Event) -> Option<RunEvent> {
        let object = &event.involved_object;
        let namespace = match object.kind.as_deref()? {
            ClusterStagedUpdateRun::KIND => None,
            StagedUpdateRun::KIND => Some(object.namespace.clone()?),
            _ => return None,
        };
        let at = event
            .event_time
            .as_ref()
            .map(|t| t.0)
            .or(event.last_timestamp.as_ref().map(|t| t.0))
            .or(event.first_timestamp.as_ref().map(|t| t.0))
            .and_then(|t| to_utc(&t));
        let actor = event
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(ACTOR_ANNOTATION).cloned());
        Some(RunEvent {
            at,
            type_: event.type_.clone().unwrap_or_else(|| "Normal".into()),
            reason: event.reason.clone().unwrap_or_default(),
            message: event.message.clone().unwrap_or_default(),
            by: actor
                .or_else(|| event.source.as_ref().and_then(|s| s.component.clone()))
                .or_else(|| event.reporting_component.clone())
                .unwrap_or_else(|| "unknown".into()),
            namespace,
            run: object.name.clone()?,
        })
    }

    /// The run's page in the console.
    pub fn run_path(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("/runs/{ns}/{}", self.run),
            None => format!("/runs/{}", self.run),
        }
    }

    /// One line for the activity feed: `example-run: Approved — Approved by alice`.
    pub fn feed_line(&self) -> String {
        let run = match &self.namespace {
            Some(ns) => format!("{ns}/{}", self.run),
            None => self.run.clone(),
        };
        if self.message.is_empty() {
            format!("{run}: {}", self.reason)
        } else {
            format!("{run}: {} — {}", self.reason, self.message)
        }
    }

    pub fn is_warning(&self) -> bool {
        self.type_ == "Warning"
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use k8s_openapi::api::core::v1::{EventSource, ObjectReference};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
    use k8s_openapi::jiff::Timestamp;

    use super::*;

    fn event(kind: &str, namespace: Option<&str>, actor: Option<&str>) -> Event {
        Event {
            metadata: ObjectMeta {
                annotations: actor
                    .map(|a| BTreeMap::from([(ACTOR_ANNOTATION.to_string(), a.to_string())])),
                ..Default::default()
            },
            involved_object: ObjectReference {
                kind: Some(kind.into()),
                name: Some("example-run".into()),
                namespace: namespace.map(str::to_string),
                ..Default::default()
            },
            reason: Some("Approved".into()),
            message: Some("Approved by alice".into()),
            type_: Some("Normal".into()),
            event_time: Some(MicroTime(Timestamp::UNIX_EPOCH)),
            source: Some(EventSource {
                component: Some("fleetdeck-engine".into()),
                host: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn run_events_name_their_run_and_page() {
        let cluster = RunEvent::of(&event("ClusterStagedUpdateRun", Some("default"), None))
            .expect("a cluster-scoped run's event");
        assert_eq!(
            cluster.namespace, None,
            "cluster-scoped runs have events in default"
        );
        assert_eq!(cluster.run_path(), "/runs/example-run");
        assert_eq!(cluster.by, "fleetdeck-engine");
        assert_eq!(cluster.at, DateTime::from_timestamp(0, 0));
        assert_eq!(
            cluster.feed_line(),
            "example-run: Approved — Approved by alice"
        );

        let namespaced = RunEvent::of(&event("StagedUpdateRun", Some("team-a"), Some("alice")))
            .expect("a namespaced run's event");
        assert_eq!(namespaced.run_path(), "/runs/team-a/example-run");
        assert_eq!(
            namespaced.by, "alice",
            "the console user, not the component"
        );
        assert!(namespaced.feed_line().starts_with("team-a/example-run: "));
    }

    #[test]
    fn other_objects_events_are_not_run_events() {
        assert_eq!(
            RunEvent::of(&event("ClusterApprovalRequest", None, None)),
            None
        );
        assert_eq!(RunEvent::of(&event("Pod", Some("default"), None)), None);
        assert_eq!(
            RunEvent::of(&event("StagedUpdateRun", None, None)),
            None,
            "a namespaced kind without a namespace is malformed"
        );
    }
}
