//! `fleetdeck updaterun …` and `fleetdeck updatestrategy …`: seed 004's `az fleet updaterun` /
//! `az fleet updatestrategy` commands against a running fleetdeck's hub (its data directory's
//! kubeconfig, or `--kubeconfig`). The objects are the hub's `updates.fleetdeck.dev` kinds, so
//! kubectl sees the same; start / stop / skip go through [`crate::upgrade_actions`].
//! Output is JSON by default, like `az`; `-o table` and `-o yaml` as well.

mod profiles;
mod render;
mod strategies;

pub use profiles::{auto_upgrade_profile, AutoUpgradeProfileCommand};
pub use strategies::{update_strategy, CreateStrategyArgs, UpdateStrategyCommand};

use render::{columns, gate_table, print, run_row, state_name, tree, RUN_HEADER};
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{anyhow, bail, Context as _};
use app::fleet::upgrade::run::GateState;
use app::fleet::upgrade::run::{SkipProperties, SkipTarget, SkipTargetType};
use app::fleet::upgrade::upgrade_run::{
    ManagedClusterUpdate, ManagedClusterUpgradeSpec, ManagedClusterUpgradeType, NodeImageSelection,
    NodeImageSelectionType, UpdateRunSpec, UpdateRunStrategy, UpdateState,
};
use app::fleet::{Gate, MemberCluster, UpdateRun, UpdateStrategy};
use clap::{Args, Subcommand, ValueEnum};
use kube::api::{Api, DeleteParams, ListParams, PostParams};

use crate::upgrade_actions::{act, RunAction};

/// Where the hub is and how to print.
#[derive(Debug, Clone, Args)]
pub struct Target {
    /// The data directory of the running fleetdeck (its kubeconfig and release catalogue).
    #[arg(long, env = "FLEETDECK_DATA_DIR", global = true)]
    pub data_dir: Option<PathBuf>,
    /// A kubeconfig of the hub instead of the data directory's (context `hub` unless --context).
    #[arg(long, global = true)]
    pub kubeconfig: Option<PathBuf>,
    #[arg(long, global = true)]
    pub context: Option<String>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Output::Json, global = true)]
    pub output: Output,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Json,
    Yaml,
    Table,
}

#[derive(Debug, Subcommand)]
pub enum UpdateRunCommand {
    /// Create a NotStarted update run (`az fleet updaterun create`).
    Create(CreateRunArgs),
    /// Start a run that is NotStarted, Stopped or Failed.
    Start(NameArg),
    /// Stop a Running or Pending run: members in flight finish, nothing new starts.
    Stop(NameArg),
    /// Skip members, groups, stages or after-stage waits: `--targets Group:g1 Stage:s2`.
    Skip(SkipArgs),
    List,
    Show(NameArg),
    /// Delete a run (refused while it is Running, Pending or Stopping).
    Delete(NameArg),
    /// Wait until the run finishes, printing each member's, group's and stage's progress.
    Wait(WaitArgs),
}

#[derive(Debug, Subcommand)]
pub enum GateCommand {
    /// Gates the runs have reached (`az fleet gate list`).
    List(GateListArgs),
    Show(GateNameArg),
    /// Approve a Pending gate: its state to Completed (`az fleet gate approve`).
    Approve(GateNameArg),
}

