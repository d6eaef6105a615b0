//! Putting a snapshot's objects on a member: the snapshot group read from the hub, each object's
//! kind found on the member (discovery, cached per member), the object created or replaced.

use app::fleet::placement::binding_status::ResourceRef;
use app::fleet::types::names::{PARENT_PLACEMENT_LABEL, RESOURCE_INDEX_LABEL};
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::discovery::{ApiCapabilities, Discovery, Scope};
use kube::ResourceExt;
use serde_json::Value;

use super::{post_params, Agent, AgentError, MemberTarget, Result, APPLIED_BY_LABEL};
use crate::scope::{api, RunScope};

/// The objects of the snapshot group whose master is `master`, the master's first and then each
/// sub-snapshot's by name.
pub(super) async fn snapshot_objects<S: RunScope>(
    hub: &kube::Client,
    ns: Option<&str>,
    master: &str,
) -> Result<Vec<Value>> {
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

impl Agent {
    /// What `member` serves, discovered on first use.
    async fn kinds(&self, member: &MemberTarget) -> Result<Vec<(ApiResource, ApiCapabilities)>> {
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

    /// The API of `object`'s kind on `member`, in its namespace when the kind is namespaced;
    /// `None` for a namespaced kind without a namespace.
    pub(super) async fn api_of(
        &self,
        member: &MemberTarget,
        object: &ResourceRef,
    ) -> Result<(ApiResource, Option<Api<DynamicObject>>)> {
        let (resource, caps) = self
            .kinds(member)
            .await?
            .into_iter()
            .find(|(r, _)| r.api_version == object.api_version && r.kind == object.kind)
            .ok_or_else(|| AgentError::NotServed {
                api_version: object.api_version.clone(),
                kind: object.kind.clone(),
            })?;
        let client = member.client.clone();
        let api = match (caps.scope == Scope::Namespaced, object.namespace.as_deref()) {
            (true, Some(ns)) => Some(Api::namespaced_with(client, ns, &resource)),
            (true, None) => None,
            (false, _) => Some(Api::all_with(client, &resource)),
        };
        Ok((resource, api))
    }
}

/// Why one object could not be applied; the message is its failed placement's.
#[derive(Debug, thiserror::Error)]
pub(super) enum ApplyError {
    #[error("{}", resolve_message(.0))]
    Resolve(AgentError),
    #[error("{kind} {name} has no namespace")]
    NoNamespace { kind: String, name: String },
    /// The member API's own message (`namespaces "x" not found`), never kube's debug rendering
    /// of the whole Status.
    #[error("{}", member_message(.0))]
    Kube(#[from] kube::Error),
    #[error(transparent)]
    Manifest(#[from] serde_json::Error),
}

/// What the member's API server said: its Status message when it answered with one.
fn member_message(error: &kube::Error) -> String {
    match error {
        kube::Error::Api(status) if !status.message.is_empty() => status.message.clone(),
        other => other.to_string(),
    }
}

fn resolve_message(error: &AgentError) -> String {
    match error {
        AgentError::Kube(e) => member_message(e),
        other => other.to_string(),
    }
}

/// Creates or replaces the object `id` (`desired`, from the snapshot) on the member, labelled with
/// the record it is listed in; returns what the member now holds.
pub(super) async fn apply(
    agent: &Agent,
    member: &MemberTarget,
    id: &ResourceRef,
    desired: &Value,
    record: &str,
) -> Result<Value, ApplyError> {
    let (resource, api) = agent
        .api_of(member, id)
        .await
        .map_err(ApplyError::Resolve)?;
    let Some(api) = api else {
        return Err(ApplyError::NoNamespace {
            kind: resource.kind,
            name: id.name.clone(),
        });
    };
    let mut object: DynamicObject = serde_json::from_value(desired.clone())?;
    object
        .labels_mut()
        .insert(APPLIED_BY_LABEL.to_string(), record.to_string());
    let live = match api.get_opt(&id.name).await? {
        None => api.create(&post_params(), &object).await?,
        Some(live) if same_content(&live, &object)? => live,
        Some(live) => {
            object.metadata.resource_version = live.metadata.resource_version.clone();
            // Keep what the member itself owns: a Service's IPs.
            if id.kind == "Service" {
                carry_service_ips(&mut object, &live);
            }
            api.replace(&id.name, &post_params(), &object).await?
        }
    };
    Ok(serde_json::to_value(live)?)
}

/// A Service's cluster IPs are assigned by the member: a replace keeps them.
fn carry_service_ips(object: &mut DynamicObject, live: &DynamicObject) {
    for field in ["clusterIP", "clusterIPs"] {
        if let Some(v) = live.data["spec"].get(field) {
            object.data["spec"][field] = v.clone();
        }
    }
}

/// Whether the member already holds `desired` (compared on the fields the snapshot sets).
fn same_content(live: &DynamicObject, desired: &DynamicObject) -> serde_json::Result<bool> {
    fn covered(want: &Value, have: &Value) -> bool {
        match (want, have) {
            (Value::Object(w), Value::Object(h)) => w
                .iter()
                .all(|(k, v)| h.get(k).is_some_and(|hv| covered(v, hv))),
            (w, h) => w == h,
        }
    }
    let without_status = |object: &DynamicObject| {
        let mut v = serde_json::to_value(object)?;
        if let Some(m) = v.as_object_mut() {
            m.remove("status");
        }
        serde_json::Result::Ok(v)
    };
    Ok(covered(&without_status(desired)?, &without_status(live)?))
}
