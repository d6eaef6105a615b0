//! Dashboard sign-in (issue 17): sessions in an HttpOnly, SameSite=Strict cookie
//! (tower-sessions), the sign-in, password-setup and sign-out form posts, login rate limits
//! (governor), and the middleware that puts the session's person on every request — or, without
//! one, answers 401 to server functions and sends pages to `/signin?next=…`.
//!
//! The forms are plain HTML posts answered with redirects, so signing in needs no JavaScript.
//! Errors travel back as codes in the query (`?error=invalid`), never as text, so a crafted link
//! cannot put words on the sign-in page.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use app::error::AppError;
use app::server_fns::acting_user::ActingUser;
use app::server_fns::sign_in_options::SignInOptions;
use axum::extract::{ConnectInfo, FromRequest, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, MemoryStore, Session, SessionManagerLayer};

use super::AppState;
use crate::accounts::{unix_now, Accounts, Person, SetupRefusal};

/// The session cookie's name.
pub const COOKIE: &str = "fleetdeck_session";
/// Where the forms post.
pub const SIGN_IN_PATH: &str = "/auth/signin";
pub const SETUP_PATH: &str = "/auth/setup";
pub const SIGN_OUT_PATH: &str = "/auth/signout";
/// The session key of the signed-in person.
const USER_KEY: &str = "user";

/// Sign-in attempts one client may make per minute (a burst of this many, then one every
/// 60/N seconds), and attempts on one account from anywhere.
const PER_CLIENT_PER_MINUTE: u32 = 20;
const PER_ACCOUNT_PER_MINUTE: u32 = 5;

/// Sessions, accounts and limits: what the sign-in needs, part of [`AppState`].
#[derive(Clone)]
pub struct SignIn {
    pub accounts: Arc<Accounts>,
    store: MemoryStore,
    /// A session unused this long ends (the cookie's Max-Age, renewed by each request).
    pub idle: Duration,
    /// A session ends this long after sign-in, however busy.
    pub absolute: Duration,
    per_client: Arc<DefaultKeyedRateLimiter<IpAddr>>,
    per_account: Arc<DefaultKeyedRateLimiter<String>>,
    /// The OpenID Connect provider people may sign in with (`--oidc-issuer`), if any.
    pub oidc: Option<Arc<super::oidc::Oidc>>,
    /// The hub people may sign in to with their own bearer token (real-hub mode), if any.
    pub token_hub: Option<Arc<super::bearer_token::TokenHub>>,
    /// Cookies are `Secure` (the dashboard is served over HTTPS).
    secure: bool,
}

impl SignIn {
    pub fn new(accounts: Arc<Accounts>) -> SignIn {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        SignIn {
            accounts,
            store: MemoryStore::default(),
            idle: Duration::from_secs(2 * 60 * 60),
            absolute: Duration::from_secs(12 * 60 * 60),
            per_client: Arc::new(RateLimiter::keyed(quota(PER_CLIENT_PER_MINUTE))),
            per_account: Arc::new(RateLimiter::keyed(quota(PER_ACCOUNT_PER_MINUTE))),
            oidc: None,
            token_hub: None,
            secure: false,
        }
    }

    /// Also lets people sign in with their own bearer token for the hub of `config`.
    pub fn with_token_sign_in(mut self, config: kube::Config) -> SignIn {
        self.token_hub = Some(Arc::new(super::bearer_token::TokenHub::new(config)));
        self
    }

    /// Also offers sign-in with an OpenID Connect provider.
    pub fn with_oidc(mut self, provider: super::oidc::Provider) -> SignIn {
        self.oidc = Some(Arc::new(super::oidc::Oidc::new(provider)));
        self
    }

    /// What the sign-in page offers besides the password form.
    pub fn options(&self) -> SignInOptions {
        SignInOptions {
            identity_provider: self.oidc.as_ref().map(|o| o.provider.display_name.clone()),
            bearer_token: self.token_hub.is_some(),
        }
    }

    /// The dashboard is served over HTTPS: its cookies are `Secure`.
    pub fn served_over_https(mut self) -> Self {
        self.secure = true;
        self
    }

    /// The cookie: HttpOnly, SameSite=Strict, path `/`, and `Secure` when the dashboard is
    /// served over HTTPS (`--tls-cert`); without TLS a `Secure` cookie would never come back.
    pub fn layer(&self) -> SessionManagerLayer<MemoryStore> {
        let idle = tower_sessions::cookie::time::Duration::try_from(self.idle)
            .unwrap_or(tower_sessions::cookie::time::Duration::hours(2));
        SessionManagerLayer::new(self.store.clone())
            .with_name(COOKIE)
            .with_http_only(true)
            .with_same_site(SameSite::Strict)
            .with_secure(self.secure)
            .with_path("/")
            .with_expiry(Expiry::OnInactivity(idle))
    }

