use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What a person does to an upgrade run from its page. A skip names its target: a member,
/// group or stage, or the stage whose after-stage wait it ends (aks §8.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum UpgradeAction {
    Start,
    Stop,
    SkipMember,
    SkipGroup,
    SkipStage,
    SkipAfterStageWait,
}

impl UpgradeAction {
    /// What the confirmation says will happen.
    pub fn consequence(self, target: &str) -> String {
        match self {
            UpgradeAction::Start => "The run starts (or carries on) stage by stage: its members are upgraded by the run's order and concurrency, each within its maintenance window. Members that failed are tried again.".into(),
            UpgradeAction::Stop => "The run stops: members being upgraded now finish their upgrade, nothing new starts, and the run becomes Stopped. Start continues from where it stopped.".into(),
            UpgradeAction::SkipMember => format!("Member {target} is not upgraded by this run: it becomes Skipped and keeps its current versions."),
            UpgradeAction::SkipGroup => format!("Group {target} is skipped: its members not yet upgraded keep their versions, and its gates are skipped. A member being upgraded now finishes."),
            UpgradeAction::SkipStage => format!("Stage {target} is skipped with all its groups, gates and wait; the run goes on with the next stage."),
            UpgradeAction::SkipAfterStageWait => format!("The wait after stage {target} ends now; the run goes on with the next stage."),
        }
    }

    /// The button's words.
    pub fn label(self) -> &'static str {
        match self {
            UpgradeAction::Start => "Start",
            UpgradeAction::Stop => "Stop",
            UpgradeAction::SkipMember
            | UpgradeAction::SkipGroup
            | UpgradeAction::SkipStage
            | UpgradeAction::SkipAfterStageWait => "Skip",
        }
    }

    #[cfg(feature = "ssr")]
    fn done(self) -> &'static str {
        match self {
            UpgradeAction::Start => "started",
            UpgradeAction::Stop => "stopped",
            _ => "skipped part of",
        }
    }
}

/// Starts, stops or skips part of upgrade run `name` as the signed-in person: the same action
/// the CLI performs ([`crate::upgrade_actions::act`]), whose domain checks refuse what the spec
/// does not allow, written as that person so the hub's RBAC on `updateruns/status` decides.
#[server(prefix = "/api", endpoint = "upgrades/act")]
pub async fn act_on_upgrade(
    name: String,
    action: UpgradeAction,
    target: String,
) -> Result<(), AppError> {
    use crate::error::respond;
    use crate::fleet::types::event::reference;
    use crate::fleet::upgrade::run::{SkipProperties, SkipTarget, SkipTargetType};
    use crate::server_fns::ssr::{acting_user, catalogue, explain, hub, record};
    use crate::upgrade_actions::{act, ActionError, RunAction};

    let user = acting_user()?;
    let client = hub()?;
    let skip = |type_| {
        RunAction::Skip(SkipProperties {
            targets: vec![SkipTarget {
                type_,
                name: target.clone(),
            }],
        })
    };
    let run_action = match action {
        UpgradeAction::Start => RunAction::Start,
        UpgradeAction::Stop => RunAction::Stop,
        UpgradeAction::SkipMember => skip(SkipTargetType::Member),
        UpgradeAction::SkipGroup => skip(SkipTargetType::Group),
        UpgradeAction::SkipStage => skip(SkipTargetType::Stage),
        UpgradeAction::SkipAfterStageWait => skip(SkipTargetType::AfterStageWait),
    };
    let what = format!("upgrade run {name}");
    let catalogue = match action {
        // Only a start chooses images; the others need no catalogue.
        UpgradeAction::Start => catalogue()
            .load()
            .map_err(|e| respond(AppError::Unavailable(e)))?,
        _ => Default::default(),
    };
    let written = act(&client, &name, &run_action, &catalogue, chrono::Utc::now())
        .await
        .map_err(|e| match e {
            ActionError::Kube(e) => explain(e, &what),
            ActionError::NotFound(_) => respond(AppError::NotFound(format!(
                "{what} does not exist on the hub (it may have been deleted)"
            ))),
            refused => respond(AppError::Conflict(format!("{what}: {refused}"))),
        })?;
    let message = match action {
        UpgradeAction::Start | UpgradeAction::Stop => {
            format!(
                "{} {} the upgrade run from the console",
                user.name,
                action.done()
            )
        }
        _ => format!(
            "{} skipped {target} of the upgrade run from the console",
            user.name
        ),
    };
    let reason = match action {
        UpgradeAction::Start => "UpgradeRunStarted",
        UpgradeAction::Stop => "UpgradeRunStopped",
        _ => "UpgradeRunSkipped",
    };
    record(&reference(&written), &user, reason, action.label(), message).await;
    Ok(())
}
