//! The member agent: applies what bindings point at to the member clusters and reports back
//! (spec §5, §15 items 6–7). For each binding that is `Bound` with `RolloutStarted` True at its
//! generation, it applies the referenced snapshot group's objects to the binding's cluster,
//! removes objects an earlier snapshot placed that the new one dropped, and writes the binding's
//! `Overridden`, `WorkSynchronized`, `Applied` and `Available` conditions at that generation.
//! When a binding goes away everything it placed is removed. An `Unscheduled` binding keeps what
//! it placed until it is deleted (spec §5: the work generator treats it as bound until then), so a
//! de-selected cluster leaves when its rollout owner says: an update run's deletion stage, or the
//! placement controller for a RollingUpdate placement.
//!
//! What was applied is recorded on the member in a ConfigMap `fleet-system/<record>`, playing the
//! part of KubeFleet's AppliedWork, so removal works across restarts.
//!
//! Availability is event-driven: once a binding places a Deployment on a member, the agent watches
//! that member's placed Deployments, and any change of one (its pods becoming ready, an edit or a
//! deletion on the member) reconciles the binding that placed it at once. The recheck of an
//! unavailable binding is only a fallback.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};
use std::time::Duration;

use app::fleet::binding::{BindingState, ResourceBindingStatus};
use app::fleet::condition::{find_condition, new_condition, Condition, Time, FALSE, TRUE};
use app::fleet::names::{PARENT_PLACEMENT_LABEL, RESOURCE_INDEX_LABEL};
use app::fleet::Object;
use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{
    Api, ApiResource, DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PostParams,
};
use kube::discovery::{ApiCapabilities, Discovery, Scope};
use kube::runtime::controller::{Action, Controller};
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use serde_json::{json, Value};
use tokio::sync::mpsc::{unbounded_channel, UnboundedSender};
use tokio::sync::RwLock;

use crate::scope::{api, object_ref, RunScope};

/// Marks a binding whose placed objects must be removed before it may go.
pub const CLEANUP_FINALIZER: &str = "fleetdeck.dev/member-cleanup";
/// Where the records of applied objects live on a member.
pub const RECORD_NAMESPACE: &str = "fleet-system";
/// Marks what the agent placed on a member, with the record it is listed in.
pub const APPLIED_BY_LABEL: &str = "fleetdeck.dev/applied-by";
/// How often an applied-but-not-yet-available binding is checked again when no watch wakes it
/// first (a fallback: a watch of the member's placed Deployments wakes it at once).
const AVAILABILITY_RECHECK: Duration = Duration::from_secs(10);

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

/// The agent's knowledge of who placed what, for the member watches.
#[derive(Default)]
struct Placed {
    /// (member, record) → the binding whose objects the record lists.
    placers: BTreeMap<(String, String), BindingKey>,
    /// The running watch of each member's placed Deployments.
    watches: BTreeMap<String, AbortOnDrop>,
    /// Wakes the binding controllers of the running agent.
    wake: Option<Wake>,
}

/// One sender per binding controller: a key's namespace says which.
struct Wake {
    cluster_scoped: UnboundedSender<BindingKey>,
    namespaced: UnboundedSender<BindingKey>,
}

/// A task that ends with its handle (a member leaving ends its watch).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("kube: {0}")]
    Kube(#[from] kube::Error),
    #[error("{0}")]
    Invalid(String),
}

