//! The user's actions on a run (aks §7.1, §8.1, §8.3, §8.4), each refused outside the states the
//! spec allows. They change the status only; the next [`super::step`] does the work.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::gates::skip_gates;
use super::step::{in_flight, skip_wait};
use super::{set_state, state_of};
use crate::upgrade::member_view::MemberView;
use crate::upgrade::plan::{select_images, selection_status};
use crate::upgrade::release_catalogue::ReleaseCatalogue;
use crate::upgrade::upgrade_error::UpgradeError;
use crate::upgrade::upgrade_run::{
    MemberUpdateStatus, NodeImageSelectionType, UpdateGroupStatus, UpdateRunSpec, UpdateRunStatus,
    UpdateStageStatus, UpdateState,
};

/// `POST …/skip` body (aks §8.4).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkipProperties {
    pub targets: Vec<SkipTarget>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkipTarget {
    #[serde(rename = "type")]
    pub type_: SkipTargetType,
    /// For `AfterStageWait`, the stage that owns the wait.
    pub name: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SkipTargetType {
    Member,
    Group,
    Stage,
    AfterStageWait,
}

pub(crate) fn name_of(state: UpdateState) -> &'static str {
    match state {
        UpdateState::NotStarted => "NotStarted",
        UpdateState::Running => "Running",
        UpdateState::Stopping => "Stopping",
        UpdateState::Stopped => "Stopped",
        UpdateState::Skipped => "Skipped",
        UpdateState::Failed => "Failed",
        UpdateState::Pending => "Pending",
        UpdateState::Completed => "Completed",
    }
}

fn refuse(action: &'static str, state: UpdateState) -> UpgradeError {
    UpgradeError::ActionNotAllowed {
        action,
        state: name_of(state),
    }
}

/// Whether a run in `state` may be started (aks §8.1): NotStarted, Failed or Stopped.
pub fn may_start(state: UpdateState) -> bool {
    matches!(
        state,
        UpdateState::NotStarted | UpdateState::Failed | UpdateState::Stopped
    )
}

/// Whether a run in `state` may be stopped (aks §8.3): Running or Pending.
pub fn may_stop(state: UpdateState) -> bool {
    matches!(state, UpdateState::Running | UpdateState::Pending)
}

/// Whether anything of a run in `state` may be skipped (aks §7.1, and Pending by decision: see
/// [`skip`]).
pub fn may_skip(state: UpdateState) -> bool {
    matches!(
        state,
        UpdateState::NotStarted | UpdateState::Running | UpdateState::Failed | UpdateState::Pending
    )
}

/// Why [`skip`] would refuse `target` alone on `status`, or `None` when it would accept it: the
/// same checks, without writing anything (the console offers Skip only where this is `None`).
pub fn skip_refusal(status: &UpdateRunStatus, target: &SkipTarget) -> Option<UpgradeError> {
    let state = state_of(&status.status);
    if !may_skip(state) {
        return Some(refuse("skip", state));
    }
    check_target(status, target).err()
}

/// Start from NotStarted, Failed or Stopped (aks §8.1). A restart carries on from the last
/// unprocessed member and, as the earlier docs say, re-applies failed upgrades: Failed members
/// go back to NotStarted (decision; user skips stay). Consistent images are chosen again at the
/// first start only (aks §4 [inferred]): a restart keeps them, so one run stays consistent.
pub fn start(
    spec: &UpdateRunSpec,
    status: &UpdateRunStatus,
    members: &[MemberView],
    catalogue: &ReleaseCatalogue,
    now: DateTime<Utc>,
) -> Result<UpdateRunStatus, UpgradeError> {
    let state = state_of(&status.status);
    if !may_start(state) {
        return Err(refuse("start", state));
    }
    let mut st = status.clone();
    let consistent = spec
        .managed_cluster_update
        .node_image_selection
        .as_ref()
        .is_some_and(|s| s.type_ == NodeImageSelectionType::Consistent);
    if state == UpdateState::NotStarted && consistent {
        let listed: BTreeSet<&str> = members_of(&st).map(|m| m.name.as_str()).collect();
        let in_run = members.iter().filter(|m| listed.contains(m.name.as_str()));
        st.node_image_selection = selection_status(&select_images(spec, in_run, catalogue)?);
    }
    for stage in st.stages.iter_mut().flatten() {
        reopen(&mut stage.status, now);
        for group in stage.groups.iter_mut().flatten() {
            reopen(&mut group.status, now);
            for m in group.members.iter_mut().flatten() {
                if state_of(&m.status) == UpdateState::Failed {
                    let started = m.status.as_ref().and_then(|s| s.start_time.clone());
                    m.status = None;
                    set_state(&mut m.status, UpdateState::NotStarted, now);
                    if let Some(s) = m.status.as_mut() {
                        s.start_time = started;
                    }
                    m.message = None;
                }
            }
        }
    }
    if let Some(s) = st.status.as_mut() {
        s.error = None;
    }
    set_state(&mut st.status, UpdateState::Running, now);
    Ok(st)
}

