//! The embedded hub's RBAC as a started fleetdeck serves it: the shipped ClusterRoles are
//! installed, users.yaml's people get exactly their bindings' rights over HTTPS, and
//! `kubectl auth can-i` answers as RBAC says (through the real binary, with each user's token).

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;
use server::cli::ServeArgs;

async fn admin_client(kubeconfig: &std::path::Path) -> kube::Client {
    let config = Kubeconfig::read_from(kubeconfig).expect("kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(config, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig is usable");
    kube::Client::try_from(config).expect("client")
}

/// A data directory whose users.yaml holds `vera` and `alma`, tokens `<name>-token`.
fn data_dir_with_users() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let users = hub::UsersFile {
        users: ["vera", "alma"]
            .iter()
            .map(|u| hub::UserEntry::new(u, hub::token_sha256(&format!("{u}-token"))))
            .collect(),
    };
    let yaml = serde_saphyr::to_string(&users).expect("users serialise");
    std::fs::write(dir.path().join(server::hub_rbac::USERS_FILE), yaml).expect("write users.yaml");
    dir
}

async fn bind(client: &kube::Client, user: &str, role: &str) {
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": format!("{user}-{role}")},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": user}]
    }))
    .expect("a binding");
    Api::<ClusterRoleBinding>::all(client.clone())
        .create(&PostParams::default(), &binding)
        .await
        .expect("the admin binds");
}

#[tokio::test]
async fn the_shipped_roles_are_installed_and_bind_users_from_the_users_file() {
    let dir = data_dir_with_users();
    let running = server::serve::start(ServeArgs::ephemeral(dir.path()))
        .await
        .expect("starts");
    let admin = admin_client(&running.kubeconfig).await;
    let roles = Api::<ClusterRole>::all(admin.clone())
        .list(&ListParams::default())
        .await
        .expect("the admin lists roles");
    let mut names: Vec<String> = roles
        .items
        .iter()
        .filter_map(|r| r.metadata.name.clone())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "fleetdeck-admin",
            "fleetdeck-approver",
            "fleetdeck-operator",
            "fleetdeck-viewer"
        ]
    );
    bind(&admin, "vera", "fleetdeck-viewer").await;

    let mut config = Kubeconfig::read_from(&running.kubeconfig).expect("kubeconfig");
    for user in &mut config.auth_infos {
        if let Some(auth) = user.auth_info.as_mut() {
            auth.token = Some("vera-token".to_string().into());
        }
    }
    let config = kube::Config::from_custom_kubeconfig(config, &KubeConfigOptions::default())
        .await
        .expect("config");
    let vera = kube::Client::try_from(config).expect("client");
    let strategies: Api<app::fleet::ClusterStagedUpdateStrategy> = Api::all(vera.clone());
    strategies
        .list(&ListParams::default())
        .await
        .expect("a viewer lists");
    let strategy: app::fleet::ClusterStagedUpdateStrategy = serde_json::from_value(json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
        "kind": "ClusterStagedUpdateStrategy",
        "metadata": {"name": "s"},
        "spec": {"stages": [{"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}}]}
    }))
    .expect("strategy");
    match strategies.create(&PostParams::default(), &strategy).await {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 403);
            assert_eq!(
                status.message,
                "clusterstagedupdatestrategies.placement.kubernetes-fleet.io is forbidden: User \"vera\" cannot create resource \"clusterstagedupdatestrategies\" in API group \"placement.kubernetes-fleet.io\" at the cluster scope"
            );
        }
        other => panic!("expected 403, got {other:?}"),
    }
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

/// kubectl against one hub; the discovery cache is the test's own and warm after the first
/// command, as a user's is (kubectl cannot word a refused *discovery*: it says "unknown").
struct Kubectl {
    kubeconfig: std::path::PathBuf,
    cache: tempfile::TempDir,
}

/// A started fleetdeck on `dir`, its admin client and kubectl against its hub.
async fn start(dir: &std::path::Path) -> (server::serve::Running, kube::Client, Kubectl) {
    let running = server::serve::start(ServeArgs::ephemeral(dir))
        .await
        .expect("starts");
    let admin = admin_client(&running.kubeconfig).await;
    let kc = Kubectl {
        kubeconfig: running.kubeconfig.clone(),
        cache: tempfile::tempdir().expect("cache dir"),
    };
    (running, admin, kc)
}

