//! Putting a snapshot's objects on a member: the snapshot group read from the hub, each object's
//! kind found on the member (discovery, cached per member), and each manifest taken through the
//! work applier's pipeline under the binding's apply strategy ([`process`]).

use app::fleet::apply::compare::PatchDetail;
use app::fleet::apply::decide::{
    decide, post_apply_drifts, prepared, results, ApplyOp, Decision, Failure, Ownership,
};
use app::fleet::apply::WORK_FIELD_MANAGER;
use app::fleet::placement::binding_status::{is_available, Outcome, ResourceRef};
use app::fleet::placement::resource_placement::{
    defaulted_apply_strategy, ApplyStrategy, WhenToApply,
};
use app::fleet::types::names::{PARENT_PLACEMENT_LABEL, RESOURCE_INDEX_LABEL};
use kube::api::{Api, ApiResource, DynamicObject, ListParams, Patch, PatchParams, PostParams};
use kube::discovery::{ApiCapabilities, Discovery, Scope};
use kube::ResourceExt;
use serde_json::Value;

use super::{Agent, AgentError, MemberTarget, Result};
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

/// What one manifest came to on the member, and the drifts a `FullComparison` left after
/// applying it (the member object's generation and the details).
pub(super) struct Processed {
    pub outcome: Outcome,
    pub drifts: Option<(i64, Vec<PatchDetail>)>,
    /// The member's object was fleetdeck's (this record's) before the pass.
    pub owned_before: bool,
}

impl From<Outcome> for Processed {
    fn from(outcome: Outcome) -> Self {
        Processed {
            outcome,
            drifts: None,
            owned_before: false,
        }
    }
}

/// The work applier's pipeline for one manifest (placement-extras §2.3): read the member's
/// object, let `app::fleet::apply::decide` say what to do under `strategy`, do it. Errors are the
/// member API's messages, never a debug rendering.
pub(super) async fn process(
    agent: &Agent,
    member: &MemberTarget,
    id: &ResourceRef,
    manifest: &Value,
    record: &str,
    strategy: Option<&ApplyStrategy>,
    report_diff: bool,
) -> Processed {
    // An error before anything was compared: under ReportDiff the diff could not be reported.
    let failed = |error: String| -> Processed {
        if report_diff {
            Outcome::DiffFailed(error).into()
        } else {
            Outcome::Failed(error).into()
        }
    };
    let api = match agent.api_of(member, id).await {
        Ok((_, Some(api))) => api,
        Ok((resource, None)) => {
            return failed(
                ApplyError::NoNamespace {
                    kind: resource.kind,
                    name: id.name.clone(),
                }
                .to_string(),
            )
        }
        Err(e) => return failed(ApplyError::Resolve(e).to_string()),
    };
    let live = match api.get_opt(&id.name).await {
        Ok(live) => live,
        Err(e) if report_diff => return failed(member_message(&e)),
        Err(e) => {
            return Outcome::Refused(Failure {
                reason: results::FAILED_TO_FIND_OBJ,
                error: format!(
                    "failed to find the corresponding object for the manifest object in the member cluster: {}",
                    member_message(&e)
                ),
                ..Failure::default()
            })
            .into()
        }
    };
    let live = match live.map(serde_json::to_value).transpose() {
        Ok(live) => live,
        Err(e) => return failed(e.to_string()),
    };
    let owned_before = Ownership::of(live.as_ref(), record) == Ownership::Ours;
    let applied = match decide(strategy, manifest, live.as_ref(), record) {
        Decision::Report(report) => return Outcome::Diff(report).into(),
        Decision::Refuse(failure) => {
            return Processed {
                owned_before,
                ..Outcome::Refused(failure).into()
            }
        }
        decision => {
            write(
                &api,
                id,
                manifest,
                live.as_ref(),
                record,
                strategy,
                decision,
            )
            .await
        }
    };
    match applied {
        Ok(live) => {
            let drifts = post_apply_drifts(strategy, manifest, &live);
            let generation = live["metadata"]["generation"].as_i64().unwrap_or(0);
            Processed {
                outcome: Outcome::Applied {
                    available: is_available(&live),
                },
                drifts: (!drifts.is_empty()).then_some((generation, drifts)),
                owned_before,
            }
        }
        Err(e) => Processed {
            owned_before,
            ..Outcome::Failed(e.to_string()).into()
        },
    }
}

/// Creates the object, or writes the manifest over the member's as `decision` says (replace for
/// `ClientSideApply`, server-side apply for `ServerSideApply`); returns what the member holds.
/// Under `IfNotDrifted` the write carries the live object's `resourceVersion`, so an edit made on
/// the member meanwhile fails it (placement-extras §2.5).
async fn write(
    api: &Api<DynamicObject>,
    id: &ResourceRef,
    manifest: &Value,
    live: Option<&Value>,
    record: &str,
    strategy: Option<&ApplyStrategy>,
    decision: Decision,
) -> Result<Value, ApplyError> {
    let mut object: DynamicObject = serde_json::from_value(prepared(manifest, record))?;
    let live_object: Option<DynamicObject> =
        live.cloned().map(serde_json::from_value).transpose()?;
    let written = match (decision, live_object) {
        (Decision::Apply(op), Some(live)) => {
            let lock =
                defaulted_apply_strategy(strategy).when_to_apply == Some(WhenToApply::IfNotDrifted);
            match op {
                ApplyOp::Replace if same_content(&live, &object)? => live,
                ApplyOp::Replace => {
                    object.metadata.resource_version = live.metadata.resource_version.clone();
                    // Keep what the member itself owns: a Service's IPs.
                    if id.kind == "Service" {
                        carry_service_ips(&mut object, &live);
                    }
                    api.replace(&id.name, &member_post_params(), &object)
                        .await?
                }
                ApplyOp::ServerSide { force } => {
                    if lock {
                        object.metadata.resource_version = live.metadata.resource_version.clone();
                    }
                    let mut params = PatchParams::apply(WORK_FIELD_MANAGER);
                    if force {
                        params = params.force();
                    }
                    api.patch(&id.name, &params, &Patch::Apply(&object)).await?
                }
            }
        }
        _ => api.create(&member_post_params(), &object).await?,
    };
    Ok(serde_json::to_value(written)?)
}

/// The agent's creates and replaces on members, as KubeFleet's work applier's field manager.
fn member_post_params() -> PostParams {
    PostParams {
        field_manager: Some(WORK_FIELD_MANAGER.to_string()),
        ..PostParams::default()
    }
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
