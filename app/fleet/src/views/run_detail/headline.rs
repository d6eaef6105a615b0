//! What the run is doing, what it waits for and who must act — in words.

use super::*;

pub(super) fn headline(row: &RunRow, stages: &[StageView], conditions: &[Condition]) -> Headline {
    let current = stages
        .iter()
        .find(|s| !matches!(s.state, StageState::Succeeded | StageState::Skipped));
    let progress = |s: &StageView| {
        format!(
            "stage {}: {} of {} clusters done",
            s.name,
            s.counts.done(),
            s.counts.total
        )
    };
    let progressing = find_condition(conditions, types::PROGRESSING);
    match row.pill {
        RunPill::Pending => Headline {
            doing: "Waiting for the engine to compute the plan.".into(),
            ..Headline::default()
        },
        RunPill::Initialized => Headline {
            doing: "The plan is computed and nothing has moved yet.".into(),
            waiting_for: Some("a person to review the stages below and start the run".into()),
            who_acts: Some("an operator (Start)".into()),
        },
        RunPill::Progressing
            if progressing.is_some_and(|p| p.reason == reasons::UPDATE_RUN_STOPPING) =>
        {
            Headline {
                doing: "Stopping: clusters already updating finish first, then the run halts."
                    .into(),
                ..Headline::default()
            }
        }
        RunPill::Progressing => Headline {
            doing: current.map_or_else(
                || "Finishing the run.".into(),
                |s| format!("Updating {}.", progress(s)),
            ),
            ..Headline::default()
        },
        RunPill::Waiting => match current.and_then(gate_waited_on) {
            Some(wait) => Headline {
                doing: format!(
                    "Waiting at stage {}.",
                    current.map(|s| s.name.as_str()).unwrap_or_default()
                ),
                who_acts: wait
                    .starts_with("approval")
                    .then(|| "an approver (Approve)".to_string()),
                waiting_for: Some(wait),
            },
            None => Headline {
                doing: row.message.clone(),
                ..Headline::default()
            },
        },
        RunPill::Stuck => Headline {
            doing: format!(
                "Stuck{}.",
                current
                    .map(|s| format!(" in stage {}", s.name))
                    .unwrap_or_default()
            ),
            waiting_for: Some(
                "clusters that have not become available; see What went wrong".into(),
            ),
            who_acts: Some("the owner of the failing workload".into()),
        },
        RunPill::Stopped => Headline {
            doing: "Stopped. Nothing moves until the run is resumed.".into(),
            waiting_for: Some("a person to resume the run".into()),
            who_acts: Some("an operator (Resume)".into()),
        },
        RunPill::Succeeded => Headline {
            doing: "Finished: every stage completed.".into(),
            ..Headline::default()
        },
        RunPill::Failed => Headline {
            doing: "Failed; the run will not continue. See What went wrong.".into(),
            ..Headline::default()
        },
    }
}

/// What a waiting stage waits for, in words: an approval first, else a running wait.
pub(super) fn gate_waited_on(stage: &StageView) -> Option<String> {
    let approval = stage
        .before
        .iter()
        .chain(&stage.after)
        .find_map(|g| match g {
            GateView::Approval {
                request,
                state: ApprovalState::Waiting,
            } => Some(format!("approval of {request}")),
            _ => None,
        });
    approval.or_else(|| {
        stage.after.iter().find_map(|g| match g {
            GateView::TimedWait {
                wait,
                elapsed: false,
                ends_at,
            } => Some(match ends_at {
                Some(end) => format!(
                    "the {wait} wait after stage {} to pass (until {} UTC)",
                    stage.name,
                    end.format("%H:%M:%S")
                ),
                None => format!("the {wait} wait after stage {} to pass", stage.name),
            }),
            _ => None,
        })
    })
}

/// For the Runs list: what a waiting run waits for, from its status alone (no approval
/// requests read, so an approved-but-not-accepted gate still reads as waiting for approval).
pub fn waiting_for<K>(run: &Object<K>) -> Option<String>
where
    K: FleetKind<Spec = StagedUpdateRunSpec, Status = StagedUpdateRunStatus>,
{
    let status = run.status.as_ref()?;
    let conditions = status.conditions.as_deref().unwrap_or_default();
    // The wait's start falls back to "now" only without any status time; the Progressing
    // condition's time stands in, so the answer never depends on the clock.
    let now = find_condition(conditions, types::PROGRESSING)?
        .last_transition_time
        .clone();
    let strategy = status
        .staged_update_strategy_snapshot
        .as_ref()
        .map(|s| s.stages.as_slice())
        .unwrap_or_default();
    let stage = status.stages_status.as_deref()?.iter().find(|s| {
        !matches!(
            stage_state(s.conditions.as_deref().unwrap_or_default()),
            StageState::Succeeded | StageState::Skipped
        )
    })?;
    let config = strategy.iter().find(|c| c.name == stage.stage_name);
    gate_waited_on(&stage_view(stage, config, &[], false, false, &now))
}
