//! Starting and stopping fleetdeck: the embedded hub (HTTPS, for kubectl) and the dashboard.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use app::live::{Feed, Topics};
use app::server_fns::server_info::ServerInfo;
use leptos::config::{get_configuration, LeptosOptions};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use crate::cli::ServeArgs;
use crate::engine;
use crate::kubeconfig::{self, Endpoint};
use crate::members::agent::{Agent, MemberTarget};
use crate::members::simulated::MemberEnv;
use crate::members::{demo_fleet, MemberConfig, SimulatedMember};
use crate::tls::HubTls;
use crate::web::{self, AppState};
use crate::{fleet_kinds, Error, Result};

/// How many activity entries the feed retains for late or reconnecting browsers.
const FEED_CAPACITY: usize = 512;
/// How long open watches may take to finish once shutdown starts.
const HUB_DRAIN: Duration = Duration::from_secs(5);

/// A started fleetdeck: where it listens, and the handles to stop it.
pub struct Running {
    pub dashboard_addr: SocketAddr,
    pub hub_addr: SocketAddr,
    pub kubeconfig: PathBuf,
    pub hub: hub::Hub,
    pub members: Vec<SimulatedMember>,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<Result<()>>>,
}

impl Running {
    /// Starts a graceful shutdown of every listener.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Waits until every listener has stopped; the first failure wins.
    pub async fn wait(self) -> Result<()> {
        let mut outcome = Ok(());
        for task in self.tasks {
            let result = task
                .await
                .unwrap_or_else(|e| Err(Error::Serve(std::io::Error::other(e))));
            if outcome.is_ok() {
                outcome = result;
            }
        }
        outcome
    }
}

/// Runs fleetdeck until SIGINT or SIGTERM.
pub async fn run(args: ServeArgs) -> Result<()> {
    let running = start(args).await?;
    let shutdown = running.shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal(&shutdown).await;
        shutdown.cancel();
    });
    running.wait().await?;
    info!("fleetdeck stopped");
    Ok(())
}