#[derive(Debug, Clone, Args)]
pub struct GateListArgs {
    /// Only gates in this state.
    #[arg(long = "state-filter", visible_alias = "state", value_enum)]
    pub state: Option<GateStateArg>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
#[value(rename_all = "verbatim")]
pub enum GateStateArg {
    Pending,
    Skipped,
    Completed,
}

#[derive(Debug, Clone, Args)]
pub struct GateNameArg {
    #[arg(short = 'n', long = "gate-name", visible_alias = "name")]
    pub name: String,
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Assign a member cluster to an update group (`az fleet member update --update-group`).
    Update(MemberUpdateArgs),
    /// A member cluster joins the fleet: its MemberCluster is created (in the embedded mode the
    /// running fleetdeck starts a simulated cluster for it); waits until it has joined.
    Join(MemberJoinArgs),
    /// A member cluster leaves the fleet: its MemberCluster is deleted, its bindings are
    /// unscheduled, and what was placed on it stays there; waits until it is gone.
    Leave(MemberLeaveArgs),
}

#[derive(Debug, Clone, Args)]
pub struct MemberJoinArgs {
    /// The member's name (a DNS label).
    pub name: String,
    /// A label of the member, `key=value`; repeat for more.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,
    /// How long to wait for the member to join (`0s`: do not wait, e.g. for a real member whose
    /// own agent joins later).
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub wait: std::time::Duration,
}

#[derive(Debug, Clone, Args)]
pub struct MemberLeaveArgs {
    /// The member's name.
    pub name: String,
    /// How long to wait for the member to be gone (`0s`: do not wait).
    #[arg(long, default_value = "60s", value_parser = humantime::parse_duration)]
    pub wait: std::time::Duration,
}

#[derive(Debug, Clone, Args)]
pub struct MemberUpdateArgs {
    #[arg(short = 'n', long)]
    pub name: String,
    #[arg(long)]
    pub update_group: String,
}

#[derive(Debug, Clone, Args)]
pub struct NameArg {
    #[arg(short = 'n', long = "name", visible_alias = "update-run-name")]
    pub name: String,
}

#[derive(Debug, Clone, Args)]
pub struct CreateRunArgs {
    #[arg(short = 'n', long)]
    pub name: String,
    #[arg(long, value_enum)]
    pub upgrade_type: UpgradeType,
    /// Required for Full and ControlPlaneOnly: `x.y` or `x.y.z`.
    #[arg(long)]
    pub kubernetes_version: Option<String>,
    #[arg(long, value_enum, default_value_t = ImageSelection::Latest)]
    pub node_image_selection: ImageSelection,
    /// A stages file (or inline JSON): `{"stages": [{"name", "groups": [{"name"}], "afterStageWaitInSeconds"}]}`.
    #[arg(long)]
    pub stages: Option<String>,
    /// Copy this update strategy into the run.
    #[arg(long)]
    pub update_strategy_name: Option<String>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "verbatim")]
pub enum UpgradeType {
    Full,
    ControlPlaneOnly,
    NodeImageOnly,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "verbatim")]
pub enum ImageSelection {
    Latest,
    Consistent,
}

#[derive(Debug, Clone, Args)]
pub struct SkipArgs {
    #[arg(short = 'n', long)]
    pub name: String,
    /// `Type:name` with Type one of Member, Group, Stage, AfterStageWait.
    #[arg(long, num_args = 1.., required = true)]
    pub targets: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    #[arg(short = 'n', long = "name", visible_alias = "update-run-name")]
    pub name: String,
    /// Give up after this long (e.g. `10m`).
    #[arg(long, default_value = "1h", value_parser = humantime::parse_duration)]
    pub timeout: Duration,
    /// How often to look.
    #[arg(long, default_value = "1s", value_parser = humantime::parse_duration)]
    pub interval: Duration,
}

struct Hub {
    client: kube::Client,
    data_dir: Option<PathBuf>,
}

async fn connect(target: &Target) -> anyhow::Result<Hub> {
    let (path, data_dir) = match &target.kubeconfig {
        Some(p) => (p.clone(), target.data_dir.clone()),
        None => {
            let dir = crate::serve::data_dir(target.data_dir.clone())?;
            (crate::kubeconfig::path_in(&dir), Some(dir))
        }
    };
    let context = target.context.as_deref().unwrap_or("hub");
    let client = crate::serve::real_hub_client(&path, Some(context))
        .await
        .with_context(|| format!("cannot reach the hub of {}", path.display()))?;
    Ok(Hub { client, data_dir })
}

/// `--stages` as the seed passes it: a file name, or the JSON itself.
fn read_stages(arg: &str) -> anyhow::Result<UpdateRunStrategy> {
    let text = if Path::new(arg).exists() {
        std::fs::read_to_string(arg).with_context(|| format!("cannot read {arg}"))?
    } else {
        arg.to_string()
    };
    serde_json::from_str(&text).with_context(|| format!("--stages {arg}: not a stages document"))
}

