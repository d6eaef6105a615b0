//! The record of what a binding placed on a member, playing the part of KubeFleet's AppliedWork:
//! a ConfigMap `fleet-system/<record>` whose `manifests` maps each placed object's key to its
//! identifier, so that what a binding placed can be removed after the agent restarts.

use std::collections::BTreeMap;

use app::fleet::placement::binding_status::ResourceRef;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, DeleteParams, Patch};
use serde::Serialize;

use super::{patch_params, post_params, Agent, AgentError, MemberTarget, Result, RECORD_NAMESPACE};

/// The record's key holding the placed objects (JSON: key → identifier).
const MANIFESTS: &str = "manifests";

/// One record per placement on a member: `crp-<name>` or `rp-<namespace>-<name>` for a binding
/// in `namespace`.
pub(super) fn record_name(namespace: Option<&str>, placement: &str) -> String {
    match namespace {
        Some(ns) => format!("rp-{ns}-{placement}"),
        None => format!("crp-{placement}"),
    }
}

/// The objects a record lists, by key.
fn listed(
    member: &MemberTarget,
    record: &str,
    cm: &ConfigMap,
) -> Result<BTreeMap<String, ResourceRef>> {
    let problem = |problem: String| AgentError::Record {
        member: member.name.clone(),
        record: record.to_string(),
        problem,
    };
    let manifests = cm
        .data
        .as_ref()
        .and_then(|d| d.get(MANIFESTS))
        .ok_or_else(|| problem(format!("no data.{MANIFESTS}")))?;
    serde_json::from_str(manifests).map_err(|e| problem(format!("data.{MANIFESTS}: {e}")))
}

/// Deletes the objects the record lists that are not in `keep`; with nothing to keep, the record
/// too.
pub(super) async fn remove_placed(
    agent: &Agent,
    member: &MemberTarget,
    record: &str,
    keep: &BTreeMap<String, ResourceRef>,
) -> Result<()> {
    let records: Api<ConfigMap> = Api::namespaced(member.client.clone(), RECORD_NAMESPACE);
    let Some(cm) = records.get_opt(record).await? else {
        return Ok(());
    };
    let placed = listed(member, record, &cm)?;
    // Namespaced objects first, namespaces last, so nothing is deleted twice over.
    let mut doomed: Vec<&ResourceRef> = placed
        .iter()
        .filter(|(k, _)| !keep.contains_key(*k))
        .map(|(_, id)| id)
        .collect();
    doomed.sort_by_key(|id| id.is_namespace());
    for id in doomed {
        // A kind the member no longer serves has nothing left to delete.
        let Ok((resource, api)) = agent.api_of(member, id).await else {
            continue;
        };
        let api = api.unwrap_or_else(|| Api::all_with(member.client.clone(), &resource));
        ignore_not_found(api.delete(&id.name, &DeleteParams::default()).await)?;
    }
    if keep.is_empty() {
        ignore_not_found(records.delete(record, &DeleteParams::default()).await)?;
    }
    Ok(())
}

fn ignore_not_found<T>(result: kube::Result<T>) -> Result<()> {
    match result {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Writes the record listing `placed`, creating its namespace on the member when missing; an
/// unchanged record is not written.
pub(super) async fn write_record(
    member: &MemberTarget,
    record: &str,
    placed: &BTreeMap<String, ResourceRef>,
) -> Result<()> {
    let namespaces: Api<Namespace> = Api::all(member.client.clone());
    if namespaces.get_opt(RECORD_NAMESPACE).await?.is_none() {
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(RECORD_NAMESPACE.to_string()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        match namespaces.create(&post_params(), &ns).await {
            Ok(_) => {}
            Err(kube::Error::Api(status)) if status.code == 409 => {}
            Err(e) => return Err(e.into()),
        }
    }
    let records: Api<ConfigMap> = Api::namespaced(member.client.clone(), RECORD_NAMESPACE);
    let manifests = serde_json::to_string(placed).map_err(|source| AgentError::Serialize {
        what: "the record of placed objects",
        source,
    })?;
    let data = BTreeMap::from([(MANIFESTS.to_string(), manifests)]);
    match records.get_opt(record).await? {
        None => {
            let cm = ConfigMap {
                metadata: ObjectMeta {
                    name: Some(record.to_string()),
                    namespace: Some(RECORD_NAMESPACE.to_string()),
                    ..ObjectMeta::default()
                },
                data: Some(data),
                ..ConfigMap::default()
            };
            records.create(&post_params(), &cm).await?;
        }
        Some(live) if live.data.as_ref() == Some(&data) => {}
        Some(_) => {
            /// A merge patch of the record's data alone.
            #[derive(Debug, Serialize)]
            struct DataPatch<'a> {
                data: &'a BTreeMap<String, String>,
            }
            records
                .patch(
                    record,
                    &patch_params(),
                    &Patch::Merge(DataPatch { data: &data }),
                )
                .await?;
        }
    }
    Ok(())
}