/// Opens the store, binds both listeners, writes the kubeconfig and serves in the background.
pub async fn start(args: ServeArgs) -> Result<Running> {
    let data_dir = data_dir(args.data_dir.clone())?;
    let shutdown = CancellationToken::new();
    let hub = hub::Hub::open(
        hub::Storage::Sqlite(data_dir.join("hub.db")),
        fleet_kinds::registry(),
    )?;

    // The hub: HTTPS with a bearer token, because kubectl sends tokens over TLS only.
    let tls = HubTls::load_or_create(&data_dir.join("tls"))?;
    let token = kubeconfig::token(&data_dir)?;
    let hub_listener = std::net::TcpListener::bind(args.hub_addr)
        .and_then(|l| l.set_nonblocking(true).map(|()| l))
        .map_err(|source| Error::Bind {
            addr: args.hub_addr,
            source,
        })?;
    let hub_addr = hub_listener.local_addr().map_err(Error::Serve)?;
    let kubeconfig_path = kubeconfig::path_in(&data_dir);
    let hub_endpoint = Endpoint {
        name: "hub".into(),
        server: format!("https://{}", reachable(hub_addr)),
        token: token.clone(),
        ca_pem: Some(tls.ca_pem.clone()),
    };
    kubeconfig::write(
        &kubeconfig_path,
        &kubeconfig::render(&[hub_endpoint], "hub")?,
    )?;
    let fleet_client = kube::Client::new(hub.router(), "default");
    let mut tasks = vec![https(
        hub_listener,
        &tls,
        hub.router_with_token(token.clone()),
        shutdown.clone(),
    )?];

    // The simulated member clusters, each with its own API server and kubelet.
    let members_dir = data_dir.join("members");
    let env = MemberEnv {
        dir: &members_dir,
        ip: hub_addr.ip(),
        tls: &tls,
        token: &token,
        fleet: &fleet_client,
        ready_after: args.kubelet_delay,
        shutdown: &shutdown,
    };
    let mut members = Vec::new();
    for config in member_configs(&args)? {
        let member = SimulatedMember::start(config, &env).await?;
        match member.addr {
            Some(addr) => {
                info!(member = %member.config.name, %addr, "simulated member cluster started")
            }
            None => debug!(member = %member.config.name, "lightweight member cluster started"),
        }
        members.push(member);
    }
    let endpoint = |name: &str, addr: SocketAddr| Endpoint {
        name: name.into(),
        server: format!("https://{}", reachable(addr)),
        token: token.clone(),
        ca_pem: Some(tls.ca_pem.clone()),
    };
    let endpoints: Vec<Endpoint> = std::iter::once(endpoint("hub", hub_addr))
        .chain(
            members
                .iter()
                .filter_map(|m| Some(endpoint(&m.config.name, m.addr?))),
        )
        .collect();
    kubeconfig::write(&kubeconfig_path, &kubeconfig::render(&endpoints, "hub")?)?;
    for member in &mut members {
        tasks.append(&mut member.tasks);
    }

    // The engine (placements, update runs) and the member agent, all against the hub in-process.
    let engine = Arc::new(engine::Context::new(
        fleet_client.clone(),
        engine::Config::default(),
    ));
    let targets = members
        .iter()
        .map(|m| MemberTarget {
            name: m.config.name.clone(),
            client: m.client.clone(),
        })
        .collect();
    tasks.push(spawn_until(&shutdown, "placement controller", {
        let engine = engine.clone();
        async move {
            engine::placement::run(engine)
                .await
                .map_err(|e| Error::Config(e.to_string()))
        }
    }));
    tasks.push(spawn_until(&shutdown, "update-run controller", {
        let engine = engine.clone();
        async move {
            engine::update_run::run(engine).await;
            Ok(())
        }
    }));
    let agent_client = fleet_client.clone();
    tasks.push(spawn_until(&shutdown, "member agent", async move {
        Agent::new(agent_client, targets).run().await;
        Ok(())
    }));

    // The dashboard, and the views of hub state it follows live.
    let topics = Topics::default();
    tasks.push(spawn_until(&shutdown, "fleet view", {
        let (client, topics, shutdown) = (fleet_client.clone(), topics.clone(), shutdown.clone());
        async move {
            web::fleet_view::run(client, topics, shutdown).await;
            Ok(())
        }
    }));
    let options = leptos_options(&args)?;
    let state = AppState {
        leptos_options: options.clone(),
        feed: Feed::new(FEED_CAPACITY),
        topics: topics.clone(),
        info: ServerInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: chrono::Utc::now(),
            mode: "embedded".to_string(),
        },
        shutdown: shutdown.clone(),
    };
    state.feed.publish(
        "fleetdeck",
        format!("fleetdeck {} started", state.info.version),
    );
    let listener = TcpListener::bind(options.site_addr)
        .await
        .map_err(|source| Error::Bind {
            addr: options.site_addr,
            source,
        })?;
    let dashboard_addr = listener.local_addr().map_err(Error::Serve)?;
    tasks.push({
        let shutdown = shutdown.clone();
        let app = web::router(state);
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { shutdown.cancelled().await })
                .await
                .map_err(Error::Serve)
        })
    });

    info!(
        dashboard = %format!("http://{dashboard_addr}/"),
        hub = %format!("https://{hub_addr}"),
        data_dir = %data_dir.display(),
        "fleetdeck is running; for kubectl: export KUBECONFIG={}",
        kubeconfig_path.display()
    );
    Ok(Running {
        dashboard_addr,
        hub_addr,
        kubeconfig: kubeconfig_path,
        hub,
        members,
        shutdown,
        tasks,
    })
}

/// Runs a background loop until shutdown; a loop that fails is logged (the others go on).
fn spawn_until(
    shutdown: &CancellationToken,
    what: &'static str,
    work: impl std::future::Future<Output = Result<()>> + Send + 'static,
) -> JoinHandle<Result<()>> {
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        tokio::select! {
            result = work => {
                if let Err(e) = &result {
                    tracing::error!(error = %e, "{what} stopped");
                }
                Ok(())
            }
            _ = shutdown.cancelled() => Ok(()),
        }
    })
}

