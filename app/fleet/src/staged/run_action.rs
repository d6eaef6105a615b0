//! The console's run actions as state changes: which `spec.state` each one writes, and why it is
//! refused when it no longer applies. Pure, so the page can grey a button out for the same reason
//! the server refuses it.

use serde::{Deserialize, Serialize};

use crate::staged::staged_update_run::UpdateRunState;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RunAction {
    /// `Initialize` → `Run`, after the plan was reviewed.
    Start,
    /// `Run` → `Stop`: clusters already updating finish, nothing new starts.
    Stop,
    /// `Stop` → `Run`.
    Resume,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

impl RunAction {
    pub fn label(self) -> &'static str {
        match self {
            RunAction::Start => "Start",
            RunAction::Stop => "Stop",
            RunAction::Resume => "Resume",
        }
    }

    /// The Event reason of the console's audit trail.
    pub fn reason(self) -> &'static str {
        match self {
            RunAction::Start => "StartRequested",
            RunAction::Stop => "StopRequested",
            RunAction::Resume => "ResumeRequested",
        }
    }

    /// Past tense, for the audit message ("alice stopped the run").
    pub fn done(self) -> &'static str {
        match self {
            RunAction::Start => "started",
            RunAction::Stop => "stopped",
            RunAction::Resume => "resumed",
        }
    }

    /// What pressing the button will do, for its confirmation.
    pub fn consequence(self) -> &'static str {
        match self {
            RunAction::Start => "The run starts with its first stage as planned below; clusters begin to update and approval gates will wait for an approver.",
            RunAction::Stop => "Clusters that are updating now finish; no other cluster starts until the run is resumed. A running wait keeps its time.",
            RunAction::Resume => "The run continues where it stopped, with the same plan and snapshot.",
        }
    }

    /// The state this action writes, given the run's state now; `finished` runs refuse all.
    pub fn target(self, now: UpdateRunState, finished: bool) -> Result<UpdateRunState, Refused> {
        if finished {
            return Err(Refused(format!(
                "the run has finished, so it cannot be {}; create a new run instead",
                self.done()
            )));
        }
        match (self, now) {
            (RunAction::Start, UpdateRunState::Initialize) => Ok(UpdateRunState::Run),
            (RunAction::Stop, UpdateRunState::Run) => Ok(UpdateRunState::Stop),
            (RunAction::Resume, UpdateRunState::Stop) => Ok(UpdateRunState::Run),
            (RunAction::Stop, UpdateRunState::Stop) => {
                Err(Refused("the run is already stopped".into()))
            }
            (RunAction::Start | RunAction::Resume, UpdateRunState::Run) => {
                Err(Refused("the run is already running".into()))
            }
            (RunAction::Stop, UpdateRunState::Initialize) => Err(Refused(
                "the run has not started, so there is nothing to stop; delete it if it is not wanted".into(),
            )),
            (RunAction::Start, UpdateRunState::Stop) => {
                Err(Refused("the run is stopped: resume it instead".into()))
            }
            (RunAction::Resume, UpdateRunState::Initialize) => {
                Err(Refused("the run has not started yet: start it instead".into()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use UpdateRunState::*;

    #[test]
    fn each_action_moves_one_state_and_refuses_the_others_in_words() {
        assert_eq!(RunAction::Start.target(Initialize, false), Ok(Run));
        assert_eq!(RunAction::Stop.target(Run, false), Ok(Stop));
        assert_eq!(RunAction::Resume.target(Stop, false), Ok(Run));
        for (action, state) in [
            (RunAction::Start, Run),
            (RunAction::Start, Stop),
            (RunAction::Stop, Stop),
            (RunAction::Stop, Initialize),
            (RunAction::Resume, Run),
            (RunAction::Resume, Initialize),
        ] {
            let refused = action.target(state, false).expect_err("refused");
            assert!(
                refused.0.starts_with("the run"),
                "{action:?} from {state:?}: {refused}"
            );
        }
        let done = RunAction::Resume.target(Stop, true).expect_err("finished");
        assert!(done.0.contains("create a new run"));
    }
}