type Binding<S> = Object<<S as RunScope>::Binding>;

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
        self.members
            .read()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    }

    fn member(&self, name: &str) -> Option<MemberTarget> {
        self.members.read().ok()?.get(name).cloned()
    }

    /// Runs the agent for cluster- and namespace-scoped bindings until the streams end.
    pub async fn run(self: Arc<Self>) {
        let (cluster_tx, cluster_rx) = unbounded_channel();
        let (namespaced_tx, namespaced_rx) = unbounded_channel();
        if let Some(mut placed) = self.placed() {
            placed.wake = Some(Wake {
                cluster_scoped: cluster_tx,
                namespaced: namespaced_tx,
            });
        }
        tokio::join!(
            run_scope::<crate::scope::ClusterScoped>(self.clone(), cluster_rx),
            run_scope::<crate::scope::Namespaced>(self, namespaced_rx),
        );
    }

    fn placed(&self) -> Option<std::sync::MutexGuard<'_, Placed>> {
        self.placed.lock().ok()
    }

    /// Notes that `binding` placed what `record` lists on `member`; when that includes a
    /// Deployment, makes sure the member's placed Deployments are watched.
    fn track(
        self: &Arc<Self>,
        member: &MemberTarget,
        record: &str,
        binding: BindingKey,
        deployments: bool,
    ) {
        let Some(mut placed) = self.placed() else {
            return;
        };
        placed
            .placers
            .insert((member.name.clone(), record.to_string()), binding);
        if deployments && !placed.watches.contains_key(&member.name) {
            let task = tokio::spawn(watch_placed(Arc::downgrade(self), member.clone()));
            placed
                .watches
                .insert(member.name.clone(), AbortOnDrop(task));
        }
    }

    fn untrack(&self, member: &str, record: &str) {
        if let Some(mut placed) = self.placed() {
            placed
                .placers
                .remove(&(member.to_string(), record.to_string()));
        }
    }

    /// Reconciles again the binding that placed `record`'s objects on `member`.
    fn wake(&self, member: &str, record: &str) {
        let Some(placed) = self.placed() else {
            return;
        };
        let binding = placed
            .placers
            .get(&(member.to_string(), record.to_string()));
        if let (Some(binding), Some(wake)) = (binding, &placed.wake) {
            let to = match binding.0 {
                Some(_) => &wake.namespaced,
                None => &wake.cluster_scoped,
            };
            // A closed channel means the agent is stopping: nobody is left to wake.
            let _ = to.send(binding.clone());
        }
    }

    async fn kinds(
        &self,
        member: &MemberTarget,
    ) -> Result<Vec<(ApiResource, ApiCapabilities)>, AgentError> {
        if let Some(kinds) = self.kinds.read().await.get(&member.name) {
            return Ok(kinds.clone());
        }
        let discovery = Discovery::new(member.client.clone()).run().await?;
        let kinds: Vec<(ApiResource, ApiCapabilities)> = discovery
            .groups()
            .flat_map(|g| g.recommended_resources())
            .collect();
        self.kinds
            .write()
            .await
            .insert(member.name.clone(), kinds.clone());
        Ok(kinds)
    }
}

async fn run_scope<S: RunScope>(
    agent: Arc<Agent>,
    wakes: tokio::sync::mpsc::UnboundedReceiver<BindingKey>,
) {
    let bindings = api::<S::Binding>(&agent.hub, None);
    // A member that becomes reachable (or changes) has bindings waiting for it.
    let members_changed =
        tokio_stream::wrappers::WatchStream::from_changes(agent.members_changed.subscribe())
            .map(|_| ());
    let wakes = tokio_stream::wrappers::UnboundedReceiverStream::new(wakes)
        .map(|(ns, name)| object_ref::<Binding<S>>(ns.as_deref(), &name));
    Controller::new(bindings, watcher::Config::default())
        .reconcile_all_on(members_changed)
        .reconcile_on(wakes)
        .run(reconcile::<S>, error_policy::<S>, agent)
        .for_each(|_| async {})
        .await;
}

fn error_policy<S: RunScope>(_: Arc<Binding<S>>, error: &AgentError, _: Arc<Agent>) -> Action {
    tracing::info!(%error, "member agent: retrying");
    Action::requeue(Duration::from_secs(1))
}