/// Serves `router` over HTTPS on `listener` until `shutdown`, then drains for a few seconds.
pub(crate) fn https(
    listener: std::net::TcpListener,
    tls: &HubTls,
    router: axum::Router,
    shutdown: CancellationToken,
) -> Result<JoinHandle<Result<()>>> {
    let handle = axum_server::Handle::new();
    let server = axum_server::from_tcp_rustls(listener, tls.rustls_config()?)
        .map_err(Error::Serve)?
        .handle(handle.clone());
    tokio::spawn(async move {
        shutdown.cancelled().await;
        handle.graceful_shutdown(Some(HUB_DRAIN));
    });
    Ok(tokio::spawn(async move {
        server
            .serve(router.into_make_service())
            .await
            .map_err(Error::Serve)
    }))
}

/// The members to simulate: the fleet config file's and `--member` flags, else the demo fleet
/// unless `--no-demo-fleet`.
fn member_configs(args: &ServeArgs) -> Result<Vec<MemberConfig>> {
    use crate::members::fleet_config;
    if args.fleet_config.is_some() || !args.member.is_empty() {
        let mut members = match &args.fleet_config {
            Some(path) => fleet_config::load(path).map_err(Error::Fleet)?,
            None => Vec::new(),
        };
        for flag in &args.member {
            let member = fleet_config::parse(flag).map_err(Error::Fleet)?;
            if members.iter().any(|m| m.name == member.name) {
                return Err(Error::Fleet(format!(
                    "--member {flag}: a member named {} is already configured",
                    member.name
                )));
            }
            members.push(member);
        }
        return Ok(members);
    }
    Ok(if args.no_demo_fleet {
        Vec::new()
    } else {
        demo_fleet()
    })
}

/// Prints the kubeconfig that `serve` wrote into the data directory.
pub fn print_kubeconfig(data_dir: Option<PathBuf>) -> Result<()> {
    let dir = self::data_dir(data_dir)?;
    let path = kubeconfig::path_in(&dir);
    let contents = std::fs::read_to_string(&path).map_err(|source| Error::DataDir {
        path: path.clone(),
        source,
    })?;
    print!("{contents}");
    Ok(())
}

/// The address a client on this machine uses: an unspecified bind address means loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
    } else {
        addr
    }
}

/// The Leptos options from cargo-leptos' environment, with the CLI's choices on top. A plain
/// `cargo build` (tests, clippy) has no asset name baked in, and Leptos' loader complains about
/// that, so then the defaults are built here.
fn leptos_options(args: &ServeArgs) -> Result<LeptosOptions> {
    let baked = option_env!("LEPTOS_OUTPUT_NAME").is_some()
        || std::env::var_os("LEPTOS_OUTPUT_NAME").is_some();
    let mut options = if baked {
        get_configuration(None)
            .map_err(|e| Error::Config(e.to_string()))?
            .leptos_options
    } else {
        let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
        LeptosOptions::builder()
            .output_name("fleetdeck")
            .site_root(site_root)
            .build()
    };
    options.site_addr = args.addr;
    if let Some(root) = &args.site_root {
        options.site_root = root.to_string_lossy().into();
    }
    Ok(options)
}

fn data_dir(flag: Option<PathBuf>) -> Result<PathBuf> {
    let path = match flag {
        Some(path) => path,
        None => directories::ProjectDirs::from("dev", "fleetdeck", "fleetdeck")
            .ok_or(Error::NoDataDir)?
            .data_dir()
            .to_path_buf(),
    };
    std::fs::create_dir_all(&path).map_err(|source| Error::DataDir {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Resolves on SIGINT or SIGTERM (or when something else already started the shutdown).
async fn shutdown_signal(shutdown: &CancellationToken) {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => info!("SIGINT received, shutting down"),
        _ = terminate => info!("SIGTERM received, shutting down"),
        _ = shutdown.cancelled() => {}
    }
}
