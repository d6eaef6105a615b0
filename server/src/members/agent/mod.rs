//! The member agent: applies what bindings point at to the member clusters and reports back
//! (spec §5, §15 items 6–7). For each binding that is `Bound` with `RolloutStarted` True at its
//! generation, it applies the referenced snapshot group's objects to the binding's cluster,
//! removes objects an earlier snapshot placed that the new one dropped, and writes the binding's
//! `Overridden`, `WorkSynchronized`, `Applied` and `Available` conditions at that generation.
//! When a binding goes away everything it placed is removed. An `Unscheduled` binding keeps what
//! it placed until it is deleted (spec §5: the work generator treats it as bound until then), so a
//! de-selected cluster leaves when its rollout owner says: an update run's deletion stage, or the
//! placement controller for a RollingUpdate placement. A binding deleted after its member left
//! the fleet removes nothing there and lets go at once ([`departure`], placement-extras §4.3).
//!
//! What was applied is recorded on the member in a ConfigMap `fleet-system/<record>`, playing the
//! part of KubeFleet's AppliedWork, so removal works across restarts ([`record`]).
//!
//! Availability is event-driven: once a binding places a Deployment on a member, the agent watches
//! that member's placed Deployments, and any change of one (its pods becoming ready, an edit or a
//! deletion on the member) reconciles the binding that placed it at once ([`deployment_watch`]).
//! The recheck of an unavailable binding is only a fallback.
//!
//! The reconciler ([`reconcile`]) reads the binding and its snapshot, takes each manifest through
//! the work applier's pipeline under the binding's apply strategy ([`apply`]; the decisions are
//! `app::fleet::apply`'s: takeover, ReportDiff, drift detection, server-side apply), and writes
//! what `app::fleet::placement::binding_status` decides from the outcomes.

mod apply;
mod departure;
mod deployment_watch;
mod overrides;
mod reconcile;
mod record;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use app::fleet::placement::binding_status::MissingField;
use app::fleet::Object;
use kube::api::{ApiResource, PatchParams, PostParams};
use kube::discovery::ApiCapabilities;
use tokio::sync::mpsc::unbounded_channel;
use tokio::sync::RwLock;

use crate::informers::Informers;
use crate::scope::{ClusterScoped, Namespaced, RunScope};
use deployment_watch::{Placed, Wake};

/// Marks a binding whose placed objects must be removed before it may go.
pub const CLEANUP_FINALIZER: &str = "fleetdeck.dev/member-cleanup";
/// Where the records of applied objects live on a member.
pub const RECORD_NAMESPACE: &str = "fleet-system";
/// Marks what the agent placed on a member, with the record it is listed in (the object's
/// owner, as `app::fleet::apply` decides ownership).
pub const APPLIED_BY_LABEL: &str = app::fleet::apply::OWNER_LABEL;
/// The field manager of the agent's writes, on the hub and on the members.
pub const FIELD_MANAGER: &str = "fleetdeck-member-agent";
/// How often an applied-but-not-yet-available binding is checked again when no watch wakes it
/// first (a fallback: a watch of the member's placed Deployments wakes it at once).
const AVAILABILITY_RECHECK: Duration = Duration::from_secs(10);
/// How often a settled binding whose strategy detects drifts or reports diffs looks at its
/// member again (KubeFleet's requeue backoff tops its slow phase at 30 s).
const DRIFT_RECHECK: Duration = Duration::from_secs(30);

/// A member cluster the agent applies to.
#[derive(Clone)]
pub struct MemberTarget {
    pub name: String,
    pub client: kube::Client,
}

/// The agent's shared state.
pub struct Agent {
    pub hub: kube::Client,
    /// The members this agent can reach. Fixed in the embedded mode; on a real hub the member
    /// directory (`members::kubeconfig_secrets`) keeps it in step with the MemberClusters.
    members: std::sync::RwLock<BTreeMap<String, MemberTarget>>,
    /// Bumped whenever the member set changes, so every binding is looked at again.
    members_changed: tokio::sync::watch::Sender<u64>,
    /// Discovery per member, filled on first use.
    kinds: RwLock<BTreeMap<String, Vec<(ApiResource, ApiCapabilities)>>>,
    /// What wakes a binding when a Deployment it placed changes on its member.
    placed: std::sync::Mutex<Placed>,
}

