//! The hub reads and writes behind the strategies' server functions, generic over the two scopes.

use k8s_openapi::api::core::v1::ObjectReference;
use kube::api::{Api, DeleteParams, ListParams, PostParams};

use super::{PreviewContext, PreviewMember, PreviewPlacement, StrategyKey};
use crate::error::{AppError, FieldCause};
use crate::fleet::staged::stage_plan::{
    validate_after_stage_tasks, validate_before_stage_tasks, PlanError,
};
use crate::fleet::staged::staged_update::StagedUpdateStrategySpec;
use crate::fleet::types::label_selector;
use crate::fleet::views::strategy_form::StrategyDraft;
use crate::fleet::{
    ClusterStagedUpdateStrategy, FleetKind, MemberCluster, Object, StagedUpdateStrategy,
};
use crate::server_fns::ssr::{acting_user, explain, record, reference, CONSOLE};

/// Every strategy of both scopes with its spec.
pub async fn all(
    client: &kube::Client,
) -> Result<Vec<(StrategyKey, StagedUpdateStrategySpec)>, AppError> {
    let all = ListParams::default();
    let cluster = Api::<ClusterStagedUpdateStrategy>::all(client.clone())
        .list(&all)
        .await
        .map_err(|e| explain(e, "the cluster staged update strategies"))?;
    let namespaced = Api::<StagedUpdateStrategy>::all(client.clone())
        .list(&all)
        .await
        .map_err(|e| explain(e, "the staged update strategies"))?;
    Ok(cluster
        .items
        .into_iter()
        .map(|s| (StrategyKey::new(None, s.name()), s.spec))
        .chain(
            namespaced
                .items
                .into_iter()
                .map(|s| (StrategyKey::new(s.namespace(), s.name()), s.spec)),
        )
        .collect())
}

fn draft_of<K: FleetKind<Spec = StagedUpdateStrategySpec>>(object: &Object<K>) -> StrategyDraft {
    StrategyDraft::of(
        object.namespace(),
        object.name(),
        object
            .metadata
            .resource_version
            .as_deref()
            .unwrap_or_default(),
        &object.spec,
    )
}

pub async fn draft(client: &kube::Client, key: &StrategyKey) -> Result<StrategyDraft, AppError> {
    let what = key.describe();
    match key.namespace() {
        None => Api::<ClusterStagedUpdateStrategy>::all(client.clone())
            .get(&key.name)
            .await
            .map(|o| draft_of(&o)),
        Some(ns) => Api::<StagedUpdateStrategy>::namespaced(client.clone(), ns)
            .get(&key.name)
            .await
            .map(|o| draft_of(&o)),
    }
    .map_err(|e| explain(e, &what))
}

fn rejected(message: String, causes: Vec<FieldCause>) -> AppError {
    AppError::Rejected { message, causes }
}

/// The spec the draft stands for; selector text that does not read is refused by field, before
/// the hub is asked (the hub never sees the text).
pub fn checked_spec(draft: &StrategyDraft) -> Result<StagedUpdateStrategySpec, AppError> {
    draft.spec().map_err(|problems| {
        let causes: Vec<FieldCause> = problems
            .iter()
            .map(|p| FieldCause {
                field: format!("spec.stages[{}].labelSelector", p.stage),
                message: p.error.to_string(),
            })
            .collect();
        let message = causes
            .first()
            .map(|c| format!("{}: {}", c.field, c.message))
            .unwrap_or_default();
        rejected(message, causes)
    })
}

