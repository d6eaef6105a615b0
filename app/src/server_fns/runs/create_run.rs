use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::RunKey;
use crate::error::AppError;
use crate::fleet::staged::staged_update_run::UpdateRunState;

/// The create-run form: what a person picks. A placement named `name` makes a
/// ClusterStagedUpdateRun; `namespace/name` (a ResourcePlacement) a StagedUpdateRun in that
/// namespace, whose strategy must live there too.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewRun {
    pub name: String,
    pub placement: String,
    pub strategy: String,
    /// Empty: the placement's latest snapshot (made now if the resources changed).
    #[serde(default)]
    pub snapshot_index: String,
    pub state: UpdateRunState,
}

/// `namespace/name` or `name`.
fn split_ref(reference: &str) -> (Option<&str>, &str) {
    match reference.trim().split_once('/') {
        Some((ns, name)) => (Some(ns), name),
        None => (None, reference.trim()),
    }
}

impl NewRun {
    pub fn key(&self) -> RunKey {
        RunKey::new(split_ref(&self.placement).0, self.name.trim())
    }

    /// The placement's and the strategy's names within the run's scope, or why they do not fit.
    pub fn names(&self) -> Result<(&str, &str), AppError> {
        let (placement_ns, placement) = split_ref(&self.placement);
        let (strategy_ns, strategy) = split_ref(&self.strategy);
        for (empty, what) in [
            (self.name.trim().is_empty(), "a name"),
            (placement.is_empty(), "a placement"),
            (strategy.is_empty(), "a strategy"),
        ] {
            if empty {
                return Err(AppError::Invalid(format!(
                    "the run needs {what}: pick one and try again"
                )));
            }
        }
        if placement_ns != strategy_ns {
            let scope = |ns: Option<&str>| match ns {
                Some(ns) => format!("namespace {ns}"),
                None => "the cluster scope".to_string(),
            };
            return Err(AppError::Invalid(format!(
                "the placement is in {} but the strategy in {}: a run uses a strategy of its own scope, pick one from {}",
                scope(placement_ns),
                scope(strategy_ns),
                scope(placement_ns)
            )));
        }
        Ok((placement, strategy))
    }
}

/// Creates the run on the hub — or, with `dry_run`, asks the hub to validate it without
/// creating anything (`dryRun=All`), so its validation messages show before anything exists.
/// Answers the run's key.
#[server(prefix = "/api", endpoint = "runs/create")]
pub async fn create_run(run: NewRun, dry_run: bool) -> Result<RunKey, AppError> {
    use kube::api::{Api, PostParams};

    use crate::error::respond;
    use crate::fleet::staged::staged_update_run::StagedUpdateRunSpec;
    use crate::fleet::{ClusterStagedUpdateRun, StagedUpdateRun};
    use crate::server_fns::ssr::{acting_user, explain, hub, record, reference};

    let user = acting_user()?;
    let client = hub()?;
    let (placement, strategy) = run.names().map_err(respond)?;
    let spec = StagedUpdateRunSpec {
        placement_name: placement.to_string(),
        resource_snapshot_index: Some(run.snapshot_index.trim().to_string())
            .filter(|i| !i.is_empty()),
        staged_rollout_strategy_name: strategy.to_string(),
        state: Some(run.state),
    };
    let params = PostParams {
        dry_run,
        field_manager: Some("fleetdeck-console".into()),
    };
    let key = run.key();
    let what = key.describe();
    let created = match key.namespace() {
        None => {
            let object = ClusterStagedUpdateRun::new(run.name.trim(), spec);
            Api::<ClusterStagedUpdateRun>::all(client.clone())
                .create(&params, &object)
                .await
                .map(|o| reference(&o))
        }
        Some(ns) => {
            let object = StagedUpdateRun::new_namespaced(ns, run.name.trim(), spec);
            Api::<StagedUpdateRun>::namespaced(client.clone(), ns)
                .create(&params, &object)
                .await
                .map(|o| reference(&o))
        }
    }
    .map_err(|e| match e {
        kube::Error::Api(s) if s.code == 409 => respond(AppError::Conflict(format!(
            "{what} already exists: choose another name"
        ))),
        other => explain(other, &what),
    })?;
    if !dry_run {
        let message = format!(
            "{} created the run from the console (state {})",
            user.name, run.state
        );
        record(&created, &user, "CreatedFromConsole", "Create", message).await;
        // A plain form (no JavaScript) lands on the new run's page.
        leptos_axum::redirect(&key.path());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(placement: &str, strategy: &str) -> NewRun {
        NewRun {
            name: "r".into(),
            placement: placement.into(),
            strategy: strategy.into(),
            ..NewRun::default()
        }
    }

    #[test]
    fn a_run_takes_its_scope_from_the_placement_and_needs_a_strategy_of_that_scope() {
        assert_eq!(run("p", "s").names(), Ok(("p", "s")));
        assert_eq!(run("p", "s").key(), RunKey::new(None, "r"));
        assert_eq!(run("team-a/p", "team-a/s").names(), Ok(("p", "s")));
        assert_eq!(
            run("team-a/p", "team-a/s").key(),
            RunKey::new(Some("team-a"), "r")
        );
        let mixed = run("team-a/p", "s").names().expect_err("scopes differ");
        assert!(
            mixed.to_string().contains("pick one from namespace team-a"),
            "{mixed}"
        );
        let missing = run("p", "").names().expect_err("no strategy");
        assert_eq!(
            missing.to_string(),
            "the run needs a strategy: pick one and try again"
        );
    }
}
