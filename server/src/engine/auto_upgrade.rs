//! The auto-upgrade profile controller (aks §11): read the profile and the release catalogue;
//! let the domain decide ([`app::fleet::upgrade::auto_upgrade::decide`]) whether what the
//! channel targets now is a release the profile has not seen; if it is and the profile is
//! enabled, make the run and start it ([`crate::auto_upgrade_actions::make_run`]); write the
//! status (the observation and the trigger's outcome) in one write.
//!
//! The release event. The catalogue is a file the engine reads at each use; a file has no watch,
//! so a small task here looks at it every [`CATALOGUE_LOOK`] and, when its content changed,
//! wakes every profile. A profile also wakes on its own changes (created, enabled, …). What
//! counts as *already available* is recorded in the profile's status
//! (`status.observedRelease`), so a restart neither triggers again nor misses a release made
//! while fleetdeck was down (the next look sees a target newer than the one recorded).
//!
//! Deleting or disabling a profile touches no run (aks §11): the controller has no finalizer
//! and never stops or deletes a run.

use std::sync::Arc;
use std::time::{Duration, Instant};

use app::fleet::upgrade::auto_upgrade::{
    channel_release, decide, failed, observation, succeeded, AutoUpgradeProfileStatus, Decision,
};
use app::fleet::AutoUpgradeProfile;
use futures::StreamExt;
use kube::api::PostParams;
use kube::runtime::controller::Action;
use kube::runtime::Controller;
use kube::Api;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::upgrade_run::load_catalogue;
use super::{Context, Error, Result};
use crate::auto_upgrade_actions::{make_run, ProfileActionError};
use crate::informers::Informers;
use crate::members::sim::upgrader::chrono_now;

/// The controller's name in metrics and events.
pub const CONTROLLER: &str = "autoupgradeprofile-controller";

/// How often the release catalogue file is looked at for a change.
pub const CATALOGUE_LOOK: Duration = Duration::from_secs(5);

/// Runs the controller until the process stops, on the process's shared watch of profiles.
pub async fn run(ctx: Arc<Context>, informers: Informers) {
    let profiles = informers.of::<AutoUpgradeProfile>();
    let (tx, rx) = mpsc::channel(1);
    let watcher = tokio::spawn(watch_catalogue(ctx.clone(), tx));
    Controller::for_shared_stream(profiles.applied(), profiles.store())
        .reconcile_all_on(ReceiverStream::new(rx))
        .run(reconcile, error_policy, ctx)
        .for_each(|result| async move {
            if let Err(e) = result {
                tracing::debug!(error = %e, "auto-upgrade profile reconcile");
            }
        })
        .await;
    watcher.abort();
}

/// Sends `()` whenever the catalogue file's content changes (not at the first look: every
/// profile is reconciled when the controller starts anyway).
async fn watch_catalogue(ctx: Arc<Context>, tx: mpsc::Sender<()>) {
    let Some(path) = ctx.config.release_catalogue.clone() else {
        return;
    };
    let mut last = tokio::fs::read(&path).await.ok();
    let mut tick = tokio::time::interval(CATALOGUE_LOOK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = tokio::fs::read(&path).await.ok();
        if now != last {
            last = now;
            // A full channel already holds a wake-up for every profile.
            let _ = tx.try_send(());
        }
    }
}

fn error_policy(profile: Arc<AutoUpgradeProfile>, error: &Error, ctx: Arc<Context>) -> Action {
    tracing::info!(%error, "auto-upgrade profile reconcile failed; retrying");
    Action::requeue(ctx.retry_after(&*profile))
}

async fn reconcile(trigger: Arc<AutoUpgradeProfile>, ctx: Arc<Context>) -> Result<Action> {
    let started = Instant::now();
    let result = reconcile_profile(&trigger, &ctx).await;
    ctx.reconciled(CONTROLLER, &*trigger, started.elapsed(), &result)
        .await;
    result
}

async fn reconcile_profile(trigger: &AutoUpgradeProfile, ctx: &Context) -> Result<Action> {
    let api: Api<AutoUpgradeProfile> = Api::all(ctx.client.clone());
    // Re-read: status writes need the latest resourceVersion.
    let Some(profile) = api.get_opt(trigger.name()).await? else {
        return Ok(Action::await_change());
    };
    if profile.metadata.deletion_timestamp.is_some() {
        return Ok(Action::await_change());
    }
    let catalogue = load_catalogue(ctx)?;
    let now = chrono_now(&ctx.clock);
    let stamp = now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let status = profile.status.clone().unwrap_or_default();
    // A pinned version in the wrong form is refused by admission; treat it as "nothing offered".
    let offered = channel_release(&profile.spec, &catalogue).ok().flatten();
    let decision = decide(
        &profile.spec,
        status.observed_release.as_ref(),
        offered.as_ref(),
    );
    let Some(offered) = offered else {
        return Ok(Action::await_change());
    };
    let mut next = AutoUpgradeProfileStatus {
        observed_release: Some(observation(&profile.spec, &offered, &stamp)),
        ..status.clone()
    };
    match decision {
        Decision::Nothing => return Ok(Action::await_change()),
        Decision::Baseline | Decision::Release { trigger: false } => {
            tracing::info!(profile = %profile.name(), versions = ?offered.versions(), ?decision, "auto-upgrade profile observed its channel's target");
        }
        Decision::Release { trigger: true } => {
            let outcome = match make_run(&ctx.client, &profile, &catalogue, true, now).await {
                Ok(made) => succeeded(&made.name, &made.upgrade_versions, made.message(), &stamp),
                Err(ProfileActionError::Refused(e)) => failed(&e, &offered.versions(), &stamp),
                // The hub or a race: decide again on the next attempt; nothing is recorded, so
                // the release is not lost.
                Err(ProfileActionError::Kube(e)) => return Err(e.into()),
                Err(e) => return Err(Error::Invalid(e.to_string())),
            };
            tracing::info!(profile = %profile.name(), ?outcome, "auto-upgrade profile triggered");
            next.auto_upgrade_profile_status = Some(outcome);
        }
    }
    let mut updated = profile.clone();
    updated.status = Some(next);
    match api
        .replace_status(profile.name(), &PostParams::default(), &updated)
        .await
    {
        // The profile changed meanwhile: its event decides again (a run already made is found
        // by its name then, not made twice).
        Err(kube::Error::Api(s)) if s.code == 409 => Ok(Action::await_change()),
        other => other.map(|_| Action::await_change()).map_err(Into::into),
    }
}