/// The hub's 422 with its causes by field; every other answer as [`explain`] words it.
fn hub_error(error: kube::Error, what: &str) -> AppError {
    match error {
        kube::Error::Api(status) if status.code == 422 => {
            let causes = status
                .details
                .as_ref()
                .map(|d| {
                    d.causes
                        .iter()
                        .map(|c| FieldCause {
                            field: c.field.clone(),
                            message: c.message.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            rejected(format!("the hub refused it: {}", status.message), causes)
        }
        kube::Error::Api(status) if status.code == 409 && status.reason == "AlreadyExists" => {
            AppError::Conflict(format!("{what} already exists: choose another name"))
        }
        other => explain(other, what),
    }
}

/// Creates (no `resourceVersion`) or updates the strategy, or with `dry_run` asks the hub to
/// check it only. An update keeps the object's labels and annotations and replaces its spec.
pub async fn write(
    client: &kube::Client,
    draft: &StrategyDraft,
    spec: StagedUpdateStrategySpec,
    dry_run: bool,
) -> Result<(StrategyDraft, ObjectReference), AppError> {
    let name = draft.name.trim();
    let key = StrategyKey::new(draft.namespace(), name);
    match draft.namespace() {
        None => {
            let api = Api::<ClusterStagedUpdateStrategy>::all(client.clone());
            put(
                api,
                ClusterStagedUpdateStrategy::new(name, spec),
                draft,
                &key,
                dry_run,
            )
            .await
        }
        Some(ns) => {
            let api = Api::<StagedUpdateStrategy>::namespaced(client.clone(), ns);
            let object = StagedUpdateStrategy::new_namespaced(ns, name, spec);
            put(api, object, draft, &key, dry_run).await
        }
    }
}

async fn put<K: FleetKind<Spec = StagedUpdateStrategySpec>>(
    api: Api<Object<K>>,
    new: Object<K>,
    draft: &StrategyDraft,
    key: &StrategyKey,
    dry_run: bool,
) -> Result<(StrategyDraft, ObjectReference), AppError> {
    let what = key.describe();
    let params = PostParams {
        dry_run,
        field_manager: Some(CONSOLE.into()),
    };
    let stored = if draft.resource_version.is_empty() {
        api.create(&params, &new).await
    } else {
        let mut current = api.get(&key.name).await.map_err(|e| explain(e, &what))?;
        // The version the edit started from: a change made since is a 409, not overwritten.
        current.metadata.resource_version = Some(draft.resource_version.clone());
        current.spec = new.spec;
        api.replace(&key.name, &params, &current).await
    }
    .map_err(|e| hub_error(e, &what))?;
    Ok((draft_of(&stored), reference(&stored)))
}

/// What a run's initialization checks that the hub does not (spec §9.3 step 4): each stage's
/// task lists and label selector, in the engine's words, by field.
pub fn initialization_checks(
    draft: &StrategyDraft,
    spec: &StagedUpdateStrategySpec,
) -> Result<(), AppError> {
    let strategy = draft.key();
    let mut causes = Vec::new();
    for (i, stage) in spec.stages.iter().enumerate() {
        let mut fail = |field: &str, error: PlanError| {
            causes.push(FieldCause {
                field: format!("spec.stages[{i}].{field}"),
                message: error.to_string(),
            })
        };
        if let Err(detail) = validate_before_stage_tasks(stage.before_tasks()) {
            let (strategy, stage) = (strategy.clone(), stage.name.clone());
            fail(
                "beforeStageTasks",
                PlanError::BeforeStageTasksInvalid {
                    strategy,
                    stage,
                    detail,
                },
            );
        }
        if let Err(detail) = validate_after_stage_tasks(stage.after_tasks()) {
            let (strategy, stage) = (strategy.clone(), stage.name.clone());
            fail(
                "afterStageTasks",
                PlanError::AfterStageTasksInvalid {
                    strategy,
                    stage,
                    detail,
                },
            );
        }
        if let Some(Err(detail)) = stage.label_selector.as_ref().map(label_selector::validate) {
            let (strategy, stage) = (strategy.clone(), stage.name.clone());
            fail(
                "labelSelector",
                PlanError::LabelSelectorInvalid {
                    strategy,
                    stage,
                    detail,
                },
            );
        }
    }
    match causes.first() {
        None => Ok(()),
        Some(first) => Err(rejected(
            format!(
                "the hub accepts it, but every run using it would fail to initialize: {}",
                first.message
            ),
            causes,
        )),
    }
}

pub async fn delete<K: FleetKind>(api: Api<Object<K>>, key: &StrategyKey) -> Result<(), AppError> {
    let user = acting_user()?;
    let what = key.describe();
    let strategy = api.get(&key.name).await.map_err(|e| explain(e, &what))?;
    let message = format!("{} deleted the strategy from the console", user.name);
    record(
        &reference(&strategy),
        &user,
        "DeleteRequested",
        "Delete",
        message,
    )
    .await;
    api.delete(&key.name, &DeleteParams::default())
        .await
        .map_err(|e| explain(e, &what))?;
    Ok(())
}

pub async fn preview_context(client: &kube::Client) -> Result<PreviewContext, AppError> {
    let members = Api::<MemberCluster>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| explain(e, "the member clusters"))?
        .items
        .into_iter()
        .map(|m| PreviewMember {
            name: m.name().to_string(),
            labels: m.labels().clone(),
        })
        .collect();
    let placements = crate::server_fns::placements::load::rows(client, None)
        .await?
        .into_iter()
        .map(|row| PreviewPlacement {
            namespace: row.namespace.clone().unwrap_or_default(),
            scheduled: row
                .clusters
                .iter()
                .filter(|c| c.state != "Unscheduled")
                .map(|c| c.cluster.clone())
                .collect(),
            name: row.name,
        })
        .collect();
    Ok(PreviewContext {
        members,
        placements,
    })
}