fn parse_target(text: &str) -> anyhow::Result<SkipTarget> {
    let (kind, name) = text
        .split_once(':')
        .ok_or_else(|| anyhow!("--targets {text}: expected Type:name"))?;
    let type_ = match kind {
        "Member" => SkipTargetType::Member,
        "Group" => SkipTargetType::Group,
        "Stage" => SkipTargetType::Stage,
        "AfterStageWait" => SkipTargetType::AfterStageWait,
        other => bail!(
            "--targets {text}: unknown type {other}; use Member, Group, Stage or AfterStageWait"
        ),
    };
    Ok(SkipTarget {
        type_,
        name: name.to_string(),
    })
}

fn catalogue(
    hub: &Hub,
) -> anyhow::Result<app::fleet::upgrade::release_catalogue::ReleaseCatalogue> {
    let dir = hub
        .data_dir
        .clone()
        .ok_or_else(|| anyhow!("start needs the release catalogue: pass --data-dir"))?;
    crate::release_catalogue::load(&dir.join(crate::release_catalogue::FILE_NAME))
        .map_err(|e| anyhow!(e))
}

fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

pub async fn update_run(command: &UpdateRunCommand, target: &Target) -> anyhow::Result<()> {
    let hub = connect(target).await?;
    let runs: Api<UpdateRun> = Api::all(hub.client.clone());
    let out = target.output;
    match command {
        UpdateRunCommand::Create(a) => {
            let spec = UpdateRunSpec {
                update_strategy_id: a.update_strategy_name.clone(),
                strategy: a.stages.as_deref().map(read_stages).transpose()?,
                managed_cluster_update: ManagedClusterUpdate {
                    upgrade: ManagedClusterUpgradeSpec {
                        type_: match a.upgrade_type {
                            UpgradeType::Full => ManagedClusterUpgradeType::Full,
                            UpgradeType::ControlPlaneOnly => {
                                ManagedClusterUpgradeType::ControlPlaneOnly
                            }
                            UpgradeType::NodeImageOnly => ManagedClusterUpgradeType::NodeImageOnly,
                        },
                        kubernetes_version: a.kubernetes_version.clone(),
                    },
                    node_image_selection: Some(NodeImageSelection {
                        type_: match a.node_image_selection {
                            ImageSelection::Latest => NodeImageSelectionType::Latest,
                            ImageSelection::Consistent => NodeImageSelectionType::Consistent,
                        },
                        custom_node_image_versions: None,
                    }),
                },
                auto_upgrade_profile_id: None,
            };
            if spec.update_strategy_id.is_some() && spec.strategy.is_some() {
                bail!("--stages and --update-strategy-name cannot both be given");
            }
            if let Some(s) = &spec.update_strategy_id {
                Api::<UpdateStrategy>::all(hub.client.clone())
                    .get_opt(s)
                    .await?
                    .ok_or_else(|| anyhow!("update strategy {s} not found"))?;
            }
            let created = runs
                .create(&PostParams::default(), &UpdateRun::new(&a.name, spec))
                .await?;
            // The engine plans it (and copies the strategy); show the plan, or why there is none.
            let planned = wait_planned(&runs, &a.name).await?.unwrap_or(created);
            print(out, &planned, || tree(&planned))
        }
        UpdateRunCommand::Start(n) | UpdateRunCommand::Stop(n) => {
            let (action, cat) = match command {
                UpdateRunCommand::Start(_) => (RunAction::Start, catalogue(&hub)?),
                _ => (RunAction::Stop, Default::default()),
            };
            let run = act(&hub.client, &n.name, &action, &cat, now()).await?;
            print(out, &run, || tree(&run))
        }
        UpdateRunCommand::Skip(a) => {
            let targets = a
                .targets
                .iter()
                .map(|t| parse_target(t))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let action = RunAction::Skip(SkipProperties { targets });
            let run = act(&hub.client, &a.name, &action, &Default::default(), now()).await?;
            print(out, &run, || tree(&run))
        }
        UpdateRunCommand::List => {
            let list = runs.list(&ListParams::default()).await?.items;
            print(out, &list, || {
                let mut rows = vec![RUN_HEADER.iter().map(|s| s.to_string()).collect()];
                rows.extend(list.iter().map(run_row));
                columns(&rows)
            })
        }
        UpdateRunCommand::Show(n) => {
            let run = runs
                .get_opt(&n.name)
                .await?
                .ok_or_else(|| anyhow!("update run {} not found", n.name))?;
            print(out, &run, || tree(&run))
        }
        UpdateRunCommand::Delete(n) => {
            let run = runs
                .get_opt(&n.name)
                .await?
                .ok_or_else(|| anyhow!("update run {} not found", n.name))?;
            let state = run
                .status
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .and_then(|s| s.state)
                .unwrap_or_default();
            app::fleet::upgrade::spec_change::check_delete(state)?;
            runs.delete(&n.name, &DeleteParams::default()).await?;
            Ok(())
        }
        UpdateRunCommand::Wait(w) => wait(&runs, w).await,
    }
}

