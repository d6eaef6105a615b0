//! What the Upgrades page shows of an auto-upgrade profile (aks §11): its channel, strategy,
//! whether it is enabled, and its last trigger — when, how it went, the error and the run it
//! made.

use serde::{Deserialize, Serialize};

use crate::upgrade::auto_upgrade::TriggerStatus;
use crate::AutoUpgradeProfile;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileRow {
    pub name: String,
    pub channel: String,
    /// `TargetKubernetesVersion`'s pinned minor.
    pub target_version: Option<String>,
    pub strategy: Option<String>,
    pub enabled: bool,
    pub last_triggered: Option<String>,
    /// "Succeeded" or "Failed"; `None` before the first trigger.
    pub last_status: Option<String>,
    pub last_error: Option<String>,
    pub last_message: Option<String>,
    pub last_versions: Vec<String>,
    /// The run the last trigger made or found.
    pub last_run: Option<String>,
    /// What the channel targets now, as the engine last saw it (already available).
    pub observed: Vec<String>,
}

pub fn profile_row(p: &AutoUpgradeProfile) -> ProfileRow {
    let status = p.status.clone().unwrap_or_default();
    let last = status.auto_upgrade_profile_status.unwrap_or_default();
    ProfileRow {
        name: p.name().to_string(),
        channel: p.spec.channel.name().to_string(),
        target_version: p.spec.target_kubernetes_version.clone(),
        strategy: p.spec.update_strategy_name.clone(),
        enabled: !p.spec.disabled,
        last_triggered: last.last_triggered_at,
        last_status: last.last_trigger_status.map(|s| match s {
            TriggerStatus::Succeeded => "Succeeded".to_string(),
            TriggerStatus::Failed => "Failed".to_string(),
        }),
        last_error: last
            .last_trigger_error
            .as_ref()
            .and_then(|e| e.get("message"))
            .and_then(|m| m.as_str())
            .map(str::to_string),
        last_message: last.last_trigger_message,
        last_versions: last.last_trigger_upgrade_versions.unwrap_or_default(),
        last_run: last.last_trigger_update_run_name,
        observed: status
            .observed_release
            .map(|o| o.versions)
            .unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::upgrade::auto_upgrade::{AutoUpgradeProfileSpec, UpgradeChannel};

    #[test]
    fn a_failed_trigger_shows_its_error_and_no_run() {
        let mut p = AutoUpgradeProfile::new(
            "nightly",
            AutoUpgradeProfileSpec {
                channel: UpgradeChannel::Rapid,
                update_strategy_name: Some("safe".into()),
                disabled: true,
                ..Default::default()
            },
        );
        p.status = Some(
            serde_json::from_value(serde_json::json!({
                "autoUpgradeProfileStatus": {"lastTriggeredAt": "2026-12-07T10:00:00Z",
                    "lastTriggerStatus": "Failed", "lastTriggerUpgradeVersions": ["1.30.5"],
                    "lastTriggerError": {"code": "NotFound", "message": "referenced updateStrategy not found: `safe`"}},
                "observedRelease": {"channel": "Rapid", "versions": ["1.30.5"]}}))
            .expect("status"),
        );
        let row = profile_row(&p);
        assert_eq!(row.channel, "Rapid");
        assert!(!row.enabled);
        assert_eq!(row.last_status.as_deref(), Some("Failed"));
        assert_eq!(
            row.last_error.as_deref(),
            Some("referenced updateStrategy not found: `safe`")
        );
        assert_eq!(row.last_run, None);
        assert_eq!(row.observed, ["1.30.5"]);
        let fresh = profile_row(&AutoUpgradeProfile::new("p", Default::default()));
        assert!(fresh.enabled && fresh.last_status.is_none() && fresh.observed.is_empty());
    }
}
