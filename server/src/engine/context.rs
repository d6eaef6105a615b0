//! What every reconciler shares: the hub client, configuration, the clock and the metrics.

use std::sync::Arc;
use std::time::Duration;

use app::fleet::staged::run::exec::Timing;
use app::fleet::types::condition::Time;
use app::fleet::{FleetKind, Object};
use k8s_openapi::jiff::Timestamp;

use super::metrics::Metrics;
use super::retry::{self, Failures};

/// Engine configuration.
#[derive(Clone, Debug)]
pub struct Config {
    /// Fallback resync intervals and the stuck threshold (spec §9.6); events drive the engine,
    /// these only bound how long a missed event can delay it.
    pub timing: Timing,
    /// Fallback resync of a placement (KubeFleet's 60 s requeue); changes of the placement, its
    /// bindings, member clusters and selectable objects drive it.
    pub placement_resync: Duration,
    /// Delay before retrying a failed reconcile (doubling while it keeps failing).
    pub error_backoff: Duration,
    /// The release catalogue file upgrade runs check versions against (seed 004), read at each
    /// reconcile so that edits apply at once.
    pub release_catalogue: Option<std::path::PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            timing: Timing::default(),
            placement_resync: Duration::from_secs(60),
            error_backoff: Duration::from_secs(1),
            release_catalogue: None,
        }
    }
}

/// Wall time that follows tokio's clock, so that tests with a paused clock control it.
#[derive(Clone, Debug)]
pub struct Clock {
    base_ms: i64,
    start: tokio::time::Instant,
}

impl Clock {
    /// Starts at the current wall time.
    pub fn system() -> Self {
        Self::starting_at(Timestamp::now())
    }

    pub fn starting_at(base: Timestamp) -> Self {
        Clock {
            base_ms: base.as_millisecond(),
            start: tokio::time::Instant::now(),
        }
    }

    pub fn now(&self) -> Time {
        let elapsed = self.start.elapsed().as_millis() as i64;
        Time(Timestamp::from_millisecond(self.base_ms + elapsed).unwrap_or(Timestamp::MAX))
    }
}

/// Shared by every reconcile.
pub struct Context {
    pub client: kube::Client,
    pub config: Config,
    pub clock: Clock,
    /// Outlives the controllers: a restarted engine keeps counting into the same series.
    pub metrics: Arc<Metrics>,
    /// Objects whose reconciles keep failing, for their backoff and Warning Events.
    pub failures: Failures,
}

impl Context {
    pub fn new(client: kube::Client, config: Config) -> Self {
        Self::with_metrics(client, config, Arc::default())
    }

    pub fn with_metrics(client: kube::Client, config: Config, metrics: Arc<Metrics>) -> Self {
        Context {
            client,
            config,
            clock: Clock::system(),
            metrics,
            failures: Failures::default(),
        }
    }
}

impl Context {
    /// What every reconcile of `object` ends with: its metrics, and for a failure the object's
    /// failure count and, when the error is news, a Warning Event the user reads.
    pub async fn reconciled<K: FleetKind, T>(
        &self,
        controller: &'static str,
        object: &Object<K>,
        elapsed: Duration,
        result: &super::Result<T>,
    ) {
        self.metrics.reconciled(controller, elapsed, result.is_ok());
        let key = retry::key(object);
        match result {
            Ok(_) => self.failures.clear(&key),
            Err(error) => {
                if self.failures.record(&key, &error.to_string()) {
                    super::events::publish(
                        &self.client,
                        &app::fleet::types::event::reference(object),
                        controller,
                        &[super::events::reconcile_failed(error)],
                        &self.clock.now(),
                    )
                    .await;
                }
            }
        }
    }

    /// When to try `object` again after a failed reconcile.
    pub fn retry_after<K: FleetKind>(&self, object: &Object<K>) -> Duration {
        self.failures
            .backoff(&retry::key(object), self.config.error_backoff)
    }
}
