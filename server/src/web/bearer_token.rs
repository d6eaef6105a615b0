//! Dashboard sign-in with a pasted Kubernetes bearer token (issue 17), for real hubs without
//! OpenID Connect: the hub says whose token it is (a `SelfSubjectReview`), the session keeps the
//! token, and every server function then reaches the hub with it — the hub authenticates the
//! person itself, so nothing is impersonated and the dashboard's own identity plays no part.
//!
//! Only where the dashboard reaches the hub over the network with credentials of its own (a
//! kubeconfig): the embedded hub's in-process client authenticates nobody, so a token sent
//! through it would count for nothing.

use std::collections::HashMap;
use std::sync::Mutex;

use axum::extract::{FromRequest, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use kube::api::{Api, PostParams};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tower_sessions::Session;

use super::signin::{back_to_signin, client_ip, local_path, open_session_with_token};
use super::AppState;

/// Where the token form posts.
pub const TOKEN_PATH: &str = "/auth/token";
/// Clients kept for signed-in tokens; past this many the cache starts afresh (a client is cheap
/// to make again, a connection pool per person is not worth keeping forever).
const MAX_CLIENTS: usize = 1_000;

/// The hub's connection settings, and a client per token in use (so a person's requests share
/// one connection pool).
pub struct TokenHub {
    config: kube::Config,
    clients: Mutex<HashMap<[u8; 32], kube::Client>>,
}

impl TokenHub {
    pub fn new(config: kube::Config) -> TokenHub {
        TokenHub {
            config,
            clients: Mutex::new(HashMap::new()),
        }
    }

    /// A client of the hub that authenticates with `token` and nothing else.
    pub fn client(&self, token: &str) -> Result<kube::Client, kube::Error> {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(c) = clients.get(&key) {
            return Ok(c.clone());
        }
        let mut config = self.config.clone();
        // The kubeconfig's own credentials (certificate, exec plugin, token) all go: only the
        // person's token is sent.
        config.auth_info = kube::config::AuthInfo {
            token: Some(token.to_string().into()),
            ..Default::default()
        };
        let client = kube::Client::try_from(config)?;
        if clients.len() >= MAX_CLIENTS {
            clients.clear();
        }
        clients.insert(key, client.clone());
        Ok(client)
    }

    /// Whether a client of `token` is kept (it is while its owner is signed in and active).
    pub fn holds(&self, token: &str) -> bool {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients.contains_key(&key)
    }

    /// Drops the client of `token` (its owner signed out): the token leaves this process's memory
    /// with the session.
    pub fn forget(&self, token: &str) {
        let key: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        clients.remove(&key);
    }
}

#[derive(Deserialize)]
struct TokenForm {
    token: String,
    #[serde(default)]
    next: String,
}

/// `POST /auth/token`: a pasted bearer token. Rate-limited per client like passwords.
pub async fn sign_in(State(state): State<AppState>, session: Session, req: Request) -> Response {
    let client = client_ip(&req);
    let Some(hub) = state.sign_in.token_hub.clone() else {
        return (
            StatusCode::NOT_FOUND,
            "signing in with a token is offered on a hub reached through --kubeconfig only",
        )
            .into_response();
    };
    let Ok(Form(form)) = Form::<TokenForm>::from_request(req, &()).await else {
        return back_to_signin("", "", "token-invalid", None);
    };
    let next = local_path(&form.next);
    if let Err(wait) = state.sign_in.admit_client(client) {
        return back_to_signin(&next, "", "limited", Some(wait));
    }
    let token = form.token.trim().to_string();
    if token.is_empty() || token.chars().any(char::is_control) {
        return back_to_signin(&next, "", "token-invalid", None);
    }
    let hub_client = match hub.client(&token) {
        Ok(c) => c,
        Err(error) => {
            tracing::error!(%error, "cannot make a hub client for a pasted token");
            return back_to_signin(&next, "", "token-unreachable", None);
        }
    };
    let review = Api::<SelfSubjectReview>::all(hub_client)
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await;
    let user = match review {
        Ok(r) => r.status.and_then(|s| s.user_info),
        Err(kube::Error::Api(status)) if status.code == 401 => {
            tracing::info!(%client, "sign-in refused: the hub does not accept the pasted token");
            return back_to_signin(&next, "", "token-invalid", None);
        }
        Err(kube::Error::Api(status)) => {
            tracing::warn!(code = status.code, message = %status.message, "the hub will not review a pasted token");
            return back_to_signin(&next, "", "token-unknown", None);
        }
        Err(error) => {
            tracing::warn!(%error, "cannot reach the hub to review a pasted token");
            return back_to_signin(&next, "", "token-unreachable", None);
        }
    };
    let Some(name) = user
        .as_ref()
        .and_then(|u| u.username.clone())
        .filter(|n| !n.is_empty())
    else {
        return back_to_signin(&next, "", "token-unknown", None);
    };
    let groups = user.and_then(|u| u.groups).unwrap_or_default();
    if !open_session_with_token(&session, name.clone(), groups, token).await {
        return back_to_signin(&next, "", "unavailable", None);
    }
    tracing::info!(user = %name, "signed in with a bearer token");
    Redirect::to(&next).into_response()
}
