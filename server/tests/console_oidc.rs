//! Signing in with OpenID Connect end to end (issue 17): a test identity provider started here
//! (discovery, JWKS, authorize and token endpoints, RS256 ID tokens signed with a key made by the
//! test, PKCE checked), the dashboard's `/auth/oidc/start` → provider → `/auth/oidc/callback`,
//! then the session acting on the hub as the person the token names — their username and
//! groups impersonated, the hub's RBAC deciding. And the refusals a person sees in words: a token
//! signed by a key the provider does not publish, one for another audience, an expired one, and
//! an answer whose state this browser did not send.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use app::error::AppError;
use app::fleet::staged::approval::ApprovalRequestSpec;
use app::fleet::staged::staged_update_run::{StagedUpdateRunSpec, UpdateRunState};
use app::fleet::{ClusterApprovalRequest, ClusterStagedUpdateRun};
use app::live::Topics;
use app::server_fns::acting_user::ActingUser;
use axum::body::Body;
use axum::extract::{Form, Query, State};
use axum::http::{header, Request, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing;
use axum::{Json, Router};
use base64::Engine;
use http_body_util::{BodyExt, Empty};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleRef, Subject};
use kube::api::{Api, ObjectMeta, PostParams};
use openidconnect::core::{
    CoreGenderClaim, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreResponseType, CoreRsaPrivateSigningKey, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalClaims, Audience, AuthUrl, EmptyAdditionalProviderMetadata, EndUserEmail, IdToken,
    IdTokenClaims, IssuerUrl, JsonWebKeyId, JsonWebKeySetUrl, Nonce, PrivateSigningKey,
    ResponseTypes, StandardClaims, SubjectIdentifier, TokenUrl,
};
use rsa::pkcs1::EncodeRsaPrivateKey;
use serde::{Deserialize, Serialize};
use server::web::oidc::{OidcArgs, Provider};
use server::web::{router, AppState};
use sha2::{Digest, Sha256};
use signin_support::{enc, post_form, HOST, ORIGIN};
use tower::ServiceExt;

mod signin_support;

const CLIENT_ID: &str = "fleetdeck";
const GROUP: &str = "placement.kubernetes-fleet.io";

/// What the test provider puts in (or how it signs) the next ID token.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Token {
    Good,
    /// Signed by a key the provider does not publish (same key id as the published one).
    ForeignKey,
    /// For another client.
    WrongAudience,
    /// Expired ten minutes ago.
    Expired,
}

/// An authorization the provider granted and has not exchanged yet.
struct Grant {
    client_id: String,
    redirect_uri: String,
    nonce: String,
    challenge: String,
}

struct IdpState {
    issuer: String,
    email: String,
    groups: Vec<String>,
    token: Token,
    published: CoreRsaPrivateSigningKey,
    foreign: CoreRsaPrivateSigningKey,
    grants: HashMap<String, Grant>,
    next_code: u32,
}

#[derive(Clone)]
struct Idp {
    addr: SocketAddr,
    state: Arc<Mutex<IdpState>>,
}

impl Idp {
    fn issuer(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn sign_in_as(&self, email: &str, groups: &[&str], token: Token) {
        let mut s = self.state.lock().expect("idp");
        s.email = email.into();
        s.groups = groups.iter().map(|g| g.to_string()).collect();
        s.token = token;
    }

    fn unexchanged_grants(&self) -> usize {
        self.state.lock().expect("idp").grants.len()
    }
}

fn rsa_key(kid: &str) -> CoreRsaPrivateSigningKey {
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).expect("an RSA key");
    let pem = key.to_pkcs1_pem(rsa::pkcs8::LineEnding::LF).expect("PEM");
    CoreRsaPrivateSigningKey::from_pem(&pem, Some(JsonWebKeyId::new(kid.into()))).expect("key")
}

