//! Members joining and leaving the fleet (placement-extras §4): what the hub does with a
//! `MemberCluster` at each step of its life, the conditions a leaving member reports, and what
//! happens to the objects a binding placed on a member that is gone. Pure: the member agent and
//! the membership controller read the member, call these, and write what they decide.

use crate::placement::member_cluster::{MemberClusterStatus, MEMBER_AGENT};
use crate::types::condition::{
    messages, new_condition, reasons, set_condition, types, Time, FALSE,
};
use crate::MemberCluster;

/// The finalizer that holds a MemberCluster until its leave is seen through (§4.2 step 4).
pub const MEMBER_CLUSTER_FINALIZER: &str = "kubernetes-fleet.io/membercluster-finalizer";

/// The next step for one MemberCluster.
#[derive(Clone, Debug, PartialEq)]
pub enum MembershipStep {
    /// A new member: hold it with [`MEMBER_CLUSTER_FINALIZER`] so its leave can be seen through.
    AddFinalizer,
    /// A member of the fleet: its agent (and, embedded, its simulated cluster) runs.
    Join,
    /// Deleted while held: stop its agent, write `status` (none when the left conditions are
    /// there already), then remove the finalizer.
    Leave {
        status: Option<Box<MemberClusterStatus>>,
    },
    /// Deleted and let go; only other finalizers hold it. Its agent must not run.
    Gone,
}

/// Whether `member` is on its way out of the fleet.
pub fn is_leaving(member: &MemberCluster) -> bool {
    member.metadata.deletion_timestamp.is_some()
}

fn held(member: &MemberCluster) -> bool {
    member
        .metadata
        .finalizers
        .iter()
        .flatten()
        .any(|f| f == MEMBER_CLUSTER_FINALIZER)
}

/// The step `member` is at (§4.2): KubeFleet's hub adds its finalizer to every member, and on
/// deletion has the agent leave, reports the member left and lets it go.
pub fn membership_step(member: &MemberCluster, now: &Time) -> MembershipStep {
    match (is_leaving(member), held(member)) {
        (false, false) => MembershipStep::AddFinalizer,
        (false, true) => MembershipStep::Join,
        (true, true) => {
            let status = left_status(member, now);
            let unchanged = member.status.as_ref().is_some_and(|old| {
                old.conditions == status.conditions && old.agent_status == status.agent_status
            });
            MembershipStep::Leave {
                status: (!unchanged).then(|| Box::new(status)),
            }
        }
        (true, false) => MembershipStep::Gone,
    }
}

/// The status of a member whose agent has left (§4.1): `ReadyToJoin` False
/// `MemberClusterNotReadyToJoin`, `Joined` False `MemberClusterLeft`, the member agent's `Joined`
/// False `InternalMemberClusterLeft` (KubeFleet's agent writes no message); `Healthy` and the
/// heartbeat stay as last reported. Conditions already False keep their `lastTransitionTime`.
/// Only conditions and agent statuses are set, complete, for a merge patch of the status.
pub fn left_status(member: &MemberCluster, now: &Time) -> MemberClusterStatus {
    // A member read from the hub always has a generation; 1 is what a new object starts at.
    let generation = member.metadata.generation.unwrap_or(1);
    let old = member.status.clone().unwrap_or_default();
    let mut conditions = old.conditions.unwrap_or_default();
    set_condition(
        &mut conditions,
        new_condition(
            types::READY_TO_JOIN,
            FALSE,
            reasons::MEMBER_CLUSTER_NOT_READY_TO_JOIN,
            messages::MEMBER_CLUSTER_NOT_READY_TO_JOIN,
            generation,
            now,
        ),
    );
    set_condition(
        &mut conditions,
        new_condition(
            types::JOINED,
            FALSE,
            reasons::MEMBER_CLUSTER_LEFT,
            messages::MEMBER_CLUSTER_LEFT,
            generation,
            now,
        ),
    );
    let mut agents = old.agent_status.unwrap_or_default();
    if !agents.iter().any(|a| a.type_ == MEMBER_AGENT) {
        agents.push(crate::placement::member_cluster::AgentStatus {
            type_: MEMBER_AGENT.to_string(),
            ..Default::default()
        });
    }
    for agent in agents.iter_mut().filter(|a| a.type_ == MEMBER_AGENT) {
        set_condition(
            agent.conditions.get_or_insert_with(Vec::new),
            new_condition(
                types::JOINED,
                FALSE,
                reasons::INTERNAL_MEMBER_CLUSTER_LEFT,
                "",
                generation,
                now,
            ),
        );
    }
    MemberClusterStatus {
        conditions: Some(conditions),
        agent_status: Some(agents),
        ..MemberClusterStatus::default()
    }
}

