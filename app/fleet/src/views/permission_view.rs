//! Buttons that say who may (issue 17): which permission each console action needs on the hub,
//! and, from what the hub answered (SelfSubjectAccessReview), whether a button is enabled or why
//! not. Pure: the server asks the hub with [`ConsoleAction::access`], pages render [`Gate`]s.

use serde::{Deserialize, Serialize};

/// The fleet API group the staged-run console's writes go to.
pub const FLEET_GROUP: &str = "placement.kubernetes-fleet.io";
/// fleetdeck's own group of upgrade runs and their gates (seed 004).
pub const UPDATES_GROUP: &str = crate::types::object::UPDATES_GROUP;

/// What a person can do from the console that changes the fleet.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConsoleAction {
    CreateRun,
    /// Start, stop and resume: a patch of the run's `spec.state`.
    ChangeRunState,
    Approve,
    DeleteRun,
    SaveStrategy,
    DeleteStrategy,
    /// Start, stop and skip of an upgrade run: a write of `updateruns/status` (cluster-scoped).
    ChangeUpgradeRun,
    /// Approving an upgrade run's gate: its `spec.state` to Completed (cluster-scoped).
    ApproveGate,
    /// Deleting an upgrade run that is not active (cluster-scoped).
    DeleteUpgradeRun,
    /// An auto-upgrade profile's "Generate run": creating an UpdateRun (cluster-scoped).
    GenerateUpgradeRun,
}

impl ConsoleAction {
    pub const ALL: [ConsoleAction; 10] = [
        ConsoleAction::CreateRun,
        ConsoleAction::ChangeRunState,
        ConsoleAction::Approve,
        ConsoleAction::DeleteRun,
        ConsoleAction::SaveStrategy,
        ConsoleAction::DeleteStrategy,
        ConsoleAction::ChangeUpgradeRun,
        ConsoleAction::ApproveGate,
        ConsoleAction::DeleteUpgradeRun,
        ConsoleAction::GenerateUpgradeRun,
    ];

    /// Whether the action's kind is cluster-scoped whatever the page's scope (upgrade runs and
    /// their gates): the hub is asked about it without a namespace.
    pub fn cluster_scoped(self) -> bool {
        matches!(
            self,
            ConsoleAction::ChangeUpgradeRun
                | ConsoleAction::ApproveGate
                | ConsoleAction::DeleteUpgradeRun
                | ConsoleAction::GenerateUpgradeRun
        )
    }

    /// The verb in "may not …".
    pub fn phrase(self) -> &'static str {
        match self {
            ConsoleAction::CreateRun => "create runs",
            ConsoleAction::ChangeRunState => "start, stop or resume runs",
            ConsoleAction::Approve => "approve",
            ConsoleAction::DeleteRun => "delete runs",
            ConsoleAction::SaveStrategy => "save strategies",
            ConsoleAction::DeleteStrategy => "delete strategies",
            ConsoleAction::ChangeUpgradeRun => "start, stop or skip upgrade runs",
            ConsoleAction::ApproveGate => "approve upgrade gates",
            ConsoleAction::DeleteUpgradeRun => "delete upgrade runs",
            ConsoleAction::GenerateUpgradeRun => "generate upgrade runs",
        }
    }

    /// The permission the console's request needs: cluster-scoped kinds outside a namespace,
    /// their namespaced twins inside one. Saving a strategy may create or update; the check asks
    /// for `update`, which the shipped roles grant together with `create`.
    pub fn access(self, namespaced: bool) -> Access {
        let kind = |cluster: &'static str, namespaced_kind: &'static str| {
            if namespaced {
                namespaced_kind
            } else {
                cluster
            }
        };
        let (verb, resource, subresource) = match self {
            ConsoleAction::CreateRun => (
                "create",
                kind("clusterstagedupdateruns", "stagedupdateruns"),
                "",
            ),
            ConsoleAction::ChangeRunState => (
                "patch",
                kind("clusterstagedupdateruns", "stagedupdateruns"),
                "",
            ),
            ConsoleAction::Approve => (
                "patch",
                kind("clusterapprovalrequests", "approvalrequests"),
                "status",
            ),
            ConsoleAction::DeleteRun => (
                "delete",
                kind("clusterstagedupdateruns", "stagedupdateruns"),
                "",
            ),
            ConsoleAction::SaveStrategy => (
                "update",
                kind("clusterstagedupdatestrategies", "stagedupdatestrategies"),
                "",
            ),
            ConsoleAction::DeleteStrategy => (
                "delete",
                kind("clusterstagedupdatestrategies", "stagedupdatestrategies"),
                "",
            ),
            // Upgrade runs and gates are cluster-scoped in either case.
            ConsoleAction::ChangeUpgradeRun => ("update", "updateruns", "status"),
            ConsoleAction::ApproveGate => ("update", "gates", ""),
            ConsoleAction::DeleteUpgradeRun => ("delete", "updateruns", ""),
            ConsoleAction::GenerateUpgradeRun => ("create", "updateruns", ""),
        };
        let group = if self.cluster_scoped() {
            UPDATES_GROUP
        } else {
            FLEET_GROUP
        };
        Access {
            verb,
            group,
            resource,
            subresource,
        }
    }
}

