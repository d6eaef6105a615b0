//! `fleetdeck autoupgradeprofile …`: `az fleet autoupgradeprofile create|list|show|delete|
//! generate-update-run` (aks §15) against the hub's `AutoUpgradeProfile` kind; kubectl sees the
//! same objects. `generate-update-run` goes through [`crate::auto_upgrade_actions`], as the
//! engine's triggers and the dashboard's button do.

use anyhow::{anyhow, bail};
use app::fleet::upgrade::auto_upgrade::{
    AutoUpgradeNodeImageSelection, AutoUpgradeNodeImageSelectionType, AutoUpgradeProfileSpec,
    UpgradeChannel,
};
use app::fleet::validation::auto_upgrade::MSG_SELECTION_WITH_NODE_IMAGE;
use app::fleet::AutoUpgradeProfile;
use clap::{Args, Subcommand, ValueEnum};
use kube::api::{Api, DeleteParams, ListParams, PostParams};

use super::render::{columns, print};
use super::{catalogue, connect, now, ImageSelection, Target};
use crate::auto_upgrade_actions::generate_update_run;

#[derive(Debug, Subcommand)]
pub enum AutoUpgradeProfileCommand {
    /// Create or update a profile (`az fleet autoupgradeprofile create`).
    Create(CreateProfileArgs),
    List,
    Show(ProfileNameArg),
    /// Delete a profile; runs it made are left alone.
    Delete(DeleteProfileArgs),
    /// Create the profile's update run for what its channel offers now, NOT started; the same
    /// upgrade again returns the existing run.
    GenerateUpdateRun(ProfileNameArg),
}

#[derive(Debug, Clone, Args)]
pub struct ProfileNameArg {
    #[arg(
        short = 'n',
        long = "name",
        visible_aliases = ["profile-name", "auto-upgrade-profile-name"]
    )]
    pub name: String,
}

#[derive(Debug, Clone, Args)]
pub struct DeleteProfileArgs {
    #[command(flatten)]
    pub name: ProfileNameArg,
    /// Accepted like az's; fleetdeck never prompts.
    #[arg(short = 'y', long)]
    pub yes: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CreateProfileArgs {
    #[arg(short = 'n', long = "name", visible_alias = "profile-name")]
    pub name: String,
    #[arg(short = 'c', long, value_enum)]
    pub channel: ChannelArg,
    /// The UpdateStrategy its runs copy (its name, or an ARM id ending in it); fixed once the
    /// profile exists. Without one, members upgrade one by one.
    #[arg(long = "update-strategy-id", visible_alias = "update-strategy-name")]
    pub update_strategy: Option<String>,
    /// Not allowed with `--channel NodeImage`.
    #[arg(long, value_enum)]
    pub node_image_selection: Option<ImageSelection>,
    #[arg(long)]
    pub disabled: bool,
    /// `major.minor`, for `--channel TargetKubernetesVersion` only.
    #[arg(long, visible_alias = "tkv")]
    pub target_kubernetes_version: Option<String>,
    #[arg(long, visible_alias = "lts")]
    pub long_term_support: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "verbatim")]
pub enum ChannelArg {
    Stable,
    Rapid,
    NodeImage,
    TargetKubernetesVersion,
    SecurityPatch,
}

/// The profile's spec from the flags, with the CLI's own checks (the hub checks all of §10 again).
pub fn spec_from(a: &CreateProfileArgs) -> anyhow::Result<AutoUpgradeProfileSpec> {
    let channel = match a.channel {
        ChannelArg::Stable => UpgradeChannel::Stable,
        ChannelArg::Rapid => UpgradeChannel::Rapid,
        ChannelArg::NodeImage => UpgradeChannel::NodeImage,
        ChannelArg::TargetKubernetesVersion => UpgradeChannel::TargetKubernetesVersion,
        ChannelArg::SecurityPatch => UpgradeChannel::SecurityPatch,
    };
    if channel == UpgradeChannel::NodeImage && a.node_image_selection.is_some() {
        bail!("--node-image-selection: {MSG_SELECTION_WITH_NODE_IMAGE}");
    }
    let strategy = match a.update_strategy.as_deref().map(str::trim) {
        Some("") => bail!("--update-strategy-id may not be blank"),
        Some(id) => Some(id.rsplit('/').next().unwrap_or(id).to_string()),
        None => None,
    };
    Ok(AutoUpgradeProfileSpec {
        channel,
        update_strategy_name: strategy,
        node_image_selection: a
            .node_image_selection
            .map(|s| AutoUpgradeNodeImageSelection {
                type_: match s {
                    ImageSelection::Latest => AutoUpgradeNodeImageSelectionType::Latest,
                    ImageSelection::Consistent => AutoUpgradeNodeImageSelectionType::Consistent,
                },
            }),
        disabled: a.disabled,
        target_kubernetes_version: a.target_kubernetes_version.clone(),
        long_term_support: a.long_term_support.then_some(true),
    })
}

const PROFILE_HEADER: [&str; 7] = [
    "Name",
    "Channel",
    "Strategy",
    "Enabled",
    "LastTriggered",
    "LastTriggerStatus",
    "UpdateRun",
];

