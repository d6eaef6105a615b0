//! The engine on a hub it does not host, as on a real hub: two engine replicas reach the hub and
//! the member clusters only over TCP through kubeconfigs (the members' from their Secrets on the
//! hub), elect a leader on a Lease, and the leader alone rolls a placement out. When the leader
//! stops, the standby takes over and carries on with the next change.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use app::fleet::ClusterResourcePlacement;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, Patch, PatchParams, PostParams};
use serde_json::json;
use server::engine::leader::{while_leading, Election};
use server::engine::{self, Context};
use server::kubeconfig::{render, Endpoint};
use server::members::agent::Agent;
use server::members::{kubeconfig_secrets, registration, MemberConfig};
use tokio_util::sync::CancellationToken;

/// Serves a hub over plain HTTP on a free loopback port; returns its kubeconfig.
async fn serve(hub: &hub::Hub, name: &str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind a loopback port");
    let port = listener.local_addr().expect("address").port();
    let router = hub.router();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    render(
        &[Endpoint {
            name: name.into(),
            server: format!("http://127.0.0.1:{port}"),
            token: "unused".into(),
            ca_pem: None,
        }],
        name,
    )
    .expect("kubeconfig")
}

async fn client_for(kubeconfig: &str) -> kube::Client {
    let parsed = kube::config::Kubeconfig::from_yaml(kubeconfig).expect("parse kubeconfig");
    let config =
        kube::Config::from_custom_kubeconfig(parsed, &kube::config::KubeConfigOptions::default())
            .await
            .expect("config");
    kube::Client::try_from(config).expect("client")
}

/// One engine replica: campaigns for the lease and, while holding it, runs the placement and
/// update-run controllers and the member agent with members from their Secrets.
fn replica(
    hub_kubeconfig: String,
    identity: &'static str,
    active: Arc<AtomicBool>,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = client_for(&hub_kubeconfig).await;
        let election = Election {
            duration: Duration::from_secs(3),
            grace: Duration::from_secs(1),
            ..Election::new("fleet-system/fleetdeck-engine", identity).expect("lease")
        };
        while_leading(client.clone(), election, shutdown, move |stop| {
            let client = client.clone();
            let active = active.clone();
            async move {
                active.store(true, Ordering::SeqCst);
                let ctx = Arc::new(Context::new(client.clone(), engine::Config::default()));
                let agent = Agent::new(client.clone(), Vec::new());
                let informers = server::informers::Informers::new(client.clone());
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = engine::placement::run(ctx.clone(), informers.clone()) => {}
                    _ = engine::update_run::run(ctx, informers.clone()) => {}
                    _ = agent.clone().run(informers.clone()) => {}
                    _ = kubeconfig_secrets::run(informers, "fleet-system".into(), agent) => {}
                }
                active.store(false, Ordering::SeqCst);
            }
        })
        .await
        .expect("campaign");
    })
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let waited = tokio::time::timeout(Duration::from_secs(60), async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(waited.is_ok(), "gave up waiting until {what}");
}

async fn data_on(member: &kube::Client) -> Option<String> {
    let cms: Api<ConfigMap> = Api::namespaced(member.clone(), "test-namespace");
    cms.get_opt("test-cm")
        .await
        .ok()
        .flatten()
        .and_then(|cm| cm.data?.get("key").cloned())
}

