//! Who may do what from the console (issue 17): people signed in through `/auth/signin`, each
//! server function acting on the hub as them (impersonation), the hub's RBAC deciding. Every role ×
//! action, cluster-scoped and in a namespace through a RoleBinding, asserts the action happened or
//! the exact refusal; and the sign-in itself: 401 without a session, an expired session sent to
//! /signin, cross-site posts refused, the login rate limit, sign-out, one-time links.

use std::time::Duration;

use app::error::AppError;
use app::fleet::staged::approval::ApprovalRequestSpec;
use app::fleet::staged::staged_update_run::{StagedUpdateRunSpec, UpdateRunState};
use app::fleet::{
    ApprovalRequest, ClusterApprovalRequest, ClusterStagedUpdateRun, StagedUpdateRun,
};
use app::live::Topics;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, ObjectMeta, Patch, PatchParams, PostParams};
use server::accounts::Role;
use server::web::{router, AppState};
use signin_support::{enc, post_form, post_sign_in, sign_in_as, HOST, ORIGIN, PASSWORD};
use tower::ServiceExt;

mod signin_support;

const GROUP: &str = "placement.kubernetes-fleet.io";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    Create,
    Start,
    Stop,
    Resume,
    Approve,
    Delete,
}

const ACTIONS: [Action; 6] = [
    Action::Create,
    Action::Start,
    Action::Stop,
    Action::Resume,
    Action::Approve,
    Action::Delete,
];

/// What the shipped roles allow (deploy/rbac): the table the README shows.
fn allowed(role: Role, action: Action) -> bool {
    match role {
        Role::Viewer => false,
        Role::Operator => action != Action::Approve,
        Role::Approver => action == Action::Approve,
        Role::Admin => true,
    }
}

/// The hub's 403 message as the console shows it (kube-apiserver's wording, then ours). Where the
/// person may not even read (`unreadable`: another namespace), the read before the write is what
/// the hub refuses.
fn refusal(user: &str, action: Action, ns: Option<&str>, unreadable: bool) -> String {
    let (verb, resource, sub, name) = match action {
        Action::Create => ("create", "stagedupdateruns", "", ""),
        Action::Approve if unreadable => ("get", "approvalrequests", "", "r1-before-canary"),
        Action::Approve => ("patch", "approvalrequests", "/status", "r1-before-canary"),
        _ if unreadable => ("get", "stagedupdateruns", "", "r1"),
        Action::Start | Action::Stop | Action::Resume => ("patch", "stagedupdateruns", "", "r1"),
        Action::Delete => ("delete", "stagedupdateruns", "", "r1"),
    };
    let resource = match ns {
        None => format!("cluster{resource}"),
        Some(_) => resource.to_string(),
    };
    let scope = match ns {
        None => "at the cluster scope".to_string(),
        Some(ns) => format!("in the namespace {ns:?}"),
    };
    let named = if name.is_empty() {
        String::new()
    } else {
        format!(" {name:?}")
    };
    format!(
        "the hub does not allow this: {resource}.{GROUP}{named} is forbidden: User {user:?} cannot {verb} resource \"{resource}{sub}\" in API group {GROUP:?} {scope} — ask an administrator for the permission"
    )
}

fn run_spec(state: UpdateRunState) -> StagedUpdateRunSpec {
    StagedUpdateRunSpec {
        placement_name: "example".into(),
        resource_snapshot_index: None,
        staged_rollout_strategy_name: "example-strategy".into(),
        state: Some(state),
    }
}

fn approval() -> ApprovalRequestSpec {
    ApprovalRequestSpec {
        parent_stage_rollout: "r1".into(),
        target_stage: "canary".into(),
    }
}

