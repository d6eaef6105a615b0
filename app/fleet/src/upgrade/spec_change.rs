//! What may change on an existing run (aks §3, §8.1, §8.5, §17): the checks the hub's admission
//! makes on update and delete.

use super::plan::validate_spec;
use super::run::actions::name_of;
use super::upgrade_error::UpgradeError;
use super::upgrade_run::{UpdateRunSpec, UpdateState};

/// An update of a run's spec. `nodeImageSelection` and `updateStrategyId` are set at creation
/// only; `strategy` and `managedClusterUpdate` may change until the run starts (aks §3, §8.1).
/// The engine plans the status tree again when a NotStarted run's spec changes.
pub fn check_spec_change(
    old: &UpdateRunSpec,
    new: &UpdateRunSpec,
    state: UpdateState,
) -> Result<(), UpgradeError> {
    if old.managed_cluster_update.node_image_selection
        != new.managed_cluster_update.node_image_selection
    {
        return Err(UpgradeError::CreateOnly(
            "managedClusterUpdate.nodeImageSelection",
        ));
    }
    if old.update_strategy_id != new.update_strategy_id {
        return Err(UpgradeError::CreateOnly("updateStrategyId"));
    }
    let changed = old.strategy != new.strategy
        || old.managed_cluster_update.upgrade != new.managed_cluster_update.upgrade;
    if changed && state != UpdateState::NotStarted {
        return Err(UpgradeError::SpecFrozen(name_of(state)));
    }
    validate_spec(new)
}

/// Decision (aks §8.5, §18.4, undocumented by Azure): a run whose members may be in flight
/// (Running, Pending, Stopping) cannot be deleted; stop it first. Deleting it would lose the
/// record of operations still going on.
pub fn check_delete(state: UpdateState) -> Result<(), UpgradeError> {
    match state {
        UpdateState::Running | UpdateState::Pending | UpdateState::Stopping => {
            Err(UpgradeError::DeleteWhileActive(name_of(state)))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upgrade::fixtures::*;
    use crate::upgrade::upgrade_run::NodeImageSelectionType;

    #[test]
    fn strategy_and_upgrade_change_only_before_the_start() {
        let old = with_stages(full("1.30.5"), vec![stage("s1", &["g"])]);
        let new = with_stages(full("1.30.5"), vec![stage("s2", &["g"])]);
        assert_eq!(
            check_spec_change(&old, &new, UpdateState::NotStarted),
            Ok(())
        );
        assert_eq!(
            check_spec_change(&old, &new, UpdateState::Stopped).map_err(|e| e.to_string()),
            Err("strategy and managedClusterUpdate cannot change once the update run has started (it is Stopped)".into())
        );
        let newer = with_stages(full("1.30"), vec![stage("s1", &["g"])]);
        assert!(check_spec_change(&old, &newer, UpdateState::Running).is_err());
        assert_eq!(check_spec_change(&old, &old, UpdateState::Running), Ok(()));
    }

    #[test]
    fn node_image_selection_is_create_only() {
        let old = node_image_only(NodeImageSelectionType::Latest);
        let new = node_image_only(NodeImageSelectionType::Consistent);
        assert_eq!(
            check_spec_change(&old, &new, UpdateState::NotStarted),
            Err(UpgradeError::CreateOnly(
                "managedClusterUpdate.nodeImageSelection"
            ))
        );
    }

    #[test]
    fn a_run_with_work_in_flight_cannot_be_deleted() {
        for s in [
            UpdateState::Running,
            UpdateState::Pending,
            UpdateState::Stopping,
        ] {
            assert!(check_delete(s).is_err(), "{s:?}");
        }
        for s in [
            UpdateState::NotStarted,
            UpdateState::Stopped,
            UpdateState::Failed,
            UpdateState::Completed,
            UpdateState::Skipped,
        ] {
            assert_eq!(check_delete(s), Ok(()), "{s:?}");
        }
    }
}