/// Namespace `test-namespace` with ConfigMap `test-cm` `{key: value1}` on the hub, placed on every
/// member by a RollingUpdate CRP.
async fn place_test_namespace(admin: &kube::Client) {
    let namespaces: Api<Namespace> = Api::all(admin.clone());
    namespaces
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({"metadata": {"name": "test-namespace"}})).expect("ns"),
        )
        .await
        .expect("namespace");
    let cms: Api<ConfigMap> = Api::namespaced(admin.clone(), "test-namespace");
    cms.create(
        &PostParams::default(),
        &serde_json::from_value(
            json!({"metadata": {"name": "test-cm"}, "data": {"key": "value1"}}),
        )
        .expect("cm"),
    )
    .await
    .expect("configmap");
    let crps: Api<ClusterResourcePlacement> = Api::all(admin.clone());
    crps.create(
        &PostParams::default(),
        &serde_json::from_value(json!({
            "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
            "kind": "ClusterResourcePlacement",
            "metadata": {"name": "example-placement"},
            "spec": {
                "resourceSelectors": [{"group": "", "kind": "Namespace", "name": "test-namespace", "version": "v1"}],
                "policy": {"placementType": "PickAll"},
                "strategy": {"type": "RollingUpdate"}
            }
        }))
        .expect("crp"),
    )
    .await
    .expect("placement");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leader_elected_replicas_roll_out_through_member_kubeconfig_secrets_and_hand_over() {
    // Warnings (lost leases, failing watches) are shown when the test fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_test_writer()
        .try_init();
    let fleet = hub::Hub::memory(server::fleet_kinds::registry());
    let hub_kubeconfig = serve(&fleet, "hub").await;
    let admin = kube::Client::new(fleet.router(), "default");

    // Two member clusters, registered the way an operator registers real ones.
    let mut members = Vec::new();
    for name in ["member1", "member2"] {
        let member = hub::Hub::memory(hub::Registry::new());
        let kubeconfig = serve(&member, name).await;
        registration::register(
            &admin,
            &MemberConfig {
                name: name.into(),
                labels: Default::default(),
                region: None,
                lightweight: false,
                cluster: Default::default(),
            },
            3,
        )
        .await
        .expect("register");
        kubeconfig_secrets::publish(&admin, "fleet-system", name, &kubeconfig)
            .await
            .expect("publish the member's kubeconfig");
        members.push((
            member.clone(),
            kube::Client::new(member.router(), "default"),
        ));
    }

    let (a_active, b_active) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let (a_stop, b_stop) = (CancellationToken::new(), CancellationToken::new());
    let a = replica(
        hub_kubeconfig.clone(),
        "replica-a",
        a_active.clone(),
        a_stop.clone(),
    );
    let b = replica(
        hub_kubeconfig,
        "replica-b",
        b_active.clone(),
        b_stop.clone(),
    );
    let exactly_one = || a_active.load(Ordering::SeqCst) ^ b_active.load(Ordering::SeqCst);
    until("one replica leads", async || exactly_one()).await;
    let (leader_stop, leader_active, follower_active, follower) = if a_active.load(Ordering::SeqCst)
    {
        (a_stop, a_active.clone(), b_active.clone(), "replica-b")
    } else {
        (b_stop, b_active.clone(), a_active.clone(), "replica-a")
    };

    // A RollingUpdate placement of a namespace with a ConfigMap reaches both members.
    place_test_namespace(&admin).await;
    let cms: Api<ConfigMap> = Api::namespaced(admin.clone(), "test-namespace");
    for (_, member) in &members {
        until("value1 is on every member", async || {
            data_on(member).await.as_deref() == Some("value1")
        })
        .await;
    }
    assert!(exactly_one(), "only the leader runs the engine");

    // The leader stops (and releases the lease): the standby takes over and rolls out the edit.
    leader_stop.cancel();
    until("the standby leads", async || {
        follower_active.load(Ordering::SeqCst) && !leader_active.load(Ordering::SeqCst)
    })
    .await;
    let leases: Api<Lease> = Api::namespaced(admin.clone(), "fleet-system");
    let holder = leases
        .get("fleetdeck-engine")
        .await
        .expect("lease")
        .spec
        .and_then(|s| s.holder_identity);
    assert_eq!(holder.as_deref(), Some(follower));
    cms.patch(
        "test-cm",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"key": "value2"}})),
    )
    .await
    .expect("edit");
    for (_, member) in &members {
        until("value2 is on every member", async || {
            data_on(member).await.as_deref() == Some("value2")
        })
        .await;
    }
    for replica in [a, b] {
        replica.abort();
    }
}

/// `fleetdeck --kubeconfig` against another fleetdeck's hub (HTTPS, token, CA from the written
/// kubeconfig): the first serves with `--engine off`, so only the second one's engine can roll
/// out, through the member kubeconfig Secrets the first one published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleetdeck_with_a_kubeconfig_drives_another_fleetdecks_hub_and_members() {
    use server::cli::{EngineMode, ServeArgs};

    let (hub_dir, engine_dir) = (
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
    );
    let hosting = server::serve::start(ServeArgs {
        engine: EngineMode::Off,
        ..ServeArgs::ephemeral(hub_dir.path())
    })
    .await
    .expect("the hosting fleetdeck starts");
    let driving = server::serve::start(ServeArgs {
        kubeconfig: Some(hosting.kubeconfig.clone()),
        context: Some("hub".into()),
        ..ServeArgs::ephemeral(engine_dir.path())
    })
    .await
    .expect("the driving fleetdeck starts on the other's hub");
    assert!(driving.hub.is_none() && driving.members.is_empty());

    let admin = hosting.client.clone();
    place_test_namespace(&admin).await;
    assert_eq!(hosting.members.len(), 3, "the demo fleet");
    for member in &hosting.members {
        until("value1 is on every member", async || {
            data_on(&member.client).await.as_deref() == Some("value1")
        })
        .await;
    }
    driving.shutdown();
    driving.wait().await.expect("clean shutdown");
    hosting.shutdown();
    hosting.wait().await.expect("clean shutdown");
}

