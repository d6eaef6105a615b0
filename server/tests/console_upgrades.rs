//! The console's actions on upgrade runs (seed 004), posted through the router as the run page
//! posts them, by people signed in with the shipped roles against an in-memory hub: start, stop
//! and skip as an operator (and refused to a viewer, naming the permission), gate approval as an
//! approver (and refused to an operator), a refused transition in words, and the run page's view.

use app::error::AppError;
use app::fleet::types::names::GATE_UPDATE_RUN_LABEL;
use app::fleet::upgrade::run::{GateProperties, GateState};
use app::fleet::upgrade::upgrade_run::{UpdateRunStatus, UpdateState};
use app::fleet::views::upgrade_view::UpgradeDetail;
use app::fleet::{Gate, UpdateRun};
use app::live::Topics;
use axum::http::StatusCode;
use kube::api::{Api, PostParams};
use server::accounts::Role;
use server::web::AppState;
use signin_support::{post_form, sign_in_as};

mod signin_support;

/// Run `r1` (ControlPlaneOnly to 1.26.0) as the engine plans it, in `state`: stage s1 with
/// groups g1 (m1) and g2 (m2), and an Approval gate before stage s2 (g3: m3) whose Gate object
/// `gate-1` exists and is Pending.
async fn seed(admin: &kube::Client, state: &str) {
    let pp = PostParams::default();
    let run: UpdateRun = serde_json::from_value(serde_json::json!({
        "apiVersion": "updates.fleetdeck.dev/v1alpha1", "kind": "UpdateRun",
        "metadata": {"name": "r1"},
        "spec": {
            "strategy": {"stages": [
                {"name": "s1", "groups": [{"name": "g1"}, {"name": "g2"}]},
                {"name": "s2", "groups": [{"name": "g3"}], "beforeGates": [{"type": "Approval", "displayName": "sign-off"}]}
            ]},
            "managedClusterUpdate": {"upgrade": {"type": "ControlPlaneOnly", "kubernetesVersion": "1.26.0"}}
        }
    }))
    .expect("a run");
    let runs = Api::<UpdateRun>::all(admin.clone());
    let mut created = runs.create(&pp, &run).await.expect("the run");
    let status: UpdateRunStatus = serde_json::from_value(serde_json::json!({
        "status": {"state": state},
        "stages": [
            {"name": "s1", "status": {"state": "NotStarted"}, "groups": [
                {"name": "g1", "status": {"state": "NotStarted"}, "members": [{"name": "m1", "status": {"state": "NotStarted"}}]},
                {"name": "g2", "status": {"state": "NotStarted"}, "members": [{"name": "m2", "status": {"state": "NotStarted"}}]}
            ]},
            {"name": "s2", "status": {"state": "NotStarted"},
             "beforeGates": [{"displayName": "sign-off", "gateId": "gate-1", "status": {"state": "Pending"}}],
             "groups": [{"name": "g3", "status": {"state": "NotStarted"}, "members": [{"name": "m3", "status": {"state": "NotStarted"}}]}]}
        ]
    }))
    .expect("a status");
    created.status = Some(status);
    runs.replace_status("r1", &pp, &created)
        .await
        .expect("the plan");
    let gate: GateProperties = serde_json::from_value(serde_json::json!({
        "gateType": "Approval", "displayName": "sign-off", "state": "Pending",
        "target": {"id": "r1", "updateRunProperties": {"name": "r1", "stage": "s2", "timing": "Before"}}
    }))
    .expect("gate properties");
    let mut gate = Gate::new("gate-1", gate);
    gate.metadata.labels = Some([(GATE_UPDATE_RUN_LABEL.to_string(), "r1".to_string())].into());
    Api::<Gate>::all(admin.clone())
        .create(&pp, &gate)
        .await
        .expect("the gate");
}

