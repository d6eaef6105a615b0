//! A tiny in-memory fleet for the run tests: it plans a run, performs the step's effects the way
//! the engine would, and lets a test finish operations, approve gates and move the clock.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::{
    skip, start, step, stop, Effect, GateState, GateView, RunRef, SkipProperties, SkipTarget,
    SkipTargetType, World,
};
use crate::upgrade::fixtures::{at, catalogue};
use crate::upgrade::member_view::{MemberView, OperationState, OperationView};
use crate::upgrade::plan::plan;
use crate::upgrade::release_catalogue::ReleaseCatalogue;
use crate::upgrade::upgrade_error::UpgradeError;
use crate::upgrade::upgrade_run::{UpdateRunSpec, UpdateRunStatus, UpdateState, UpdateStatus};

pub struct Sim {
    pub spec: UpdateRunSpec,
    pub status: UpdateRunStatus,
    pub members: BTreeMap<String, MemberView>,
    pub catalogue: ReleaseCatalogue,
    pub gates: BTreeMap<String, GateView>,
    pub now: DateTime<Utc>,
    /// Effects of every step so far, in order.
    pub log: Vec<Effect>,
    pub requeue_at: Option<DateTime<Utc>>,
}

pub const T0: &str = "2026-12-07T10:00:00Z";

impl Sim {
    pub fn new(spec: UpdateRunSpec, members: Vec<MemberView>) -> Self {
        let catalogue = catalogue();
        let status = plan("run-1", &spec, &members, &catalogue).expect("plan");
        Sim {
            spec,
            status,
            members: members.into_iter().map(|m| (m.name.clone(), m)).collect(),
            catalogue,
            gates: BTreeMap::new(),
            now: at(T0),
            log: Vec::new(),
            requeue_at: None,
        }
    }

    fn world(&self) -> World<'_> {
        World {
            members: &self.members,
            catalogue: &self.catalogue,
            gates: &self.gates,
        }
    }

    /// One reconcile, with its effects performed.
    pub fn step(&mut self) -> Vec<Effect> {
        let run = RunRef {
            name: "run-1",
            uid: None,
        };
        let out = step(run, &self.spec, &self.status, self.world(), self.now);
        self.status = out.status;
        self.requeue_at = out.requeue_at;
        for e in &out.effects {
            match e {
                Effect::StartUpgrade {
                    member,
                    operation_id,
                    ..
                } => {
                    if let Some(m) = self.members.get_mut(member) {
                        m.operation = Some(OperationView {
                            id: operation_id.clone(),
                            state: OperationState::InProgress,
                        });
                    }
                }
                Effect::CreateGate { gate_id, gate } => {
                    let when = gate
                        .scheduled_start_properties
                        .as_ref()
                        .map(|s| at(&s.absolute_start_time));
                    self.gates.insert(
                        gate_id.clone(),
                        GateView {
                            state: GateState::Pending,
                            absolute_start_time: when,
                        },
                    );
                }
                Effect::CompleteGate { gate_id } => {
                    if let Some(g) = self.gates.get_mut(gate_id) {
                        g.state = GateState::Completed;
                    }
                }
                Effect::Event { .. } => {}
            }
        }
        self.log.extend(out.effects.iter().cloned());
        out.effects
    }

    pub fn start(&mut self) {
        let members: Vec<MemberView> = self.members.values().cloned().collect();
        self.status = start(
            &self.spec,
            &self.status,
            &members,
            &self.catalogue,
            self.now,
        )
        .expect("start allowed");
    }

    pub fn try_start(&mut self) -> Result<(), UpgradeError> {
        let members: Vec<MemberView> = self.members.values().cloned().collect();
        self.status = start(
            &self.spec,
            &self.status,
            &members,
            &self.catalogue,
            self.now,
        )?;
        Ok(())
    }

    pub fn try_stop(&mut self) -> Result<(), UpgradeError> {
        self.status = stop(&self.status, self.now)?;
        Ok(())
    }

    pub fn try_skip(&mut self, targets: &[(SkipTargetType, &str)]) -> Result<(), UpgradeError> {
        let props = SkipProperties {
            targets: targets
                .iter()
                .map(|(t, n)| SkipTarget {
                    type_: *t,
                    name: n.to_string(),
                })
                .collect(),
        };
        self.status = skip(&self.status, &props, self.now)?;
        Ok(())
    }

    /// The member's operation ends.
    pub fn finish(&mut self, member: &str, ok: bool) {
        let m = self.members.get_mut(member).expect("member");
        let op = m.operation.as_mut().expect("an operation in flight");
        op.state = if ok {
            OperationState::Succeeded
        } else {
            OperationState::Failed {
                code: "UpgradeFailed".into(),
                message: format!("{member}: drain timed out"),
            }
        };
    }

    pub fn approve_all(&mut self) {
        for g in self.gates.values_mut() {
            g.state = GateState::Completed;
        }
    }

    pub fn advance(&mut self, seconds: i64) {
        self.now += Duration::seconds(seconds);
    }

    pub fn run_state(&self) -> UpdateState {
        state(&self.status.status)
    }

    pub fn stage(&self, name: &str) -> UpdateState {
        let s = self.status.stages.iter().flatten().find(|s| s.name == name);
        state(&s.expect("stage").status)
    }

    pub fn group(&self, name: &str) -> UpdateState {
        let g = self
            .status
            .stages
            .iter()
            .flatten()
            .flat_map(|s| s.groups.iter().flatten())
            .find(|g| g.name == name);
        state(&g.expect("group").status)
    }

    pub fn member(&self, name: &str) -> UpdateState {
        state(&self.member_status(name).status)
    }

    pub fn member_status(&self, name: &str) -> &crate::upgrade::upgrade_run::MemberUpdateStatus {
        self.status
            .stages
            .iter()
            .flatten()
            .flat_map(|s| s.groups.iter().flatten())
            .flat_map(|g| g.members.iter().flatten())
            .find(|m| m.name == name)
            .expect("member")
    }

    pub fn wait_state(&self, stage: &str) -> UpdateState {
        let s = self
            .status
            .stages
            .iter()
            .flatten()
            .find(|s| s.name == stage);
        let w = s.and_then(|s| s.after_stage_wait_status.as_ref());
        state(&w.expect("wait").status)
    }

    /// Names of the members started so far, in order.
    pub fn started(&self) -> Vec<String> {
        self.log
            .iter()
            .filter_map(|e| match e {
                Effect::StartUpgrade { member, .. } => Some(member.clone()),
                _ => None,
            })
            .collect()
    }

    /// Finishes every operation in flight and steps, until nothing runs and nothing starts.
    pub fn drive(&mut self) {
        for _ in 0..100 {
            let running: Vec<String> = self
                .members
                .iter()
                .filter(|(_, m)| {
                    m.operation
                        .as_ref()
                        .is_some_and(|o| o.state == OperationState::InProgress)
                })
                .map(|(n, _)| n.clone())
                .collect();
            for n in &running {
                self.finish(n, true);
            }
            let started = self
                .step()
                .iter()
                .any(|e| matches!(e, Effect::StartUpgrade { .. }));
            if running.is_empty() && !started {
                return;
            }
        }
    }
}

fn state(s: &Option<UpdateStatus>) -> UpdateState {
    s.as_ref().and_then(|s| s.state).unwrap_or_default()
}
