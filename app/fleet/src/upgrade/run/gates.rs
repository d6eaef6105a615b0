//! Gates (aks §3.1, §12): a run's gate entries go NotStarted → Pending (the run reached them and
//! the gate resource is created) → Completed (approved, or the scheduled time came) or Skipped.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::step::Pass;
use super::{derived_id, run_key, set_state, state_of, timestamp, Effect};
use crate::upgrade::maintenance_window::{
    next_occurrence, parse_hhmm, parse_utc_offset, parse_weekday,
};
use crate::upgrade::upgrade_run::{GateConfiguration, GateType, UpdateRunGateStatus, UpdateState};

/// A gate resource's `state` (aks §12): users PATCH it to Completed to approve.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum GateState {
    #[default]
    Pending,
    Skipped,
    Completed,
}

/// What the engine observed of a gate resource.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GateView {
    pub state: GateState,
    /// For ScheduledStart: computed when the gate was created.
    pub absolute_start_time: Option<DateTime<Utc>>,
}

/// The properties of a gate resource (aks §12), field names as ARM's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GateProperties {
    pub gate_type: GateType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub target: GateTarget,
    pub state: GateState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheduled_start_properties: Option<ScheduledStartProperties>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GateTarget {
    /// The run's name (fleetdeck's runs are cluster-scoped objects, not ARM ids).
    pub id: String,
    pub update_run_properties: GateRunProperties,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct GateRunProperties {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub timing: GateTiming,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum GateTiming {
    #[default]
    Before,
    After,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScheduledStartProperties {
    pub start_day: String,
    pub start_time: String,
    pub utc_offset: String,
    pub absolute_start_time: String,
}

/// Where a list of gates sits.
pub(crate) struct GatePlace<'a> {
    pub stage: &'a str,
    pub group: Option<&'a str>,
    pub timing: GateTiming,
}

/// Advances a list of gate entries; `true` once every gate is Completed or Skipped. New gates are
/// created as effects; `requeue` gets the earliest scheduled start still ahead.
pub(crate) fn advance_gates(
    p: &mut Pass,
    entries: &mut Option<Vec<UpdateRunGateStatus>>,
    configs: Option<&[GateConfiguration]>,
    place: GatePlace,
) -> bool {
    let (run, now) = (p.run, p.now);
    let Some(entries) = entries.as_mut() else {
        return true;
    };
    let configs = configs.unwrap_or_default();
    let timing = match place.timing {
        GateTiming::Before => "Before",
        GateTiming::After => "After",
    };
    let mut done = true;
    for (i, entry) in entries.iter_mut().enumerate() {
        match state_of(&entry.status) {
            UpdateState::Completed | UpdateState::Skipped => continue,
            UpdateState::NotStarted => {
                let index = i.to_string();
                let id = derived_id(&[
                    run_key(&run),
                    place.stage,
                    place.group.unwrap_or_default(),
                    timing,
                    &index,
                ]);
                let config = configs.get(i);
                let gate_type = config.map(|c| c.type_).unwrap_or_default();
                let scheduled = config
                    .and_then(|c| c.scheduled_start_configuration.as_ref())
                    .filter(|_| gate_type == GateType::ScheduledStart)
                    .and_then(|c| {
                        let day = parse_weekday(&c.start_day).ok()?;
                        let time = parse_hhmm(&c.start_time).ok()?;
                        let offset = parse_utc_offset(&c.utc_offset).ok()?;
                        let at = next_occurrence(Some(day), time, offset, now);
                        Some(ScheduledStartProperties {
                            start_day: c.start_day.clone(),
                            start_time: c.start_time.clone(),
                            utc_offset: c.utc_offset.clone(),
                            absolute_start_time: timestamp(at),
                        })
                    });
                p.effects.push(Effect::CreateGate {
                    gate_id: id.clone(),
                    gate: GateProperties {
                        gate_type,
                        display_name: entry.display_name.clone(),
                        target: GateTarget {
                            id: run.name.to_string(),
                            update_run_properties: GateRunProperties {
                                name: run.name.to_string(),
                                stage: Some(place.stage.to_string()),
                                group: place.group.map(str::to_string),
                                timing: place.timing,
                            },
                        },
                        state: GateState::Pending,
                        scheduled_start_properties: scheduled,
                    },
                });
                entry.gate_id = Some(id);
                set_state(&mut entry.status, UpdateState::Pending, now);
                done = false;
            }
            _ => {
                let gate = entry
                    .gate_id
                    .as_deref()
                    .and_then(|id| p.world.gates.get(id));
                match gate.map(|g| (g.state, g.absolute_start_time)) {
                    Some((GateState::Completed, _)) => {
                        set_state(&mut entry.status, UpdateState::Completed, now)
                    }
                    Some((GateState::Skipped, _)) => {
                        set_state(&mut entry.status, UpdateState::Skipped, now)
                    }
                    Some((GateState::Pending, Some(at))) if at <= now => {
                        p.effects.push(Effect::CompleteGate {
                            gate_id: entry.gate_id.clone().unwrap_or_default(),
                        });
                        set_state(&mut entry.status, UpdateState::Completed, now);
                    }
                    Some((GateState::Pending, Some(at))) => {
                        p.requeue_at(at);
                        done = false;
                    }
                    _ => done = false,
                }
            }
        }
    }
    done
}

/// Marks every gate not yet finished Skipped (skipping its group or stage, aks §8.4).
pub(crate) fn skip_gates(entries: &mut Option<Vec<UpdateRunGateStatus>>, now: DateTime<Utc>) {
    for e in entries.iter_mut().flatten() {
        if !matches!(
            state_of(&e.status),
            UpdateState::Completed | UpdateState::Skipped
        ) {
            set_state(&mut e.status, UpdateState::Skipped, now);
        }
    }
}

pub(crate) fn any_pending(entries: &Option<Vec<UpdateRunGateStatus>>) -> bool {
    entries
        .iter()
        .flatten()
        .any(|e| state_of(&e.status) == UpdateState::Pending)
}