/// The ClusterRole `deploy/real-hub/fleetdeck.yaml` ships for fleetdeck's own identity.
fn shipped_controller_role() -> k8s_openapi::api::rbac::v1::ClusterRole {
    let manifest = include_str!("../../deploy/real-hub/fleetdeck.yaml");
    manifest
        .split("\n---\n")
        .filter_map(|doc| serde_saphyr::from_str::<serde_json::Value>(doc).ok())
        .find(|doc| doc["kind"] == "ClusterRole")
        .map(|doc| serde_json::from_value(doc).expect("a ClusterRole"))
        .expect("the manifest holds fleetdeck's ClusterRole")
}

/// A fleetdeck whose hub identity has only the shipped `fleetdeck-controller` role (not
/// `system:masters`) rolls a placement out on another fleetdeck's hub, and may act as a person
/// (impersonation), who the hub then judges by their own bindings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shipped_controller_role_is_all_fleetdeck_needs_on_a_real_hub() {
    use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
    use server::cli::{EngineMode, ServeArgs};
    // A refusal the role causes shows as a warning when the test fails.
    let _ = tracing_subscriber::fmt()
        .with_env_filter("warn")
        .with_test_writer()
        .try_init();

    let (hub_dir, engine_dir) = (
        tempfile::tempdir().expect("temp dir"),
        tempfile::tempdir().expect("temp dir"),
    );
    let users = hub::UsersFile {
        users: vec![hub::UserEntry::new(
            "fleetdeck-controller",
            hub::token_sha256("controller-token"),
        )],
    };
    std::fs::write(
        hub_dir.path().join(server::hub_rbac::USERS_FILE),
        serde_saphyr::to_string(&users).expect("users serialise"),
    )
    .expect("write users.yaml");
    let hosting = server::serve::start(ServeArgs {
        engine: EngineMode::Off,
        ..ServeArgs::ephemeral(hub_dir.path())
    })
    .await
    .expect("the hosting fleetdeck starts");
    let admin = hosting.client.clone();
    Api::<ClusterRole>::all(admin.clone())
        .create(&PostParams::default(), &shipped_controller_role())
        .await
        .expect("the role");
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "fleetdeck-controller"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "fleetdeck-controller"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "fleetdeck-controller"}]
    }))
    .expect("binding");
    Api::<ClusterRoleBinding>::all(admin.clone())
        .create(&PostParams::default(), &binding)
        .await
        .expect("the binding");

    // The hosting fleetdeck's kubeconfig, with the controller's token instead of the admin's.
    let mut kubeconfig =
        kube::config::Kubeconfig::read_from(&hosting.kubeconfig).expect("kubeconfig");
    for user in &mut kubeconfig.auth_infos {
        if let Some(auth) = user.auth_info.as_mut() {
            auth.token = Some("controller-token".to_string().into());
        }
    }
    let controller_kubeconfig = engine_dir.path().join("controller.kubeconfig");
    std::fs::write(
        &controller_kubeconfig,
        serde_saphyr::to_string(&kubeconfig).expect("kubeconfig serialises"),
    )
    .expect("write kubeconfig");
    let driving = server::serve::start(ServeArgs {
        kubeconfig: Some(controller_kubeconfig.clone()),
        context: Some("hub".into()),
        ..ServeArgs::ephemeral(engine_dir.path())
    })
    .await
    .expect("the driving fleetdeck starts with the controller role only");

    place_test_namespace(&admin).await;
    for member in &hosting.members {
        until("value1 is on every member", async || {
            data_on(&member.client).await.as_deref() == Some("value1")
        })
        .await;
    }

    // Impersonating a person is allowed; the person's own (missing) rights then decide.
    let mut as_alma = kubeconfig.clone();
    for user in &mut as_alma.auth_infos {
        if let Some(auth) = user.auth_info.as_mut() {
            auth.impersonate = Some("alma".into());
        }
    }
    let config = kube::Config::from_custom_kubeconfig(
        as_alma,
        &kube::config::KubeConfigOptions {
            context: Some("hub".into()),
            ..Default::default()
        },
    )
    .await
    .expect("config");
    let alma = kube::Client::try_from(config).expect("client");
    match Api::<ClusterResourcePlacement>::all(alma).list(&Default::default()).await {
        Err(kube::Error::Api(status)) => assert_eq!(
            status.message,
            "clusterresourceplacements.placement.kubernetes-fleet.io is forbidden: User \"alma\" cannot list resource \"clusterresourceplacements\" in API group \"placement.kubernetes-fleet.io\" at the cluster scope"
        ),
        other => panic!("expected alma's own 403, got {other:?}"),
    }
    driving.shutdown();
    driving.wait().await.expect("clean shutdown");
    hosting.shutdown();
    hosting.wait().await.expect("clean shutdown");
}