async fn dashboard(state: &str) -> (kube::Client, AppState) {
    let admin = signin_support::hub_with_roles().await;
    seed(&admin, state).await;
    let st = AppState::in_process(&admin, Topics::default());
    (admin, st)
}

async fn run_state(admin: &kube::Client) -> UpdateRunStatus {
    Api::<UpdateRun>::all(admin.clone())
        .get("r1")
        .await
        .expect("r1")
        .status
        .unwrap_or_default()
}

fn state(s: &Option<app::fleet::upgrade::upgrade_run::UpdateStatus>) -> UpdateState {
    s.as_ref().and_then(|s| s.state).unwrap_or_default()
}

fn forbidden(user: &str, verb: &str, resource: &str, sub: &str, name: &str) -> AppError {
    AppError::Forbidden(format!(
        "the hub does not allow this: {resource}.updates.fleetdeck.dev {name:?} is forbidden: User {user:?} cannot {verb} resource \"{resource}{sub}\" in API group \"updates.fleetdeck.dev\" at the cluster scope — ask an administrator for the permission"
    ))
}

#[tokio::test]
async fn an_operator_starts_stops_and_skips_a_group_and_a_viewer_is_refused_naming_the_permission()
{
    let (admin, st) = dashboard("NotStarted").await;
    let olga = sign_in_as(&st, "olga", Role::Operator, None).await;
    let vera = sign_in_as(&st, "vera", Role::Viewer, None).await;
    let act = "/api/upgrades/act";

    // A viewer may read the run but not act on it: the hub refuses the status write.
    let (status, body) = post_form(&st, Some(&vera), act, "name=r1&action=Start&target=").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let error: AppError = serde_json::from_str(&body).expect("an AppError");
    assert_eq!(
        error,
        forbidden("vera", "update", "updateruns", "/status", "r1")
    );
    assert_eq!(
        state(&run_state(&admin).await.status),
        UpdateState::NotStarted
    );

    // Skip a group of a run not started yet: that group and its member are Skipped, no more.
    let (status, body) =
        post_form(&st, Some(&olga), act, "name=r1&action=SkipGroup&target=g2").await;
    assert!(status.is_success(), "{status} {body}");
    let after = run_state(&admin).await;
    let s1 = &after.stages.as_ref().expect("stages")[0];
    let groups = s1.groups.as_ref().expect("groups");
    assert_eq!(state(&groups[1].status), UpdateState::Skipped);
    assert_eq!(
        state(&groups[1].members.as_ref().expect("members")[0].status),
        UpdateState::Skipped
    );
    assert_eq!(state(&groups[0].status), UpdateState::NotStarted);

    // Start, then stop: the run is Running, then Stopping until its members in flight finish.
    let (status, body) = post_form(&st, Some(&olga), act, "name=r1&action=Start&target=").await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(state(&run_state(&admin).await.status), UpdateState::Running);
    // The viewer may not stop or skip a running run either.
    for form in [
        "name=r1&action=Stop&target=",
        "name=r1&action=SkipMember&target=m1",
    ] {
        let (status, body) = post_form(&st, Some(&vera), act, form).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{form}: {body}");
    }
    let (status, body) = post_form(&st, Some(&olga), act, "name=r1&action=Stop&target=").await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(
        state(&run_state(&admin).await.status),
        UpdateState::Stopping
    );
}

#[tokio::test]
async fn an_action_the_run_no_longer_allows_is_refused_in_words() {
    let (admin, st) = dashboard("NotStarted").await;
    let olga = sign_in_as(&st, "olga", Role::Operator, None).await;
    let act = "/api/upgrades/act";
    let (status, body) = post_form(&st, Some(&olga), act, "name=r1&action=Stop&target=").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let error: AppError = serde_json::from_str(&body).expect("an AppError");
    assert_eq!(
        error,
        AppError::Conflict("upgrade run r1: cannot stop an update run that is NotStarted".into())
    );
    let (status, body) = post_form(
        &st,
        Some(&olga),
        act,
        "name=r1&action=SkipGroup&target=nope",
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("nope"), "{body}");
    let (status, body) = post_form(&st, Some(&olga), act, "name=gone&action=Start&target=").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(
        state(&run_state(&admin).await.status),
        UpdateState::NotStarted
    );
}

