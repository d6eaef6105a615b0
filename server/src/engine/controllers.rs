//! The engine as one unit: its controllers (placements, update runs) spawned together and stopped
//! together. Everything the engine knows lives on the hub, so it can be stopped anywhere — in the
//! middle of a reconcile included — and started again with empty caches and queues against the
//! same hub, as after a crash (the crash-safety test does exactly that at many points of a
//! rollout).
//!
//! The controllers read and are woken by the process's shared watches ([`Informers`]): fleetdeck
//! starts one set for the dashboard, the member agent and the engine together. A restart against
//! another client starts a set of its own on that client, as a new process would.

use std::sync::Arc;

use tokio::task::JoinHandle;

use super::metrics::Metrics;
use super::{auto_upgrade, overrides, placement, update_run, upgrade_run, Config, Context};
use crate::informers::Informers;

/// The running controllers of one engine.
pub struct Engine {
    config: Config,
    metrics: Arc<Metrics>,
    ctx: Arc<Context>,
    informers: Informers,
    tasks: Vec<JoinHandle<()>>,
}

impl Engine {
    /// Spawns the placement and update-run controllers against `client`, with watches of their
    /// own.
    pub fn start(client: kube::Client, config: Config) -> Engine {
        Self::start_shared(&Informers::new(client), config, Arc::new(Metrics::new()))
    }

    /// Spawns the controllers on the hub of `informers`, sharing its watches, counting into
    /// `metrics` (a replica's metrics outlive each term it leads).
    pub fn start_shared(informers: &Informers, config: Config, metrics: Arc<Metrics>) -> Engine {
        let ctx = Arc::new(Context::with_metrics(
            informers.client().clone(),
            config.clone(),
            metrics.clone(),
        ));
        Engine {
            config,
            metrics,
            tasks: spawn(&ctx, informers),
            informers: informers.clone(),
            ctx,
        }
    }

    /// What the running controllers share (client, configuration, metrics).
    pub fn context(&self) -> &Arc<Context> {
        &self.ctx
    }

    /// The metrics of every incarnation of this engine (`/metrics` serves them).
    pub fn metrics(&self) -> Arc<Metrics> {
        self.metrics.clone()
    }

    /// Aborts every controller wherever it is, and waits until they are gone.
    pub async fn stop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
        for task in self.tasks.drain(..) {
            if let Err(e) = task.await {
                if e.is_panic() {
                    tracing::error!(error = %e, "an engine controller panicked");
                }
            }
        }
    }

    /// Stops the controllers, then starts fresh ones (nothing carried over but the
    /// configuration and the metrics) against `client`, with fresh caches: watches of their own
    /// on `client`, as a restarted process would have.
    pub async fn restart(&mut self, client: kube::Client) {
        self.stop().await;
        self.informers = Informers::new(client.clone());
        self.ctx = Arc::new(Context::with_metrics(
            client,
            self.config.clone(),
            self.metrics.clone(),
        ));
        self.tasks = spawn(&self.ctx, &self.informers);
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn spawn(ctx: &Arc<Context>, informers: &Informers) -> Vec<JoinHandle<()>> {
    let placements = {
        let (ctx, informers) = (ctx.clone(), informers.clone());
        tokio::spawn(async move {
            if let Err(e) = placement::run(ctx, informers).await {
                tracing::error!(error = %e, "placement controller stopped");
            }
        })
    };
    let runs = tokio::spawn(update_run::run(ctx.clone(), informers.clone()));
    let upgrades = tokio::spawn(upgrade_run::run(ctx.clone(), informers.clone()));
    let profiles = tokio::spawn(auto_upgrade::run(ctx.clone(), informers.clone()));
    let overrides = tokio::spawn(overrides::run(ctx.clone(), informers.clone()));
    vec![placements, runs, upgrades, profiles, overrides]
}
