//! Kubernetes Events for update-run transitions ([`app::fleet::staged::run::report`] decides which) and
//! for reconciles that fail ([`reconcile_failed`]).
//!
//! They are written as core/v1 Events, the API `kubectl describe` reads (kube-api-subset §6.2):
//! kube-runtime's `Recorder` writes events.k8s.io/v1, which a real apiserver serves from the same
//! store but the embedded hub keeps apart. Each transition happens once per run, so there is
//! nothing to aggregate into series. Cluster-scoped runs get their events in `default`, as
//! client-go's recorder does.

use app::fleet::staged::run::report::{EventKind, RunEvent};
use app::fleet::types::condition::Time;
use app::fleet::types::event;
use k8s_openapi::api::core::v1::{Event, ObjectReference};
use kube::api::{Api, PostParams};

/// The component named in every event (`kubectl describe` prints it as `From`).
pub const REPORTER: &str = "fleetdeck-engine";

/// A reconcile of an object failed, for the first time in a row or with a new error: the user
/// reads why in `kubectl describe` (the engine retries with backoff, without another event).
pub fn reconcile_failed(error: &impl std::fmt::Display) -> RunEvent {
    RunEvent {
        kind: EventKind::Warning,
        reason: "ReconcileFailed",
        note: format!("{error}; retrying"),
        action: "Reconcile",
    }
}

/// Writes `events` about `object`; a failed write is logged, never fatal (events are advisory).
pub async fn publish(
    client: &kube::Client,
    object: &ObjectReference,
    controller: &'static str,
    events: &[RunEvent],
    now: &Time,
) {
    let api: Api<Event> = Api::namespaced(client.clone(), event::namespace_of(object));
    // Names need the wall clock's nanoseconds (the engine's clock has milliseconds).
    let stamp = k8s_openapi::jiff::Timestamp::now().as_nanosecond();
    for (i, transition) in events.iter().enumerate() {
        let note = event::Note {
            type_: match transition.kind {
                EventKind::Normal => "Normal",
                EventKind::Warning => "Warning",
            },
            reason: transition.reason,
            message: transition.note.clone(),
            action: transition.action,
            component: REPORTER,
            controller,
            actor: None,
        };
        let body = event::core_event(object, &note, now, stamp + i as i128);
        if let Err(error) = api.create(&PostParams::default(), &body).await {
            tracing::warn!(%error, reason = transition.reason, "could not record an event");
        }
    }
}
