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
/// dashboard only sees the hub. Members join and leave while the server runs, so the map is
/// shared with whatever starts and stops them.
#[derive(Clone, Default)]
pub struct Members(
    pub std::sync::Arc<std::sync::RwLock<std::collections::HashMap<String, kube::Client>>>,
);

impl Members {
    pub fn client(&self, name: &str) -> Option<kube::Client> {
        self.0.read().ok()?.get(name).cloned()
    }

    /// A member joined: the server reaches it through `client`.
    pub fn insert(&self, name: &str, client: kube::Client) {
        if let Ok(mut members) = self.0.write() {
            members.insert(name.to_string(), client);
        }
    }

    /// A member left.
    pub fn remove(&self, name: &str) {
        if let Ok(mut members) = self.0.write() {
            members.remove(name);
        }
    }
}

pub fn members() -> Members {
    use_context::<Members>().unwrap_or_default()
}

/// The release catalogue of upgrade runs (seed 004), read afresh at each use as the engine
/// reads it (the user edits the file while fleetdeck runs): starting a Consistent run chooses
/// its images from it, and the run page shows the targets of members not upgraded yet. The
/// server provides the loader (the file's format is the server's business); without one the
/// catalogue is empty.
#[derive(Clone)]
pub struct Catalogue(
    pub  std::sync::Arc<
        dyn Fn() -> Result<crate::fleet::upgrade::release_catalogue::ReleaseCatalogue, String>
            + Send
            + Sync,
    >,
);

impl Default for Catalogue {
    fn default() -> Self {
        Catalogue(std::sync::Arc::new(|| Ok(Default::default())))
    }
}

impl Catalogue {
    pub fn load(
        &self,
    ) -> Result<crate::fleet::upgrade::release_catalogue::ReleaseCatalogue, String> {
        (self.0)()
    }
}

pub fn catalogue() -> Catalogue {
    use_context::<Catalogue>().unwrap_or_default()
}

/// The hub the dashboard reads and writes, provided by the server as context. This client is
/// the dashboard's own identity; server functions reach the hub through [`hub`], as the person.
#[derive(Clone)]
pub struct Hub(pub kube::Client);

pub(crate) fn service_hub() -> Result<kube::Client, AppError> {
    use_context::<Hub>()
        .map(|h| h.0)
        .ok_or_else(|| respond(AppError::Unavailable("no hub is connected".into())))
}

/// The hub as a person who signed in with their own Kubernetes bearer token (real hub): a
/// client that authenticates with it, put on the request by the server's sign-in middleware.
/// The hub knows who they are from the token, so nothing is impersonated.
#[derive(Clone)]
pub struct PersonHub(pub kube::Client);

/// The hub as the signed-in person: their own token's client when they signed in with one,
/// else every request carries `Impersonate-User` and `Impersonate-Group`, so the hub (embedded or
/// real) authorizes it with that person's RBAC — a viewer cannot approve even by posting to the
/// server function directly.
pub fn hub() -> Result<kube::Client, AppError> {
    let user = acting_user()?;
    let own = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<PersonHub>().cloned());
    if let Some(PersonHub(client)) = own {
        return Ok(client);
    }
    Ok(impersonating(service_hub()?, &user))
}

/// `base` with the impersonation headers of `user` on every request.
pub fn impersonating(base: kube::Client, user: &ActingUser) -> kube::Client {
    use http::HeaderValue;
    let name = HeaderValue::from_str(&user.name).ok();
    let groups: Vec<HeaderValue> = user
        .groups
        .iter()
        .filter_map(|g| HeaderValue::from_str(g).ok())
        .collect();
    let default_ns = base.default_namespace().to_string();
    let service = tower::service_fn(move |mut req: http::Request<kube::client::Body>| {
        let (base, name, groups) = (base.clone(), name.clone(), groups.clone());
        async move {
            let headers = req.headers_mut();
            // A name that is no header value impersonates nobody: the hub then sees a
            // nameless user and refuses, rather than acting as the dashboard itself.
            headers.insert(
                "Impersonate-User",
                name.unwrap_or_else(|| HeaderValue::from_static("system:anonymous")),
            );
            for g in groups {
                headers.append("Impersonate-Group", g);
            }
            base.send(req).await
        }
    });
    kube::Client::new(service, default_ns)
}

/// The signed-in person of this request, if any.
pub fn signed_in() -> Option<ActingUser> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<ActingUser>().cloned())
}

/// The person on whose behalf this request acts: the server's sign-in middleware puts the
/// session's user on the request; without one nothing acts.
pub fn acting_user() -> Result<ActingUser, AppError> {
    signed_in().ok_or_else(|| {
        respond(AppError::SignedOut(
            "you are not signed in: sign in to act on the fleet".into(),
        ))
    })
}

/// The hub's answer as a message for people; `what` names the object ("run example-run").
pub fn explain(error: kube::Error, what: &str) -> AppError {
    let error = match error {
        kube::Error::Api(status) => match status.code {
            // Only a person's own token can stop being accepted (it expired or was revoked).
            401 => AppError::SignedOut(
                "the hub no longer accepts your sign-in (your token may have expired): sign in again".into(),
            ),
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
        // A name that cannot be put in a URL (a NUL, a control character) never reaches the hub.
        kube::Error::BuildRequest(e) => AppError::Invalid(format!("{what}: not a valid name ({e})")),
        other => AppError::Transport(format!("the hub could not be reached: {other}")),
    };
    respond(error)
}

/// Leaves the audit Event of an action on `object`. The action already happened, so a failed
/// Event is logged, not reported as a failure of the action. The dashboard writes it as itself
/// (the shipped roles do not let people write Events, which would let them forge the trail).
pub async fn record(
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
    let Ok(client) = service_hub() else {
        tracing::warn!(reason, "no hub to record the console action on");
        return;
    };
    let api: Api<Event> = Api::namespaced(client, event::namespace_of(object));
    if let Err(error) = api.create(&PostParams::default(), &body).await {
        tracing::warn!(%error, reason, "could not record the console action as an event");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_the_hub_stops_accepting_signs_the_person_out_and_a_refusal_names_the_permission() {
        let answer = |code: u16| {
            let status = kube::core::Status {
                code,
                message: "nope".into(),
                ..Default::default()
            };
            explain(kube::Error::Api(Box::new(status)), "run r1")
        };
        assert!(
            matches!(answer(401), AppError::SignedOut(_)),
            "{:?}",
            answer(401)
        );
        assert!(matches!(answer(403), AppError::Forbidden(_)));
    }
}
