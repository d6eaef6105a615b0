//! What `fleetdeck member join|leave` do on the hub (placement-extras §4): join creates the
//! member's MemberCluster, as `kubectl create` of one would, and waits until it has joined (the
//! running fleetdeck starts a simulated cluster for it in the embedded mode); leave deletes it and
//! waits until it is gone. Nothing placed on a member is deleted when it leaves.

use std::time::Duration;

use app::fleet::types::condition::{find_condition, types, TRUE};
use app::fleet::types::names::MEMBER_NAME_LABEL;
use app::fleet::MemberCluster;
use kube::api::{Api, DeleteParams, PostParams};
use kube::runtime::wait::{await_condition, conditions};

use super::fleet_config;
use super::registration::registered_spec;

/// Why a join or leave did not happen.
#[derive(Debug, thiserror::Error)]
pub enum MemberCommandError {
    #[error("{0}")]
    Config(#[from] fleet_config::FleetConfigError),
    #[error("member cluster {0} is already in the fleet")]
    AlreadyMember(String),
    #[error("member cluster {0} is still leaving the fleet; join it again once it is gone")]
    StillLeaving(String),
    #[error("member cluster {0} is not in the fleet")]
    NotMember(String),
    #[error("member cluster {name} did not {what} within {}s: is fleetdeck running against this hub?", .waited.as_secs())]
    TimedOut {
        name: String,
        what: &'static str,
        waited: Duration,
    },
    #[error("kube: {0}")]
    Kube(#[from] kube::Error),
    #[error("watching the member: {0}")]
    Wait(#[from] kube::runtime::wait::Error),
}

/// The MemberCluster `fleetdeck member join NAME --label k=v …` creates: the labels (checked as
/// `--member` flags are), KubeFleet's member-name label, and the spec a registering member agent
/// writes.
pub fn member_cluster(name: &str, labels: &[String]) -> Result<MemberCluster, MemberCommandError> {
    let config = fleet_config::parse(&format!("{name}:{}", labels.join(",")))?;
    let mut labels = config.labels;
    labels.insert(MEMBER_NAME_LABEL.to_string(), config.name.clone());
    let mut member = MemberCluster::new(&config.name, registered_spec(&config.name));
    member.metadata.labels = Some(labels);
    Ok(member)
}

/// Creates `member` and waits up to `wait` (zero: not at all) until it has joined.
pub async fn join(
    hub: &kube::Client,
    member: &MemberCluster,
    wait: Duration,
) -> Result<MemberCluster, MemberCommandError> {
    let api: Api<MemberCluster> = Api::all(hub.clone());
    let name = member.metadata.name.clone().unwrap_or_default();
    if let Some(existing) = api.get_opt(&name).await? {
        return Err(if existing.metadata.deletion_timestamp.is_some() {
            MemberCommandError::StillLeaving(name)
        } else {
            MemberCommandError::AlreadyMember(name)
        });
    }
    let created = api.create(&PostParams::default(), member).await?;
    // A real member's own agent reports the join, on its own time: `--wait 0s` does not wait.
    if wait.is_zero() {
        return Ok(created);
    }
    let joined = |m: Option<&MemberCluster>| {
        m.and_then(|m| m.status.as_ref())
            .and_then(|s| s.conditions.as_deref())
            .and_then(|c| find_condition(c, types::JOINED))
            .is_some_and(|c| c.status == TRUE)
    };
    match tokio::time::timeout(wait, await_condition(api, &name, joined)).await {
        Ok(Ok(Some(member))) => Ok(member),
        Ok(Err(e)) => Err(e.into()),
        _ => Err(MemberCommandError::TimedOut {
            name,
            what: "join",
            waited: wait,
        }),
    }
}

/// Deletes member `name` and waits up to `wait` (zero: not at all) until it is gone.
pub async fn leave(
    hub: &kube::Client,
    name: &str,
    wait: Duration,
) -> Result<(), MemberCommandError> {
    let api: Api<MemberCluster> = Api::all(hub.clone());
    let Some(member) = api.get_opt(name).await? else {
        return Err(MemberCommandError::NotMember(name.to_string()));
    };
    api.delete(name, &DeleteParams::default()).await?;
    if wait.is_zero() {
        return Ok(());
    }
    let uid = member.metadata.uid.unwrap_or_default();
    match tokio::time::timeout(
        wait,
        await_condition(api, name, conditions::is_deleted(&uid)),
    )
    .await
    {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(e.into()),
        Err(_) => Err(MemberCommandError::TimedOut {
            name: name.to_string(),
            what: "leave",
            waited: wait,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_joining_member_carries_its_labels_and_the_member_name_label() {
        let member = member_cluster("member4", &["environment=canary".into(), "order=3".into()])
            .expect("valid");
        let labels = member.metadata.labels.expect("labels");
        assert_eq!(labels["environment"], "canary");
        assert_eq!(labels["order"], "3");
        assert_eq!(labels[MEMBER_NAME_LABEL], "member4");
        assert_eq!(member.spec.heartbeat_period_seconds, Some(60));
    }

    #[test]
    fn a_bad_name_or_label_is_refused_with_the_flags_wording() {
        assert!(member_cluster("Member_4", &[]).is_err());
        let err = member_cluster("member4", &["environment".into()]).expect_err("no value");
        assert_eq!(
            err.to_string(),
            "label \"environment\" of member member4 must be key=value"
        );
    }
}
