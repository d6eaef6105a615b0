//! Dashboard sign-in with OpenID Connect (issue 17, real-hub mode): `/auth/oidc/start` sends the
//! browser to the provider with a state, a nonce and a PKCE challenge; `/auth/oidc/callback`
//! checks the state, exchanges the code, verifies the ID token and opens the same session a
//! password sign-in opens — the person's username and groups, which every server function
//! impersonates on the hub, so the hub's RBAC decides for them as for anyone.
//!
//! The flow's secrets (state, nonce, PKCE verifier) stay on the server, keyed by a random id in a
//! cookie of their own. Not in the session: its cookie is `SameSite=Strict`, and a browser does
//! not send such a cookie on the provider's redirect back (a navigation started by another
//! site), so the callback would never see it. The flow cookie is `SameSite=Lax` (sent on that
//! top-level GET), lives ten minutes, is scoped to `/auth/oidc` and is used once. For the same
//! reason the callback answers with a page that moves on by itself: the browser then sends the
//! new Strict session cookie on the way to the dashboard.

pub mod claims;
mod flags;
mod idp_http;
pub mod provider;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tower_sessions::Session;

pub use flags::OidcArgs;
pub use provider::{Provider, Refusal, CALLBACK_PATH};

use super::signin::{back_to_signin, client_ip, local_path, open_session};
use super::AppState;

/// Where the "Sign in with …" button points.
pub const START_PATH: &str = "/auth/oidc/start";
/// The cookie naming this browser's pending sign-in.
const FLOW_COOKIE: &str = "fleetdeck_oidc";
/// How long a person may take at the provider.
const FLOW_TTL: Duration = Duration::from_secs(10 * 60);
/// Pending sign-ins kept at most (each start is also rate-limited per client).
const MAX_FLOWS: usize = 10_000;

/// A sign-in sent to the provider and not back yet.
struct Pending {
    state: String,
    nonce: String,
    pkce_verifier: String,
    next: String,
    started: Instant,
}

/// The provider and the sign-ins pending with it.
pub struct Oidc {
    pub provider: Provider,
    flows: Mutex<HashMap<String, Pending>>,
}

impl Oidc {
    pub fn new(provider: Provider) -> Oidc {
        Oidc {
            provider,
            flows: Mutex::new(HashMap::new()),
        }
    }

    /// Keeps `pending` under a fresh id, unless too many sign-ins are pending.
    fn remember(&self, pending: Pending) -> Option<String> {
        let id = random_id()?;
        let mut flows = self.flows.lock().unwrap_or_else(|p| p.into_inner());
        flows.retain(|_, p| p.started.elapsed() < FLOW_TTL);
        if flows.len() >= MAX_FLOWS {
            return None;
        }
        flows.insert(id.clone(), pending);
        Some(id)
    }

    /// The pending sign-in of `id`, used up: a callback can be answered once.
    fn take(&self, id: &str) -> Option<Pending> {
        let mut flows = self.flows.lock().unwrap_or_else(|p| p.into_inner());
        flows.remove(id).filter(|p| p.started.elapsed() < FLOW_TTL)
    }
}

#[derive(Deserialize)]
pub struct StartQuery {
    #[serde(default)]
    next: String,
}

/// `GET /auth/oidc/start?next=…`: off to the provider.
pub async fn start(State(state): State<AppState>, req: Request) -> Response {
    let Some(oidc) = state.sign_in.oidc.clone() else {
        return (
            StatusCode::NOT_FOUND,
            "OpenID Connect sign-in is not configured",
        )
            .into_response();
    };
    let next = Query::<StartQuery>::try_from_uri(req.uri())
        .map(|q| local_path(&q.0.next))
        .unwrap_or_else(|_| "/".into());
    if let Err(wait) = state.sign_in.admit_client(client_ip(&req)) {
        return back_to_signin(&next, "", "limited", Some(wait));
    }
    let authorization = match oidc.provider.authorize().await {
        Ok(a) => a,
        Err(refusal) => return back_to_signin(&next, "", refusal.code(), None),
    };
    let pending = Pending {
        state: authorization.state,
        nonce: authorization.nonce,
        pkce_verifier: authorization.pkce_verifier,
        next,
        started: Instant::now(),
    };
    let next = pending.next.clone();
    let Some(id) = oidc.remember(pending) else {
        tracing::warn!("too many OpenID Connect sign-ins pending; refusing another");
        return back_to_signin(&next, "", "unavailable", None);
    };
    let mut res = Redirect::to(&authorization.url).into_response();
    set_flow_cookie(&mut res, &id, FLOW_TTL, oidc.provider.redirect_is_https());
    res
}

