//! One simulated member cluster: a hub instance of its own (built-in kinds only) behind its own
//! HTTPS listener, with the simulated kubelet running against it in-process. A lightweight member
//! (scale tests) keeps the API server, the kubelet and the registration, but its store lives in
//! memory with small watch buffers and nothing listens on a port.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::kubelet;
use crate::members::MemberConfig;
use crate::tls::HubTls;
use crate::{Error, Result};

/// Simulated clusters report this many nodes.
const NODE_COUNT: u32 = 3;
/// A lightweight member's store: few watchers (the kubelet's two) and few events, so buffers
/// sized for a fleet hub would dominate its memory (README "Choices worth knowing").
const LIGHTWEIGHT_STORE: hub::Options = hub::Options {
    history: 256,
    history_bytes: 1 << 20,
    max_body: hub::MAX_BODY,
    quota_bytes: None,
    slow_watch_grace: hub::SLOW_WATCH_GRACE,
    body_timeout: hub::BODY_TIMEOUT,
};

/// What every simulated member of one fleetdeck shares.
pub struct MemberEnv<'a> {
    /// Where the members' stores live.
    pub dir: &'a Path,
    /// The IP to listen on (each member picks a free port).
    pub ip: std::net::IpAddr,
    pub tls: &'a HubTls,
    pub token: &'a str,
    /// A client of the fleet hub, to register on.
    pub fleet: &'a kube::Client,
    /// How long pods take to become ready.
    pub ready_after: Duration,
    /// Stores in memory instead of SQLite files in `dir` (`--in-memory`).
    pub in_memory: bool,
    pub shutdown: &'a CancellationToken,
}

pub struct SimulatedMember {
    pub config: MemberConfig,
    pub hub: hub::Hub,
    /// Where its API listens (HTTPS); `None` for a lightweight member.
    pub addr: Option<SocketAddr>,
    /// An in-process client of the member's API (no TCP).
    pub client: kube::Client,
    pub tasks: Vec<JoinHandle<Result<()>>>,
}

impl SimulatedMember {
    /// Opens the member's store, listens on a free port with the same certificate and token as
    /// the fleet hub (unless lightweight), starts its kubelet and registers it on the fleet.
    pub async fn start(config: MemberConfig, env: &MemberEnv<'_>) -> Result<Self> {
        let member = Self::launch(config, env, None).await?;
        member.register(env.fleet).await?;
        Ok(member)
    }

    /// Registers the member on the fleet hub (joined, with its labels).
    pub async fn register(&self, fleet: &kube::Client) -> Result<()> {
        crate::members::registration::register(fleet, &self.config, NODE_COUNT)
            .await
            .map_err(|e| Error::Member {
                member: self.config.name.clone(),
                message: e.to_string(),
            })
    }

    /// As [`SimulatedMember::start`] without registering, on `store` when given: the store of a
    /// member that left, which rejoins with what was left on it (a real cluster keeps its
    /// objects when it leaves).
    pub async fn launch(
        config: MemberConfig,
        env: &MemberEnv<'_>,
        store: Option<hub::Hub>,
    ) -> Result<Self> {
        let MemberEnv {
            dir,
            ip,
            tls,
            token,
            fleet: _,
            ready_after,
            in_memory,
            shutdown,
        } = *env;
        let mut tasks = Vec::new();
        let (hub, addr) = if config.lightweight {
            let hub = match store {
                Some(hub) => hub,
                None => hub::Hub::open_with(
                    hub::Storage::Memory,
                    hub::Registry::new(),
                    LIGHTWEIGHT_STORE,
                )?,
            };
            (hub, None)
        } else {
            let addr = SocketAddr::new(ip, 0);
            let hub = match store {
                Some(hub) => hub,
                None => {
                    let storage = if in_memory {
                        hub::Storage::Memory
                    } else {
                        std::fs::create_dir_all(dir).map_err(|source| Error::DataDir {
                            path: dir.to_path_buf(),
                            source,
                        })?;
                        hub::Storage::Sqlite(dir.join(format!("{}.db", config.name)))
                    };
                    hub::Hub::open(storage, hub::Registry::new())?
                }
            };
            let listener = std::net::TcpListener::bind(addr)
                .and_then(|l| l.set_nonblocking(true).map(|()| l))
                .map_err(|source| Error::Bind { addr, source })?;
            let addr = listener.local_addr().map_err(Error::Serve)?;
            tasks.push(crate::serve::https(
                listener,
                tls,
                hub.router_with_token(token),
                shutdown.clone(),
            )?);
            (hub, Some(addr))
        };
        let client = kube::Client::new(hub.router(), "default");
        tasks.push({
            let (client, shutdown) = (client.clone(), shutdown.clone());
            tokio::spawn(async move {
                kubelet::run(client, ready_after, shutdown).await;
                Ok(())
            })
        });
        Ok(SimulatedMember {
            config,
            hub,
            addr,
            client,
            tasks,
        })
    }
}
