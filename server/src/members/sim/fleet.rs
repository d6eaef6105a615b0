//! The embedded mode's simulated members as a set that changes while fleetdeck runs
//! (placement-extras §4): a member that joins (`fleetdeck member join`, or a MemberCluster
//! created with kubectl) gets its own API server, kubelet, kubeconfig context and heartbeats; one
//! that leaves has them stopped. Its store stays, as a real cluster keeps its objects when it
//! leaves a fleet, so a rejoin finds what was placed there before (§4.4) and a test can read it.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use tokio::sync::mpsc::UnboundedSender;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::simulated::{MemberEnv, SimulatedMember};
use super::upgrader::UpgradeTimes;
use crate::kubeconfig::{self, Endpoint};
use crate::members::agent::MemberTarget;
use crate::members::heartbeat::Hosting;
use crate::members::{kubeconfig_secrets, MemberConfig};
use crate::tls::HubTls;
use crate::{Error, Result};

/// What every simulated member of one fleetdeck shares, owned (see [`MemberEnv`]).
pub struct FleetEnv {
    pub dir: PathBuf,
    pub ip: IpAddr,
    pub tls: HubTls,
    pub token: String,
    pub fleet: kube::Client,
    pub ready_after: Duration,
    pub in_memory: bool,
    pub shutdown: CancellationToken,
    /// The kubeconfig file fleetdeck writes, and the hub's entry in it.
    pub kubeconfig: PathBuf,
    pub hub_endpoint: Endpoint,
    /// Where the members' kubeconfig Secrets go on the hub.
    pub secrets_namespace: String,
}

/// A member this process simulates, running.
struct Hosted {
    config: MemberConfig,
    store: hub::Hub,
    client: kube::Client,
    addr: Option<SocketAddr>,
    stop: CancellationToken,
}

#[derive(Default)]
struct Members {
    running: BTreeMap<String, Hosted>,
    /// Stores and configurations of members that left, by name, for a rejoin.
    departed: BTreeMap<String, (hub::Hub, MemberConfig)>,
}

/// The simulated members of one fleetdeck.
pub struct SimulatedFleet {
    env: FleetEnv,
    /// Members joining later are lightweight when the configured ones are (a scale fleet).
    lightweight: bool,
    members: tokio::sync::Mutex<Members>,
    /// Tells the heartbeat loop which members beat.
    beats: UnboundedSender<Hosting>,
    /// The running members' upgrade times, for the upgrades of upgrade runs.
    upgrade_times: UpgradeTimes,
    /// The running members' clients, for the dashboard.
    clients: app::server_fns::ssr::Members,
    /// Tasks of members started after fleetdeck started, awaited at shutdown.
    tasks: std::sync::Mutex<Vec<JoinHandle<Result<()>>>>,
}