#[derive(Deserialize)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// `GET /auth/oidc/callback?code=…&state=…`: the provider's answer.
pub async fn callback(
    State(state): State<AppState>,
    session: Session,
    headers: HeaderMap,
    Query(answer): Query<CallbackQuery>,
) -> Response {
    let Some(oidc) = state.sign_in.oidc.clone() else {
        return (
            StatusCode::NOT_FOUND,
            "OpenID Connect sign-in is not configured",
        )
            .into_response();
    };
    let secure = oidc.provider.redirect_is_https();
    let pending = flow_id(&headers).and_then(|id| oidc.take(&id));
    let mut res = match finish(&oidc, &session, pending, answer).await {
        Ok(next) => continue_to(&next),
        Err((code, next)) => back_to_signin(&next, "", code, None),
    };
    // Used or refused, this sign-in is over: its cookie goes too.
    set_flow_cookie(&mut res, "", Duration::ZERO, secure);
    res
}

/// The callback's checks in order; the `next` page on success, or the refusal's code for the
/// sign-in page (and `next`).
async fn finish(
    oidc: &Oidc,
    session: &Session,
    pending: Option<Pending>,
    answer: CallbackQuery,
) -> Result<String, (&'static str, String)> {
    let Some(pending) = pending else {
        tracing::info!("OpenID Connect callback without a pending sign-in in this browser");
        return Err((Refusal::State.code(), "/".into()));
    };
    let next = pending.next.clone();
    let refuse = |r: Refusal| (r.code(), next.clone());
    if let Some(error) = &answer.error {
        tracing::info!(%error, description = ?answer.error_description, "the identity provider refused the sign-in");
        return Err(refuse(Refusal::Denied));
    }
    // The state ties the answer to the request this browser made (no one else's code can be
    // slipped in); compared as hashes so the comparison's time tells nothing.
    let state_matches = answer
        .state
        .as_deref()
        .is_some_and(|s| Sha256::digest(s) == Sha256::digest(&pending.state));
    if !state_matches {
        tracing::warn!("OpenID Connect callback with a state this sign-in did not send");
        return Err(refuse(Refusal::State));
    }
    let Some(code) = answer.code.filter(|c| !c.is_empty()) else {
        return Err(refuse(Refusal::State));
    };
    let identity = oidc
        .provider
        .sign_in(code, &pending.nonce, pending.pkce_verifier)
        .await
        .map_err(refuse)?;
    if !open_session(session, identity.name.clone(), identity.groups, None).await {
        return Err(("unavailable", next));
    }
    tracing::info!(user = %identity.name, "signed in with OpenID Connect");
    Ok(next)
}

/// The page after a sign-in: it moves on to `next` by itself, a navigation of this site's own,
/// on which the browser sends the new SameSite=Strict session cookie (a redirect would still
/// count as the provider's cross-site navigation, and arrive without it).
fn continue_to(next: &str) -> Response {
    let url = html_escape(next);
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0;url={url}\"><title>Signed in</title></head>\
         <body><p>Signed in. <a href=\"{url}\">Continue to fleetdeck</a>.</p></body></html>"
    ))
    .into_response()
}

fn set_flow_cookie(res: &mut Response, id: &str, max_age: Duration, secure: bool) {
    let mut cookie = format!(
        "{FLOW_COOKIE}={id}; Path=/auth/oidc; HttpOnly; SameSite=Lax; Max-Age={}",
        max_age.as_secs()
    );
    if secure {
        cookie.push_str("; Secure");
    }
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        res.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// This browser's pending sign-in id, from its flow cookie.
fn flow_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == FLOW_COOKIE && !value.is_empty())
        .map(|(_, value)| value.to_string())
}

fn random_id() -> Option<String> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).ok()?;
    Some(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}

fn html_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flow_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("fleetdeck_session=abc; fleetdeck_oidc=f1ow; x=y"),
        );
        assert_eq!(flow_id(&headers).as_deref(), Some("f1ow"));
        headers.insert(header::COOKIE, HeaderValue::from_static("fleetdeck_oidc="));
        assert_eq!(flow_id(&headers), None);
    }

    #[test]
    fn the_continue_page_cannot_be_broken_out_of() {
        let html = body(continue_to("/runs?a=\"><script>"));
        assert!(
            html.contains("url=/runs?a=&quot;&gt;&lt;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
    }

    fn body(res: Response) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("runtime");
        rt.block_on(async {
            use http_body_util::BodyExt;
            let bytes = res.into_body().collect().await.expect("body").to_bytes();
            String::from_utf8_lossy(&bytes).into_owned()
        })
    }
}