/// One permission on the hub, as a SelfSubjectAccessReview asks it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Access {
    pub verb: &'static str,
    pub group: &'static str,
    pub resource: &'static str,
    pub subresource: &'static str,
}

impl Access {
    /// `update on clusterapprovalrequests/status`.
    pub fn describe(&self) -> String {
        if self.subresource.is_empty() {
            format!("{} on {}", self.verb, self.resource)
        } else {
            format!("{} on {}/{}", self.verb, self.resource, self.subresource)
        }
    }
}

/// Whether a button is enabled, and if not, the words beside it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Gate {
    pub enabled: bool,
    pub reason: Option<String>,
}

/// What the signed-in person may do in one scope (a namespace, or cluster-scoped objects), as the
/// hub answered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permissions {
    /// "alice (fleetdeck-viewer)".
    pub user: String,
    pub namespace: Option<String>,
    /// The actions the hub allows here.
    pub allowed: Vec<ConsoleAction>,
}

impl Permissions {
    /// The gate of `action`: enabled, or the reason naming the missing permission.
    pub fn gate(&self, action: ConsoleAction) -> Gate {
        if self.allowed.contains(&action) {
            return Gate {
                enabled: true,
                reason: None,
            };
        }
        let needs = action.access(self.namespace.is_some()).describe();
        let scope = self
            .namespace
            .as_ref()
            .map(|ns| format!(" in namespace {ns}"))
            .unwrap_or_default();
        Gate {
            enabled: false,
            reason: Some(format!(
                "{} may not {}{scope}: needs {needs} — ask an administrator",
                self.user,
                action.phrase()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn viewer(namespace: Option<&str>) -> Permissions {
        Permissions {
            user: "alice (fleetdeck-viewer)".into(),
            namespace: namespace.map(str::to_string),
            allowed: vec![],
        }
    }

    #[test]
    fn an_allowed_action_is_enabled_without_words() {
        let p = Permissions {
            allowed: vec![ConsoleAction::Approve],
            ..viewer(None)
        };
        assert_eq!(
            p.gate(ConsoleAction::Approve),
            Gate {
                enabled: true,
                reason: None
            }
        );
        assert!(!p.gate(ConsoleAction::DeleteRun).enabled);
    }

    #[test]
    fn a_refused_action_names_the_person_their_role_and_the_missing_permission() {
        let cases = [
            (
                None,
                ConsoleAction::Approve,
                "alice (fleetdeck-viewer) may not approve: needs patch on clusterapprovalrequests/status — ask an administrator",
            ),
            (
                Some("team-a"),
                ConsoleAction::Approve,
                "alice (fleetdeck-viewer) may not approve in namespace team-a: needs patch on approvalrequests/status — ask an administrator",
            ),
            (
                None,
                ConsoleAction::ChangeRunState,
                "alice (fleetdeck-viewer) may not start, stop or resume runs: needs patch on clusterstagedupdateruns — ask an administrator",
            ),
            (
                Some("team-a"),
                ConsoleAction::CreateRun,
                "alice (fleetdeck-viewer) may not create runs in namespace team-a: needs create on stagedupdateruns — ask an administrator",
            ),
            (
                None,
                ConsoleAction::ChangeUpgradeRun,
                "alice (fleetdeck-viewer) may not start, stop or skip upgrade runs: needs update on updateruns/status — ask an administrator",
            ),
            (
                None,
                ConsoleAction::DeleteStrategy,
                "alice (fleetdeck-viewer) may not delete strategies: needs delete on clusterstagedupdatestrategies — ask an administrator",
            ),
        ];
        for (ns, action, want) in cases {
            let gate = viewer(ns).gate(action);
            assert!(!gate.enabled);
            assert_eq!(gate.reason.as_deref(), Some(want), "{action:?} in {ns:?}");
        }
    }

    #[test]
    fn every_staged_run_action_asks_about_the_fleet_group_and_its_scope() {
        let upgrades = [
            ConsoleAction::ChangeUpgradeRun,
            ConsoleAction::ApproveGate,
            ConsoleAction::DeleteUpgradeRun,
            ConsoleAction::GenerateUpgradeRun,
        ];
        for action in ConsoleAction::ALL {
            if upgrades.contains(&action) {
                // Cluster-scoped kinds of fleetdeck's own group, whatever the page's scope.
                assert_eq!(action.access(false), action.access(true));
                assert_eq!(action.access(false).group, UPDATES_GROUP);
                continue;
            }
            let cluster = action.access(false);
            let namespaced = action.access(true);
            assert_eq!(cluster.group, FLEET_GROUP);
            assert_eq!(cluster.verb, namespaced.verb);
            assert_eq!(cluster.resource, format!("cluster{}", namespaced.resource));
        }
    }
}