/// Run `r1` and its approval request, written by the admin (cluster-scoped, or in `ns`).
async fn seed(admin: &kube::Client, ns: Option<&str>) {
    let pp = PostParams::default();
    match ns {
        None => {
            Api::<ClusterStagedUpdateRun>::all(admin.clone())
                .create(
                    &pp,
                    &ClusterStagedUpdateRun::new("r1", run_spec(UpdateRunState::Initialize)),
                )
                .await
                .expect("run");
            Api::<ClusterApprovalRequest>::all(admin.clone())
                .create(
                    &pp,
                    &ClusterApprovalRequest::new("r1-before-canary", approval()),
                )
                .await
                .expect("approval request");
        }
        Some(ns) => {
            let namespace = Namespace {
                metadata: ObjectMeta {
                    name: Some(ns.into()),
                    ..Default::default()
                },
                ..Default::default()
            };
            let _ = Api::<Namespace>::all(admin.clone())
                .create(&pp, &namespace)
                .await;
            Api::<StagedUpdateRun>::namespaced(admin.clone(), ns)
                .create(
                    &pp,
                    &StagedUpdateRun::new_namespaced(
                        ns,
                        "r1",
                        run_spec(UpdateRunState::Initialize),
                    ),
                )
                .await
                .expect("run");
            Api::<ApprovalRequest>::namespaced(admin.clone(), ns)
                .create(
                    &pp,
                    &ApprovalRequest::new_namespaced(ns, "r1-before-canary", approval()),
                )
                .await
                .expect("approval request");
        }
    }
}

/// Puts `r1` in the state the action starts from (as the admin, through the transitions the hub
/// allows), so each action reaches the hub.
async fn prepare(admin: &kube::Client, ns: Option<&str>, action: Action) {
    #[derive(Debug, serde::Serialize)]
    struct Spec {
        state: UpdateRunState,
    }
    #[derive(Debug, serde::Serialize)]
    struct StatePatch {
        spec: Spec,
    }
    let steps: &[UpdateRunState] = match action {
        Action::Stop => &[UpdateRunState::Run],
        Action::Resume => &[UpdateRunState::Run, UpdateRunState::Stop],
        _ => &[],
    };
    let pp = PatchParams::default();
    for state in steps {
        let patch = Patch::Merge(StatePatch {
            spec: Spec { state: *state },
        });
        match ns {
            None => {
                Api::<ClusterStagedUpdateRun>::all(admin.clone())
                    .patch("r1", &pp, &patch)
                    .await
                    .expect("state set");
            }
            Some(ns) => {
                Api::<StagedUpdateRun>::namespaced(admin.clone(), ns)
                    .patch("r1", &pp, &patch)
                    .await
                    .expect("state set");
            }
        }
    }
}

fn form(action: Action, ns: Option<&str>) -> (&'static str, String) {
    let ns_field = ns.unwrap_or_default();
    let state = |a: &str| {
        (
            "/api/runs/set_state",
            format!("key[namespace]={ns_field}&key[name]=r1&action={a}"),
        )
    };
    match action {
        Action::Create => {
            let prefix = ns.map(|n| format!("{n}/")).unwrap_or_default();
            (
                "/api/runs/create",
                format!(
                    "run[name]=r2&run[placement]={}&run[strategy]={}&run[snapshot_index]=&run[state]=Initialize&dry_run=false",
                    enc(&format!("{prefix}example")),
                    enc(&format!("{prefix}example-strategy")),
                ),
            )
        }
        Action::Start => state("Start"),
        Action::Stop => state("Stop"),
        Action::Resume => state("Resume"),
        Action::Approve => (
            "/api/approvals/approve",
            format!("namespace={ns_field}&name=r1-before-canary&comment=ok"),
        ),
        Action::Delete => (
            "/api/runs/delete",
            format!("key[namespace]={ns_field}&key[name]=r1"),
        ),
    }
}

