//! What every server function that talks to the hub shares: the hub client, the person acting,
//! the audit Event each action leaves on its object, and the hub's errors in words a person can
//! act on. Server only.

use k8s_openapi::api::core::v1::{Event, ObjectReference};
use kube::api::{Api, PostParams};
use leptos::prelude::use_context;

use crate::error::{respond, AppError};
use crate::fleet::types::condition::Time;
pub use crate::fleet::types::event::reference;
use crate::fleet::types::event::{self, Note};
use crate::server_fns::acting_user::ActingUser;

/// The component console Events name (`kubectl describe` prints it as `From`).
pub const CONSOLE: &str = "fleetdeck-console";

/// The member clusters the server can reach (the embedded mode's simulated members), so a stuck
/// run can name the member's own reason — a pod that cannot pull its image. Empty when the
/// dashboard only sees the hub.
#[derive(Clone, Default)]
pub struct Members(pub std::sync::Arc<std::collections::HashMap<String, kube::Client>>);

impl Members {
    pub fn client(&self, name: &str) -> Option<kube::Client> {
        self.0.get(name).cloned()
    }
}

pub fn members() -> Members {
    use_context::<Members>().unwrap_or_default()
}

/// The hub the dashboard reads and writes, provided by the server as context.
#[derive(Clone)]
pub struct Hub(pub kube::Client);

pub fn hub() -> Result<kube::Client, AppError> {
    use_context::<Hub>()
        .map(|h| h.0)
        .ok_or_else(|| respond(AppError::Unavailable("no hub is connected".into())))
}

/// The person on whose behalf this request acts. Until sign-in exists (issue 17) the server
/// provides the embedded mode's local operator for every request.
pub fn acting_user() -> Result<ActingUser, AppError> {
    use_context::<ActingUser>().ok_or_else(|| {
        respond(AppError::Forbidden(
            "you are not signed in: sign in to act on the fleet".into(),
        ))
    })
}

/// The hub's answer as a message for people; `what` names the object ("run example-run").
pub fn explain(error: kube::Error, what: &str) -> AppError {
    let error = match error {
        kube::Error::Api(status) => match status.code {
            404 => AppError::NotFound(format!(
                "{what} does not exist on the hub (it may have been deleted)"
            )),
            409 => AppError::Conflict(format!(
                "{what} changed since this page showed it; the page now shows its current state, try again if it still applies"
            )),
            403 => AppError::Forbidden(format!(
                "the hub does not allow this: {} — ask an administrator for the permission",
                status.message
            )),
            400 | 422 => AppError::Invalid(format!("the hub refused it: {}", status.message)),
            _ => AppError::Transport(format!(
                "the hub answered {} {}: {}",
                status.code, status.reason, status.message
            )),
        },
        other => AppError::Transport(format!("the hub could not be reached: {other}")),
    };
    respond(error)
}

/// Leaves the audit Event of an action on `object`. The action already happened, so a failed
/// Event is logged, not reported as a failure of the action.
pub async fn record(
    client: &kube::Client,
    object: &ObjectReference,
    user: &ActingUser,
    reason: &str,
    action: &str,
    message: String,
) {
    let note = Note {
        type_: "Normal",
        reason,
        message,
        action,
        component: CONSOLE,
        controller: CONSOLE,
        actor: Some(&user.name),
    };
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let body = event::core_event(object, &note, &now, now.0.as_nanosecond());
    let api: Api<Event> = Api::namespaced(client.clone(), event::namespace_of(object));
    if let Err(error) = api.create(&PostParams::default(), &body).await {
        tracing::warn!(%error, reason, "could not record the console action as an event");
    }
}
