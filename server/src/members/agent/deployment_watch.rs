//! Who placed what, so that a change of a placed Deployment on a member (its pods becoming ready,
//! an edit or a deletion there) reconciles the binding that placed it at once: one watch per
//! member of the Deployments the agent labelled, started with the first Deployment placed there.

use std::collections::BTreeMap;
use std::sync::{Arc, Weak};

use futures::StreamExt;
use k8s_openapi::api::apps::v1::Deployment;
use kube::api::Api;
use kube::runtime::{watcher, WatchStreamExt};
use kube::ResourceExt;
use tokio::sync::mpsc::UnboundedSender;

use super::{Agent, BindingKey, MemberTarget, APPLIED_BY_LABEL};

/// The agent's knowledge of who placed what, for the member watches.
#[derive(Default)]
pub(super) struct Placed {
    /// (member, record) → the binding whose objects the record lists.
    pub(super) placers: BTreeMap<(String, String), BindingKey>,
    /// The running watch of each member's placed Deployments.
    pub(super) watches: BTreeMap<String, AbortOnDrop>,
    /// Wakes the binding controllers of the running agent.
    pub(super) wake: Option<Wake>,
}

/// One sender per binding controller: a key's namespace says which.
pub(super) struct Wake {
    pub(super) cluster_scoped: UnboundedSender<BindingKey>,
    pub(super) namespaced: UnboundedSender<BindingKey>,
}

/// A task that ends with its handle (a member leaving ends its watch).
pub(super) struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl Agent {
    pub(super) fn placed(&self) -> Option<std::sync::MutexGuard<'_, Placed>> {
        self.placed.lock().ok()
    }

    /// Notes that `binding` placed what `record` lists on `member`; when that includes a
    /// Deployment, makes sure the member's placed Deployments are watched.
    pub(super) fn track(
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

    pub(super) fn untrack(&self, member: &str, record: &str) {
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