/// Runs kubectl with `token` (the kubeconfig's own when none); (exit success, stdout, stderr).
async fn kubectl(k: &Kubectl, token: Option<&str>, args: &[&str]) -> (bool, String, String) {
    kubectl_in(k, token, args, "").await
}

#[tokio::test]
async fn kubectl_auth_can_i_answers_as_rbac_says() {
    if !std::path::Path::new("/usr/bin/kubectl").exists() {
        eprintln!("SKIPPED: /usr/bin/kubectl is not installed");
        return;
    }
    let dir = data_dir_with_users();
    let (running, admin, kc) = start(dir.path()).await;
    bind(&admin, "alma", "fleetdeck-approver").await;
    bind(&admin, "vera", "fleetdeck-viewer").await;

    let approve = [
        "auth",
        "can-i",
        "update",
        "clusterapprovalrequests",
        "--subresource=status",
    ];
    let (_, out, err) = kubectl(&kc, Some("alma-token"), &approve).await;
    assert_eq!(out, "yes", "{err}");
    let (ok, out, _) = kubectl(&kc, Some("vera-token"), &approve).await;
    assert_eq!((ok, out.as_str()), (false, "no"));
    let (ok, out, _) = kubectl(&kc, Some("alma-token"), &["auth", "can-i", "patch", "csur"]).await;
    assert_eq!((ok, out.as_str()), (false, "no"));
    assert_eq!(
        kubectl(&kc, Some("vera-token"), &["auth", "can-i", "list", "csur"])
            .await
            .1,
        "yes"
    );
    // The kubeconfig's own token is the admin: the seeds' context can do anything.
    assert_eq!(
        kubectl(&kc, None, &["auth", "can-i", "delete", "csur"])
            .await
            .1,
        "yes"
    );
    // A refusal reads as kube-apiserver's.
    let (ok, _, err) = kubectl(&kc, Some("vera-token"), &["delete", "csur", "nope"]).await;
    assert!(!ok);
    assert_eq!(
        err,
        "Error from server (Forbidden): clusterstagedupdateruns.placement.kubernetes-fleet.io \"nope\" is forbidden: User \"vera\" cannot delete resource \"clusterstagedupdateruns\" in API group \"placement.kubernetes-fleet.io\" at the cluster scope"
    );
    // vera may not act as alma.
    let (ok, _, err) = kubectl(&kc, Some("vera-token"), &["get", "csur", "--as", "alma"]).await;
    assert!(!ok);
    assert!(
        err.contains("users \"alma\" is forbidden: User \"vera\" cannot impersonate resource \"users\" in API group \"\" at the cluster scope"),
        "{err}"
    );
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

/// The six console actions as a kubectl user performs them on the hub.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Action {
    Create,
    Start,
    Stop,
    Resume,
    Approve,
    Delete,
}

const ROLES: [&str; 4] = ["viewer", "operator", "approver", "admin"];
const ACTIONS: [Action; 6] = [
    Action::Create,
    Action::Start,
    Action::Stop,
    Action::Resume,
    Action::Approve,
    Action::Delete,
];

/// What deploy/rbac's ClusterRoles allow (the README's table).
fn allowed(role: &str, action: Action) -> bool {
    match role {
        "operator" => action != Action::Approve,
        "approver" => action == Action::Approve,
        "admin" => true,
        _ => false,
    }
}

/// A run (cluster-scoped without `ns`) in `state`, as YAML for `kubectl create -f -`.
fn run_yaml(name: &str, ns: Option<&str>, state: &str) -> String {
    let (kind, namespace) = match ns {
        None => ("ClusterStagedUpdateRun", String::new()),
        Some(ns) => ("StagedUpdateRun", format!("\n  namespace: {ns}")),
    };
    format!(
        "apiVersion: placement.kubernetes-fleet.io/v1beta1\nkind: {kind}\nmetadata:\n  name: {name}{namespace}\nspec:\n  placementName: example\n  stagedRolloutStrategyName: example\n  state: {state}\n"
    )
}

/// An approval request for `run`'s canary stage, as the engine writes one.
fn approval_yaml(name: &str, ns: Option<&str>, run: &str) -> String {
    let (kind, namespace) = match ns {
        None => ("ClusterApprovalRequest", String::new()),
        Some(ns) => ("ApprovalRequest", format!("\n  namespace: {ns}")),
    };
    format!(
        "apiVersion: placement.kubernetes-fleet.io/v1beta1\nkind: {kind}\nmetadata:\n  name: {name}{namespace}\nspec:\n  parentStageRollout: {run}\n  targetStage: canary\n"
    )
}