/// Each action of `role`, as `user` bound for the whole fleet (`ns` None) or by a RoleBinding in
/// `ns`, on a fresh hub; the action at `ns_target` (None: cluster-scoped objects).
async fn check_role(
    role: Role,
    user: &str,
    binding_ns: Option<&str>,
    target_ns: Option<&str>,
    expect_allowed: bool,
) {
    for action in ACTIONS {
        let admin = signin_support::hub_with_roles().await;
        seed(&admin, target_ns).await;
        let st = AppState::in_process(&admin, Topics::default());
        let cookie = sign_in_as(&st, user, role, binding_ns).await;
        prepare(&admin, target_ns, action).await;
        let (path, body) = form(action, target_ns);
        let (status, answer) = post_form(&st, Some(&cookie), path, &body).await;
        let may = expect_allowed && allowed(role, action);
        if may {
            // A plain form post is answered with a redirect; JSON callers get 200.
            assert!(
                status.is_success() || status.is_redirection(),
                "{role:?} {action:?} in {target_ns:?}: {status} {answer}"
            );
        } else {
            assert_eq!(
                status,
                StatusCode::FORBIDDEN,
                "{role:?} {action:?} in {target_ns:?}: {answer}"
            );
            let error: AppError = serde_json::from_str(&answer).expect("an AppError");
            assert_eq!(
                error,
                AppError::Forbidden(refusal(user, action, target_ns, !expect_allowed)),
                "{role:?} {action:?} in {target_ns:?}"
            );
        }
    }
}

#[tokio::test]
async fn every_role_may_do_on_cluster_scoped_runs_exactly_what_its_cluster_role_allows() {
    for (role, user) in [
        (Role::Viewer, "vera"),
        (Role::Operator, "olga"),
        (Role::Approver, "alma"),
        (Role::Admin, "adam"),
    ] {
        check_role(role, user, None, None, true).await;
    }
}

#[tokio::test]
async fn a_role_bound_in_one_namespace_acts_there_and_nowhere_else() {
    for (role, user) in [
        (Role::Viewer, "vera"),
        (Role::Operator, "olga"),
        (Role::Approver, "alma"),
    ] {
        check_role(role, user, Some("team-a"), Some("team-a"), true).await;
        check_role(role, user, Some("team-a"), Some("team-b"), false).await;
    }
}