/// Up to a few seconds for the engine's plan; `None` if it has not planned the run yet.
async fn wait_planned(runs: &Api<UpdateRun>, name: &str) -> anyhow::Result<Option<UpdateRun>> {
    for _ in 0..50 {
        let run = runs.get(name).await?;
        let status = run.status.as_ref();
        if status.and_then(|s| s.stages.as_ref()).is_some() {
            return Ok(Some(run));
        }
        if let Some(e) = status
            .and_then(|s| s.status.as_ref())
            .and_then(|s| s.error.as_ref())
        {
            let message = e
                .get("message")
                .and_then(|m| m.as_str())
                .unwrap_or_default();
            bail!("update run {name} was created but cannot run: {message}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Ok(None)
}

fn finished(state: Option<UpdateState>) -> bool {
    matches!(
        state,
        Some(
            UpdateState::Completed
                | UpdateState::Failed
                | UpdateState::Stopped
                | UpdateState::Skipped
        )
    )
}

/// Prints `path: state` whenever something changes, until the run is Completed (success) or
/// Failed / Stopped / Skipped (an error saying so).
async fn wait(runs: &Api<UpdateRun>, w: &WaitArgs) -> anyhow::Result<()> {
    let deadline = tokio::time::Instant::now() + w.timeout;
    let mut seen = std::collections::BTreeMap::<String, String>::new();
    loop {
        let run = runs.get(&w.name).await?;
        let status = run.status.clone().unwrap_or_default();
        let mut now = vec![(w.name.clone(), state_name(&status.status))];
        for s in status.stages.iter().flatten() {
            now.push((s.name.clone(), state_name(&s.status)));
            for g in s.groups.iter().flatten() {
                now.push((format!("{}/{}", s.name, g.name), state_name(&g.status)));
                for m in g.members.iter().flatten() {
                    let mut state = state_name(&m.status);
                    if let Some(msg) = &m.message {
                        state = format!("{state} ({msg})");
                    }
                    now.push((format!("{}/{}/{}", s.name, g.name, m.name), state));
                }
            }
        }
        for (path, state) in now {
            if seen.get(&path) != Some(&state) {
                println!("{}  {path}: {state}", chrono::Utc::now().format("%H:%M:%S"));
                seen.insert(path, state);
            }
        }
        let state = status.status.as_ref().and_then(|s| s.state);
        if finished(state) {
            return match state {
                Some(UpdateState::Completed) => Ok(()),
                other => bail!(
                    "update run {} ended {:?}",
                    w.name,
                    other.unwrap_or_default()
                ),
            };
        }
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "update run {} did not finish within {:?}",
                w.name,
                w.timeout
            );
        }
        tokio::time::sleep(w.interval).await;
    }
}

pub async fn gate(command: &GateCommand, target: &Target) -> anyhow::Result<()> {
    let hub = connect(target).await?;
    let api: Api<Gate> = Api::all(hub.client.clone());
    let out = target.output;
    match command {
        GateCommand::List(a) => {
            let want = a.state.map(|s| match s {
                GateStateArg::Pending => GateState::Pending,
                GateStateArg::Skipped => GateState::Skipped,
                GateStateArg::Completed => GateState::Completed,
            });
            let list: Vec<Gate> = api
                .list(&ListParams::default())
                .await?
                .items
                .into_iter()
                .filter(|g| want.is_none_or(|w| g.spec.state == w))
                .collect();
            print(out, &list, || gate_table(&list))
        }
        GateCommand::Show(n) => {
            let g = api
                .get_opt(&n.name)
                .await?
                .ok_or_else(|| anyhow!("gate {} not found", n.name))?;
            print(out, &g, || gate_table(std::slice::from_ref(&g)))
        }
        GateCommand::Approve(n) => {
            let mut g = api
                .get_opt(&n.name)
                .await?
                .ok_or_else(|| anyhow!("gate {} not found", n.name))?;
            if g.spec.state != GateState::Pending {
                bail!(
                    "gate {} is {:?}; only a Pending gate can be approved",
                    n.name,
                    g.spec.state
                );
            }
            g.spec.state = GateState::Completed;
            // At the resourceVersion read: a gate completed meanwhile is not approved twice.
            let written = api.replace(&n.name, &PostParams::default(), &g).await?;
            print(out, &written, || gate_table(std::slice::from_ref(&written)))
        }
    }
}

/// The update group is the MemberCluster label `updates.fleetdeck.dev/group` (DESIGN.md).
pub async fn member(command: &MemberCommand, target: &Target) -> anyhow::Result<()> {
    let hub = connect(target).await?;
    let api: Api<MemberCluster> = Api::all(hub.client.clone());
    match command {
        MemberCommand::Update(a) => {
            let patch = serde_json::json!({"metadata": {"labels": {
                app::fleet::types::names::UPDATE_GROUP_LABEL: a.update_group}}});
            let m = api
                .patch(
                    &a.name,
                    &kube::api::PatchParams::default(),
                    &kube::api::Patch::Merge(&patch),
                )
                .await
                .with_context(|| format!("member {}", a.name))?;
            print(target.output, &m, || {
                columns(&[
                    vec!["Name".into(), "UpdateGroup".into()],
                    vec![a.name.clone(), a.update_group.clone()],
                ])
            })
        }
        MemberCommand::Join(a) => {
            use crate::members::commands;
            let member = commands::member_cluster(&a.name, &a.labels)?;
            let joined = commands::join(&hub.client, &member, a.wait).await?;
            let done = if a.wait.is_zero() {
                "created"
            } else {
                "joined"
            };
            print(target.output, &joined, || {
                format!(
                    "membercluster.cluster.kubernetes-fleet.io/{} {done}\n",
                    a.name
                )
            })
        }
        MemberCommand::Leave(a) => {
            crate::members::commands::leave(&hub.client, &a.name, a.wait).await?;
            let done = if a.wait.is_zero() { "deleted" } else { "left" };
            println!(
                "membercluster.cluster.kubernetes-fleet.io/{} {done}",
                a.name
            );
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_targets_parse_as_the_cli_types_them() {
        let t = parse_target("AfterStageWait:stage1").expect("parses");
        assert_eq!(
            (t.type_, t.name.as_str()),
            (SkipTargetType::AfterStageWait, "stage1")
        );
        let err = parse_target("Cluster:m1").unwrap_err().to_string();
        assert!(err.contains("unknown type Cluster"), "{err}");
        assert!(parse_target("m1").is_err());
    }

    #[test]
    fn inline_stages_are_accepted_like_a_file() {
        let s = read_stages(r#"{"stages": [{"name": "s1", "groups": [{"name": "g"}]}]}"#)
            .expect("inline");
        assert_eq!(s.stages[0].name, "s1");
        assert!(read_stages("{not json").is_err());
    }
}