/// Runs kubectl with `token` and `stdin`; (exit success, stdout, stderr).
async fn kubectl_in(
    k: &Kubectl,
    token: Option<&str>,
    args: &[&str],
    stdin: &str,
) -> (bool, String, String) {
    use tokio::io::AsyncWriteExt;
    let mut cmd = tokio::process::Command::new("/usr/bin/kubectl");
    cmd.arg("--kubeconfig")
        .arg(&k.kubeconfig)
        .arg("--cache-dir")
        .arg(k.cache.path());
    if let Some(t) = token {
        cmd.arg("--token").arg(t);
    }
    let mut child = cmd
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl runs");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.as_bytes())
        .await
        .expect("stdin written");
    drop(input);
    let out = child.wait_with_output().await.expect("kubectl ends");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).trim().to_string(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    )
}

/// kube-apiserver's refusal as kubectl prints it.
fn forbidden(
    user: &str,
    verb: &str,
    resource: &str,
    name: Option<&str>,
    ns: Option<&str>,
) -> String {
    let group = "placement.kubernetes-fleet.io";
    let base = resource.split('/').next().unwrap_or(resource);
    let named = name.map(|n| format!(" {n:?}")).unwrap_or_default();
    let scope = match ns {
        None => "at the cluster scope".to_string(),
        Some(ns) => format!("in the namespace {ns:?}"),
    };
    format!(
        "Error from server (Forbidden): {base}.{group}{named} is forbidden: User {user:?} cannot {verb} resource {resource:?} in API group {group:?} {scope}"
    )
}

