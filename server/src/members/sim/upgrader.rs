//! The simulated members perform the upgrades that upgrade runs ask for (seed 004). The engine
//! writes an InProgress operation into a MemberCluster's `fleetdeck.dev/managedCluster` status;
//! after the member's configured upgrade time (counted from the operation's `startTime`, so a
//! restart finishes it on time) the member applies it the way
//! [`app::fleet::upgrade::managed_cluster::perform`] decides — new versions, or the operation
//! Failed with the error a real cluster gives — and reports the result in the same place.
//! Event-driven: MemberCluster changes come from the process's shared watch.

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use app::fleet::upgrade::managed_cluster::{
    self, OperationError, OperationPhase, UpgradeOperation,
};
use app::fleet::MemberCluster;
use futures::StreamExt;
use kube::api::{Api, PostParams};
use tokio_util::sync::CancellationToken;

use crate::engine::Clock;
use crate::informers::Informers;

/// How often a result write that keeps conflicting with other status writers is tried.
const WRITE_ATTEMPTS: usize = 8;

/// The running simulated members' upgrade times, by name: members join and leave while
/// fleetdeck runs (`sim::fleet`).
pub type UpgradeTimes = Arc<std::sync::RwLock<BTreeMap<String, Duration>>>;

/// What every simulated member's upgrades share.
#[derive(Clone)]
pub struct Upgrader {
    pub client: kube::Client,
    /// Simulated member name → how long one of its upgrades takes.
    pub upgrade_times: UpgradeTimes,
    /// The release catalogue file, read at each upgrade.
    pub catalogue: PathBuf,
    pub clock: Clock,
}

impl Upgrader {
    /// Follows the MemberClusters until `shutdown`, finishing each new InProgress operation of a
    /// simulated member after its upgrade time.
    pub async fn run(self, informers: Informers, shutdown: CancellationToken) {
        let mut touched = informers.of::<MemberCluster>().touched();
        let mut seen: HashSet<(String, String)> = HashSet::new();
        loop {
            let member = tokio::select! {
                _ = shutdown.cancelled() => return,
                next = touched.next() => match next {
                    Some(m) => m,
                    None => return,
                },
            };
            let name = member.metadata.name.clone().unwrap_or_default();
            let upgrade_time = self
                .upgrade_times
                .read()
                .ok()
                .and_then(|times| times.get(&name).copied());
            let Some(upgrade_time) = upgrade_time else {
                continue;
            };
            let Some(op) = managed_cluster::of(member.status.as_ref())
                .and_then(|c| c.operation.as_ref())
                .filter(|op| op.state == OperationPhase::InProgress)
            else {
                continue;
            };
            if !seen.insert((name.clone(), op.id.clone())) {
                continue;
            }
            let wait = self.remaining(op, upgrade_time);
            let (this, id, shutdown) = (self.clone(), op.id.clone(), shutdown.clone());
            tokio::spawn(async move {
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(wait) => {
                        if let Err(error) = this.finish(&name, &id).await {
                            tracing::warn!(%error, member = %name, operation = %id, "could not report a simulated upgrade");
                        }
                    }
                }
            });
        }
    }

    /// What is left of the upgrade time since the operation started.
    fn remaining(&self, op: &UpgradeOperation, upgrade_time: Duration) -> Duration {
        let now = chrono_now(&self.clock);
        let elapsed = op
            .started_at()
            .and_then(|t| (now - t).to_std().ok())
            .unwrap_or_default();
        upgrade_time.saturating_sub(elapsed)
    }

    /// Performs operation `id` of `member` if it is still the one in progress.
    async fn finish(&self, member: &str, id: &str) -> Result<(), kube::Error> {
        let api: Api<MemberCluster> = Api::all(self.client.clone());
        for _ in 0..WRITE_ATTEMPTS {
            let Some(mut current) = api.get_opt(member).await? else {
                return Ok(());
            };
            let Some(cluster) = current
                .status
                .as_mut()
                .and_then(|s| s.managed_cluster.as_mut())
            else {
                return Ok(());
            };
            let ours = cluster
                .operation
                .as_ref()
                .is_some_and(|op| op.id == id && op.state == OperationPhase::InProgress);
            if !ours {
                return Ok(());
            }
            let now = chrono_now(&self.clock);
            *cluster = match crate::release_catalogue::load(&self.catalogue) {
                Ok(catalogue) => managed_cluster::perform(cluster, &catalogue, now),
                Err(message) => {
                    // The member cannot check the target: the upgrade fails, saying why.
                    let mut failed = cluster.clone();
                    if let Some(op) = failed.operation.as_mut() {
                        op.state = OperationPhase::Failed;
                        op.error = Some(OperationError {
                            code: "ReleaseCatalogueUnavailable".into(),
                            message,
                        });
                    }
                    failed
                }
            };
            match api
                .replace_status(member, &PostParams::default(), &current)
                .await
            {
                Err(kube::Error::Api(s)) if s.code == 409 => continue,
                other => return other.map(drop),
            }
        }
        Ok(())
    }
}

/// The engine clock's time as chrono's (the upgrade domain's time type).
pub fn chrono_now(clock: &Clock) -> chrono::DateTime<chrono::Utc> {
    let ms = clock.now().0.as_millisecond();
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default()
}