async fn reconcile<S: RunScope>(
    binding: Arc<Binding<S>>,
    agent: Arc<Agent>,
) -> Result<Action, AgentError> {
    let Some(member) = agent.member(&binding.spec.target_cluster) else {
        // Not reachable (yet): a change of the member set reconciles it again.
        return Ok(Action::await_change());
    };
    let bindings = api::<S::Binding>(&agent.hub, binding.namespace());
    let name = binding.name_any();
    let record = record_name::<S>(&binding);
    if binding.metadata.deletion_timestamp.is_some() {
        agent.untrack(&member.name, &record);
        remove_placed(&agent, &member, &record, &BTreeMap::new()).await?;
        if binding.finalizers().iter().any(|f| f == CLEANUP_FINALIZER) {
            let rest: Vec<&String> = binding
                .finalizers()
                .iter()
                .filter(|f| *f != CLEANUP_FINALIZER)
                .collect();
            bindings
                .patch(
                    &name,
                    &PatchParams::default(),
                    &Patch::Merge(json!({ "metadata": { "finalizers": rest } })),
                )
                .await?;
        }
        return Ok(Action::await_change());
    }
    let generation = binding.metadata.generation.unwrap_or(1);
    let conditions = binding
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let started = find_condition(&conditions, "RolloutStarted")
        .is_some_and(|c| c.status == TRUE && c.observed_generation == Some(generation));
    let Some(master) = binding
        .spec
        .resource_snapshot_name
        .clone()
        .filter(|_| started && binding.spec.state == BindingState::Bound)
    else {
        return Ok(Action::await_change());
    };
    if !binding.finalizers().iter().any(|f| f == CLEANUP_FINALIZER) {
        let mut finalizers = binding.finalizers().to_vec();
        finalizers.push(CLEANUP_FINALIZER.to_string());
        bindings
            .patch(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "metadata": { "finalizers": finalizers } })),
            )
            .await?;
    }

    let objects = snapshot_objects::<S>(&agent.hub, binding.namespace(), &master).await?;
    let mut failed = Vec::new();
    let mut unavailable = Vec::new();
    let mut placed = BTreeMap::new();
    for object in &objects {
        match apply(&agent, &member, object, &record).await {
            Ok(live) => {
                placed.insert(key(object), identifier(object));
                if !is_available(&live) {
                    unavailable.push(identifier(object));
                }
            }
            Err(message) => failed.push((identifier(object), message)),
        }
    }
    remove_placed(&agent, &member, &record, &placed).await?;
    write_record(&member, &record, &placed).await?;
    let deployments = objects.iter().any(|o| o["kind"] == "Deployment");
    agent.track(
        &member,
        &record,
        (binding.namespace().map(str::to_string), name.clone()),
        deployments,
    );

    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let status = report(
        &binding.status,
        generation,
        &failed,
        &unavailable,
        &placement_of::<S>(&binding),
        &now,
    );
    if binding.status.as_ref() != Some(&status) {
        bindings
            .patch_status(
                &name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "status": status })),
            )
            .await?;
    }
    Ok(if unavailable.is_empty() && failed.is_empty() {
        Action::await_change()
    } else {
        Action::requeue(AVAILABILITY_RECHECK)
    })
}

/// Watches the Deployments the agent placed on `member` and wakes the binding behind each one
/// that changes, until the member leaves or the agent goes.
async fn watch_placed(agent: Weak<Agent>, member: MemberTarget) {
    let deployments: Api<Deployment> = Api::all(member.client.clone());
    let config = watcher::Config::default().labels(APPLIED_BY_LABEL);
    let mut events = watcher(deployments, config).default_backoff().boxed();
    while let Some(event) = events.next().await {
        let Some(agent) = agent.upgrade() else {
            return;
        };
        match event {
            // A relist (InitApply) may follow missed changes, so it wakes too.
            Ok(
                watcher::Event::Apply(d) | watcher::Event::InitApply(d) | watcher::Event::Delete(d),
            ) => {
                if let Some(record) = d.labels().get(APPLIED_BY_LABEL) {
                    agent.wake(&member.name, record);
                }
            }
            Ok(watcher::Event::Init | watcher::Event::InitDone) => {}
            Err(error) => tracing::warn!(
                %error, member = %member.name,
                "member agent: watch of placed Deployments failed; retrying"
            ),
        }
    }
}