#[tokio::test]
async fn a_server_function_without_a_session_answers_401_and_a_page_redirects_to_signin() {
    let admin = signin_support::hub_with_roles().await;
    let st = AppState::in_process(&admin, Topics::default());
    let (status, body) = post_form(
        &st,
        None,
        "/api/approvals/approve",
        "namespace=&name=x&comment=",
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let error: AppError = serde_json::from_str(&body).expect("an AppError");
    assert!(matches!(error, AppError::SignedOut(_)), "{error:?}");

    let res = get(&st, None, "/runs/r1?tab=history").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/signin?next=%2Fruns%2Fr1%3Ftab%3Dhistory");
    let page = get(&st, None, "/signin?next=%2Fruns").await;
    assert_eq!(page.status(), StatusCode::OK, "the sign-in page is public");
}

#[tokio::test]
async fn signing_in_returns_to_next_and_signing_out_ends_the_session() {
    let admin = signin_support::hub_with_roles().await;
    let st = AppState::in_process(&admin, Topics::default());
    signin_support::add_person(&st, "olga", Role::Operator, None).await;

    let (status, location, cookie) = post_sign_in(&st, "olga", "not her password", "/runs").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/signin?error=invalid&name=olga&next=%2Fruns");
    assert_eq!(cookie, None, "no session for a wrong password");

    let (_, location, cookie) = post_sign_in(&st, "olga", PASSWORD, "https://evil.example/").await;
    assert_eq!(location, "/", "next must be a local path");
    let (_, location, cookie2) = post_sign_in(&st, "olga", PASSWORD, "/runs").await;
    assert_eq!(location, "/runs");
    let cookie = cookie.expect("a session");
    let set_cookie = raw_sign_in_cookie(&st).await;
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Strict"), "{set_cookie}");

    let res = get(&st, Some(&cookie), "/runs").await;
    assert_eq!(res.status(), StatusCode::OK);
    let (status, _) = post_form(&st, Some(&cookie), "/auth/signout", "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (status, _) = post_form(&st, Some(&cookie), "/api/whoami", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the session ended");
    let (status, body) = post_form(&st, cookie2.as_deref(), "/api/whoami", "").await;
    assert_eq!(status, StatusCode::OK, "other sessions go on: {body}");
    assert!(body.contains("\"olga\""), "{body}");
    assert!(body.contains("fleetdeck-operator"), "{body}");
}

/// A person removed from the accounts (`fleetdeck user remove`) is signed out at their next
/// request, however young their session.
#[tokio::test]
async fn a_removed_persons_session_ends_at_their_next_request() {
    let admin = signin_support::hub_with_roles().await;
    let st = AppState::in_process(&admin, Topics::default());
    let cookie = signin_support::sign_in_as(&st, "rita", Role::Viewer, None).await;
    let res = get(&st, Some(&cookie), "/").await;
    assert_eq!(res.status(), StatusCode::OK);
    st.sign_in.accounts.remove("rita").expect("removed");
    let res = get(&st, Some(&cookie), "/").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/signin?next=%2F");
}

#[tokio::test]
async fn a_session_past_its_lifetime_is_sent_to_signin() {
    let admin = signin_support::hub_with_roles().await;
    let mut st = AppState::in_process(&admin, Topics::default());
    st.sign_in.absolute = Duration::ZERO;
    let cookie = sign_in_as(&st, "olga", Role::Operator, None).await;
    let res = get(&st, Some(&cookie), "/approvals").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/signin?next=%2Fapprovals");
    let (status, _) = post_form(&st, Some(&cookie), "/api/whoami", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_cross_site_post_is_refused_even_with_a_session() {
    let admin = signin_support::hub_with_roles().await;
    seed(&admin, None).await;
    let st = AppState::in_process(&admin, Topics::default());
    let cookie = sign_in_as(&st, "adam", Role::Admin, None).await;
    let req = Request::post("/api/approvals/approve")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", HOST)
        .header("origin", "https://evil.example")
        .header(header::COOKIE, &cookie)
        .body(Body::from("namespace=&name=r1-before-canary&comment=pwned"))
        .expect("request");
    let res = router(st.clone()).oneshot(req).await.expect("infallible");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let request = Api::<ClusterApprovalRequest>::all(admin)
        .get("r1-before-canary")
        .await
        .expect("request");
    assert!(request.status.is_none(), "nothing was approved");
}

#[tokio::test]
async fn the_sixth_sign_in_attempt_in_a_minute_is_refused_with_the_wait() {
    let admin = signin_support::hub_with_roles().await;
    let st = AppState::in_process(&admin, Topics::default());
    signin_support::add_person(&st, "olga", Role::Operator, None).await;
    for _ in 0..5 {
        let (_, location, _) = post_sign_in(&st, "olga", "guess", "/").await;
        assert!(location.starts_with("/signin?error=invalid"), "{location}");
    }
    let (status, location, cookie) = post_sign_in(&st, "olga", PASSWORD, "/").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(
        location.starts_with("/signin?error=limited&retry="),
        "even the right password waits: {location}"
    );
    assert_eq!(cookie, None);
    let page = get(&st, None, &location).await;
    let html = body_text(page).await;
    assert!(
        html.contains("Too many sign-in attempts. Try again in"),
        "{html}"
    );
}

#[tokio::test]
async fn a_one_time_link_sets_the_password_once() {
    let admin = signin_support::hub_with_roles().await;
    let st = AppState::in_process(&admin, Topics::default());
    server::accounts::bind(&admin, "olga", Role::Operator, None)
        .await
        .expect("bind");
    let added = st
        .sign_in
        .accounts
        .add("olga", Role::Operator, None)
        .expect("add");
    let setup = |password: &str, confirm: &str| {
        format!(
            "token={}&password={}&confirm={}",
            enc(&added.link_token),
            enc(password),
            enc(confirm)
        )
    };
    let (status, _) = post_form(
        &st,
        None,
        "/auth/setup",
        &setup(PASSWORD, "other words here"),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, location, cookie) = raw_post(&st, "/auth/setup", &setup(PASSWORD, PASSWORD)).await;
    assert_eq!(location, "/");
    let cookie = cookie.expect("signed in at once");
    let (status, _) = post_form(&st, Some(&cookie), "/api/whoami", "").await;
    assert_eq!(status, StatusCode::OK);
    let (_, location, _) = raw_post(&st, "/auth/setup", &setup(PASSWORD, PASSWORD)).await;
    assert_eq!(
        location, "/signin/setup?error=unknown",
        "the link is used up"
    );
}

async fn get(st: &AppState, cookie: Option<&str>, uri: &str) -> axum::response::Response {
    let mut req = Request::get(uri).header("host", HOST);
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    router(st.clone())
        .oneshot(req.body(Body::empty()).expect("request"))
        .await
        .expect("infallible")
}

async fn raw_post(st: &AppState, uri: &str, form: &str) -> (StatusCode, String, Option<String>) {
    let req = Request::post(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .body(Body::from(form.to_string()))
        .expect("request");
    let res = router(st.clone()).oneshot(req).await.expect("infallible");
    let cookie = res
        .headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .map(|c| c.split(';').next().unwrap_or_default().to_string());
    (res.status(), location(&res), cookie)
}

/// The whole `Set-Cookie` of a sign-in, attributes and all.
async fn raw_sign_in_cookie(st: &AppState) -> String {
    let req = Request::post("/auth/signin")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .body(Body::from(format!("name=olga&password={}", enc(PASSWORD))))
        .expect("request");
    let res = router(st.clone()).oneshot(req).await.expect("infallible");
    res.headers()
        .get(header::SET_COOKIE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn location(res: &axum::response::Response) -> String {
    res.headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn body_text(res: axum::response::Response) -> String {
    use http_body_util::BodyExt;
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn the_permissions_the_pages_disable_buttons_by_are_the_hubs_answers_for_the_person() {
    use app::fleet::views::permission_view::{ConsoleAction as A, Permissions};
    let admin = signin_support::hub_with_roles().await;
    let st = AppState::in_process(&admin, Topics::default());
    for (role, user, want) in [
        (Role::Viewer, "vera", vec![]),
        (Role::Approver, "alma", vec![A::Approve, A::ApproveGate]),
        (
            Role::Operator,
            "olga",
            vec![
                A::CreateRun,
                A::ChangeRunState,
                A::DeleteRun,
                A::ChangeUpgradeRun,
                A::DeleteUpgradeRun,
                A::GenerateUpgradeRun,
            ],
        ),
        (Role::Admin, "adam", A::ALL.to_vec()),
    ] {
        let cookie = sign_in_as(&st, user, role, None).await;
        let (status, body) = post_form(&st, Some(&cookie), "/api/permissions", "").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let p: Permissions = serde_json::from_str(&body).expect("permissions");
        assert_eq!(p.allowed, want, "{role:?}");
        assert_eq!(p.user, format!("{user} ({})", role.cluster_role()));
    }
    // In a namespace where the RoleBinding is: allowed there, not elsewhere.
    let cookie = sign_in_as(&st, "nora", Role::Approver, Some("team-a")).await;
    let (_, body) = post_form(&st, Some(&cookie), "/api/permissions", "namespace=team-a").await;
    let p: Permissions = serde_json::from_str(&body).expect("permissions");
    assert_eq!(p.allowed, vec![A::Approve]);
    let (_, body) = post_form(&st, Some(&cookie), "/api/permissions", "").await;
    let p: Permissions = serde_json::from_str(&body).expect("permissions");
    assert_eq!(p.allowed, vec![]);
    assert_eq!(
        p.gate(A::Approve).reason.as_deref(),
        Some("nora (fleetdeck-approver) may not approve: needs patch on clusterapprovalrequests/status — ask an administrator")
    );
}
