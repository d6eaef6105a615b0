//! Kubernetes core/v1 Events as fleetdeck writes them: the engine's run transitions and the
//! console's actions (the audit trail `kubectl describe` shows). One builder, so both read alike.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Event, EventSource, ObjectReference};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};

use crate::types::condition::Time;
use crate::{FleetKind, Object};

/// Annotation on a console Event naming the person who acted (also in its message).
pub const ACTOR_ANNOTATION: &str = "fleetdeck.dev/actor";

/// What an Event says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note<'a> {
    /// `Normal` or `Warning`.
    pub type_: &'a str,
    pub reason: &'a str,
    pub message: String,
    pub action: &'a str,
    /// `kubectl describe` prints it as `From`.
    pub component: &'a str,
    pub controller: &'a str,
    pub actor: Option<&'a str>,
}

/// The reference an Event about `object` names.
pub fn reference<K: FleetKind>(object: &Object<K>) -> ObjectReference {
    ObjectReference {
        api_version: Some(K::api_version()),
        kind: Some(K::KIND.to_string()),
        name: Some(object.name().to_string()),
        namespace: object.namespace().map(str::to_string),
        uid: object.metadata.uid.clone(),
        resource_version: object.metadata.resource_version.clone(),
        field_path: None,
    }
}

/// Where an Event about `object` lives: its namespace, or `default` for a cluster-scoped object,
/// as client-go's recorder does.
pub fn namespace_of(object: &ObjectReference) -> &str {
    object.namespace.as_deref().unwrap_or("default")
}

/// A core/v1 Event about `object`; `unique` is the wall clock in nanoseconds (client-go names
/// events `<object>.<unix nanos, hex>`).
pub fn core_event(object: &ObjectReference, note: &Note<'_>, now: &Time, unique: i128) -> Event {
    let namespace = namespace_of(object).to_string();
    Event {
        metadata: ObjectMeta {
            name: Some(format!(
                "{}.{:x}",
                object.name.as_deref().unwrap_or("object"),
                unique
            )),
            namespace: Some(namespace),
            annotations: note
                .actor
                .map(|a| BTreeMap::from([(ACTOR_ANNOTATION.to_string(), a.to_string())])),
            ..Default::default()
        },
        involved_object: object.clone(),
        reason: Some(note.reason.to_string()),
        message: Some(note.message.clone()),
        type_: Some(note.type_.to_string()),
        action: Some(note.action.to_string()),
        count: Some(1),
        first_timestamp: Some(now.clone()),
        last_timestamp: Some(now.clone()),
        event_time: Some(MicroTime(now.0)),
        source: Some(EventSource {
            component: Some(note.component.to_string()),
            host: None,
        }),
        reporting_component: Some(note.controller.to_string()),
        reporting_instance: Some(note.component.to_string()),
        ..Default::default()
    }
}