    /// Whether an attempt from `client` on `account` may go ahead; if not, the seconds to wait.
    fn admit(&self, client: IpAddr, account: &str) -> Result<(), u64> {
        self.admit_client(client)?;
        let now = DefaultClock::default().now();
        let wait = |e: governor::NotUntil<_>| e.wait_time_from(now).as_secs().max(1);
        self.per_account
            .check_key(&account.to_string())
            .map_err(wait)?;
        // Forget clients and accounts whose limits have refilled, so the maps stay small.
        if self.per_client.len() > 10_000 {
            self.per_client.retain_recent();
        }
        if self.per_account.len() > 10_000 {
            self.per_account.retain_recent();
        }
        Ok(())
    }

    /// The per-client limit alone (setting a password from a link, starting a sign-in with the
    /// identity provider: no account name is given).
    pub(super) fn admit_client(&self, client: IpAddr) -> Result<(), u64> {
        let now = DefaultClock::default().now();
        self.per_client
            .check_key(&client)
            .map_err(|e| e.wait_time_from(now).as_secs().max(1))
    }
}

/// The person as the session keeps them. No `Debug`: it may hold a bearer token.
#[derive(Clone, Serialize, Deserialize)]
struct SessionUser {
    name: String,
    groups: Vec<String>,
    role: Option<String>,
    /// Seconds since the Unix epoch: the absolute expiry counts from here.
    signed_in_at: i64,
    /// The person's own bearer token, when they signed in with one: the hub is reached with it
    /// instead of impersonation. Kept in the server's session store, never in the cookie.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    token: Option<String>,
    /// Signed in with a fleetdeck account (users.yaml): the session ends once the account is
    /// removed (`fleetdeck user remove`).
    #[serde(default)]
    account: bool,
}

impl SessionUser {
    fn acting(&self) -> ActingUser {
        ActingUser {
            name: self.name.clone(),
            groups: self.groups.clone(),
            role: self.role.clone(),
        }
    }
}

/// Paths anyone may open: the sign-in pages and forms, the assets they need, health probes and
/// metrics (no fleet data).
fn is_public(path: &str) -> bool {
    matches!(
        path,
        "/signin"
            | "/signin/setup"
            | "/healthz"
            | "/readyz"
            | "/metrics"
            | "/favicon.svg"
            | "/api/sign_in_options"
    ) || path.starts_with("/auth/")
        || path.starts_with("/pkg/")
}

/// The middleware: the session's person on the request (as [`ActingUser`], which server
/// functions read), or 401 / a redirect to the sign-in page.
pub async fn require(
    State(state): State<AppState>,
    session: Session,
    mut req: Request,
    next: Next,
) -> Response {
    let mut user = current(&state.sign_in, &session).await;
    if let Some(token) = user.as_ref().and_then(|u| u.token.as_deref()) {
        // Their own token's client; without one (token sign-in no longer offered) nobody acts.
        match state
            .sign_in
            .token_hub
            .as_ref()
            .map(|hub| hub.client(token))
        {
            Some(Ok(client)) => {
                req.extensions_mut()
                    .insert(app::server_fns::ssr::PersonHub(client));
            }
            _ => user = None,
        }
    }
    if let Some(user) = &user {
        req.extensions_mut().insert(user.acting());
    }
    if user.is_some() || is_public(req.uri().path()) {
        return next.run(req).await;
    }
    let path = req.uri().path();
    let is_page = matches!(*req.method(), Method::GET | Method::HEAD)
        && !path.starts_with("/api/")
        && path != app::live::EVENTS_PATH;
    if is_page {
        let here = req
            .uri()
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        return Redirect::to(&format!("/signin?next={}", encode(&here))).into_response();
    }
    let error = AppError::SignedOut(
        "you are not signed in (or your session ended): sign in again and retry".into(),
    );
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "application/json")],
        serde_json::to_string(&error).unwrap_or_default(),
    )
        .into_response()
}