/// A Failed, Stopped or Stopping node goes back to NotStarted, keeping its start time.
fn reopen(s: &mut Option<crate::upgrade::upgrade_run::UpdateStatus>, now: DateTime<Utc>) {
    if matches!(
        state_of(s),
        UpdateState::Failed | UpdateState::Stopped | UpdateState::Stopping
    ) {
        let started = s.as_ref().and_then(|s| s.start_time.clone());
        *s = None;
        set_state(s, UpdateState::NotStarted, now);
        if let Some(s) = s.as_mut() {
            s.start_time = started;
        }
    }
}

/// Stop while Running or Pending (aks §8.3): the run is Stopping until the members in flight
/// finish, then Stopped; nothing new starts. Decision (aks §18.6): a Skipped run is finished, so
/// the table's `Skipped → Stopped` is not offered.
pub fn stop(status: &UpdateRunStatus, now: DateTime<Utc>) -> Result<UpdateRunStatus, UpgradeError> {
    let state = state_of(&status.status);
    if !may_stop(state) {
        return Err(refuse("stop", state));
    }
    let mut st = status.clone();
    set_state(&mut st.status, UpdateState::Stopping, now);
    Ok(st)
}

/// Skip targets (aks §8.4), all or none. Allowed while NotStarted, Running or Failed (aks §7.1)
/// and, by decision, Pending: the FAQ's way out of a member held Pending by its window is to skip
/// it, and that member is what makes the run Pending. A member in flight cannot be skipped (its
/// operation is never cancelled); skipping its group or stage lets the rest go on and records the
/// member's result when it ends. A Failed member, group or stage may be skipped so that a restart
/// does not retry it.
pub fn skip(
    status: &UpdateRunStatus,
    targets: &SkipProperties,
    now: DateTime<Utc>,
) -> Result<UpdateRunStatus, UpgradeError> {
    let state = state_of(&status.status);
    if !may_skip(state) {
        return Err(refuse("skip", state));
    }
    if targets.targets.is_empty() {
        return Err(UpgradeError::NoSkipTargets);
    }
    let mut st = status.clone();
    for t in &targets.targets {
        skip_one(&mut st, t, now)?;
    }
    roll_up_skips(&mut st, now);
    Ok(st)
}

fn finished(kind: &'static str, name: &str, state: UpdateState) -> Result<(), UpgradeError> {
    if matches!(state, UpdateState::Completed | UpdateState::Skipped) {
        return Err(UpgradeError::SkipTargetFinished {
            kind,
            name: name.to_string(),
            state: name_of(state),
        });
    }
    Ok(())
}

/// The checks of one skip target (aks §8.4): it exists, is not finished and, for a member, is not
/// in flight; an after-stage wait must exist.
fn check_target(st: &UpdateRunStatus, t: &SkipTarget) -> Result<(), UpgradeError> {
    let not_found = |kind| UpgradeError::SkipTargetNotFound {
        kind,
        name: t.name.clone(),
    };
    let stages = || st.stages.iter().flatten();
    match t.type_ {
        SkipTargetType::Member => {
            let m = stages()
                .flat_map(|s| s.groups.iter().flatten())
                .flat_map(|g| g.members.iter().flatten())
                .find(|m| m.name == t.name)
                .ok_or_else(|| not_found("Member"))?;
            let s = state_of(&m.status);
            finished("Member", &t.name, s)?;
            if in_flight(s) {
                return Err(UpgradeError::SkipInFlight(t.name.clone()));
            }
        }
        SkipTargetType::Group => {
            let g = stages()
                .flat_map(|s| s.groups.iter().flatten())
                .find(|g| g.name == t.name)
                .ok_or_else(|| not_found("Group"))?;
            finished("Group", &t.name, state_of(&g.status))?;
        }
        SkipTargetType::Stage => {
            let s = stages()
                .find(|s| s.name == t.name)
                .ok_or_else(|| not_found("Stage"))?;
            finished("Stage", &t.name, state_of(&s.status))?;
        }
        SkipTargetType::AfterStageWait => {
            let s = stages()
                .find(|s| s.name == t.name)
                .ok_or_else(|| not_found("AfterStageWait"))?;
            let w = s
                .after_stage_wait_status
                .as_ref()
                .ok_or_else(|| UpgradeError::NoAfterStageWait(t.name.clone()))?;
            finished("AfterStageWait", &t.name, state_of(&w.status))?;
        }
    }
    Ok(())
}