/// Starts the provider on a free loopback port.
async fn start_idp() -> Idp {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let state = Arc::new(Mutex::new(IdpState {
        issuer: format!("http://{addr}"),
        email: String::new(),
        groups: Vec::new(),
        token: Token::Good,
        published: rsa_key("k1"),
        foreign: rsa_key("k1"),
        grants: HashMap::new(),
        next_code: 0,
    }));
    let app = Router::new()
        .route("/.well-known/openid-configuration", routing::get(discovery))
        .route("/jwks", routing::get(jwks))
        .route("/authorize", routing::get(authorize))
        .route("/token", routing::post(token))
        .with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    Idp { addr, state }
}

async fn discovery(State(s): State<Arc<Mutex<IdpState>>>) -> Json<CoreProviderMetadata> {
    let issuer = s.lock().expect("idp").issuer.clone();
    let url = |p: &str| format!("{issuer}{p}");
    let metadata = CoreProviderMetadata::new(
        IssuerUrl::new(issuer.clone()).expect("issuer"),
        AuthUrl::new(url("/authorize")).expect("url"),
        JsonWebKeySetUrl::new(url("/jwks")).expect("url"),
        vec![ResponseTypes::new(vec![CoreResponseType::Code])],
        vec![CoreSubjectIdentifierType::Public],
        vec![CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256],
        EmptyAdditionalProviderMetadata {},
    )
    .set_token_endpoint(Some(TokenUrl::new(url("/token")).expect("url")));
    Json(metadata)
}

/// Only the published key: the foreign one never appears here.
async fn jwks(State(s): State<Arc<Mutex<IdpState>>>) -> Json<CoreJsonWebKeySet> {
    let key = s.lock().expect("idp").published.as_verification_key();
    Json(CoreJsonWebKeySet::new(vec![key]))
}

/// The provider's sign-in page, where the person is already signed in: it grants at once and
/// sends the browser back with a code and the state it was given.
async fn authorize(
    State(s): State<Arc<Mutex<IdpState>>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let field = |k: &str| q.get(k).cloned().unwrap_or_default();
    if field("response_type") != "code"
        || field("code_challenge_method") != "S256"
        || !field("scope").split(' ').any(|s| s == "openid")
    {
        return (
            StatusCode::BAD_REQUEST,
            "code flow with S256 PKCE and openid only",
        )
            .into_response();
    }
    let mut s = s.lock().expect("idp");
    s.next_code += 1;
    let code = format!("code-{}", s.next_code);
    s.grants.insert(
        code.clone(),
        Grant {
            client_id: field("client_id"),
            redirect_uri: field("redirect_uri"),
            nonce: field("nonce"),
            challenge: field("code_challenge"),
        },
    );
    Redirect::to(&format!(
        "{}?code={code}&state={}",
        field("redirect_uri"),
        enc(&field("state"))
    ))
    .into_response()
}

/// The claims beyond the standard ones: the person's groups.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct Groups {
    groups: Vec<String>,
}

impl AdditionalClaims for Groups {}

#[derive(Serialize)]
struct TokenAnswer {
    access_token: String,
    token_type: String,
    expires_in: u64,
    id_token: String,
}

#[derive(Serialize)]
struct OAuthError {
    error: String,
}