/// What happens to the objects a deleted binding placed on its member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlacedObjects {
    /// The member is in the fleet: the binding's removal takes its objects with it.
    Remove,
    /// The member left (or is leaving): its objects stay where they are, and the binding's
    /// cleanup finalizer goes without waiting for a member nobody drives any more (§4.3).
    LeaveInPlace,
}

/// What a binding's deletion does on `member` (`None`: no such MemberCluster on the hub).
pub fn on_binding_deletion(member: Option<&MemberCluster>) -> PlacedObjects {
    match member {
        Some(m) if !is_leaving(m) => PlacedObjects::Remove,
        _ => PlacedObjects::LeaveInPlace,
    }
}

#[cfg(test)]
mod tests {
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time as MetaTime;

    use super::*;
    use crate::placement::member_cluster::MemberClusterSpec;
    use crate::placement::member_status::joined_status;
    use crate::types::condition::{find_condition, TRUE};

    fn t(s: &str) -> Time {
        Time(s.parse().expect("valid timestamp"))
    }

    fn member(finalizer: bool, deleting: bool) -> MemberCluster {
        let mut m = MemberCluster::new("member1", MemberClusterSpec::default());
        m.metadata.generation = Some(2);
        if finalizer {
            m.metadata.finalizers = Some(vec![MEMBER_CLUSTER_FINALIZER.to_string()]);
        }
        if deleting {
            m.metadata.deletion_timestamp = Some(MetaTime(t("2026-01-01T01:00:00Z").0));
        }
        m.status = Some(joined_status(1, &t("2026-01-01T00:00:00Z"), 3, None));
        m
    }

    #[test]
    fn a_member_is_held_then_joins_then_leaves_then_is_let_go() {
        let now = t("2026-01-01T01:00:01Z");
        assert_eq!(
            membership_step(&member(false, false), &now),
            MembershipStep::AddFinalizer
        );
        assert_eq!(
            membership_step(&member(true, false), &now),
            MembershipStep::Join
        );
        let MembershipStep::Leave { status: Some(_) } = membership_step(&member(true, true), &now)
        else {
            panic!("a held deleted member leaves with its left conditions");
        };
        assert_eq!(
            membership_step(&member(false, true), &now),
            MembershipStep::Gone
        );
    }

    #[test]
    fn a_leaving_member_reports_kubefleets_left_conditions_once() {
        let now = t("2026-01-01T01:00:01Z");
        let mut m = member(true, true);
        let status = left_status(&m, &now);
        let conditions = status.conditions.as_deref().expect("conditions");
        let ready = find_condition(conditions, types::READY_TO_JOIN).expect("ReadyToJoin");
        assert_eq!(
            (
                ready.status.as_str(),
                ready.reason.as_str(),
                ready.message.as_str()
            ),
            (
                "False",
                "MemberClusterNotReadyToJoin",
                "Member cluster is not ready to join the fleet"
            )
        );
        let joined = find_condition(conditions, types::JOINED).expect("Joined");
        assert_eq!(
            (
                joined.status.as_str(),
                joined.reason.as_str(),
                joined.message.as_str(),
                joined.observed_generation
            ),
            (
                "False",
                "MemberClusterLeft",
                "Member cluster has left the fleet",
                Some(2)
            )
        );
        assert_eq!(joined.last_transition_time, now, "a transition");
        let healthy = find_condition(conditions, types::HEALTHY).expect("Healthy kept");
        assert_eq!(healthy.status, TRUE);
        let agent = status.agent(MEMBER_AGENT).expect("member agent");
        let agent_joined = find_condition(
            agent.conditions.as_deref().expect("agent conditions"),
            types::JOINED,
        )
        .expect("agent Joined");
        assert_eq!(
            (agent_joined.status.as_str(), agent_joined.reason.as_str()),
            ("False", "InternalMemberClusterLeft")
        );
        assert!(
            agent.last_received_heartbeat.is_some(),
            "the last heartbeat stays"
        );

        // Written once: the next pass finds nothing to write.
        m.status = Some(status);
        assert_eq!(
            membership_step(&m, &t("2026-01-01T01:05:00Z")),
            MembershipStep::Leave { status: None }
        );
    }

    #[test]
    fn objects_stay_on_a_member_that_left_or_is_leaving() {
        assert_eq!(on_binding_deletion(None), PlacedObjects::LeaveInPlace);
        assert_eq!(
            on_binding_deletion(Some(&member(true, true))),
            PlacedObjects::LeaveInPlace
        );
        assert_eq!(
            on_binding_deletion(Some(&member(true, false))),
            PlacedObjects::Remove
        );
    }
}
