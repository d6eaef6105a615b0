//! Starting and stopping fleetdeck: the embedded hub (HTTPS, for kubectl) and the dashboard.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info};

use crate::accounts::{self, Accounts, Role};
use crate::cli::{EngineMode, ServeArgs};
use crate::data_dir_lock::DataDirLock;
use crate::engine;
use crate::informers::Informers;
use crate::kubeconfig::{self, Endpoint};
use crate::members::agent::{Agent, MemberTarget};
use crate::members::kubeconfig_secrets;
use crate::members::membership::Membership;
use crate::members::sim::fleet::{FleetEnv, SimulatedFleet};
use crate::members::{demo_fleet, MemberConfig, SimulatedMember};
use crate::tls::HubTls;
use crate::web;
use crate::{fleet_kinds, hub_rbac, Error, Result};

/// How long open watches may take to finish once shutdown starts.
const HUB_DRAIN: Duration = Duration::from_secs(5);

/// A started fleetdeck: where it listens, and the handles to stop it.
pub struct Running {
    pub dashboard_addr: SocketAddr,
    /// Where the embedded hub listens (none on a real hub).
    pub hub_addr: Option<SocketAddr>,
    /// The kubeconfig written for the embedded hub, or the one given for a real hub.
    pub kubeconfig: PathBuf,
    /// The embedded hub (none on a real hub).
    pub hub: Option<hub::Hub>,
    /// A client of the hub, embedded or real.
    pub client: kube::Client,
    /// The members simulated from the start (see `simulated` for those that joined later).
    pub members: Vec<SimulatedMember>,
    /// Every simulated member, joining and leaving while fleetdeck runs (none on a real hub).
    pub simulated: Option<Arc<SimulatedFleet>>,
    /// The engine's controllers; they can be restarted against the same hub (a crash test does).
    /// None with `--engine off`, and on a real hub (where the lease holder runs it).
    pub engine: Option<engine::Engine>,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<Result<()>>>,
    /// The embedded hub's claim on its data directory, released when this is dropped.
    _data_dir_lock: Option<DataDirLock>,
}

impl Running {
    /// An in-process client of simulated member `name`'s API: one of the start, one that
    /// joined later, or one that left (its store stays).
    pub async fn member_client(&self, name: &str) -> Option<kube::Client> {
        self.simulated.as_ref()?.client(name).await
    }

    /// Starts a graceful shutdown of every listener.
    pub fn shutdown(&self) {
        self.shutdown.cancel();
    }

