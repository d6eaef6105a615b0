//! People's own writes on the embedded hub (kubectl with their token) recorded the way the
//! console records its actions: an Event naming the person on the run (and on the approval
//! request), and `fleetdeck.dev/approved-by` on an approved request. The console's writes, made
//! by impersonation, are skipped: the console records those itself. What to record is decided
//! by `app::fleet::views::attribution`; this reads the written object and writes the result.
//!
//! A real hub has no such stream: there, kube-apiserver's audit log is the record of kubectl
//! writes (README "Security").

use app::fleet::staged::staged_update_run::UpdateRunState;
use app::fleet::types::condition::{find_condition, types, Time, TRUE};
use app::fleet::types::event::{self, Note};
use app::fleet::types::kind::{
    ApprovalRequest, ClusterApprovalRequest, ClusterStagedUpdateRun, StagedUpdateRun,
};
use app::fleet::views::attribution::{
    approved_by, attribute, subject, Attribution, PersonWrite, Subject, Written,
    APPROVED_BY_ANNOTATION,
};
use app::fleet::{FleetKind, Object};
use hub::writes::Write;
use k8s_openapi::api::core::v1::{Event, ObjectReference};
use kube::api::{Api, Patch, PatchParams, PostParams};
use tokio::sync::broadcast::error::RecvError;
use tracing::warn;

/// What `kubectl describe` shows as the Events' source.
const COMPONENT: &str = "fleetdeck-hub";

/// Records every person's write announced by `writes` until the hub closes the stream.
pub async fn run(client: kube::Client, mut writes: tokio::sync::broadcast::Receiver<Write>) {
    loop {
        match writes.recv().await {
            Ok(write) if !write.impersonated => record(&client, &write).await,
            Ok(_) => {}
            Err(RecvError::Lagged(missed)) => {
                warn!(
                    missed,
                    "fell behind the hub's writes; some kubectl actions go unrecorded"
                )
            }
            Err(RecvError::Closed) => return,
        }
    }
}

async fn record(client: &kube::Client, write: &Write) {
    let person = PersonWrite {
        user: &write.user,
        verb: &write.verb,
        group: &write.group,
        resource: &write.resource,
        subresource: &write.subresource,
        name: &write.name,
    };
    let ns = (!write.namespace.is_empty()).then_some(write.namespace.as_str());
    let c = client;
    let result = match (subject(&person), ns) {
        (Some(Subject::Run), None) => {
            let runs = Api::<Object<ClusterStagedUpdateRun>>::all(c.clone());
            run_write(c, runs, &person, ns).await
        }
        (Some(Subject::Run), Some(n)) => {
            let runs = Api::<Object<StagedUpdateRun>>::namespaced(c.clone(), n);
            run_write(c, runs, &person, ns).await
        }
        (Some(Subject::Approval), None) => {
            let requests = Api::<Object<ClusterApprovalRequest>>::all(c.clone());
            approval_write::<_, ClusterStagedUpdateRun>(c, requests, &person, ns).await
        }
        (Some(Subject::Approval), Some(n)) => {
            let requests = Api::<Object<ApprovalRequest>>::namespaced(c.clone(), n);
            approval_write::<_, StagedUpdateRun>(c, requests, &person, ns).await
        }
        (None, _) => Ok(()),
    };
    if let Err(error) = result {
        warn!(%error, user = %write.user, name = %write.name, "could not record a kubectl write");
    }
}

fn reference<K: FleetKind>(name: &str, ns: Option<&str>, uid: Option<String>) -> ObjectReference {
    ObjectReference {
        api_version: Some(K::api_version()),
        kind: Some(K::KIND.to_string()),
        name: Some(name.to_string()),
        namespace: ns.map(str::to_string),
        uid,
        ..Default::default()
    }
}

async fn run_write<R>(
    client: &kube::Client,
    runs: Api<Object<R>>,
    person: &PersonWrite<'_>,
    ns: Option<&str>,
) -> kube::Result<()>
where
    R: FleetKind<Spec = app::fleet::staged::staged_update_run::StagedUpdateRunSpec>,
{
    let run = runs.get_opt(person.name).await?;
    let state: Option<UpdateRunState> = run.as_ref().and_then(|r| r.spec.state);
    let Some(attribution) = attribute(person, &Written::Run(state)) else {
        return Ok(());
    };
    let uid = run.and_then(|r| r.metadata.uid);
    emit(
        client,
        &reference::<R>(person.name, ns, uid),
        person.user,
        &attribution,
    )
    .await
}

async fn approval_write<A, R>(
    client: &kube::Client,
    requests: Api<Object<A>>,
    person: &PersonWrite<'_>,
    ns: Option<&str>,
) -> kube::Result<()>
where
    A: FleetKind<
        Spec = app::fleet::staged::approval::ApprovalRequestSpec,
        Status = app::fleet::staged::approval::ApprovalRequestStatus,
    >,
    R: FleetKind,
{
    let Some(request) = requests.get_opt(person.name).await? else {
        return Ok(());
    };
    let conditions = request
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    let approved = find_condition(&conditions, types::APPROVED).is_some_and(|c| c.status == TRUE);
    let written = Written::Approval {
        run: request.spec.parent_stage_rollout.clone(),
        stage: request.spec.target_stage.clone(),
        approved,
        approved_by: request
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(APPROVED_BY_ANNOTATION).cloned()),
    };
    let Some(attribution) = attribute(person, &written) else {
        return Ok(());
    };
    if let Some(by) = &attribution.approved_by {
        requests
            .patch(
                person.name,
                &PatchParams::default(),
                &Patch::Merge(&approved_by(by)),
            )
            .await?;
    }
    let on_request = reference::<A>(person.name, ns, request.metadata.uid.clone());
    emit(client, &on_request, person.user, &attribution).await?;
    if let Some(run) = &attribution.also_on_run {
        emit(
            client,
            &reference::<R>(run, ns, None),
            person.user,
            &attribution,
        )
        .await?;
    }
    Ok(())
}

async fn emit(
    client: &kube::Client,
    object: &ObjectReference,
    user: &str,
    attribution: &Attribution,
) -> kube::Result<()> {
    let note = Note {
        type_: "Normal",
        reason: attribution.reason,
        message: attribution.message.clone(),
        action: attribution.action,
        component: COMPONENT,
        controller: COMPONENT,
        actor: Some(user),
    };
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let body = event::core_event(object, &note, &now, now.0.as_nanosecond());
    Api::<Event>::namespaced(client.clone(), event::namespace_of(object))
        .create(&PostParams::default(), &body)
        .await
        .map(|_| ())
}