/// The session's person, unless the session has outlived its absolute lifetime (then it ends).
async fn current(sign_in: &SignIn, session: &Session) -> Option<SessionUser> {
    let user: SessionUser = session.get(USER_KEY).await.ok().flatten()?;
    let age = unix_now().saturating_sub(user.signed_in_at);
    let max = i64::try_from(sign_in.absolute.as_secs()).unwrap_or(i64::MAX);
    // A removed account's sessions end at their next request. An unreadable users file keeps
    // them (the hub, which reads the same file, still decides every action).
    let removed = user.account && matches!(sign_in.accounts.person(&user.name), Ok(None));
    if age >= max || removed {
        let _ = session.flush().await;
        return None;
    }
    Some(user)
}

#[derive(Deserialize)]
struct SignInForm {
    name: String,
    password: String,
    #[serde(default)]
    next: String,
}

/// `POST /auth/signin`: name and password. Rate-limited per client and per account; a refusal
/// says how many seconds to wait.
pub async fn sign_in(State(state): State<AppState>, session: Session, req: Request) -> Response {
    let client = client_ip(&req);
    let Ok(Form(form)) = Form::<SignInForm>::from_request(req, &()).await else {
        return back_to_signin("", "", "invalid", None);
    };
    let next = local_path(&form.next);
    let name = form.name.trim().to_string();
    if let Err(wait) = state.sign_in.admit(client, &name) {
        tracing::warn!(%client, account = %name, "sign-in attempt refused by the rate limit");
        return back_to_signin(&next, &name, "limited", Some(wait));
    }
    let accounts = state.sign_in.accounts.clone();
    let (who, password) = (name.clone(), form.password);
    let verified = tokio::task::spawn_blocking(move || accounts.verify(&who, &password)).await;
    match verified {
        Ok(Ok(Some(person))) => start_session(&session, person, &next).await,
        Ok(Ok(None)) => {
            tracing::info!(%client, account = %name, "sign-in refused: wrong name or password");
            back_to_signin(&next, &name, "invalid", None)
        }
        Ok(Err(error)) => {
            tracing::error!(%error, "cannot read the accounts");
            back_to_signin(&next, &name, "unavailable", None)
        }
        Err(error) => {
            tracing::error!(%error, "password check failed");
            back_to_signin(&next, &name, "unavailable", None)
        }
    }
}

#[derive(Deserialize)]
struct SetupForm {
    token: String,
    password: String,
    confirm: String,
}

/// `POST /auth/setup`: a one-time link's secret and the new password (twice); signs the person in.
pub async fn set_up(State(state): State<AppState>, session: Session, req: Request) -> Response {
    let client = client_ip(&req);
    let Ok(Form(form)) = Form::<SetupForm>::from_request(req, &()).await else {
        return Redirect::to("/signin/setup?error=unknown").into_response();
    };
    let again = |code: &str| {
        Redirect::to(&format!(
            "/signin/setup?token={}&error={code}",
            encode(&form.token)
        ))
        .into_response()
    };
    if let Err(wait) = state.sign_in.admit_client(client) {
        return Redirect::to(&format!(
            "/signin/setup?token={}&error=limited&retry={wait}",
            encode(&form.token)
        ))
        .into_response();
    }
    if form.password != form.confirm {
        return again("mismatch");
    }
    let accounts = state.sign_in.accounts.clone();
    let (token, password) = (form.token.clone(), form.password.clone());
    match tokio::task::spawn_blocking(move || accounts.redeem_link(&token, &password)).await {
        Ok(Ok(Ok(person))) => start_session(&session, person, "/").await,
        Ok(Ok(Err(SetupRefusal::TooShort))) => again("short"),
        Ok(Ok(Err(SetupRefusal::Expired))) => {
            Redirect::to("/signin/setup?error=expired").into_response()
        }
        Ok(Ok(Err(SetupRefusal::UnknownLink))) => {
            Redirect::to("/signin/setup?error=unknown").into_response()
        }
        Ok(Err(error)) => {
            tracing::error!(%error, "cannot set the password");
            again("unavailable")
        }
        Err(error) => {
            tracing::error!(%error, "password setup failed");
            again("unavailable")
        }
    }
}

/// `POST /auth/signout`: ends the session.
pub async fn sign_out(State(state): State<AppState>, session: Session) -> Response {
    // A pasted token goes with the session: its hub client too.
    if let (Some(hub), Some(user)) = (
        state.sign_in.token_hub.as_ref(),
        session.get::<SessionUser>(USER_KEY).await.ok().flatten(),
    ) {
        if let Some(token) = &user.token {
            hub.forget(token);
        }
    }
    if let Err(error) = session.flush().await {
        tracing::warn!(%error, "cannot end the session");
    }
    Redirect::to("/signin?signed_out=1").into_response()
}