/// The token endpoint: the code once, for the client and redirect URI it was granted to, with
/// the verifier of its PKCE challenge.
async fn token(
    State(s): State<Arc<Mutex<IdpState>>>,
    Form(form): Form<HashMap<String, String>>,
) -> Response {
    let field = |k: &str| form.get(k).cloned().unwrap_or_default();
    let mut s = s.lock().expect("idp");
    let refuse = |error: &str| {
        (
            StatusCode::BAD_REQUEST,
            Json(OAuthError {
                error: error.into(),
            }),
        )
            .into_response()
    };
    let Some(grant) = s.grants.remove(&field("code")) else {
        return refuse("invalid_grant");
    };
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(field("code_verifier").as_bytes()));
    if field("grant_type") != "authorization_code"
        || challenge != grant.challenge
        || field("redirect_uri") != grant.redirect_uri
        || field("client_id") != grant.client_id
    {
        return refuse("invalid_grant");
    }
    let now = chrono::Utc::now();
    let (audience, expires) = match s.token {
        Token::WrongAudience => (
            "another-app".to_string(),
            now + chrono::Duration::minutes(5),
        ),
        Token::Expired => (grant.client_id.clone(), now - chrono::Duration::minutes(10)),
        _ => (grant.client_id.clone(), now + chrono::Duration::minutes(5)),
    };
    let claims = IdTokenClaims::<Groups, CoreGenderClaim>::new(
        IssuerUrl::new(s.issuer.clone()).expect("issuer"),
        vec![Audience::new(audience)],
        expires,
        expires - chrono::Duration::minutes(15),
        StandardClaims::new(SubjectIdentifier::new(format!("sub-{}", s.email)))
            .set_email(Some(EndUserEmail::new(s.email.clone())))
            .set_email_verified(Some(true)),
        Groups {
            groups: s.groups.clone(),
        },
    )
    .set_nonce(Some(Nonce::new(grant.nonce)));
    let key = match s.token {
        Token::ForeignKey => &s.foreign,
        _ => &s.published,
    };
    let id_token = IdToken::<Groups, CoreGenderClaim, CoreJweContentEncryptionAlgorithm, _>::new(
        claims,
        key,
        CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        None,
        None,
    )
    .expect("signed");
    Json(TokenAnswer {
        access_token: "opaque".into(),
        token_type: "Bearer".into(),
        expires_in: 300,
        id_token: id_token.to_string(),
    })
    .into_response()
}

/// The dashboard on an in-memory hub with the shipped roles, signing in with `idp` (usernames
/// and groups prefixed `oidc:`), run `r1` and its approval request seeded, and the groups
/// `oidc:fleet-viewers` / `oidc:fleet-approvers` bound to the viewer / approver roles.
async fn dashboard(idp: &Idp) -> AppState {
    let admin = signin_support::hub_with_roles().await;
    let pp = PostParams::default();
    Api::<ClusterStagedUpdateRun>::all(admin.clone())
        .create(
            &pp,
            &ClusterStagedUpdateRun::new(
                "r1",
                StagedUpdateRunSpec {
                    placement_name: "example".into(),
                    resource_snapshot_index: None,
                    staged_rollout_strategy_name: "example-strategy".into(),
                    state: Some(UpdateRunState::Initialize),
                },
            ),
        )
        .await
        .expect("run");
    Api::<ClusterApprovalRequest>::all(admin.clone())
        .create(
            &pp,
            &ClusterApprovalRequest::new(
                "r1-before-canary",
                ApprovalRequestSpec {
                    parent_stage_rollout: "r1".into(),
                    target_stage: "canary".into(),
                },
            ),
        )
        .await
        .expect("approval request");
    for (group, role) in [
        ("oidc:fleet-viewers", "fleetdeck-viewer"),
        ("oidc:fleet-approvers", "fleetdeck-approver"),
    ] {
        let binding = ClusterRoleBinding {
            metadata: ObjectMeta {
                name: Some(format!("{role}-group")),
                ..Default::default()
            },
            role_ref: RoleRef {
                api_group: Some("rbac.authorization.k8s.io".into()),
                kind: "ClusterRole".into(),
                name: role.into(),
            },
            subjects: Some(vec![Subject {
                api_group: Some("rbac.authorization.k8s.io".into()),
                kind: "Group".into(),
                name: group.into(),
                namespace: None,
            }]),
        };
        Api::<ClusterRoleBinding>::all(admin.clone())
            .create(&pp, &binding)
            .await
            .expect("binding");
    }
    let mut st = AppState::in_process(&admin, Topics::default());
    let args = OidcArgs {
        issuer: Some(idp.issuer()),
        client_id: Some(CLIENT_ID.into()),
        redirect_url: Some(format!("{ORIGIN}/auth/oidc/callback")),
        username_prefix: "oidc:".into(),
        groups_prefix: "oidc:".into(),
        display_name: Some("Test IdP".into()),
        ..OidcArgs::default()
    };
    let provider = Provider::from_args(&args, HOST.parse().expect("addr"), false)
        .expect("valid flags")
        .expect("configured");
    st.sign_in = st.sign_in.clone().with_oidc(provider);
    st
}

