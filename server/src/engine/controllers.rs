//! The engine as one unit: its controllers (placements, update runs) spawned together and stopped
//! together. Everything the engine knows lives on the hub, so it can be stopped anywhere — in the
//! middle of a reconcile included — and started again with empty caches and queues against the
//! same hub, as after a crash (the crash-safety test does exactly that at many points of a
//! rollout).

use std::sync::Arc;

use tokio::task::JoinHandle;

use super::metrics::Metrics;
use super::{placement, update_run, Config, Context};

/// The running controllers of one engine.
pub struct Engine {
    config: Config,
    metrics: Arc<Metrics>,
    ctx: Arc<Context>,
    tasks: Vec<JoinHandle<()>>,
}

impl Engine {
    /// Spawns the placement and update-run controllers against `client`.
    pub fn start(client: kube::Client, config: Config) -> Engine {
        Self::start_with_metrics(client, config, Arc::new(Metrics::new()))
    }

    /// Like [`Engine::start`], counting into `metrics` (a replica's metrics outlive each term it
    /// leads).
    pub fn start_with_metrics(
        client: kube::Client,
        config: Config,
        metrics: Arc<Metrics>,
    ) -> Engine {
        let ctx = Arc::new(Context::with_metrics(
            client,
            config.clone(),
            metrics.clone(),
        ));
        Engine {
            config,
            metrics,
            tasks: spawn(&ctx),
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
    /// configuration and the metrics) against `client`.
    pub async fn restart(&mut self, client: kube::Client) {
        self.stop().await;
        self.ctx = Arc::new(Context::with_metrics(
            client,
            self.config.clone(),
            self.metrics.clone(),
        ));
        self.tasks = spawn(&self.ctx);
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

fn spawn(ctx: &Arc<Context>) -> Vec<JoinHandle<()>> {
    let placements = {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            if let Err(e) = placement::run(ctx).await {
                tracing::error!(error = %e, "placement controller stopped");
            }
        })
    };
    let runs = tokio::spawn(update_run::run(ctx.clone()));
    vec![placements, runs]
}