/// Every role × action through kubectl with the person's own token, cluster-scoped (bound by a
/// ClusterRoleBinding) and namespaced (bound by a RoleBinding in `team-a` only): each allowed
/// action succeeds and changes the object; each other one gets kube-apiserver's exact 403.
#[tokio::test]
async fn every_role_may_do_through_kubectl_exactly_what_its_binding_allows() {
    if !std::path::Path::new("/usr/bin/kubectl").exists() {
        eprintln!("SKIPPED: /usr/bin/kubectl is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let people: Vec<String> = ROLES
        .iter()
        .flat_map(|r| [format!("{r}-all"), format!("{r}-ns")])
        .collect();
    let users = hub::UsersFile {
        users: people
            .iter()
            .map(|u| hub::UserEntry::new(u, hub::token_sha256(&format!("{u}-token"))))
            .collect(),
    };
    let yaml = serde_saphyr::to_string(&users).expect("users serialise");
    std::fs::write(dir.path().join(server::hub_rbac::USERS_FILE), yaml).expect("write users.yaml");
    let (running, admin, kc) = start(dir.path()).await;
    for ns in ["team-a", "team-b"] {
        let (ok, _, err) = kubectl(&kc, None, &["create", "namespace", ns]).await;
        assert!(ok, "{err}");
    }
    for role in ROLES {
        bind(&admin, &format!("{role}-all"), &format!("fleetdeck-{role}")).await;
        let (ok, _, err) = kubectl(
            &kc,
            None,
            &[
                "create",
                "rolebinding",
                &format!("{role}-ns"),
                "-n",
                "team-a",
                &format!("--clusterrole=fleetdeck-{role}"),
                &format!("--user={role}-ns"),
            ],
        )
        .await;
        assert!(ok, "{err}");
    }

    // (the person, the namespace the objects are in, whether the binding covers it)
    let mut cases = Vec::new();
    for role in ROLES {
        cases.push((role, format!("{role}-all"), None, true));
        cases.push((role, format!("{role}-ns"), Some("team-a"), true));
        cases.push((role, format!("{role}-ns"), Some("team-b"), false));
    }
    for (role, user, ns, covered) in cases {
        let token = format!("{user}-token");
        let token = Some(token.as_str());
        let (runs, approvals) = match ns {
            None => ("clusterstagedupdateruns", "clusterapprovalrequests"),
            Some(_) => ("stagedupdateruns", "approvalrequests"),
        };
        let ns_args: Vec<&str> = ns.map(|n| vec!["-n", n]).unwrap_or_default();
        for action in ACTIONS {
            let may = covered && allowed(role, action);
            let name = format!("{user}-{}", format!("{action:?}").to_lowercase());
            let what = format!("{user} {action:?} in {ns:?}");
            // The object the action works on, written by the admin in the state it needs.
            let before = match action {
                Action::Create => None,
                Action::Start => Some("Initialize"),
                Action::Stop => Some("Run"),
                Action::Resume | Action::Delete | Action::Approve => Some("Stop"),
            };
            if let Some(state) = before {
                let (ok, _, err) = kubectl_in(
                    &kc,
                    None,
                    &["create", "-f", "-"],
                    &run_yaml(&name, ns, state),
                )
                .await;
                assert!(ok, "{what}: {err}");
            }
            let approval = format!("{name}-before-canary");
            if action == Action::Approve {
                let (ok, _, err) = kubectl_in(
                    &kc,
                    None,
                    &["create", "-f", "-"],
                    &approval_yaml(&approval, ns, &name),
                )
                .await;
                assert!(ok, "{what}: {err}");
            }
            let state_patch = |state: &str| format!("{{\"spec\":{{\"state\":\"{state}\"}}}}");
            let (ok, _, err) = match action {
                Action::Create => {
                    let mut args = vec!["create", "-f", "-"];
                    args.extend(&ns_args);
                    kubectl_in(&kc, token, &args, &run_yaml(&name, ns, "Initialize")).await
                }
                Action::Start | Action::Resume | Action::Stop => {
                    let patch = state_patch(if action == Action::Stop {
                        "Stop"
                    } else {
                        "Run"
                    });
                    let mut args = vec!["patch", runs, &name, "--type", "merge", "-p", &patch];
                    args.extend(&ns_args);
                    kubectl(&kc, token, &args).await
                }
                Action::Approve => {
                    let patch = "{\"status\":{\"conditions\":[{\"type\":\"Approved\",\"status\":\"True\",\"reason\":\"Approved\",\"message\":\"approved with kubectl\",\"lastTransitionTime\":\"2026-12-07T00:00:00Z\",\"observedGeneration\":1}]}}";
                    let mut args = vec![
                        "patch",
                        approvals,
                        &approval,
                        "--subresource",
                        "status",
                        "--type",
                        "merge",
                        "-p",
                        patch,
                    ];
                    args.extend(&ns_args);
                    kubectl(&kc, token, &args).await
                }
                Action::Delete => {
                    let mut args = vec!["delete", runs, &name, "--wait=false"];
                    args.extend(&ns_args);
                    kubectl(&kc, token, &args).await
                }
            };
            if may {
                assert!(ok, "{what} is allowed: {err}");
            } else {
                assert!(!ok, "{what} is refused");
                // `kubectl patch` reads the object first: where the person may not even read
                // it (a namespace their binding does not cover), the read is what is refused.
                let patch = if covered { "patch" } else { "get" };
                let (verb, resource, named) = match action {
                    Action::Create => ("create", runs.to_string(), None),
                    Action::Start | Action::Stop | Action::Resume => {
                        (patch, runs.to_string(), Some(name.as_str()))
                    }
                    Action::Approve => (
                        patch,
                        format!("{approvals}/status"),
                        Some(approval.as_str()),
                    ),
                    Action::Delete => ("delete", runs.to_string(), Some(name.as_str())),
                };
                let mut expected = forbidden(&user, verb, &resource, named, ns);
                if action == Action::Create {
                    // kubectl names the file it was creating from.
                    expected = expected.replacen(": ", ": error when creating \"STDIN\": ", 1);
                }
                assert_eq!(err, expected, "{what}");
            }
            // What the hub holds afterwards says whether the action happened.
            let (exists, out, _) = {
                let (kind, object) = if action == Action::Approve {
                    (approvals, approval.as_str())
                } else {
                    (runs, name.as_str())
                };
                let mut args = vec!["get", kind, object, "-o", "json"];
                args.extend(&ns_args);
                kubectl(&kc, None, &args).await
            };
            let object: serde_json::Value = if exists {
                serde_json::from_str(&out).expect("kubectl prints JSON")
            } else {
                serde_json::Value::Null
            };
            match action {
                Action::Create => assert_eq!(exists, may, "{what}"),
                Action::Delete => {
                    let going = !exists || object["metadata"]["deletionTimestamp"].is_string();
                    assert_eq!(going, may, "{what}");
                }
                Action::Start | Action::Stop | Action::Resume => {
                    let expected = match (may, action) {
                        (true, Action::Stop) => "Stop",
                        (true, _) => "Run",
                        (false, _) => before.unwrap_or_default(),
                    };
                    assert_eq!(object["spec"]["state"], expected, "{what}");
                }
                Action::Approve => {
                    let approved = object["status"]["conditions"]
                        .as_array()
                        .is_some_and(|c| c.iter().any(|c| c["type"] == "Approved"));
                    assert_eq!(approved, may, "{what}");
                }
            }
        }
    }
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

/// Polls `f` until it gives `Some` (the recorder works after the write is answered); bounded so
/// a broken recorder fails the test instead of hanging it.
async fn eventually<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..200 {
        if let Some(v) = f().await {
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{what} did not happen within 10 s");
}

/// Events on `name` (any kind) in `ns` with their actor annotation: (reason, actor, message).
async fn events_on(admin: &kube::Client, ns: &str, name: &str) -> Vec<(String, String, String)> {
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(admin.clone(), ns);
    events
        .list(&ListParams::default())
        .await
        .expect("events list")
        .items
        .into_iter()
        .filter(|e| e.involved_object.name.as_deref() == Some(name))
        .map(|e| {
            let actor = e
                .metadata
                .annotations
                .and_then(|a| a.get("fleetdeck.dev/actor").cloned())
                .unwrap_or_default();
            (
                e.reason.unwrap_or_default(),
                actor,
                e.message.unwrap_or_default(),
            )
        })
        .collect()
}

/// `kubectl patch` of r1-before-canary's status with `patch`, as `token`'s person.
async fn approve_r1(kc: &Kubectl, token: Option<&str>, patch: &str) -> (bool, String, String) {
    let args = [
        "patch",
        "clusterapprovalrequest",
        "r1-before-canary",
        "--subresource",
        "status",
        "--type",
        "merge",
        "-p",
        patch,
    ];
    kubectl(kc, token, &args).await
}

/// A person approving and stopping with kubectl and their own token is named as the console
/// names its own: `fleetdeck.dev/approved-by` on the request, Events with the actor on the
/// request and the run (what the run page's history shows).
#[tokio::test]
async fn kubectl_writes_with_a_persons_token_are_attributed_to_them() {
    if !std::path::Path::new("/usr/bin/kubectl").exists() {
        eprintln!("SKIPPED: /usr/bin/kubectl is not installed");
        return;
    }
    let dir = data_dir_with_users();
    let (running, admin, kc) = start(dir.path()).await;
    bind(&admin, "alma", "fleetdeck-approver").await;
    bind(&admin, "vera", "fleetdeck-operator").await;
    let (ok, _, err) = kubectl_in(
        &kc,
        None,
        &["create", "-f", "-"],
        &run_yaml("r1", None, "Run"),
    )
    .await;
    assert!(ok, "{err}");
    let (ok, _, err) = kubectl_in(
        &kc,
        None,
        &["create", "-f", "-"],
        &approval_yaml("r1-before-canary", None, "r1"),
    )
    .await;
    assert!(ok, "{err}");

    let approve = "{\"status\":{\"conditions\":[{\"type\":\"Approved\",\"status\":\"True\",\"reason\":\"Approved\",\"message\":\"lgtm\",\"lastTransitionTime\":\"2026-12-07T00:00:00Z\",\"observedGeneration\":1}]}}";
    let (ok, _, err) = approve_r1(&kc, Some("alma-token"), approve).await;
    assert!(ok, "{err}");
    let requests: Api<app::fleet::ClusterApprovalRequest> = Api::all(admin.clone());
    let by = eventually("the approver annotation", || {
        let requests = requests.clone();
        async move {
            let r = requests.get("r1-before-canary").await.ok()?;
            r.metadata
                .annotations?
                .get("fleetdeck.dev/approved-by")
                .cloned()
        }
    })
    .await;
    assert_eq!(by, "alma");
    let expected = (
        "Approved".to_string(),
        "alma".to_string(),
        "alma approved r1-before-canary (stage canary) with kubectl".to_string(),
    );
    let on_run = eventually("the approval in the run's history", || {
        let admin = admin.clone();
        async move {
            let by_people: Vec<_> = events_on(&admin, "default", "r1")
                .await
                .into_iter()
                .filter(|(_, actor, _)| !actor.is_empty())
                .collect();
            (by_people.len() == 2).then_some(by_people)
        }
    })
    .await;
    // The kubeconfig's admin (the seeds' context) is a person too.
    let created = (
        "Created".to_string(),
        "kubernetes-admin".to_string(),
        "kubernetes-admin created run r1 with kubectl (state Run)".to_string(),
    );
    assert!(on_run.contains(&created), "{on_run:?}");
    assert!(on_run.contains(&expected), "{on_run:?}");
    assert_eq!(
        events_on(&admin, "default", "r1-before-canary").await,
        [expected]
    );

    let (ok, _, err) = kubectl(
        &kc,
        Some("vera-token"),
        &[
            "patch",
            "csur",
            "r1",
            "--type",
            "merge",
            "-p",
            "{\"spec\":{\"state\":\"Stop\"}}",
        ],
    )
    .await;
    assert!(ok, "{err}");
    let stopped = eventually("the stop in the run's history", || {
        let admin = admin.clone();
        async move {
            events_on(&admin, "default", "r1")
                .await
                .into_iter()
                .find(|(reason, ..)| reason == "StopRequested")
        }
    })
    .await;
    assert_eq!(stopped.1, "vera");
    assert_eq!(stopped.2, "vera set it to Stop with kubectl (run r1)");
    // A repeated approval, by someone else, names nobody new.
    let (ok, _, err) = approve_r1(&kc, None, approve).await;
    assert!(ok, "{err}");
    let by = requests
        .get("r1-before-canary")
        .await
        .expect("request")
        .metadata
        .annotations
        .and_then(|a| a.get("fleetdeck.dev/approved-by").cloned());
    assert_eq!(by.as_deref(), Some("alma"));
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

/// `fleetdeck user remove` takes everything `user add` gave: the kubectl token stops working and
/// the binding is gone; `user link` gives a new one-time link; admin cannot be removed.
#[tokio::test]
async fn a_person_removed_with_the_cli_loses_their_token_and_binding() {
    if !std::path::Path::new("/usr/bin/kubectl").exists() {
        eprintln!("SKIPPED: /usr/bin/kubectl is not installed");
        return;
    }
    use server::accounts::{add_user, new_link, remove_user, Role};
    let dir = tempfile::tempdir().expect("temp dir");
    let (running, admin, kc) = start(dir.path()).await;
    let added = add_user(dir.path(), "rita", Role::Approver, None)
        .await
        .expect("added");
    let token = added
        .lines()
        .find_map(|l| l.strip_prefix("kubectl token (shown only now): "))
        .expect("the token is printed")
        .to_string();
    let can_approve = [
        "auth",
        "can-i",
        "patch",
        "clusterapprovalrequests",
        "--subresource=status",
    ];
    let (_, out, err) = kubectl(&kc, Some(&token), &can_approve).await;
    assert_eq!(out, "yes", "{err}");

    let removed = remove_user(dir.path(), "rita").await.expect("removed");
    assert_eq!(
        removed,
        "removed rita: their kubectl token no longer works and their dashboard sessions end at their next request; binding fleetdeck-approver-rita deleted\n"
    );
    let bindings = Api::<ClusterRoleBinding>::all(admin.clone());
    assert!(bindings
        .get_opt("fleetdeck-approver-rita")
        .await
        .expect("get")
        .is_none());
    let refused = eventually("the removed token refused", || {
        let (kc, token) = (&kc, token.clone());
        async move {
            let (ok, _, err) = kubectl(kc, Some(&token), &["get", "csur"]).await;
            (!ok && err.contains("Unauthorized")).then_some(err)
        }
    })
    .await;
    assert!(
        refused.contains("You must be logged in to the server"),
        "{refused}"
    );
    let again = remove_user(dir.path(), "rita").await.expect_err("gone");
    assert!(
        again.to_string().contains("no user named \"rita\""),
        "{again}"
    );
    let admin_kept = remove_user(dir.path(), "admin").await.expect_err("kept");
    assert!(
        admin_kept.to_string().contains("cannot be removed"),
        "{admin_kept}"
    );
    let link = new_link(dir.path(), "admin").await.expect("a link");
    let url = std::fs::read_to_string(dir.path().join(server::accounts::DASHBOARD_URL_FILE))
        .expect("dashboard url");
    assert!(
        link.starts_with(&format!(
            "sign-in link for admin (works once, for 24 hours): {}/signin/setup?token=",
            url.trim()
        )),
        "{link}"
    );
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}
