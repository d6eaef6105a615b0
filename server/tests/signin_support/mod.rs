//! Signing people in to the dashboard router the way a browser does: an account in the state's
//! accounts, its binding on the hub, a password set through its one-time link, then the sign-in
//! form posted to `/auth/signin` and the session cookie taken from the answer.

#![allow(dead_code)]

use std::sync::{Arc, Mutex, OnceLock, Weak};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use server::accounts::{Accounts, Role};
use server::web::{router, AppState};
use tower::ServiceExt;

pub const PASSWORD: &str = "correct horse battery staple";
pub const HOST: &str = "127.0.0.1:3000";
pub const ORIGIN: &str = "http://127.0.0.1:3000";

/// An in-memory hub with the shipped roles installed.
pub async fn hub_with_roles() -> kube::Client {
    let client = kube::Client::new(
        hub::Hub::memory(server::fleet_kinds::registry()).router(),
        "default",
    );
    server::hub_rbac::install_roles(&client)
        .await
        .expect("the shipped roles install");
    client
}

/// Adds `name` with `role` (for the whole fleet, or `namespace`) and sets their password.
pub async fn add_person(st: &AppState, name: &str, role: Role, namespace: Option<&str>) {
    let client = st.hub.0.clone();
    server::hub_rbac::install_roles(&client)
        .await
        .expect("the shipped roles install");
    server::accounts::bind(&client, name, role, namespace)
        .await
        .expect("the binding is written");
    let added = st
        .sign_in
        .accounts
        .add(name, role, namespace)
        .expect("the account is added");
    st.sign_in
        .accounts
        .redeem_link(&added.link_token, PASSWORD)
        .expect("the users are readable")
        .expect("the link sets the password");
}

/// Posts the sign-in form; the answer's status, `Location` and session cookie (`name=value`).
pub async fn post_sign_in(
    st: &AppState,
    name: &str,
    password: &str,
    next: &str,
) -> (StatusCode, String, Option<String>) {
    let form = format!(
        "name={}&password={}&next={}",
        enc(name),
        enc(password),
        enc(next)
    );
    let req = Request::post("/auth/signin")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .body(Body::from(form))
        .expect("request");
    let res = router(st.clone()).oneshot(req).await.expect("infallible");
    let location = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(|c| c.split(';').next().unwrap_or_default().to_string());
    (res.status(), location, cookie)
}

/// Adds `name` and signs them in: their session cookie.
pub async fn sign_in_as(st: &AppState, name: &str, role: Role, namespace: Option<&str>) -> String {
    add_person(st, name, role, namespace).await;
    let (status, location, cookie) = post_sign_in(st, name, PASSWORD, "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER, "signed in: {location}");
    assert_eq!(location, "/");
    cookie.expect("a session cookie")
}

/// A state's accounts and the cookie `ops` signed in to them with.
type SignedIn = (Weak<Accounts>, String);

/// The cookie of `ops` (bound to fleetdeck-admin) for this state, signed in once per state:
/// what the tests that are about the console's actions, not about who may, act as.
pub async fn ops_cookie(st: &AppState) -> String {
    // Keyed by the state's accounts. A `Weak` keeps the allocation, so a later state can never
    // reuse its address and be handed a cookie its session store has never seen.
    static COOKIES: OnceLock<Mutex<Vec<SignedIn>>> = OnceLock::new();
    let cookies = COOKIES.get_or_init(Default::default);
    let mine = Arc::downgrade(&st.sign_in.accounts);
    if let Some((_, c)) = cookies
        .lock()
        .expect("cookies")
        .iter()
        .find(|(w, _)| w.ptr_eq(&mine))
    {
        return c.clone();
    }
    let cookie = sign_in_as(st, "ops", Role::Admin, None).await;
    cookies
        .lock()
        .expect("cookies")
        .push((mine, cookie.clone()));
    cookie
}

/// Posts a server function's form as the page does (same origin) with `cookie`.
pub async fn post_form(
    st: &AppState,
    cookie: Option<&str>,
    path: &str,
    form: &str,
) -> (StatusCode, String) {
    let mut req = Request::post(path)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .header("accept", "application/json");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let res = router(st.clone())
        .oneshot(req.body(Body::from(form.to_string())).expect("request"))
        .await
        .expect("infallible");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    (status, String::from_utf8_lossy(&bytes).into_owned())
}

pub fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
