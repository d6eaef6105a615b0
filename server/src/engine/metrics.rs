//! The engine's Prometheus metrics: the three update-run metrics of spec §11 with KubeFleet's
//! names, labels and buckets, and per-controller reconcile counts, errors and durations under
//! controller-runtime's names (so dashboards and alerts written for KubeFleet's hub agent keep
//! working). Served on the dashboard's `/metrics`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::Duration;

use app::fleet::staged::run::report::{Observation, StatusSample};
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// Label names and values, in the order they are printed.
type Labels = Vec<(&'static str, String)>;
type Histograms = Family<Labels, Histogram, fn() -> Histogram>;

/// Spec §11.
const APPROVAL_LATENCY_BUCKETS: [f64; 9] = [
    60.0, 300.0, 900.0, 1800.0, 3600.0, 7200.0, 21600.0, 43200.0, 86400.0,
];
/// Spec §11.
const STAGE_DURATION_BUCKETS: [f64; 8] = [15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0];
/// controller-runtime's `controller_runtime_reconcile_time_seconds` buckets.
const RECONCILE_BUCKETS: [f64; 24] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9,
    1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 5.0,
];

/// Which controller a reconcile belongs to (controller-runtime's `controller` label).
pub mod controller {
    pub const CLUSTER_PLACEMENT: &str = "clusterresourceplacement-controller";
    pub const PLACEMENT: &str = "resourceplacement-controller";
    /// Spec §9: KubeFleet's names of the two update-run controllers.
    pub const CLUSTER_UPDATE_RUN: &str = "clusterstagedupdaterun-controller";
    pub const UPDATE_RUN: &str = "stagedupdaterun-controller";
}

/// Every metric the engine records, and the registry that prints them.
pub struct Metrics {
    registry: Registry,
    run_status: Family<Labels, Gauge<f64, AtomicU64>>,
    approval_latency: Histograms,
    stage_duration: Histograms,
    reconciles: Family<Labels, Counter>,
    reconcile_errors: Family<Labels, Counter>,
    reconcile_time: Histograms,
    /// The label sets each run has used, so that its series go when it does (spec §11).
    series: Mutex<BTreeMap<(String, String), RunSeries>>,
}

#[derive(Default)]
struct RunSeries {
    status: BTreeSet<Labels>,
    approval: BTreeSet<Labels>,
    stage: BTreeSet<Labels>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let run_status = Family::default();
        let approval_latency: Histograms =
            Family::new_with_constructor(|| Histogram::new(APPROVAL_LATENCY_BUCKETS));
        let stage_duration: Histograms =
            Family::new_with_constructor(|| Histogram::new(STAGE_DURATION_BUCKETS));
        let reconciles = Family::default();
        let reconcile_errors = Family::default();
        let reconcile_time: Histograms =
            Family::new_with_constructor(|| Histogram::new(RECONCILE_BUCKETS));
        let mut registry = Registry::default();
        registry.register(
            "fleet_workload_update_run_status_last_timestamp_seconds",
            "Last time an update run was seen with this status (its most significant condition)",
            run_status.clone(),
        );
        registry.register(
            "fleet_workload_update_run_approval_request_latency_seconds",
            "Time from an approval request's creation until it was approved",
            approval_latency.clone(),
        );
        registry.register(
            "fleet_workload_update_run_stage_cluster_updating_duration_seconds",
            "Time from a stage's start until all its clusters were updated, tasks excluded",
            stage_duration.clone(),
        );
        // Counters get their `_total` suffix from the encoder.
        registry.register(
            "controller_runtime_reconcile",
            "Total number of reconciliations per controller",
            reconciles.clone(),
        );
        registry.register(
            "controller_runtime_reconcile_errors",
            "Total number of reconciliation errors per controller",
            reconcile_errors.clone(),
        );
        registry.register(
            "controller_runtime_reconcile_time_seconds",
            "Length of time per reconciliation per controller",
            reconcile_time.clone(),
        );
        Metrics {
            registry,
            run_status,
            approval_latency,
            stage_duration,
            reconciles,
            reconcile_errors,
            reconcile_time,
            series: Mutex::new(BTreeMap::new()),
        }
    }

    /// One reconcile of `controller` took `took` and succeeded or not.
    pub fn reconciled(&self, controller: &'static str, took: Duration, ok: bool) {
        let result = if ok { "success" } else { "error" };
        self.reconciles
            .get_or_create(&vec![
                ("controller", controller.into()),
                ("result", result.into()),
            ])
            .inc();
        let labels = vec![("controller", controller.to_string())];
        // Present from the first reconcile on, at 0, as controller-runtime has it.
        let errors = self.reconcile_errors.get_or_create(&labels);
        if !ok {
            errors.inc();
        }
        self.reconcile_time
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// Spec §11: the run's status metric, set to `now` (seconds since the epoch).
    pub fn run_status(
        &self,
        namespace: &str,
        name: &str,
        state: &str,
        sample: &StatusSample,
        now: f64,
    ) {
        let labels: Labels = vec![
            ("namespace", namespace.into()),
            ("name", name.into()),
            ("state", state.into()),
            ("condition", sample.condition.clone()),
            ("status", sample.status.clone()),
            ("reason", sample.reason.clone()),
            ("failureType", sample.failure_type.into()),
        ];
        self.run_status.get_or_create(&labels).set(now);
        self.remember(namespace, name, |s| s.status.insert(labels));
    }

    /// Spec §11: what a reconcile observed (approval latencies, stage durations).
    pub fn observe(&self, namespace: &str, name: &str, observations: &[Observation]) {
        for observation in observations {
            match observation {
                Observation::ApprovalLatency { task_type, seconds } => {
                    let labels: Labels = vec![
                        ("namespace", namespace.into()),
                        ("name", name.into()),
                        ("taskType", (*task_type).into()),
                    ];
                    self.approval_latency
                        .get_or_create(&labels)
                        .observe(*seconds);
                    self.remember(namespace, name, |s| s.approval.insert(labels));
                }
                Observation::StageClustersUpdated { seconds, .. } => {
                    let labels: Labels =
                        vec![("namespace", namespace.into()), ("name", name.into())];
                    self.stage_duration.get_or_create(&labels).observe(*seconds);
                    self.remember(namespace, name, |s| s.stage.insert(labels));
                }
            }
        }
    }

    /// Spec §9.10/§11: a deleted run's series go with it.
    pub fn forget_run(&self, namespace: &str, name: &str) {
        let key = (namespace.to_string(), name.to_string());
        let Some(series) = self.series.lock().ok().and_then(|mut s| s.remove(&key)) else {
            return;
        };
        for labels in &series.status {
            self.run_status.remove(labels);
        }
        for labels in &series.approval {
            self.approval_latency.remove(labels);
        }
        for labels in &series.stage {
            self.stage_duration.remove(labels);
        }
    }

    /// Everything, in the OpenMetrics text format Prometheus scrapes.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "encoding metrics failed");
        }
        out
    }

    fn remember(&self, namespace: &str, name: &str, add: impl FnOnce(&mut RunSeries) -> bool) {
        if let Ok(mut series) = self.series.lock() {
            add(series
                .entry((namespace.to_string(), name.to_string()))
                .or_default());
        }
    }
}

/// The `Content-Type` of [`Metrics::encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