/// What the dashboard answered the provider's redirect back with.
struct Callback {
    status: StatusCode,
    location: String,
    session: Option<String>,
    body: String,
    /// The flow cookie and callback path the browser used, to send them again.
    flow: String,
    path: String,
}

/// A browser signing in: the dashboard's start, the provider's page, then the provider's
/// redirect back to the dashboard — its URL passed through `tamper` first.
async fn sign_in(
    st: &AppState,
    idp: &Idp,
    next: &str,
    tamper: impl FnOnce(String) -> String,
) -> Callback {
    let start = get(st, None, &format!("/auth/oidc/start?next={}", enc(next))).await;
    assert_eq!(start.status(), StatusCode::SEE_OTHER);
    let to_idp = location(&start);
    assert!(
        to_idp.starts_with(&format!("{}/authorize?", idp.issuer())),
        "{to_idp}"
    );
    let flow = set_cookies(&start)
        .into_iter()
        .find(|c| c.starts_with("fleetdeck_oidc="))
        .expect("the flow cookie");
    assert!(
        flow.contains("HttpOnly") && flow.contains("SameSite=Lax"),
        "{flow}"
    );
    let flow = flow.split(';').next().unwrap_or_default().to_string();

    let back = browser_get(&to_idp).await;
    let back = tamper(back);
    let path = back
        .strip_prefix(ORIGIN)
        .expect("back to the registered redirect URL")
        .to_string();
    let res = get(st, Some(&flow), &path).await;
    let session = set_cookies(&res)
        .into_iter()
        .find(|c| c.starts_with("fleetdeck_session="))
        .map(|c| c.split(';').next().unwrap_or_default().to_string());
    Callback {
        status: res.status(),
        location: location(&res),
        session,
        body: body_text(res).await,
        flow,
        path,
    }
}

/// A GET as a browser at the provider; the redirect it answers with.
async fn browser_get(url: &str) -> String {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<Empty<bytes::Bytes>>();
    let res = client
        .get(url.parse().expect("uri"))
        .await
        .expect("the provider answers");
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the provider grants");
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .expect("a redirect")
        .to_string()
}