impl SimulatedFleet {
    pub fn new(
        env: FleetEnv,
        lightweight: bool,
        beats: UnboundedSender<Hosting>,
        upgrade_times: UpgradeTimes,
    ) -> Self {
        SimulatedFleet {
            env,
            lightweight,
            members: tokio::sync::Mutex::new(Members::default()),
            beats,
            upgrade_times,
            clients: app::server_fns::ssr::Members::default(),
            tasks: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// Starts `config`'s member (on its old store if it left before) and registers it on the
    /// hub. Its tasks are returned for the caller to await at shutdown. With `publish`, its
    /// kubeconfig context and Secret are written before it reports joined, so a script that
    /// waits for `Joined` can use them at once; without, see [`SimulatedFleet::publish`].
    pub async fn start(
        &self,
        config: MemberConfig,
        publish: bool,
    ) -> Result<(SimulatedMember, Vec<JoinHandle<Result<()>>>)> {
        let mut members = self.members.lock().await;
        let stop = self.env.shutdown.child_token();
        let env = MemberEnv {
            dir: &self.env.dir,
            ip: self.env.ip,
            tls: &self.env.tls,
            token: &self.env.token,
            fleet: &self.env.fleet,
            ready_after: self.env.ready_after,
            in_memory: self.env.in_memory,
            shutdown: &stop,
        };
        let store = members
            .departed
            .remove(&config.name)
            .map(|(store, _)| store);
        let mut member = SimulatedMember::launch(config, &env, store).await?;
        let tasks = std::mem::take(&mut member.tasks);
        members.running.insert(
            member.config.name.clone(),
            Hosted {
                config: member.config.clone(),
                store: member.hub.clone(),
                client: member.client.clone(),
                addr: member.addr,
                stop,
            },
        );
        drop(members);
        if publish {
            self.write_kubeconfig().await?;
            if let Some(addr) = member.addr {
                self.publish(&member.config.name, addr).await?;
            }
        }
        member.register(&self.env.fleet).await?;
        let _ = self.beats.send(Hosting::Joined(member.config.name.clone()));
        self.clients
            .insert(&member.config.name, member.client.clone());
        if let Ok(mut times) = self.upgrade_times.write() {
            times.insert(
                member.config.name.clone(),
                member.config.cluster.upgrade_time,
            );
        }
        Ok((member, tasks))
    }

    /// A member joined while fleetdeck runs: started with the MemberCluster's labels, its
    /// kubeconfig context written and its Secret published. Returns how the agent reaches it,
    /// or `None` when it runs already.
    pub async fn join(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> Result<Option<MemberTarget>> {
        let before = {
            let members = self.members.lock().await;
            if members.running.contains_key(name) {
                return Ok(None);
            }
            members.departed.get(name).map(|(_, config)| config.clone())
        };
        // A member that left comes back as the cluster it was (region, versions, upgrade time),
        // with the labels of its new MemberCluster.
        let mut config = before.unwrap_or_else(|| MemberConfig {
            lightweight: self.lightweight,
            ..MemberConfig::named(name)
        });
        config.labels = labels
            .iter()
            .filter(|(k, _)| k.as_str() != crate::members::registration::MEMBER_NAME_LABEL)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let (member, tasks) = self.start(config, true).await?;
        if let Ok(mut all) = self.tasks.lock() {
            all.extend(tasks);
        }
        tracing::info!(member = %name, "simulated member cluster joined");
        Ok(Some(MemberTarget {
            name: name.to_string(),
            client: member.client,
        }))
    }

    /// A member left: its API server, kubelet and heartbeats stop; its store is kept.
    pub async fn leave(&self, name: &str) -> Result<()> {
        let left = {
            let mut members = self.members.lock().await;
            let Some(hosted) = members.running.remove(name) else {
                return Ok(());
            };
            hosted.stop.cancel();
            members.departed.insert(
                name.to_string(),
                (hosted.store.clone(), hosted.config.clone()),
            );
            hosted
        };
        let _ = self.beats.send(Hosting::Left(name.to_string()));
        if let Ok(mut times) = self.upgrade_times.write() {
            times.remove(name);
        }
        self.clients.remove(name);
        if left.addr.is_some() {
            self.write_kubeconfig().await?;
        }
        tracing::info!(member = %name, "simulated member cluster left");
        Ok(())
    }

    /// The running members' clients, kept up to date as members join and leave.
    pub fn clients(&self) -> app::server_fns::ssr::Members {
        self.clients.clone()
    }

    /// Whether `name` runs here.
    pub async fn is_running(&self, name: &str) -> bool {
        self.members.lock().await.running.contains_key(name)
    }

    /// An in-process client of `name`'s API, running or departed.
    pub async fn client(&self, name: &str) -> Option<kube::Client> {
        let members = self.members.lock().await;
        members
            .running
            .get(name)
            .map(|m| m.client.clone())
            .or_else(|| {
                members
                    .departed
                    .get(name)
                    .map(|(store, _)| kube::Client::new(store.router(), "default"))
            })
    }

    /// Writes the kubeconfig: the hub and every running member that listens.
    pub async fn write_kubeconfig(&self) -> Result<()> {
        let members = self.members.lock().await;
        let endpoints: Vec<Endpoint> = std::iter::once(self.env.hub_endpoint.clone())
            .chain(
                members
                    .running
                    .iter()
                    .filter_map(|(name, m)| Some(self.endpoint(name, m.addr?))),
            )
            .collect();
        kubeconfig::write(
            &self.env.kubeconfig,
            &kubeconfig::render(&endpoints, "hub")?,
        )
    }

    fn endpoint(&self, name: &str, addr: SocketAddr) -> Endpoint {
        Endpoint {
            name: name.into(),
            server: format!("https://{}", crate::serve::reachable(addr)),
            token: self.env.token.clone(),
            ca_pem: Some(self.env.tls.ca_pem.clone()),
        }
    }

    /// Registers how to reach `name` as a real member would be (its kubeconfig Secret), so a
    /// fleetdeck started with --kubeconfig against this hub reaches it too.
    pub async fn publish(&self, name: &str, addr: SocketAddr) -> Result<()> {
        let own = kubeconfig::render(&[self.endpoint(name, addr)], name)?;
        kubeconfig_secrets::publish(&self.env.fleet, &self.env.secrets_namespace, name, &own)
            .await
            .map_err(|e| Error::Member {
                member: name.to_string(),
                message: format!("cannot store its kubeconfig Secret: {e}"),
            })
    }

    /// The tasks of members that joined later, to await at shutdown.
    pub fn take_tasks(&self) -> Vec<JoinHandle<Result<()>>> {
        self.tasks
            .lock()
            .map(|mut t| std::mem::take(&mut *t))
            .unwrap_or_default()
    }
}