/// The objects of the snapshot group whose master is `master`.
async fn snapshot_objects<S: RunScope>(
    hub: &kube::Client,
    ns: Option<&str>,
    master: &str,
) -> Result<Vec<Value>, AgentError> {
    let snapshots = api::<S::ResourceSnapshot>(hub, ns);
    let master_obj = snapshots.get(master).await?;
    let mut objects = master_obj.spec.selected_resources.clone();
    let labels = master_obj.labels();
    if let (Some(parent), Some(index)) = (
        labels.get(PARENT_PLACEMENT_LABEL),
        labels.get(RESOURCE_INDEX_LABEL),
    ) {
        let mut subs: Vec<_> = snapshots
            .list(&ListParams::default().labels(&format!(
                "{PARENT_PLACEMENT_LABEL}={parent},{RESOURCE_INDEX_LABEL}={index}"
            )))
            .await?
            .items
            .into_iter()
            .filter(|s| s.name_any() != master)
            .collect();
        subs.sort_by_key(|s| s.name_any());
        for sub in subs {
            objects.extend(sub.spec.selected_resources);
        }
    }
    Ok(objects)
}

/// Creates or replaces one object on the member; returns what the member now holds.
async fn apply(
    agent: &Agent,
    member: &MemberTarget,
    desired: &Value,
    record: &str,
) -> Result<Value, String> {
    let (resource, caps) = resolve(agent, member, desired)
        .await
        .map_err(|e| e.to_string())?;
    let name = desired["metadata"]["name"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let ns = desired["metadata"]["namespace"].as_str();
    let api: Api<DynamicObject> = match (caps.scope == Scope::Namespaced, ns) {
        (true, Some(ns)) => Api::namespaced_with(member.client.clone(), ns, &resource),
        (true, None) => return Err(format!("{} {name} has no namespace", resource.kind)),
        (false, _) => Api::all_with(member.client.clone(), &resource),
    };
    let mut body = desired.clone();
    body["metadata"]["labels"][APPLIED_BY_LABEL] = Value::String(record.to_string());
    let existing = api.get_opt(&name).await.map_err(|e| e.to_string())?;
    let result = match existing {
        None => {
            let object: DynamicObject = serde_json::from_value(body).map_err(|e| e.to_string())?;
            api.create(&PostParams::default(), &object).await
        }
        Some(live) => {
            if same_content(&live, &body) {
                return serde_json::to_value(live).map_err(|e| e.to_string());
            }
            body["metadata"]["resourceVersion"] = json!(live.metadata.resource_version);
            // Keep what the member itself owns: the namespace's finalizers and a Service's IPs.
            carry_over(&mut body, &serde_json::to_value(&live).unwrap_or_default());
            let object: DynamicObject = serde_json::from_value(body).map_err(|e| e.to_string())?;
            api.replace(&name, &PostParams::default(), &object).await
        }
    };
    result
        .map_err(|e| e.to_string())
        .and_then(|o| serde_json::to_value(o).map_err(|e| e.to_string()))
}

fn carry_over(body: &mut Value, live: &Value) {
    if body["kind"] == "Service" {
        for field in ["clusterIP", "clusterIPs"] {
            if let Some(v) = live["spec"].get(field) {
                body["spec"][field] = v.clone();
            }
        }
    }
}

/// Whether the member already holds `desired` (compared on the fields the snapshot sets).
fn same_content(live: &DynamicObject, desired: &Value) -> bool {
    let live = serde_json::to_value(live).unwrap_or_default();
    fn covered(want: &Value, have: &Value) -> bool {
        match (want, have) {
            (Value::Object(w), Value::Object(h)) => w
                .iter()
                .all(|(k, v)| h.get(k).is_some_and(|hv| covered(v, hv))),
            (w, h) => w == h,
        }
    }
    let strip = |v: &Value| {
        let mut v = v.clone();
        if let Some(m) = v.as_object_mut() {
            m.remove("status");
        }
        v
    };
    covered(&strip(desired), &strip(&live))
}

async fn resolve(
    agent: &Agent,
    member: &MemberTarget,
    object: &Value,
) -> Result<(ApiResource, ApiCapabilities), AgentError> {
    let api_version = object["apiVersion"].as_str().unwrap_or_default();
    let kind = object["kind"].as_str().unwrap_or_default();
    agent
        .kinds(member)
        .await?
        .into_iter()
        .find(|(r, _)| r.api_version == api_version && r.kind == kind)
        .ok_or_else(|| {
            AgentError::Invalid(format!(
                "the member cluster does not serve {api_version} {kind}"
            ))
        })
}

/// Whether the member reports the object ready: Deployments when their pods are, the rest at once.
fn is_available(live: &Value) -> bool {
    if live["kind"] != "Deployment" {
        return true;
    }
    let status = &live["status"];
    let generation = live["metadata"]["generation"].as_i64().unwrap_or(0);
    let observed = status["observedGeneration"].as_i64().unwrap_or(-1);
    let replicas = live["spec"]["replicas"].as_i64().unwrap_or(1);
    let available = status["availableReplicas"].as_i64().unwrap_or(0);
    let updated = status["updatedReplicas"].as_i64().unwrap_or(0);
    observed >= generation && available >= replicas && updated >= replicas
}

/// Deletes objects the record lists that are not in `keep`.
async fn remove_placed(
    agent: &Agent,
    member: &MemberTarget,
    record: &str,
    keep: &BTreeMap<String, Value>,
) -> Result<(), AgentError> {
    let records: Api<ConfigMap> = Api::namespaced(member.client.clone(), RECORD_NAMESPACE);
    let Some(cm) = records.get_opt(record).await? else {
        return Ok(());
    };
    let placed: BTreeMap<String, Value> = cm
        .data
        .as_ref()
        .and_then(|d| d.get("manifests"))
        .and_then(|m| serde_json::from_str(m).ok())
        .unwrap_or_default();
    // Namespaced objects first, namespaces last, so nothing is deleted twice over.
    let mut doomed: Vec<&Value> = placed
        .iter()
        .filter(|(k, _)| !keep.contains_key(*k))
        .map(|(_, v)| v)
        .collect();
    doomed.sort_by_key(|v| v["kind"] == "Namespace");
    for id in doomed {
        let probe = json!({ "apiVersion": id["apiVersion"], "kind": id["kind"] });
        let Ok((resource, caps)) = resolve(agent, member, &probe).await else {
            continue;
        };
        let name = id["name"].as_str().unwrap_or_default();
        let api: Api<DynamicObject> =
            match (caps.scope == Scope::Namespaced, id["namespace"].as_str()) {
                (true, Some(ns)) => Api::namespaced_with(member.client.clone(), ns, &resource),
                _ => Api::all_with(member.client.clone(), &resource),
            };
        match api.delete(name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    if keep.is_empty() {
        match records.delete(record, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 404 => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

async fn write_record(
    member: &MemberTarget,
    record: &str,
    placed: &BTreeMap<String, Value>,
) -> Result<(), AgentError> {
    let namespaces: Api<k8s_openapi::api::core::v1::Namespace> = Api::all(member.client.clone());
    if namespaces.get_opt(RECORD_NAMESPACE).await?.is_none() {
        let ns = serde_json::from_value(json!({ "metadata": { "name": RECORD_NAMESPACE } }))
            .map_err(kube::Error::SerdeError)?;
        match namespaces.create(&PostParams::default(), &ns).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(e) => return Err(e.into()),
        }
    }
    let records: Api<ConfigMap> = Api::namespaced(member.client.clone(), RECORD_NAMESPACE);
    let manifests =
        serde_json::to_string(placed).map_err(|e| AgentError::Invalid(e.to_string()))?;
    let cm: ConfigMap = serde_json::from_value(json!({
        "metadata": { "name": record, "namespace": RECORD_NAMESPACE },
        "data": { "manifests": manifests },
    }))
    .map_err(kube::Error::SerdeError)?;
    match records.get_opt(record).await? {
        None => {
            records.create(&PostParams::default(), &cm).await?;
        }
        Some(live) if live.data == cm.data => {}
        Some(_) => {
            records
                .patch(
                    record,
                    &PatchParams::default(),
                    &Patch::Merge(json!({ "data": { "manifests": manifests } })),
                )
                .await?;
        }
    }
    Ok(())
}

/// The binding's status after an apply pass, keeping `RolloutStarted` as the run wrote it.
fn report(
    old: &Option<ResourceBindingStatus>,
    generation: i64,
    failed: &[(Value, String)],
    unavailable: &[Value],
    placement: &str,
    now: &Time,
) -> ResourceBindingStatus {
    let mut conditions: Vec<Condition> = old
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let mut set = |type_: &str, status: &str, reason: &str, message: &str| {
        app::fleet::condition::set_condition(
            &mut conditions,
            new_condition(type_, status, reason, message, generation, now),
        );
    };
    set(
        "Overridden",
        TRUE,
        "NoOverrideSpecified",
        "No override rules are configured for the selected resources",
    );
    set(
        "WorkSynchronized",
        TRUE,
        "AllWorkSynced",
        "All of the works are synchronized to the latest",
    );
    let work = format!("{placement}-work");
    let failed_placements: Vec<Value>;
    if !failed.is_empty() {
        set(
            "Applied",
            FALSE,
            "NotAllWorkHaveBeenApplied",
            &format!("Work object {work} is not yet applied"),
        );
        conditions.retain(|c| c.type_ != "Available");
        failed_placements = failed
            .iter()
            .map(|(id, message)| {
                failed_placement(
                    id,
                    "Applied",
                    "ManifestApplyFailed",
                    message,
                    generation,
                    now,
                )
            })
            .collect();
    } else {
        set(
            "Applied",
            TRUE,
            "AllWorkHaveBeenApplied",
            "All corresponding work objects are applied",
        );
        if unavailable.is_empty() {
            set(
                "Available",
                TRUE,
                "AllWorkAreAvailable",
                "All corresponding work objects are available",
            );
            failed_placements = Vec::new();
        } else {
            set(
                "Available",
                FALSE,
                "NotAllWorkAreAvailable",
                &format!("Work object {work} is not yet available"),
            );
            failed_placements = unavailable
                .iter()
                .map(|id| {
                    failed_placement(
                        id,
                        "Available",
                        "ManifestNotAvailableYet",
                        "Manifest is not yet available; Fleet will check again later",
                        generation,
                        now,
                    )
                })
                .collect();
        }
    }
    // Unchanged conditions keep their transition time (set_condition), so an unchanged state is
    // not rewritten.
    ResourceBindingStatus {
        failed_placements: (!failed_placements.is_empty()).then_some(failed_placements),
        conditions: Some(conditions),
        ..old.clone().unwrap_or_default()
    }
}

fn failed_placement(
    id: &Value,
    type_: &str,
    reason: &str,
    message: &str,
    generation: i64,
    now: &Time,
) -> Value {
    let (group, version) = id["apiVersion"]
        .as_str()
        .unwrap_or_default()
        .split_once('/')
        .unwrap_or(("", id["apiVersion"].as_str().unwrap_or_default()));
    let mut entry = json!({
        "group": group, "version": version, "kind": id["kind"], "name": id["name"],
        "condition": new_condition(type_, FALSE, reason, message, generation, now),
    });
    if let Some(ns) = id["namespace"].as_str() {
        entry["namespace"] = json!(ns);
    }
    entry
}

fn identifier(object: &Value) -> Value {
    json!({
        "apiVersion": object["apiVersion"],
        "kind": object["kind"],
        "name": object["metadata"]["name"],
        "namespace": object["metadata"]["namespace"],
    })
}

fn key(object: &Value) -> String {
    format!(
        "{}/{}/{}/{}",
        object["apiVersion"].as_str().unwrap_or_default(),
        object["kind"].as_str().unwrap_or_default(),
        object["metadata"]["namespace"].as_str().unwrap_or_default(),
        object["metadata"]["name"].as_str().unwrap_or_default()
    )
}

fn placement_of<S: RunScope>(binding: &Binding<S>) -> String {
    binding
        .labels()
        .get(PARENT_PLACEMENT_LABEL)
        .cloned()
        .unwrap_or_default()
}

/// One record per placement on a member: `crp-<name>` or `rp-<namespace>-<name>`.
fn record_name<S: RunScope>(binding: &Binding<S>) -> String {
    let placement = placement_of::<S>(binding);
    match binding.namespace() {
        Some(ns) => format!("rp-{ns}-{placement}"),
        None => format!("crp-{placement}"),
    }
}