#[tokio::test]
async fn an_approver_approves_a_gate_and_an_operator_may_not() {
    let (admin, st) = dashboard("Pending").await;
    let olga = sign_in_as(&st, "olga", Role::Operator, None).await;
    let alma = sign_in_as(&st, "alma", Role::Approver, None).await;
    let approve = "/api/upgrades/approve";
    let gates = Api::<Gate>::all(admin.clone());

    let (status, body) = post_form(&st, Some(&olga), approve, "run=r1&gate=gate-1").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let error: AppError = serde_json::from_str(&body).expect("an AppError");
    assert_eq!(error, forbidden("olga", "update", "gates", "", "gate-1"));
    assert_eq!(
        gates.get("gate-1").await.expect("gate").spec.state,
        GateState::Pending
    );

    let (status, body) = post_form(&st, Some(&alma), approve, "run=r1&gate=gate-1").await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(
        gates.get("gate-1").await.expect("gate").spec.state,
        GateState::Completed
    );
    // Approved once: a second approval says so instead of writing again.
    let (status, body) = post_form(&st, Some(&alma), approve, "run=r1&gate=gate-1").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    assert!(
        body.contains("only a Pending gate can be approved"),
        "{body}"
    );
}

#[tokio::test]
async fn the_run_page_offers_what_the_run_allows_and_shows_the_gate_to_approve() {
    let (_, st) = dashboard("Pending").await;
    let vera = sign_in_as(&st, "vera", Role::Viewer, None).await;
    let (status, body) = post_form(&st, Some(&vera), "/api/upgrades/get", "name=r1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let d: UpgradeDetail = serde_json::from_str(&body).expect("the run's detail");
    assert_eq!(d.row.state, UpdateState::Pending);
    assert!(d.may_stop && !d.may_start);
    let gate = &d.stages[1].before_gates[0];
    assert_eq!(gate.gate_id.as_deref(), Some("gate-1"));
    assert!(gate.approvable);
    assert!(d.stages[0].groups[0].progress.skippable);

    let (status, body) = post_form(&st, Some(&vera), "/api/upgrades/list", "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("\"name\":\"r1\""), "{body}");
}

/// GETs a page as the browser does without JavaScript: the server's HTML.
async fn page(st: &AppState, cookie: &str, uri: &str) -> String {
    use axum::body::Body;
    use axum::http::{header, Request};
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let req = Request::get(uri)
        .header("host", signin_support::HOST)
        .header(header::COOKIE, cookie)
        .body(Body::empty())
        .expect("request");
    let res = server::web::router(st.clone())
        .oneshot(req)
        .await
        .expect("infallible");
    assert_eq!(res.status(), StatusCode::OK, "GET {uri}");
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    String::from_utf8_lossy(&bytes).into_owned()
}

