//! A binding's overrides on its cluster (placement-extras §1.8): the snapshots the binding names,
//! read from the hub in its order, and the cluster's labels, handed to
//! `app::fleet::overrides::rendering`. In KubeFleet the hub's work generator renders and the
//! member applies Works as they are; fleetdeck has no Work objects, so the agent renders right
//! before it applies, with the same inputs and the same outcome.

use app::fleet::overrides::matching::{CroSnapshot, RoSnapshot};
use app::fleet::overrides::rendering::{render, BindingOverrides, OverrideError, TargetCluster};
use app::fleet::placement::binding::ResourceBindingSpec;
use app::fleet::{ClusterResourceOverrideSnapshot, MemberCluster, ResourceOverrideSnapshot};
use kube::Api;
use serde_json::Value;

use super::{AgentError, Result};

/// What the cluster gets.
pub(super) enum Rendered {
    /// The objects to apply (those a Delete rule dropped left out); `with_overrides` when the
    /// binding names any override.
    Objects {
        objects: Vec<Value>,
        with_overrides: bool,
    },
    /// The overrides cannot be applied: the user's to fix, nothing is applied.
    Failed(OverrideError),
}

/// `objects` (the binding's snapshot group) as the binding's overrides make them for its cluster.
pub(super) async fn render_for_cluster(
    hub: &kube::Client,
    spec: &ResourceBindingSpec,
    objects: Vec<Value>,
) -> Result<Rendered> {
    let cro_names = spec
        .cluster_resource_override_snapshots
        .as_deref()
        .unwrap_or_default();
    let ro_names = spec
        .resource_override_snapshots
        .as_deref()
        .unwrap_or_default();
    if cro_names.is_empty() && ro_names.is_empty() {
        return Ok(Rendered::Objects {
            objects,
            with_overrides: false,
        });
    }
    let mut overrides = BindingOverrides::default();
    let cros = Api::<ClusterResourceOverrideSnapshot>::all(hub.clone());
    for name in cro_names {
        match cros.get_opt(name).await? {
            Some(s) => overrides.cros.push(CroSnapshot {
                name: name.clone(),
                spec: s.spec,
            }),
            None => return Ok(Rendered::Failed(OverrideError::CroNotFound(name.clone()))),
        }
    }
    for r in ro_names {
        let ros = Api::<ResourceOverrideSnapshot>::namespaced(hub.clone(), &r.namespace);
        match ros.get_opt(&r.name).await? {
            Some(s) => overrides.ros.push(RoSnapshot {
                name: r.name.clone(),
                namespace: r.namespace.clone(),
                spec: s.spec,
            }),
            None => {
                return Ok(Rendered::Failed(OverrideError::RoNotFound {
                    name: r.name.clone(),
                    namespace: r.namespace.clone(),
                }))
            }
        }
    }
    let member = Api::<MemberCluster>::all(hub.clone())
        .get_opt(&spec.target_cluster)
        .await?
        // The binding is about to be unscheduled (KubeFleet: expected behaviour, retried).
        .ok_or_else(|| AgentError::NoMemberCluster(spec.target_cluster.clone()))?;
    let cluster = TargetCluster {
        name: &spec.target_cluster,
        labels: member.labels(),
    };
    Ok(match render(&objects, &overrides, cluster) {
        Ok(rendered) => Rendered::Objects {
            objects: rendered.into_iter().flatten().collect(),
            with_overrides: true,
        },
        Err(error) => Rendered::Failed(error),
    })
}