/// A binding by namespace (none: cluster-scoped) and name.
type BindingKey = (Option<String>, String);

type Binding<S> = Object<<S as RunScope>::Binding>;

/// Why a pass of the agent over a binding failed; the binding is reconciled again.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("kube: {0}")]
    Kube(#[from] kube::Error),
    #[error("the member cluster does not serve {api_version} {kind}")]
    NotServed { api_version: String, kind: String },
    #[error("binding {binding}: no label {label} naming its placement")]
    NoPlacementLabel {
        binding: String,
        label: &'static str,
    },
    #[error("resource snapshot {snapshot}: {missing}")]
    Manifest {
        snapshot: String,
        missing: MissingField,
    },
    #[error("record {RECORD_NAMESPACE}/{record} on member {member}: {problem}")]
    Record {
        member: String,
        record: String,
        problem: String,
    },
    #[error("member cluster {0} is not on the hub")]
    NoMemberCluster(String),
    #[error("serializing {what}: {source}")]
    Serialize {
        what: &'static str,
        source: serde_json::Error,
    },
}

pub type Result<T, E = AgentError> = std::result::Result<T, E>;

/// Parameters of the agent's patches: its field manager.
fn patch_params() -> PatchParams {
    PatchParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PatchParams::default()
    }
}

/// Parameters of the agent's creates and replaces: its field manager.
fn post_params() -> PostParams {
    PostParams {
        field_manager: Some(FIELD_MANAGER.to_string()),
        ..PostParams::default()
    }
}

impl Agent {
    pub fn new(hub: kube::Client, members: Vec<MemberTarget>) -> Arc<Self> {
        Arc::new(Agent {
            hub,
            members: std::sync::RwLock::new(
                members.into_iter().map(|m| (m.name.clone(), m)).collect(),
            ),
            members_changed: tokio::sync::watch::channel(0).0,
            kinds: RwLock::new(BTreeMap::new()),
            placed: std::sync::Mutex::new(Placed::default()),
        })
    }

    /// Adds a member or replaces how it is reached; its bindings are reconciled again.
    pub async fn set_member(&self, member: MemberTarget) {
        self.kinds.write().await.remove(&member.name);
        // The watch used the old client; the next apply starts one with the new.
        if let Some(mut placed) = self.placed() {
            placed.watches.remove(&member.name);
        }
        if let Ok(mut members) = self.members.write() {
            members.insert(member.name.clone(), member);
        }
        self.members_changed.send_modify(|n| *n += 1);
    }

    /// Forgets a member (it left the fleet): what was placed there stays, as in KubeFleet.
    pub async fn remove_member(&self, name: &str) {
        self.kinds.write().await.remove(name);
        if let Some(mut placed) = self.placed() {
            placed.watches.remove(name);
            placed.placers.retain(|(member, _), _| member != name);
        }
        if let Ok(mut members) = self.members.write() {
            members.remove(name);
        }
        self.members_changed.send_modify(|n| *n += 1);
    }

    /// The names of the members the agent can reach.
    pub fn member_names(&self) -> Vec<String> {
        // A poisoned lock (a panic while editing the list) reads as no members, not a crash.
        self.members
            .read()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn member(&self, name: &str) -> Option<MemberTarget> {
        self.members.read().ok()?.get(name).cloned()
    }

    /// Runs the agent for cluster- and namespace-scoped bindings until the streams end, on the
    /// process's shared watches of bindings.
    pub async fn run(self: Arc<Self>, informers: Informers) {
        let (cluster_tx, cluster_rx) = unbounded_channel();
        let (namespaced_tx, namespaced_rx) = unbounded_channel();
        if let Some(mut placed) = self.placed() {
            placed.wake = Some(Wake {
                cluster_scoped: cluster_tx,
                namespaced: namespaced_tx,
            });
        }
        tokio::join!(
            reconcile::run_scope::<ClusterScoped>(self.clone(), &informers, cluster_rx),
            reconcile::run_scope::<Namespaced>(self, &informers, namespaced_rx),
        );
    }
}
