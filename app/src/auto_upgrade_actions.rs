//! An auto-upgrade profile's run (aks §11) as a client makes it: the engine when a release
//! triggers the profile (started), and `generateUpdateRun` from the CLI and the dashboard (as
//! the signed-in person; not started). Both read the profile, the members, the strategy and the
//! catalogue, let the domain ([`crate::fleet::upgrade::auto_upgrade`]) decide the run, check
//! that it would plan, and create it under its derived name — so making it again finds the
//! same run instead of a second one.
//!
//! Starting: a new run is created with [`START_WHEN_PLANNED`]; the upgrade-run controller plans
//! it and starts it in the same status write, so no half-started run is ever seen. A run that
//! already exists NotStarted is started through [`crate::upgrade_actions::act`] once planned.
//! Server only (`ssr`).

use chrono::{DateTime, Utc};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};

use crate::fleet::types::names::{AUTO_UPGRADE_PROFILE_LABEL, START_WHEN_PLANNED};
use crate::fleet::upgrade::auto_upgrade::{channel_release, run_for, ProfileRun};
use crate::fleet::upgrade::managed_cluster::member_view;
use crate::fleet::upgrade::member_view::MemberView;
use crate::fleet::upgrade::plan::{copy_strategy, plan};
use crate::fleet::upgrade::release_catalogue::ReleaseCatalogue;
use crate::fleet::upgrade::upgrade_error::UpgradeError;
use crate::fleet::upgrade::upgrade_run::UpdateState;
use crate::fleet::{AutoUpgradeProfile, MemberCluster, UpdateRun, UpdateStrategy};
use crate::upgrade_actions::{act, ActionError, RunAction};

#[derive(Debug, thiserror::Error)]
pub enum ProfileActionError {
    #[error("auto-upgrade profile {0} not found")]
    NotFound(String),
    /// The domain refuses: no release, no members, a missing strategy, a run that would not plan.
    #[error("{0}")]
    Refused(#[from] UpgradeError),
    #[error(transparent)]
    Action(#[from] ActionError),
    #[error("hub request failed: {0}")]
    Kube(#[from] kube::Error),
}

/// What making the run did.
#[derive(Clone, Debug, PartialEq)]
pub struct MadeRun {
    pub name: String,
    pub upgrade_versions: Vec<String>,
    /// False when a run of that name (the same upgrade) existed already.
    pub created: bool,
    /// Whether this call started it (or asked for it to start when planned).
    pub started: bool,
    /// The existing run's state when it was not created now.
    pub existing_state: Option<UpdateState>,
}

impl MadeRun {
    /// `lastTriggerMessage`-style sentence.
    pub fn message(&self) -> String {
        let versions = self.upgrade_versions.join(", ");
        match (self.created, self.started, self.existing_state) {
            (true, true, _) => format!(
                "created update run {} to {versions} and started it",
                self.name
            ),
            (true, false, _) => format!(
                "created update run {} to {versions}; it is not started",
                self.name
            ),
            (false, true, _) => format!(
                "update run {} to {versions} already existed; started it",
                self.name
            ),
            (false, false, state) => format!(
                "update run {} to {versions} already exists ({:?}); left as it is",
                self.name,
                state.unwrap_or_default()
            ),
        }
    }
}

/// The run `profile` makes now from what its channel targets in `catalogue`: created (or found)
/// and, when `start`, started. Domain refusals are [`ProfileActionError::Refused`].
pub async fn make_run(
    client: &kube::Client,
    profile: &AutoUpgradeProfile,
    catalogue: &ReleaseCatalogue,
    start: bool,
    now: DateTime<Utc>,
) -> Result<MadeRun, ProfileActionError> {
    let name = profile.name().to_string();
    let release = channel_release(&profile.spec, catalogue)?
        .ok_or(UpgradeError::NoRelease(profile.spec.channel.name()))?;
    let members: Vec<MemberView> = Api::<MemberCluster>::all(client.clone())
        .list(&ListParams::default())
        .await?
        .items
        .iter()
        .map(member_view)
        .collect();
    if members.is_empty() {
        return Err(UpgradeError::NoMembers.into());
    }
    let made = run_for(&name, &profile.spec, &release, &members, catalogue)?;
    check_it_plans(client, &made, &members, catalogue).await?;

    let runs: Api<UpdateRun> = Api::all(client.clone());
    let mut run = UpdateRun::new(&made.name, made.spec.clone());
    run.metadata.labels = Some([(AUTO_UPGRADE_PROFILE_LABEL.to_string(), name.clone())].into());
    if start {
        run.metadata.annotations =
            Some([(START_WHEN_PLANNED.to_string(), "true".to_string())].into());
    }
    let mut result = MadeRun {
        name: made.name.clone(),
        upgrade_versions: made.upgrade_versions.clone(),
        created: true,
        started: start,
        existing_state: None,
    };
    match runs.create(&PostParams::default(), &run).await {
        Ok(_) => return Ok(result),
        Err(kube::Error::Api(s)) if s.is_already_exists() => {}
        Err(e) => return Err(e.into()),
    }
    // aks §11: the same upgrade again is the run that exists, unchanged — except that a
    // trigger starts it if nobody has yet.
    result.created = false;
    let existing = runs.get(&made.name).await?;
    let status = existing.status.clone().unwrap_or_default();
    let state = status
        .status
        .as_ref()
        .and_then(|s| s.state)
        .unwrap_or_default();
    result.existing_state = Some(state);
    result.started = false;
    if start && state == UpdateState::NotStarted {
        if status.stages.as_ref().is_some_and(|s| !s.is_empty()) {
            act(client, &made.name, &RunAction::Start, catalogue, now).await?;
        } else {
            let patch =
                serde_json::json!({"metadata": {"annotations": {START_WHEN_PLANNED: "true"}}});
            runs.patch(&made.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await?;
        }
        result.started = true;
    }
    Ok(result)
}

/// The refusals a trigger reports instead of leaving a run that cannot plan: the strategy must
/// exist, and the run must plan against today's members.
async fn check_it_plans(
    client: &kube::Client,
    made: &ProfileRun,
    members: &[MemberView],
    catalogue: &ReleaseCatalogue,
) -> Result<(), ProfileActionError> {
    let mut spec = made.spec.clone();
    let strategy = match spec.update_strategy_id.as_deref() {
        Some(s) => Api::<UpdateStrategy>::all(client.clone())
            .get_opt(s)
            .await?
            .map(|s| s.spec.strategy),
        None => None,
    };
    copy_strategy(&mut spec, |_| strategy.clone())?;
    plan(&made.name, &spec, members, catalogue)?;
    Ok(())
}

/// `generateUpdateRun` (aks §11): the profile's run for what its channel targets now, NOT
/// started; the same upgrade again returns the existing run.
pub async fn generate_update_run(
    client: &kube::Client,
    profile: &str,
    catalogue: &ReleaseCatalogue,
    now: DateTime<Utc>,
) -> Result<MadeRun, ProfileActionError> {
    let p = Api::<AutoUpgradeProfile>::all(client.clone())
        .get_opt(profile)
        .await?
        .ok_or_else(|| ProfileActionError::NotFound(profile.to_string()))?;
    make_run(client, &p, catalogue, false, now).await
}