#[tokio::test]
async fn the_pages_are_readable_without_javascript() {
    let (_, st) = dashboard("Pending").await;
    let cookie = signin_support::ops_cookie(&st).await;
    let list = page(&st, &cookie, "/upgrades").await;
    assert!(list.contains(r#"data-run="r1""#), "{list}");
    assert!(list.contains("ControlPlaneOnly"), "{list}");
    let run = page(&st, &cookie, "/upgrades/r1").await;
    for want in [
        "Pending: waiting for approval of gate sign-off; 0 of 3 members done.",
        r#"data-member="m1""#,
        r#"data-group="g2""#,
        "Skip group…",
        "Approve…",
        "Stop…",
        "Approval sign-off before stage s2: ",
    ] {
        assert!(run.contains(want), "{want:?} in {run}");
    }
    // Start is not offered to a Pending run.
    assert!(!run.contains("Start…"), "{run}");
}

/// Sets run r1's state as the engine would write it.
async fn set_run_state(admin: &kube::Client, state: UpdateState) {
    let runs = Api::<UpdateRun>::all(admin.clone());
    let mut run = runs.get("r1").await.expect("r1");
    let status = run.status.get_or_insert_with(Default::default);
    status.status.get_or_insert_with(Default::default).state = Some(state);
    runs.replace_status("r1", &PostParams::default(), &run)
        .await
        .expect("state written");
}

#[tokio::test]
async fn an_active_run_cannot_be_deleted_and_a_finished_one_is_deleted_by_an_operator() {
    let (admin, st) = dashboard("Running").await;
    let olga = sign_in_as(&st, "olga", Role::Operator, None).await;
    let vera = sign_in_as(&st, "vera", Role::Viewer, None).await;
    let delete = "/api/upgrades/delete";
    let active = "cannot delete an update run that is Running: stop it first";

    // The page disables Delete with the reason, which the server function and the hub share.
    let (_, body) = post_form(&st, Some(&olga), "/api/upgrades/get", "name=r1").await;
    let d: UpgradeDetail = serde_json::from_str(&body).expect("the run's detail");
    assert_eq!(d.delete_refusal.as_deref(), Some(active));
    let html = page(&st, &olga, "/upgrades/r1").await;
    assert!(html.contains(r#"data-action="delete""#), "{html}");
    assert!(html.contains(active), "{html}");
    assert!(
        !html.contains("Delete the run"),
        "no confirmation for an active run"
    );
    let (status, body) = post_form(&st, Some(&olga), delete, "name=r1").await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
    let error: AppError = serde_json::from_str(&body).expect("an AppError");
    assert_eq!(
        error,
        AppError::Conflict(format!("upgrade run r1: {active}"))
    );
    // kubectl is held to the same by the hub's admission.
    let err = Api::<UpdateRun>::all(admin.clone())
        .delete("r1", &Default::default())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(active), "{err}");

    set_run_state(&admin, UpdateState::Completed).await;
    let (_, body) = post_form(&st, Some(&olga), "/api/upgrades/get", "name=r1").await;
    let d: UpgradeDetail = serde_json::from_str(&body).expect("the run's detail");
    assert_eq!(d.delete_refusal, None);
    let html = page(&st, &olga, "/upgrades/r1").await;
    assert!(html.contains("Delete the run"), "{html}");
    // A viewer is refused by the hub, naming the permission.
    let (status, body) = post_form(&st, Some(&vera), delete, "name=r1").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let error: AppError = serde_json::from_str(&body).expect("an AppError");
    assert_eq!(error, forbidden("vera", "delete", "updateruns", "", "r1"));
    let (status, body) = post_form(&st, Some(&olga), delete, "name=r1").await;
    assert!(
        status.is_success() || status.is_redirection(),
        "{status} {body}"
    );
    assert!(Api::<UpdateRun>::all(admin.clone())
        .get_opt("r1")
        .await
        .expect("read")
        .is_none());
}

#[tokio::test]
async fn profiles_are_listed_and_generate_run_makes_one_run_not_started() {
    use app::fleet::types::names::START_WHEN_PLANNED;
    use app::fleet::upgrade::auto_upgrade::AutoUpgradeProfileSpec;
    use app::fleet::views::profile_view::ProfileRow;
    use app::fleet::{AutoUpgradeProfile, MemberCluster};

    let (admin, mut st) = dashboard("Completed").await;
    st.catalogue = app::server_fns::ssr::Catalogue(std::sync::Arc::new(|| {
        server::release_catalogue::parse(server::release_catalogue::DEFAULT)
    }));
    let olga = sign_in_as(&st, "olga", Role::Operator, None).await;
    let vera = sign_in_as(&st, "vera", Role::Viewer, None).await;
    let pp = PostParams::default();
    let member: MemberCluster = serde_json::from_value(serde_json::json!({
        "apiVersion": "cluster.kubernetes-fleet.io/v1beta1", "kind": "MemberCluster",
        "metadata": {"name": "m1"},
        "spec": {"identity": {"kind": "ServiceAccount", "name": "fleet-member-agent-m1", "namespace": "fleet-system"}}
    }))
    .expect("member");
    Api::<MemberCluster>::all(admin.clone())
        .create(&pp, &member)
        .await
        .expect("member");
    let spec: AutoUpgradeProfileSpec =
        serde_json::from_value(serde_json::json!({"channel": "Stable", "disabled": true}))
            .expect("spec");
    Api::<AutoUpgradeProfile>::all(admin.clone())
        .create(&pp, &AutoUpgradeProfile::new("nightly", spec))
        .await
        .expect("profile");

    let (status, body) = post_form(&st, Some(&vera), "/api/upgrades/profiles", "").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let rows: Vec<ProfileRow> = serde_json::from_str(&body).expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (rows[0].channel.as_str(), rows[0].enabled),
        ("Stable", false)
    );
    let html = page(&st, &olga, "/upgrades").await;
    assert!(html.contains(r#"data-profile="nightly""#), "{html}");
    assert!(html.contains("Generate run…"), "{html}");

    let generate = "/api/upgrades/generate";
    let (status, body) = post_form(&st, Some(&vera), generate, "profile=nightly").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body.contains(r#"cannot create resource \"updateruns\""#),
        "{body}"
    );
    let (status, body) = post_form(&st, Some(&olga), generate, "profile=nightly").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let message: String = serde_json::from_str(&body).expect("the message");
    // The shipped catalogue's Stable target (N-1 of 1.27) is 1.26.6.
    assert!(
        message.starts_with("created update run nightly-"),
        "{message}"
    );
    assert!(
        message.ends_with("to 1.26.6; it is not started"),
        "{message}"
    );
    let (status, body) = post_form(&st, Some(&olga), generate, "profile=nightly").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let again: String = serde_json::from_str(&body).expect("the message");
    assert!(again.contains("already exists (NotStarted)"), "{again}");

    let made: Vec<UpdateRun> = Api::<UpdateRun>::all(admin.clone())
        .list(&Default::default())
        .await
        .expect("runs")
        .items
        .into_iter()
        .filter(|r| r.spec.auto_upgrade_profile_id.as_deref() == Some("nightly"))
        .collect();
    assert_eq!(made.len(), 1, "generated once");
    let annotations = made[0].metadata.annotations.clone().unwrap_or_default();
    assert!(!annotations.contains_key(START_WHEN_PLANNED), "not started");
    let run_page = page(
        &st,
        &olga,
        &format!(
            "/upgrades/{}",
            made[0].metadata.name.clone().unwrap_or_default()
        ),
    )
    .await;
    assert!(
        run_page.contains("auto-upgrade profile nightly"),
        "{run_page}"
    );

    let (status, body) = post_form(&st, Some(&olga), generate, "profile=nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn a_cross_site_generate_or_delete_is_refused() {
    use axum::body::Body;
    use axum::http::{header, Request};
    use tower::ServiceExt;
    let (admin, st) = dashboard("Completed").await;
    let cookie = sign_in_as(&st, "adam", Role::Admin, None).await;
    for (path, form) in [
        ("/api/upgrades/delete", "name=r1"),
        ("/api/upgrades/generate", "profile=nightly"),
    ] {
        let req = Request::post(path)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("host", signin_support::HOST)
            .header("origin", "https://evil.example")
            .header(header::COOKIE, &cookie)
            .body(Body::from(form))
            .expect("request");
        let res = server::web::router(st.clone())
            .oneshot(req)
            .await
            .expect("infallible");
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
    assert!(Api::<UpdateRun>::all(admin)
        .get_opt("r1")
        .await
        .expect("read")
        .is_some());
}