    /// Waits for the shutdown, then until every listener has stopped; the first failure wins.
    pub async fn wait(mut self) -> Result<()> {
        self.shutdown.cancelled().await;
        if let Some(engine) = self.engine.as_mut() {
            engine.stop().await;
        }
        let mut outcome = Ok(());
        let joined_later = self
            .simulated
            .as_ref()
            .map(|s| s.take_tasks())
            .unwrap_or_default();
        for task in self.tasks.into_iter().chain(joined_later) {
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

/// Starts fleetdeck in the background: on the embedded hub, or on the hub of `--kubeconfig`.
pub async fn start(args: ServeArgs) -> Result<Running> {
    match args.kubeconfig.clone() {
        Some(path) => start_on_real_hub(args, path).await,
        None => start_embedded(args).await,
    }
}

/// The embedded fleet hub takes bodies up to 64 MiB, not kube-apiserver's 3 MiB: a run or
/// placement over 10,000 clusters writes a status of about 4 and 15 MB (README "Choices worth
/// knowing"; on a real hub, its own limits apply).
const FLEET_HUB_MAX_BODY: usize = 64 << 20;

/// Opens the store, binds both listeners, writes the kubeconfig and serves in the background.
async fn start_embedded(args: ServeArgs) -> Result<Running> {
    let data_dir = data_dir(args.data_dir.clone())?;
    let data_dir_lock = DataDirLock::acquire(&data_dir)?;
    let shutdown = CancellationToken::new();
    let storage = if args.in_memory {
        hub::Storage::Memory
    } else {
        hub::Storage::Sqlite(data_dir.join("hub.db"))
    };
    let hub = hub::Hub::open_with(
        storage,
        fleet_kinds::registry(),
        hub::Options {
            max_body: FLEET_HUB_MAX_BODY,
            ..hub::Options::default()
        },
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
    // The kubeconfig's token stays the admin; users.yaml adds people governed by RBAC.
    hub_rbac::install_roles(&fleet_client).await?;
    let (accounts, admin_link) = prepare_accounts(&data_dir, &fleet_client).await?;
    let authn = hub_rbac::authenticator(&data_dir, &token)?;
    let mut tasks = vec![https(
        hub_listener,
        &tls,
        hub.router_with_auth(authn),
        shutdown.clone(),
    )?];

    // The simulated member clusters, each with its own API server and kubelet; members join and
    // leave while fleetdeck runs (members::membership).
    let configs = member_configs(&args)?;
    let (beats, hosting) = tokio::sync::mpsc::unbounded_channel();
    let upgrade_times = crate::members::sim::upgrader::UpgradeTimes::default();
    let simulated = Arc::new(SimulatedFleet::new(
        FleetEnv {
            dir: data_dir.join("members"),
            ip: hub_addr.ip(),
            tls: tls.clone(),
            token: token.clone(),
            fleet: fleet_client.clone(),
            ready_after: args.kubelet_delay,
            in_memory: args.in_memory,
            shutdown: shutdown.clone(),
            kubeconfig: kubeconfig_path.clone(),
            hub_endpoint: Endpoint {
                name: "hub".into(),
                server: format!("https://{}", reachable(hub_addr)),
                token: token.clone(),
                ca_pem: Some(tls.ca_pem.clone()),
            },
            secrets_namespace: args.member_secrets_namespace.clone(),
        },
        configs.iter().any(|c| c.lightweight),
        beats,
        upgrade_times.clone(),
    ));
    let mut members = Vec::new();
    for config in configs {
        let (member, member_tasks) = simulated.start(config, false).await?;
        tasks.extend(member_tasks);
        match member.addr {
            Some(addr) => {
                info!(member = %member.config.name, %addr, "simulated member cluster started")
            }
            None => debug!(member = %member.config.name, "lightweight member cluster started"),
        }
        members.push(member);
    }
    simulated.write_kubeconfig().await?;
    for member in &members {
        // Registered like a real member, so a fleetdeck started with --kubeconfig against this
        // hub reaches it too (lightweight members have no address to reach).
        if let Some(addr) = member.addr {
            simulated.publish(&member.config.name, addr).await?;
        }
    }

    // One watch per kind on the hub, shared by the engine, the member agent and the dashboard.
    let informers = Informers::new(fleet_client.clone());

    // The simulated members perform the upgrades of upgrade runs (seed 004).
    let catalogue = crate::release_catalogue::ensure(args.release_catalogue.as_deref(), &data_dir)?;
    let console_catalogue = crate::release_catalogue::for_console(&catalogue);
    let upgrader = crate::members::sim::upgrader::Upgrader {
        client: fleet_client.clone(),
        upgrade_times,
        catalogue: catalogue.clone(),
        clock: engine::Clock::system(),
    };
    let (upgrader_informers, upgrader_shutdown) = (informers.clone(), shutdown.clone());
    tasks.push(spawn_until(&shutdown, "simulated upgrades", async move {
        upgrader.run(upgrader_informers, upgrader_shutdown).await;
        Ok(())
    }));

    // The members' agents renew their heartbeats (members::heartbeat).
    let (beat_client, beat_informers, beat_shutdown) =
        (fleet_client.clone(), informers.clone(), shutdown.clone());
    tasks.push(spawn_until(&shutdown, "member heartbeats", async move {
        crate::members::heartbeat::run(beat_client, beat_informers, hosting, beat_shutdown).await;
        Ok(())
    }));

    // People's own kubectl writes named in Events, as the console names its own (attribution).
    let writes = hub.writes();
    let audit_client = fleet_client.clone();
    tasks.push(spawn_until(&shutdown, "kubectl attribution", async move {
        crate::attribution::run(audit_client, writes).await;
        Ok(())
    }));

    // The engine (placements, update runs) and the member agent, all against the hub in-process.
    let agent = (args.engine == EngineMode::On).then(|| {
        let targets = members
            .iter()
            .map(|m| MemberTarget {
                name: m.config.name.clone(),
                client: m.client.clone(),
            })
            .collect();
        Agent::new(fleet_client.clone(), targets)
    });
    // Members joining and leaving: the agent's set and the simulated clusters follow the
    // MemberClusters (with --engine off, the simulated clusters alone).
    let membership = Arc::new(Membership {
        hub: fleet_client.clone(),
        agent: agent.clone(),
        simulated: Some(simulated.clone()),
    });
    let membership_informers = informers.clone();
    tasks.push(spawn_until(&shutdown, "membership", async move {
        membership.run(membership_informers).await;
        Ok(())
    }));
    let engine = agent.map(|agent| {
        let agent_informers = informers.clone();
        tasks.push(spawn_until(&shutdown, "member agent", async move {
            agent.run(agent_informers).await;
            Ok(())
        }));
        engine::Engine::start_shared(
            &informers,
            engine::Config {
                release_catalogue: Some(catalogue),
                ..args.engine_config()
            },
            Arc::new(engine::metrics::Metrics::new()),
        )
    });
    let metrics = engine.as_ref().map_or_else(
        || Arc::new(engine::metrics::Metrics::new()),
        |e| e.metrics(),
    );

    let dashboard_addr = web::dashboard::serve(
        &args,
        &informers,
        web::dashboard::Served {
            mode: "embedded",
            members: simulated.clients(),
            metrics,
            accounts,
            catalogue: console_catalogue,
        },
        &shutdown,
        &mut tasks,
    )
    .await?;
    announce_sign_in(
        &data_dir,
        dashboard_addr,
        args.tls_cert.is_some(),
        admin_link,
    )?;
    info!(
        dashboard = %format!("http://{dashboard_addr}/"),
        hub = %format!("https://{hub_addr}"),
        data_dir = %data_dir.display(),
        "fleetdeck is running; for kubectl: export KUBECONFIG={}",
        kubeconfig_path.display()
    );
    Ok(Running {
        dashboard_addr,
        hub_addr: Some(hub_addr),
        kubeconfig: kubeconfig_path,
        hub: Some(hub),
        client: fleet_client,
        members,
        simulated: Some(simulated),
        engine,
        shutdown,
        tasks,
        _data_dir_lock: Some(data_dir_lock),
    })
}

/// Runs the engine and the dashboard on a hub fleetdeck does not host. Engine replicas elect a
/// leader on `--leader-lease`; the member agent reaches members through their kubeconfig Secrets.
async fn start_on_real_hub(args: ServeArgs, path: PathBuf) -> Result<Running> {
    let client = real_hub_client(&path, args.context.as_deref()).await?;
    // One watch per kind on the hub, shared by the dashboard and, while this replica leads, the
    // engine and the member agent (a kind is watched once something asks for it).
    let informers = Informers::new(client.clone());
    let shutdown = CancellationToken::new();
    // One set of metrics for every term this replica leads.
    let metrics = Arc::new(engine::metrics::Metrics::new());
    let mut tasks = Vec::new();
    let data_dir = data_dir(args.data_dir.clone())?;
    let catalogue = crate::release_catalogue::ensure(args.release_catalogue.as_deref(), &data_dir)?;
    let console_catalogue = crate::release_catalogue::for_console(&catalogue);
    if args.engine == EngineMode::On {
        let election = engine::leader::Election::new(&args.leader_lease, replica_identity())
            .map_err(|e| Error::Config(e.to_string()))?;
        let (informers, secrets, config, metrics) = (
            informers.clone(),
            args.member_secrets_namespace.clone(),
            engine::Config {
                release_catalogue: Some(catalogue),
                ..args.engine_config()
            },
            metrics.clone(),
        );
        let shutdown = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            let hub = informers.client().clone();
            let lead = move |stop: CancellationToken| {
                run_engine(
                    informers.clone(),
                    config.clone(),
                    metrics.clone(),
                    secrets.clone(),
                    stop,
                )
            };
            engine::leader::while_leading(hub, election, shutdown, lead)
                .await
                .map_err(|e| Error::Config(e.to_string()))
        }));
    }
    let (accounts, admin_link) = prepare_accounts(&data_dir, &client).await?;
    let dashboard_addr = web::dashboard::serve(
        &args,
        &informers,
        web::dashboard::Served {
            mode: "real hub",
            members: app::server_fns::ssr::Members::default(),
            metrics,
            accounts,
            catalogue: console_catalogue,
        },
        &shutdown,
        &mut tasks,
    )
    .await?;
    announce_sign_in(
        &data_dir,
        dashboard_addr,
        args.tls_cert.is_some(),
        admin_link,
    )?;
    info!(
        dashboard = %format!("http://{dashboard_addr}/"),
        kubeconfig = %path.display(),
        "fleetdeck is running on a real hub"
    );
    Ok(Running {
        dashboard_addr,
        hub_addr: None,
        kubeconfig: path,
        hub: None,
        client,
        members: Vec::new(),
        simulated: None,
        engine: None,
        shutdown,
        tasks,
        _data_dir_lock: None,
    })
}

/// The dashboard's accounts (`<data-dir>/users.yaml`), with the `admin` account made on first
/// start and bound to `fleetdeck-admin`; returns the admin's new one-time link secret while the
/// admin has not set a password yet.
async fn prepare_accounts(
    data_dir: &std::path::Path,
    client: &kube::Client,
) -> Result<(Arc<Accounts>, Option<String>)> {
    let accounts = Arc::new(Accounts::open(&data_dir.join(hub_rbac::USERS_FILE))?);
    let link = accounts.ensure_admin()?;
    if let Err(error) = accounts::bind(client, accounts::ADMIN, Role::Admin, None).await {
        // On a real hub fleetdeck may not be allowed to bind roles; its administrator binds.
        tracing::warn!(%error, "the admin account is not bound to fleetdeck-admin; bind it on the hub");
    }
    Ok((accounts, link))
}

/// Writes the dashboard's address for `fleetdeck user add`, and the admin's one-time sign-in
/// link to the data directory (and the log), once the dashboard listens.
fn announce_sign_in(
    data_dir: &std::path::Path,
    dashboard: SocketAddr,
    https: bool,
    admin_link: Option<String>,
) -> Result<()> {
    let scheme = if https { "https" } else { "http" };
    let url = format!("{scheme}://{}", reachable(dashboard));
    std::fs::write(
        data_dir.join(accounts::DASHBOARD_URL_FILE),
        format!("{url}\n"),
    )
    .map_err(|e| Error::Accounts(format!("cannot write the dashboard address: {e}")))?;
    let link_file = data_dir.join(accounts::ADMIN_LINK_FILE);
    match admin_link {
        Some(token) => {
            let link = accounts::link_url(&url, &token);
            accounts::write_secret_file(&link_file, &format!("{link}\n"))?;
            info!(
                file = %link_file.display(),
                "sign in as admin (works once, for 24 hours): {link}"
            );
        }
        None => {
            // Used or replaced: a stale link in the data directory would only mislead.
            let _ = std::fs::remove_file(&link_file);
        }
    }
    Ok(())
}

/// The engine of a leading replica, until `stop`: the controllers, the member agent and the
/// directory that tells the agent how to reach each member.
async fn run_engine(
    informers: Informers,
    config: engine::Config,
    metrics: Arc<engine::metrics::Metrics>,
    secrets_namespace: String,
    stop: CancellationToken,
) {
    let mut engine = engine::Engine::start_shared(&informers, config, metrics);
    let agent = Agent::new(informers.client().clone(), Vec::new());
    // Members leaving: held by KubeFleet's finalizer until the agent has let them go.
    let membership = Arc::new(Membership {
        hub: informers.client().clone(),
        agent: Some(agent.clone()),
        simulated: None,
    });
    tokio::select! {
        _ = stop.cancelled() => {}
        _ = agent.clone().run(informers.clone()) => {}
        _ = membership.run(informers.clone()) => {}
        _ = kubeconfig_secrets::run(informers, secrets_namespace, agent) => {}
    }
    engine.stop().await;
}

/// A client of the hub in `path` (its current context unless `context` names another), checked
/// to answer, so a wrong file or an unreachable hub is reported at start.
pub(crate) async fn real_hub_client(
    path: &std::path::Path,
    context: Option<&str>,
) -> Result<kube::Client> {
    let fail = |what: String| Error::Config(format!("the hub of {}: {what}", path.display()));
    let config = hub_config(path, context).await?;
    let client = kube::Client::try_from(config).map_err(|e| fail(e.to_string()))?;
    client
        .apiserver_version()
        .await
        .map_err(|e| fail(format!("it does not answer: {e}")))?;
    Ok(client)
}

/// The connection settings of the hub in `path` (its current context unless `context` names
/// another).
pub(crate) async fn hub_config(
    path: &std::path::Path,
    context: Option<&str>,
) -> Result<kube::Config> {
    let fail = |what: String| Error::Config(format!("the hub of {}: {what}", path.display()));
    let kubeconfig = kube::config::Kubeconfig::read_from(path)
        .map_err(|e| fail(format!("cannot read it: {e}")))?;
    let options = kube::config::KubeConfigOptions {
        context: context.map(str::to_string),
        ..Default::default()
    };
    kube::Config::from_custom_kubeconfig(kubeconfig, &options)
        .await
        .map_err(|e| fail(e.to_string()))
}

/// This replica's name in the leader lease: the pod's name where there is one, plus a random
/// suffix so two processes on one host never share it.
fn replica_identity() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "fleetdeck".into());
    let mut suffix = [0u8; 4];
    let _ = getrandom::fill(&mut suffix);
    let suffix: String = suffix.iter().map(|b| format!("{b:02x}")).collect();
    format!("{host}-{suffix}")
}

/// Runs a background loop until shutdown; a loop that fails is logged (the others go on).
pub(crate) fn spawn_until(
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
    let server = crate::tls::https_server(
        listener,
        tls.rustls_config()?,
        crate::tls::HEADER_READ_TIMEOUT,
    )?
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
    use crate::members::fleet_config::{self, FleetConfigError};
    if args.fleet_config.is_some() || !args.member.is_empty() {
        let mut members = match &args.fleet_config {
            Some(path) => fleet_config::load(path)?,
            None => Vec::new(),
        };
        for flag in &args.member {
            let member = fleet_config::parse(flag)?;
            if members.iter().any(|m| m.name == member.name) {
                return Err(Error::Fleet(FleetConfigError::DuplicateFlag {
                    flag: flag.clone(),
                    name: member.name,
                }));
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
pub(crate) fn reachable(addr: SocketAddr) -> SocketAddr {
    if addr.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
    } else {
        addr
    }
}

pub fn data_dir(flag: Option<PathBuf>) -> Result<PathBuf> {
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