fn skip_one(
    st: &mut UpdateRunStatus,
    t: &SkipTarget,
    now: DateTime<Utc>,
) -> Result<(), UpgradeError> {
    check_target(st, t)?;
    let mut stages = st.stages.iter_mut().flatten();
    match t.type_ {
        SkipTargetType::Member => {
            let found = stages
                .flat_map(|s| s.groups.iter_mut().flatten())
                .flat_map(|g| g.members.iter_mut().flatten())
                .find(|m| m.name == t.name);
            if let Some(m) = found {
                skip_member(m, now);
            }
        }
        SkipTargetType::Group => {
            let found = stages
                .flat_map(|s| s.groups.iter_mut().flatten())
                .find(|g| g.name == t.name);
            if let Some(g) = found {
                skip_group(g, now);
            }
        }
        SkipTargetType::Stage => {
            if let Some(s) = stages.find(|s| s.name == t.name) {
                skip_stage(s, now);
            }
        }
        SkipTargetType::AfterStageWait => {
            if let Some(s) = stages.find(|s| s.name == t.name) {
                skip_wait(&mut s.after_stage_wait_status, now);
            }
        }
    }
    Ok(())
}

fn skip_member(m: &mut MemberUpdateStatus, now: DateTime<Utc>) {
    let s = state_of(&m.status);
    if in_flight(s) || matches!(s, UpdateState::Completed | UpdateState::Skipped) {
        return;
    }
    if let Some(st) = m.status.as_mut() {
        st.error = None;
    }
    set_state(&mut m.status, UpdateState::Skipped, now);
    m.message = Some("skipped by the user".into());
}

fn skip_group(g: &mut UpdateGroupStatus, now: DateTime<Utc>) {
    for m in g.members.iter_mut().flatten() {
        skip_member(m, now);
    }
    skip_gates(&mut g.before_gates, now);
    skip_gates(&mut g.after_gates, now);
    if let Some(s) = g.status.as_mut() {
        s.error = None;
    }
    set_state(&mut g.status, UpdateState::Skipped, now);
}

fn skip_stage(s: &mut UpdateStageStatus, now: DateTime<Utc>) {
    for g in s.groups.iter_mut().flatten() {
        if !matches!(
            state_of(&g.status),
            UpdateState::Completed | UpdateState::Skipped
        ) {
            skip_group(g, now);
        }
    }
    skip_gates(&mut s.before_gates, now);
    skip_gates(&mut s.after_gates, now);
    skip_wait(&mut s.after_stage_wait_status, now);
    if let Some(st) = s.status.as_mut() {
        st.error = None;
    }
    set_state(&mut s.status, UpdateState::Skipped, now);
}

/// Parents turn Skipped only when every child is Skipped (aks §8.4); a stage skipped this way
/// takes its wait and gates with it.
fn roll_up_skips(st: &mut UpdateRunStatus, now: DateTime<Utc>) {
    for s in st.stages.iter_mut().flatten() {
        for g in s.groups.iter_mut().flatten() {
            let members = g.members.as_deref().unwrap_or_default();
            let all = !members.is_empty()
                && members
                    .iter()
                    .all(|m| state_of(&m.status) == UpdateState::Skipped);
            if all && state_of(&g.status) != UpdateState::Skipped {
                skip_group(g, now);
            }
        }
        let groups = s.groups.as_deref().unwrap_or_default();
        let all = !groups.is_empty()
            && groups
                .iter()
                .all(|g| state_of(&g.status) == UpdateState::Skipped);
        if all && state_of(&s.status) != UpdateState::Skipped {
            skip_stage(s, now);
        }
    }
}

fn members_of(st: &UpdateRunStatus) -> impl Iterator<Item = &MemberUpdateStatus> {
    st.stages
        .iter()
        .flatten()
        .flat_map(|s| s.groups.iter().flatten())
        .flat_map(|g| g.members.iter().flatten())
}