pub fn profile_table(list: &[AutoUpgradeProfile]) -> String {
    let mut rows = vec![PROFILE_HEADER.iter().map(|s| s.to_string()).collect()];
    for p in list {
        let last = p
            .status
            .as_ref()
            .and_then(|s| s.auto_upgrade_profile_status.as_ref());
        rows.push(vec![
            p.name().to_string(),
            p.spec.channel.name().to_string(),
            p.spec.update_strategy_name.clone().unwrap_or_default(),
            (!p.spec.disabled).to_string(),
            last.and_then(|t| t.last_triggered_at.clone())
                .unwrap_or_default(),
            last.and_then(|t| t.last_trigger_status)
                .map(|s| format!("{s:?}"))
                .unwrap_or_default(),
            last.and_then(|t| t.last_trigger_update_run_name.clone())
                .unwrap_or_default(),
        ]);
    }
    columns(&rows)
}

pub async fn auto_upgrade_profile(
    command: &AutoUpgradeProfileCommand,
    target: &Target,
) -> anyhow::Result<()> {
    let hub = connect(target).await?;
    let api: Api<AutoUpgradeProfile> = Api::all(hub.client.clone());
    let out = target.output;
    match command {
        AutoUpgradeProfileCommand::Create(a) => {
            let spec = spec_from(a)?;
            let written = match api.get_opt(&a.name).await? {
                Some(mut existing) => {
                    existing.spec = spec;
                    api.replace(&a.name, &PostParams::default(), &existing)
                        .await?
                }
                None => {
                    api.create(
                        &PostParams::default(),
                        &AutoUpgradeProfile::new(&a.name, spec),
                    )
                    .await?
                }
            };
            print(out, &written, || {
                profile_table(std::slice::from_ref(&written))
            })
        }
        AutoUpgradeProfileCommand::List => {
            let list = api.list(&ListParams::default()).await?.items;
            print(out, &list, || profile_table(&list))
        }
        AutoUpgradeProfileCommand::Show(n) => {
            let p = api
                .get_opt(&n.name)
                .await?
                .ok_or_else(|| anyhow!("auto-upgrade profile {} not found", n.name))?;
            print(out, &p, || profile_table(std::slice::from_ref(&p)))
        }
        AutoUpgradeProfileCommand::Delete(d) => {
            api.get_opt(&d.name.name)
                .await?
                .ok_or_else(|| anyhow!("auto-upgrade profile {} not found", d.name.name))?;
            api.delete(&d.name.name, &DeleteParams::default()).await?;
            Ok(())
        }
        AutoUpgradeProfileCommand::GenerateUpdateRun(n) => {
            let cat = catalogue(&hub)?;
            let made = generate_update_run(&hub.client, &n.name, &cat, now()).await?;
            // aks §14: generateUpdateRun returns `{id}` of the run.
            let id = serde_json::json!({"id": made.name});
            print(out, &id, || format!("{}\n", made.message()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(subcommand)]
        command: AutoUpgradeProfileCommand,
    }

    fn create(args: &[&str]) -> anyhow::Result<AutoUpgradeProfileSpec> {
        let cli =
            Cli::try_parse_from(["autoupgradeprofile", "create"].iter().chain(args).copied())?;
        match cli.command {
            AutoUpgradeProfileCommand::Create(a) => spec_from(&a),
            other => bail!("parsed as {other:?}"),
        }
    }

    #[test]
    fn create_takes_azs_flags() {
        let spec = create(&[
            "-n",
            "p1",
            "--channel",
            "TargetKubernetesVersion",
            "--update-strategy-id",
            "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/fleets/f/updateStrategies/safe",
            "--node-image-selection",
            "Consistent",
            "--tkv",
            "1.33",
            "--lts",
            "--disabled",
        ])
        .expect("valid");
        assert_eq!(spec.channel, UpgradeChannel::TargetKubernetesVersion);
        assert_eq!(spec.update_strategy_name.as_deref(), Some("safe"));
        assert_eq!(spec.target_kubernetes_version.as_deref(), Some("1.33"));
        assert_eq!(spec.long_term_support, Some(true));
        assert!(spec.disabled);
        let by_name =
            create(&["-n", "p", "-c", "Stable", "--update-strategy-name", "safe"]).expect("alias");
        assert_eq!(by_name.update_strategy_name.as_deref(), Some("safe"));
        assert_eq!(by_name.node_image_selection, None);
        assert!(!by_name.disabled);
    }

    #[test]
    fn create_refuses_what_az_refuses() {
        let err = create(&[
            "-n",
            "p",
            "-c",
            "NodeImage",
            "--node-image-selection",
            "Latest",
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("nodeImageSelection cannot be set when channel is 'NodeImage'"),
            "{err}"
        );
        let err = create(&["-n", "p", "-c", "Weekly"])
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid value 'Weekly'"), "{err}");
        assert!(create(&["-n", "p", "-c", "Stable", "--update-strategy-id", " "]).is_err());
    }

    #[test]
    fn the_table_shows_the_last_trigger() {
        let mut p = AutoUpgradeProfile::new(
            "nightly",
            AutoUpgradeProfileSpec {
                channel: UpgradeChannel::Rapid,
                update_strategy_name: Some("safe".into()),
                ..Default::default()
            },
        );
        p.status = Some(
            serde_json::from_value(serde_json::json!({
            "autoUpgradeProfileStatus": {"lastTriggeredAt": "2026-12-07T10:00:00Z",
                "lastTriggerStatus": "Succeeded", "lastTriggerUpdateRunName": "nightly-0a1b2c3d"}}))
            .expect("status"),
        );
        let table = profile_table(&[p]);
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2);
        let cells: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(
            cells,
            [
                "nightly",
                "Rapid",
                "safe",
                "true",
                "2026-12-07T10:00:00Z",
                "Succeeded",
                "nightly-0a1b2c3d"
            ]
        );
    }
}
