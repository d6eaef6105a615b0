use leptos::prelude::*;

use super::RunKey;
use crate::error::AppError;
use crate::fleet::views::run_detail::RunDetail;

/// One run as the run page shows it: timeline, conditions in words, troubleshooting.
#[server(prefix = "/api", endpoint = "runs/get")]
pub async fn get_run(key: RunKey) -> Result<RunDetail, AppError> {
    let client = crate::server_fns::ssr::hub()?;
    ssr::load(&client, &key).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use kube::api::{Api, ListParams};

    use super::RunKey;
    use crate::error::AppError;
    use crate::fleet::placement::binding::{ResourceBindingSpec, ResourceBindingStatus};
    use crate::fleet::staged::approval::{ApprovalRequestSpec, ApprovalRequestStatus};
    use crate::fleet::staged::staged_update_run::{StagedUpdateRunSpec, StagedUpdateRunStatus};
    use crate::fleet::types::condition::Time;
    use crate::fleet::types::names::{PARENT_PLACEMENT_LABEL, TARGET_UPDATE_RUN_LABEL};
    use crate::fleet::views::pod_trouble;
    use crate::fleet::views::run_detail::{
        self, ApprovalFacts, BindingTrouble, ClusterState, RunDetail,
    };
    use crate::fleet::views::run_view::RunPill;
    use crate::fleet::{types::kind, FleetKind, Object};
    use crate::server_fns::ssr::explain;
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::Pod;

    /// Reads the run, its approval requests and (when it is stuck) its bindings from the hub and
    /// derives the page's view. Shared by the first render and the live stream.
    pub async fn load(client: &kube::Client, key: &RunKey) -> Result<RunDetail, AppError> {
        match key.namespace() {
            None => {
                load_in::<
                    kind::ClusterStagedUpdateRun,
                    kind::ClusterApprovalRequest,
                    kind::ClusterResourceBinding,
                >(
                    Api::all(client.clone()),
                    Api::all(client.clone()),
                    Api::all(client.clone()),
                    key,
                )
                .await
            }
            Some(ns) => {
                load_in::<kind::StagedUpdateRun, kind::ApprovalRequest, kind::ResourceBinding>(
                    Api::namespaced(client.clone(), ns),
                    Api::namespaced(client.clone(), ns),
                    Api::namespaced(client.clone(), ns),
                    key,
                )
                .await
            }
        }
    }

    async fn load_in<R, A, B>(
        runs: Api<Object<R>>,
        approvals: Api<Object<A>>,
        bindings: Api<Object<B>>,
        key: &RunKey,
    ) -> Result<RunDetail, AppError>
    where
        R: FleetKind<Spec = StagedUpdateRunSpec, Status = StagedUpdateRunStatus>,
        A: FleetKind<Spec = ApprovalRequestSpec, Status = ApprovalRequestStatus>,
        B: FleetKind<Spec = ResourceBindingSpec, Status = ResourceBindingStatus>,
    {
        let what = key.describe();
        let run = runs.get(&key.name).await.map_err(|e| explain(e, &what))?;
        let selector = format!("{TARGET_UPDATE_RUN_LABEL}={}", key.name);
        let approvals: Vec<ApprovalFacts> = approvals
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| explain(e, "the run's approval requests"))?
            .items
            .into_iter()
            .map(|a| ApprovalFacts {
                name: a.name().to_string(),
                generation: a.generation(),
                conditions: a.status.and_then(|s| s.conditions).unwrap_or_default(),
            })
            .collect();
        let now = Time(k8s_openapi::jiff::Timestamp::now());
        let detail = run_detail::detail(&run, &approvals, &[], &now);
        if detail.row.pill != RunPill::Stuck {
            return Ok(detail);
        }
        // Only a stuck run needs its bindings: they say why the clusters are not available.
        let selector = format!("{PARENT_PLACEMENT_LABEL}={}", run.spec.placement_name);
        let mut troubles: Vec<BindingTrouble> = bindings
            .list(&ListParams::default().labels(&selector))
            .await
            .map_err(|e| explain(e, "the placement's bindings"))?
            .items
            .iter()
            .map(BindingTrouble::of)
            .collect();
        let stuck: Vec<String> = detail
            .stages
            .iter()
            .flat_map(|s| &s.chips)
            .filter(|c| c.state == ClusterState::Stuck)
            .map(|c| c.name.clone())
            .collect();
        ask_members(&mut troubles, &stuck).await;
        Ok(run_detail::detail(&run, &approvals, &troubles, &now))
    }

    /// The most a stuck run asks of its members per load: a few clusters, a few workloads each.
    const ASK_CLUSTERS: usize = 3;
    const ASK_WORKLOADS: usize = 3;

    /// Fills in what the members themselves say about the stuck clusters' Deployments (a pod
    /// that cannot pull its image). Best effort: a member that cannot be asked leaves the
    /// binding's own words.
    async fn ask_members(troubles: &mut [BindingTrouble], stuck: &[String]) {
        let members = crate::server_fns::ssr::members();
        for trouble in troubles
            .iter_mut()
            .filter(|t| stuck.contains(&t.cluster))
            .take(ASK_CLUSTERS)
        {
            let Some(client) = members.client(&trouble.cluster) else {
                continue;
            };
            for failed in trouble
                .failed
                .iter_mut()
                .filter(|f| f.group == "apps" && f.kind == "Deployment")
                .take(ASK_WORKLOADS)
            {
                let Some(ns) = failed.namespace.clone() else {
                    continue;
                };
                failed.cause = deployment_cause(&client, &ns, &failed.name).await;
            }
        }
    }

    async fn deployment_cause(client: &kube::Client, ns: &str, name: &str) -> Option<String> {
        let deployment = Api::<Deployment>::namespaced(client.clone(), ns)
            .get(name)
            .await
            .ok()?;
        let labels = deployment.spec.selector.match_labels?;
        let selector: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let pods = Api::<Pod>::namespaced(client.clone(), ns)
            .list(&ListParams::default().labels(&selector.join(",")))
            .await
            .ok()?;
        pod_trouble::cause(&pods.items)
    }
}
