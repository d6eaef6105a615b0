//! Signing in to a real hub's dashboard by pasting a Kubernetes bearer token (issue 17): the hub
//! (an embedded fleetdeck's, reached over HTTPS through its kubeconfig, authenticating tokens from
//! its users file) says whose token it is, and every server function then reaches the hub with
//! that token — the hub's RBAC deciding for the token's owner, with no impersonation.

use app::error::AppError;
use app::fleet::staged::approval::ApprovalRequestSpec;
use app::fleet::staged::staged_update_run::{StagedUpdateRunSpec, UpdateRunState};
use app::fleet::{ClusterApprovalRequest, ClusterStagedUpdateRun};
use app::live::Topics;
use app::server_fns::acting_user::ActingUser;
use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use http_body_util::BodyExt;
use kube::api::{Api, PostParams};
use server::accounts::Role;
use server::cli::{EngineMode, ServeArgs};
use server::web::{router, AppState};
use signin_support::{enc, post_form, HOST, ORIGIN};
use tower::ServiceExt;

mod signin_support;

const GROUP: &str = "placement.kubernetes-fleet.io";

/// The kubectl token `fleetdeck user add` printed.
async fn add_user(dir: &std::path::Path, name: &str, role: Role) -> String {
    let printed = server::accounts::add_user(dir, name, role, None)
        .await
        .expect("the user is added");
    printed
        .lines()
        .find_map(|l| l.strip_prefix("kubectl token (shown only now): "))
        .expect("a kubectl token")
        .trim()
        .to_string()
}

async fn post_token(st: &AppState, token: &str) -> (StatusCode, String, Option<String>) {
    let req = Request::post("/auth/token")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("host", HOST)
        .header("origin", ORIGIN)
        .body(Body::from(format!(
            "token={}&next=%2Fapprovals",
            enc(token)
        )))
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

async fn page(st: &AppState, uri: &str) -> String {
    let req = Request::get(uri)
        .header("host", HOST)
        .body(Body::empty())
        .expect("request");
    let res = router(st.clone()).oneshot(req).await.expect("infallible");
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn a_person_signed_in_with_their_token_acts_on_the_hub_as_its_owner() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = server::serve::start(ServeArgs {
        no_demo_fleet: true,
        in_memory: true,
        engine: EngineMode::Off,
        ..ServeArgs::ephemeral(dir.path())
    })
    .await
    .expect("fleetdeck starts");
    let admin = running.client.clone();
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
    let viewer = add_user(dir.path(), "tess", Role::Viewer).await;
    let approver = add_user(dir.path(), "tina", Role::Approver).await;

    // The dashboard as on a real hub: its kubeconfig's hub, token sign-in offered.
    let kubeconfig = kube::config::Kubeconfig::read_from(&running.kubeconfig).expect("kubeconfig");
    let config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .expect("config");
    // The dashboard's own identity reaches no hub at all: whatever works below works by the
    // person's token alone (impersonation through this client would fail to connect).
    let nowhere = kube::Client::try_from(kube::Config::new(
        "http://127.0.0.1:9".parse().expect("url"),
    ))
    .expect("client");
    let mut st = AppState::in_process(&nowhere, Topics::default());
    st.sign_in = st.sign_in.clone().with_token_sign_in(config);
    let signin = page(&st, "/signin").await;
    assert!(signin.contains("action=\"/auth/token\""), "{signin}");

    let (status, location, cookie) = post_token(&st, "not-a-token-the-hub-knows").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(location, "/signin?error=token-invalid&next=%2Fapprovals");
    assert_eq!(cookie, None);
    let refused = page(&st, &location).await;
    assert!(
        refused.contains("The hub does not accept this token"),
        "{refused}"
    );

    let (status, location, cookie) = post_token(&st, &viewer).await;
    assert_eq!(
        (status, location.as_str()),
        (StatusCode::SEE_OTHER, "/approvals")
    );
    let cookie = cookie.expect("a session");
    let (status, body) = post_form(&st, Some(&cookie), "/api/whoami", "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let me: Option<ActingUser> = serde_json::from_str(&body).expect("whoami");
    assert_eq!(me.map(|m| m.name), Some("tess".to_string()));
    assert!(
        !body.contains(&viewer),
        "the token never leaves the server: {body}"
    );

    let approve = "namespace=&name=r1-before-canary&comment=ok";
    let (status, answer) = post_form(&st, Some(&cookie), "/api/approvals/approve", approve).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{answer}");
    let error: AppError = serde_json::from_str(&answer).expect("an AppError");
    assert_eq!(
        error,
        AppError::Forbidden(format!(
            "the hub does not allow this: clusterapprovalrequests.{GROUP} \"r1-before-canary\" is forbidden: User \"tess\" cannot patch resource \"clusterapprovalrequests/status\" in API group {GROUP:?} at the cluster scope — ask an administrator for the permission"
        ))
    );

    let (_, _, cookie) = post_token(&st, &approver).await;
    let cookie = cookie.expect("a session");
    let (status, answer) = post_form(&st, Some(&cookie), "/api/approvals/approve", approve).await;
    assert!(
        status.is_success() || status.is_redirection(),
        "{status} {answer}"
    );
    let request = Api::<ClusterApprovalRequest>::all(admin)
        .get("r1-before-canary")
        .await
        .expect("request");
    let approved = serde_json::to_string(&request.status).expect("status");
    assert!(approved.contains("tina"), "{approved}");

    // Signing out ends the session and lets go of the token.
    let tokens = st.sign_in.token_hub.clone().expect("token sign-in");
    assert!(tokens.holds(&approver));
    let (status, _) = post_form(&st, Some(&cookie), "/auth/signout", "").await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(!tokens.holds(&approver), "the token's client is dropped");
    assert!(tokens.holds(&viewer), "other people's stay");
    let (status, _) = post_form(&st, Some(&cookie), "/api/whoami", "").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    running.shutdown();
}
