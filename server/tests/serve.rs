//! fleetdeck as a whole: started in-process on free ports with a temporary data directory, then
//! reached the way users reach it — kube-rs and kubectl through the kubeconfig it writes.

use app::fleet::ClusterStagedUpdateStrategy;
use kube::api::{Api, ListParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use serde_json::json;
use server::cli::ServeArgs;

async fn client(kubeconfig: &std::path::Path) -> kube::Client {
    let config = Kubeconfig::read_from(kubeconfig).expect("kubeconfig parses");
    let config = kube::Config::from_custom_kubeconfig(config, &KubeConfigOptions::default())
        .await
        .expect("kubeconfig is usable");
    kube::Client::try_from(config).expect("client")
}

fn strategy() -> ClusterStagedUpdateStrategy {
    serde_json::from_value(json!({
        "apiVersion": "placement.kubernetes-fleet.io/v1beta1",
        "kind": "ClusterStagedUpdateStrategy",
        "metadata": {"name": "example-strategy"},
        "spec": {"stages": [{"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}}}]}
    }))
    .expect("strategy")
}

#[tokio::test]
async fn the_written_kubeconfig_reaches_the_hub_over_tls_and_state_survives_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = server::serve::start(ServeArgs::ephemeral(dir.path()))
        .await
        .expect("starts");
    let kubeconfig = running.kubeconfig.clone();
    let api: Api<ClusterStagedUpdateStrategy> = Api::all(client(&kubeconfig).await);
    api.create(&PostParams::default(), &strategy())
        .await
        .expect("create over HTTPS");
    running.shutdown();
    running.wait().await.expect("clean shutdown");

    // Same data directory: same token and CA, so the old kubeconfig file still works.
    let before = std::fs::read_to_string(&kubeconfig).expect("kubeconfig");
    let running = server::serve::start(ServeArgs::ephemeral(dir.path()))
        .await
        .expect("restarts");
    let api: Api<ClusterStagedUpdateStrategy> = Api::all(client(&kubeconfig).await);
    let names: Vec<String> = api
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
        .into_iter()
        .filter_map(|s| s.metadata.name)
        .collect();
    assert_eq!(names, ["example-strategy"]);
    let after = std::fs::read_to_string(&kubeconfig).expect("kubeconfig");
    assert_eq!(
        token_line(&before),
        token_line(&after),
        "the token survives a restart"
    );
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

/// `--in-memory`: the hub and the demo members write no database, and a restart starts empty
/// (the kubeconfig, token and CA still live in the data directory).
#[tokio::test]
async fn in_memory_state_is_gone_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let args = || ServeArgs {
        in_memory: true,
        ..ServeArgs::ephemeral(dir.path())
    };
    let running = server::serve::start(args()).await.expect("starts");
    let kubeconfig = running.kubeconfig.clone();
    let api: Api<ClusterStagedUpdateStrategy> = Api::all(client(&kubeconfig).await);
    api.create(&PostParams::default(), &strategy())
        .await
        .expect("create over HTTPS");
    running.shutdown();
    running.wait().await.expect("clean shutdown");
    let databases: Vec<_> = walk(dir.path())
        .into_iter()
        .filter(|p| p.extension().is_some_and(|e| e == "db"))
        .collect();
    assert_eq!(databases, Vec::<std::path::PathBuf>::new());

    let running = server::serve::start(args()).await.expect("restarts");
    let api: Api<ClusterStagedUpdateStrategy> = Api::all(client(&kubeconfig).await);
    let strategies = api.list(&ListParams::default()).await.expect("list");
    assert!(strategies.items.is_empty(), "{:?}", strategies.items);
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

/// Two fleetdecks on one data directory would run two engines on one store, and the second would
/// rewrite the first's kubeconfig: the second is refused, naming the directory and the first's
/// pid, before it touches anything; once the first stops, it starts.
#[tokio::test]
async fn a_second_fleetdeck_on_the_same_data_directory_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let first = server::serve::start(ServeArgs::ephemeral(dir.path()))
        .await
        .expect("starts");
    let kubeconfig_before = std::fs::read(&first.kubeconfig).expect("kubeconfig");
    let refusal = match server::serve::start(ServeArgs::ephemeral(dir.path())).await {
        Ok(_) => panic!("a second fleetdeck started on the same data directory"),
        Err(e) => e.to_string(),
    };
    assert_eq!(
        refusal,
        format!(
            "another fleetdeck (pid {}) is already running on the data directory {}; stop it \
             first, or give this one its own directory with --data-dir",
            std::process::id(),
            dir.path().display()
        )
    );
    assert_eq!(
        std::fs::read(&first.kubeconfig).expect("kubeconfig"),
        kubeconfig_before,
        "the refused one left the kubeconfig alone"
    );
    first.shutdown();
    first.wait().await.expect("clean shutdown");
    let second = server::serve::start(ServeArgs::ephemeral(dir.path()))
        .await
        .expect("starts once the first has stopped");
    second.shutdown();
    second.wait().await.expect("clean shutdown");
}

/// Every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}

#[tokio::test]
async fn the_hub_refuses_requests_without_the_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let running = server::serve::start(ServeArgs::ephemeral(dir.path()))
        .await
        .expect("starts");
    let mut config = Kubeconfig::read_from(&running.kubeconfig).expect("kubeconfig");
    for user in &mut config.auth_infos {
        if let Some(auth) = user.auth_info.as_mut() {
            auth.token = Some("wrong".to_string().into());
        }
    }
    let config = kube::Config::from_custom_kubeconfig(config, &KubeConfigOptions::default())
        .await
        .expect("config");
    let api: Api<ClusterStagedUpdateStrategy> =
        Api::all(kube::Client::try_from(config).expect("client"));
    match api.list(&ListParams::default()).await {
        Err(kube::Error::Api(status)) => assert_eq!(status.code, 401),
        other => panic!("expected 401, got {other:?}"),
    }
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

#[tokio::test]
async fn kubectl_uses_the_kubeconfig_verbatim() {
    let kubectl = std::path::Path::new("/usr/bin/kubectl");
    if !kubectl.exists() {
        eprintln!("SKIPPED: /usr/bin/kubectl is not installed");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let cache = tempfile::tempdir().expect("cache dir");
    let running = server::serve::start(ServeArgs::ephemeral(dir.path()))
        .await
        .expect("starts");
    let kubeconfig = running.kubeconfig.clone();
    let output = tokio::process::Command::new(kubectl)
        .arg("--kubeconfig")
        .arg(&kubeconfig)
        .arg("--cache-dir")
        .arg(cache.path())
        .args(["get", "namespaces"])
        .output()
        .await
        .expect("kubectl runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "kubectl failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let header: Vec<&str> = stdout
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "STATUS", "AGE"]);
    assert!(
        stdout.lines().any(|l| l.starts_with("default ")),
        "{stdout}"
    );
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

fn token_line(kubeconfig: &str) -> String {
    kubeconfig
        .lines()
        .find(|l| l.trim_start().starts_with("token:"))
        .unwrap_or_default()
        .to_string()
}