#[tokio::test]
async fn a_person_signed_in_by_the_identity_provider_acts_on_the_hub_as_themselves() {
    let idp = start_idp().await;
    let st = dashboard(&idp).await;

    let page = body_text(get(&st, None, "/signin?next=%2Fapprovals").await).await;
    assert!(page.contains("Sign in with Test IdP"), "{page}");
    assert!(
        page.contains("href=\"/auth/oidc/start?next=/approvals\""),
        "{page}"
    );

    idp.sign_in_as("vera@example.com", &["fleet-viewers"], Token::Good);
    let back = sign_in(&st, &idp, "/approvals", |u| u).await;
    assert_eq!(back.status, StatusCode::OK, "{}", back.body);
    assert!(
        back.body
            .contains("<meta http-equiv=\"refresh\" content=\"0;url=/approvals\">"),
        "{}",
        back.body
    );
    let cookie = back.session.clone().expect("a session");
    assert_eq!(idp.unexchanged_grants(), 0, "the code was exchanged");
    // The provider's answer counts once: sent again (a replay, a reload), it is refused.
    let again = get(&st, Some(&back.flow), &back.path).await;
    assert_eq!(location(&again), "/signin?error=oidc-state");

    let res = get(&st, Some(&cookie), "/approvals").await;
    assert_eq!(res.status(), StatusCode::OK, "on the dashboard");
    let (status, body) = post_form(&st, Some(&cookie), "/api/whoami", "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let me: Option<ActingUser> = serde_json::from_str(&body).expect("whoami");
    assert_eq!(
        me,
        Some(ActingUser {
            name: "oidc:vera@example.com".into(),
            groups: vec!["oidc:fleet-viewers".into()],
            role: None,
        })
    );

    // A viewer by her group: the hub refuses her approval, naming her.
    let (status, answer) = post_form(
        &st,
        Some(&cookie),
        "/api/approvals/approve",
        "namespace=&name=r1-before-canary&comment=ok",
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let error: AppError = serde_json::from_str(&answer).expect("an AppError");
    assert_eq!(
        error,
        AppError::Forbidden(format!(
            "the hub does not allow this: clusterapprovalrequests.{GROUP} \"r1-before-canary\" is forbidden: User \"oidc:vera@example.com\" cannot patch resource \"clusterapprovalrequests/status\" in API group {GROUP:?} at the cluster scope — ask an administrator for the permission"
        ))
    );

    // An approver by his group may approve, and the approval names him.
    idp.sign_in_as(
        "alma@example.com",
        &["fleet-approvers", "staff"],
        Token::Good,
    );
    let back = sign_in(&st, &idp, "/approvals", |u| u).await;
    let cookie = back.session.expect("a session");
    let (status, answer) = post_form(
        &st,
        Some(&cookie),
        "/api/approvals/approve",
        "namespace=&name=r1-before-canary&comment=ok",
    )
    .await;
    assert!(
        status.is_success() || status.is_redirection(),
        "{status} {answer}"
    );
    let request = Api::<ClusterApprovalRequest>::all(st.hub.0.clone())
        .get("r1-before-canary")
        .await
        .expect("request");
    let approved = serde_json::to_string(&request.status).expect("status");
    assert!(approved.contains("oidc:alma@example.com"), "{approved}");
}

/// The refusal the sign-in page shows after a callback answered `back`.
async fn refusal_page(st: &AppState, back: &Callback, code: &str) -> String {
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{}", back.body);
    assert_eq!(
        back.location,
        format!("/signin?error={code}&next=%2Fapprovals")
    );
    assert_eq!(back.session, None, "no session for a refused sign-in");
    body_text(get(st, None, &back.location).await).await
}

#[tokio::test]
async fn tokens_the_provider_did_not_sign_for_this_dashboard_now_are_refused_in_words() {
    let idp = start_idp().await;
    let st = dashboard(&idp).await;
    for (token, code, words) in [
        (
            Token::ForeignKey,
            "oidc-signature",
            "token was not signed by a key it publishes, so fleetdeck cannot trust it. Ask an administrator to check --oidc-issuer.",
        ),
        (
            Token::WrongAudience,
            "oidc-audience",
            "token was issued for another application, not this fleetdeck. Ask an administrator to check --oidc-client-id.",
        ),
        (
            Token::Expired,
            "oidc-expired",
            "token had already expired. Sign in again;",
        ),
    ] {
        idp.sign_in_as("vera@example.com", &["fleet-viewers"], token);
        let back = sign_in(&st, &idp, "/approvals", |u| u).await;
        let page = refusal_page(&st, &back, code).await;
        assert!(page.contains(words), "{token:?}: {page}");
        assert!(page.contains("role=\"alert\""), "{page}");
    }
}

#[tokio::test]
async fn an_answer_with_a_state_this_browser_did_not_send_is_refused_before_any_exchange() {
    let idp = start_idp().await;
    let st = dashboard(&idp).await;
    idp.sign_in_as("vera@example.com", &["fleet-viewers"], Token::Good);
    let back = sign_in(&st, &idp, "/approvals", |url| {
        let (head, state) = url.split_once("&state=").expect("a state");
        assert!(!state.is_empty());
        format!("{head}&state=forged")
    })
    .await;
    let page = refusal_page(&st, &back, "oidc-state").await;
    assert!(
        page.contains("does not belong to a sign-in started in this browser"),
        "{page}"
    );
    assert_eq!(
        idp.unexchanged_grants(),
        1,
        "the code was never taken to the token endpoint"
    );
}

async fn get(st: &AppState, cookie: Option<&str>, uri: &str) -> Response {
    let mut req = Request::get(uri).header("host", HOST);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    router(st.clone())
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible")
}

fn location(res: &Response) -> String {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn set_cookies(res: &Response) -> Vec<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(str::to_string)
        .collect()
}

async fn body_text(res: Response) -> String {
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}
