//! An upgrade run's state machine without I/O (aks §6–§8): the engine reads the run and a
//! [`World`], calls [`step`] (or an action: [`start`], [`stop`], [`skip`]), then performs the
//! returned [`Effect`]s and writes the status. Time is always a parameter.
//!
//! - [`actions`]: start / stop / skip, with the allowed states of aks §7.1.
//! - [`gates`]: gate entries and the gate resources a run creates (aks §12).
//! - [`step`]: one reconcile: observe operations, schedule members, roll states up (aks §7.2).
//! - [`derive`]: the child → parent aggregation.

pub mod actions;
pub mod derive;
pub mod gates;
pub mod step;

#[cfg(test)]
mod action_tests;
#[cfg(test)]
mod property_tests;
#[cfg(test)]
mod scenario_tests;
#[cfg(test)]
mod step_tests;
#[cfg(test)]
mod test_world;

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

pub use actions::{
    may_skip, may_start, may_stop, skip, skip_refusal, start, stop, SkipProperties, SkipTarget,
    SkipTargetType,
};
pub use gates::{GateProperties, GateState, GateView};
pub use step::step;

use super::member_target::MemberUpgrade;
use super::member_view::MemberView;
use super::release_catalogue::ReleaseCatalogue;
use super::upgrade_run::{UpdateState, UpdateStatus};

/// The run being reconciled. `uid` keeps ids of a re-created run with the same name distinct.
#[derive(Clone, Copy, Debug)]
pub struct RunRef<'a> {
    pub name: &'a str,
    pub uid: Option<&'a str>,
}

/// What the engine observed, keyed by name (members) and gate id (gates).
#[derive(Clone, Copy, Debug)]
pub struct World<'a> {
    pub members: &'a BTreeMap<String, MemberView>,
    pub catalogue: &'a ReleaseCatalogue,
    pub gates: &'a BTreeMap<String, GateView>,
}

/// A write or notice the engine performs for the domain.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Start the member's upgrade; the member reports it back under `operation_id`.
    StartUpgrade {
        member: String,
        operation_id: String,
        upgrade: MemberUpgrade,
    },
    /// Create the gate resource the run has reached (aks §12).
    CreateGate {
        gate_id: String,
        gate: GateProperties,
    },
    /// A ScheduledStart gate's time has come: set its state to Completed.
    CompleteGate { gate_id: String },
    /// A Kubernetes Event on the run.
    Event {
        warning: bool,
        reason: &'static str,
        message: String,
    },
}

/// The decision of one reconcile.
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    pub status: super::upgrade_run::UpdateRunStatus,
    pub effects: Vec<Effect>,
    /// Reconcile again at this time at the latest (a wait ends, a window opens, a scheduled
    /// gate is due); events from members and gates come sooner.
    pub requeue_at: Option<DateTime<Utc>>,
}

pub(crate) fn state_of(s: &Option<UpdateStatus>) -> UpdateState {
    s.as_ref().and_then(|s| s.state).unwrap_or_default()
}

/// Nodes that are done for scheduling: a restart ([`start`]) reopens Failed ones.
pub(crate) fn is_done(state: UpdateState) -> bool {
    matches!(
        state,
        UpdateState::Completed | UpdateState::Skipped | UpdateState::Failed
    )
}

pub(crate) fn timestamp(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Sets a state, stamping `startTime` on the first move out of NotStarted and `completedTime`
/// on reaching a final state.
pub(crate) fn set_state(s: &mut Option<UpdateStatus>, state: UpdateState, now: DateTime<Utc>) {
    let s = s.get_or_insert_with(UpdateStatus::default);
    if state != UpdateState::NotStarted && s.start_time.is_none() {
        s.start_time = Some(timestamp(now));
    }
    let finished = matches!(
        state,
        UpdateState::Completed | UpdateState::Skipped | UpdateState::Failed | UpdateState::Stopped
    );
    if finished && s.completed_time.is_none() {
        s.completed_time = Some(timestamp(now));
    }
    if !finished {
        s.completed_time = None;
    }
    s.state = Some(state);
}

/// An ARM `ErrorDetail`.
pub(crate) fn error_detail(code: &str, message: &str) -> Value {
    json!({ "code": code, "message": message })
}

pub(crate) fn set_error(s: &mut Option<UpdateStatus>, code: &str, message: &str) {
    s.get_or_insert_with(UpdateStatus::default).error = Some(error_detail(code, message));
}

/// A lowercase GUID-shaped id derived from `parts`, so the same decision always names the same
/// gate or operation (the domain has no randomness).
pub(crate) fn derived_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    let hex: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

pub(crate) fn run_key<'a>(run: &RunRef<'a>) -> &'a str {
    run.uid.unwrap_or(run.name)
}