async fn start_session(session: &Session, person: Person, next: &str) -> Response {
    let name = person.name.clone();
    let user = SessionUser {
        name: person.name,
        groups: person.groups,
        role: person.role,
        signed_in_at: unix_now(),
        token: None,
        account: true,
    };
    if !open(session, user).await {
        return back_to_signin(next, &name, "unavailable", None);
    }
    tracing::info!(user = %name, "signed in");
    Redirect::to(next).into_response()
}

/// Puts the person in the session under a new id; false if the session store failed (logged).
/// Shared by every way of signing in, so each ends in the same session.
pub(super) async fn open_session(
    session: &Session,
    name: String,
    groups: Vec<String>,
    role: Option<String>,
) -> bool {
    open(
        session,
        SessionUser {
            name,
            groups,
            role,
            signed_in_at: unix_now(),
            token: None,
            account: false,
        },
    )
    .await
}

/// [`open_session`] for a person who signed in with their own bearer token, which the session
/// keeps for their requests to the hub.
pub(super) async fn open_session_with_token(
    session: &Session,
    name: String,
    groups: Vec<String>,
    token: String,
) -> bool {
    open(
        session,
        SessionUser {
            name,
            groups,
            role: None,
            signed_in_at: unix_now(),
            token: Some(token),
            account: false,
        },
    )
    .await
}

async fn open(session: &Session, user: SessionUser) -> bool {
    // A new session id at sign-in, so an id planted before cannot ride along (fixation).
    if let Err(error) = session.cycle_id().await {
        tracing::error!(%error, "cannot start a session");
        return false;
    }
    if let Err(error) = session.insert(USER_KEY, &user).await {
        tracing::error!(%error, "cannot start a session");
        return false;
    }
    true
}

pub(super) fn back_to_signin(next: &str, name: &str, error: &str, retry: Option<u64>) -> Response {
    let mut url = format!("/signin?error={error}");
    if let Some(wait) = retry {
        url.push_str(&format!("&retry={wait}"));
    }
    if !name.is_empty() {
        url.push_str(&format!("&name={}", encode(name)));
    }
    if !next.is_empty() && next != "/" {
        url.push_str(&format!("&next={}", encode(next)));
    }
    Redirect::to(&url).into_response()
}

/// The peer address (the per-client key); in-process requests (tests) have none.
pub(super) fn client_ip(req: &Request) -> IpAddr {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(IpAddr::from([127, 0, 0, 1]), |c| c.0.ip())
}

/// `next` only if it is a path on this server: one leading `/`, not `//host` nor `/\host`
/// (which browsers read as another site), no scheme, no control characters.
pub fn local_path(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && !next.chars().any(|c| c.is_control() || c == '\\')
        && !next.starts_with("/auth/");
    if ok {
        next.to_string()
    } else {
        "/".to_string()
    }
}

fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_be_a_local_path() {
        assert_eq!(local_path("/runs/example?x=1"), "/runs/example?x=1");
        for bad in [
            "",
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "javascript:alert(1)",
            "/auth/signout",
            "/runs\n",
        ] {
            assert_eq!(local_path(bad), "/", "{bad:?}");
        }
    }

    #[test]
    fn the_sign_in_pages_and_assets_are_public_and_the_console_is_not() {
        for p in [
            "/signin",
            "/signin/setup",
            "/auth/signin",
            "/auth/oidc/callback",
            "/api/sign_in_options",
            "/pkg/fleetdeck.wasm",
            "/healthz",
        ] {
            assert!(is_public(p), "{p}");
        }
        for p in [
            "/",
            "/runs",
            "/api/approvals/approve",
            "/approvals",
            "/signin/other",
        ] {
            assert!(!is_public(p), "{p}");
        }
    }

    #[test]
    fn an_account_is_limited_after_five_attempts_and_told_how_long_to_wait() {
        let s = SignIn::new(Arc::new(Accounts::in_memory()));
        let ip = IpAddr::from([10, 0, 0, 1]);
        for _ in 0..PER_ACCOUNT_PER_MINUTE {
            assert_eq!(s.admit(ip, "alice"), Ok(()));
        }
        let wait = s.admit(ip, "alice").expect_err("the sixth attempt waits");
        assert!((1..=12).contains(&wait), "{wait}");
        assert_eq!(
            s.admit(ip, "bob"),
            Ok(()),
            "other accounts are not affected"
        );
    }
}
