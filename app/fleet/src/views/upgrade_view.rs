//! What the dashboard shows of upgrade runs (seed 004): a row per run on the Upgrades page, and a
//! run's stages → groups → members with each member's from → to versions, its window, and which
//! actions the spec allows where. Pure: the server function reads the run, the members and the
//! run's gates and calls [`detail`]; which skips are offered comes from the same checks the
//! action itself makes ([`skip_refusal`]), so the page never offers what the hub would refuse.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::types::condition::to_utc;
use crate::upgrade::maintenance_window::{MaintenanceWindow, WindowState};
use crate::upgrade::managed_cluster::{self, member_view, OperationPhase, UpgradeOperation};
use crate::upgrade::member_target::{decide_member, MemberDecision, MemberUpgrade};
use crate::upgrade::member_view::MemberView;
use crate::upgrade::release_catalogue::ReleaseCatalogue;
use crate::upgrade::run::{
    may_start, may_stop, skip_refusal, GateState, SkipTarget, SkipTargetType,
};
use crate::upgrade::upgrade_run::{
    GateConfiguration, GateType, ManagedClusterUpgradeType, MemberUpdateStatus,
    NodeImageSelectionType, UpdateGroupStatus, UpdateRunGateStatus, UpdateStageStatus, UpdateState,
    UpdateStatus,
};
use crate::upgrade::versions::NodeImage;
use crate::{Gate, MemberCluster, UpdateRun};

/// One row of the Upgrades page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeRow {
    pub name: String,
    pub state: UpdateState,
    pub upgrade_type: ManagedClusterUpgradeType,
    /// The control-plane target (Full, ControlPlaneOnly).
    pub kubernetes_version: Option<String>,
    pub node_image_selection: NodeImageSelectionType,
    /// The UpdateStrategy the run copied, if any.
    pub strategy: Option<String>,
    /// Members Completed, Skipped or Failed, of all the run lists.
    pub members_done: usize,
    pub members_total: usize,
    pub created: Option<DateTime<Utc>>,
    /// The run's error (why it has no plan, or why it failed).
    pub message: Option<String>,
}

/// The words of a state, as the API spells it.
pub fn state_label(state: UpdateState) -> &'static str {
    match state {
        UpdateState::NotStarted => "NotStarted",
        UpdateState::Running => "Running",
        UpdateState::Stopping => "Stopping",
        UpdateState::Stopped => "Stopped",
        UpdateState::Skipped => "Skipped",
        UpdateState::Failed => "Failed",
        UpdateState::Pending => "Pending",
        UpdateState::Completed => "Completed",
    }
}

pub fn upgrade_type_label(t: ManagedClusterUpgradeType) -> &'static str {
    match t {
        ManagedClusterUpgradeType::Full => "Full",
        ManagedClusterUpgradeType::NodeImageOnly => "NodeImageOnly",
        ManagedClusterUpgradeType::ControlPlaneOnly => "ControlPlaneOnly",
    }
}

pub fn selection_label(t: NodeImageSelectionType) -> &'static str {
    match t {
        NodeImageSelectionType::Latest => "Latest",
        NodeImageSelectionType::Consistent => "Consistent",
        NodeImageSelectionType::Custom => "Custom",
    }
}

fn state_of(s: &Option<UpdateStatus>) -> UpdateState {
    s.as_ref().and_then(|s| s.state).unwrap_or_default()
}

fn time(t: Option<&String>) -> Option<DateTime<Utc>> {
    t.and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// The `message` of an ARM ErrorDetail, else its code.
fn error_text(s: &Option<UpdateStatus>) -> Option<String> {
    let e = s.as_ref()?.error.as_ref()?;
    e.get("message")
        .or_else(|| e.get("code"))
        .and_then(|m| m.as_str())
        .map(str::to_string)
}

fn members_of(run: &UpdateRun) -> impl Iterator<Item = &MemberUpdateStatus> {
    run.status
        .iter()
        .flat_map(|s| s.stages.iter().flatten())
        .flat_map(|s| s.groups.iter().flatten())
        .flat_map(|g| g.members.iter().flatten())
}

pub fn row(run: &UpdateRun) -> UpgradeRow {
    let update = &run.spec.managed_cluster_update;
    let (mut done, mut total) = (0, 0);
    for m in members_of(run) {
        total += 1;
        if matches!(
            state_of(&m.status),
            UpdateState::Completed | UpdateState::Skipped | UpdateState::Failed
        ) {
            done += 1;
        }
    }
    let run_status = run.status.as_ref().and_then(|s| s.status.clone());
    UpgradeRow {
        name: run.metadata.name.clone().unwrap_or_default(),
        state: state_of(&run_status),
        upgrade_type: update.upgrade.type_,
        kubernetes_version: update.upgrade.kubernetes_version.clone(),
        node_image_selection: update
            .node_image_selection
            .as_ref()
            .map(|s| s.type_)
            .unwrap_or_default(),
        strategy: run.spec.update_strategy_id.clone(),
        members_done: done,
        members_total: total,
        created: run
            .metadata
            .creation_timestamp
            .as_ref()
            .and_then(|t| to_utc(&t.0)),
        message: error_text(&run_status),
    }
}

/// A run's page.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpgradeDetail {
    pub row: UpgradeRow,
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    /// The images a Consistent or Custom run chose.
    pub selected_images: Vec<String>,
    pub may_start: bool,
    pub may_stop: bool,
    /// Why Delete is refused now (the hub's delete admission says the same), or `None`.
    pub delete_refusal: Option<String>,
    /// The auto-upgrade profile that made the run.
    pub profile: Option<String>,
    /// How the run orders its members: the strategy it copied, its own stages, or one by one.
    pub sequence: String,
    pub stages: Vec<StageLine>,
}

/// What a node of the tree shares: its state, times, error and whether Skip is offered.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub state: UpdateState,
    pub started: Option<DateTime<Utc>>,
    pub ended: Option<DateTime<Utc>>,
    pub error: Option<String>,
    /// The run would accept a skip of this node now.
    pub skippable: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StageLine {
    pub name: String,
    pub progress: Progress,
    pub before_gates: Vec<GateLine>,
    pub after_gates: Vec<GateLine>,
    pub wait: Option<WaitLine>,
    pub groups: Vec<GroupLine>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupLine {
    pub name: String,
    pub progress: Progress,
    pub before_gates: Vec<GateLine>,
    pub after_gates: Vec<GateLine>,
    pub members: Vec<MemberLine>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberLine {
    pub name: String,
    pub progress: Progress,
    /// The run's message for the member (why it is Pending or Skipped, the pools left alone).
    pub message: Option<String>,
    /// The window the run's upgrade type honours, in words, and whether it is open now.
    pub window: Option<String>,
    /// The control plane's change (Full, ControlPlaneOnly).
    pub kubernetes: Option<VersionChange>,
    /// Each node pool's image change (Full, NodeImageOnly).
    pub node_images: Vec<VersionChange>,
}

/// `from → to`; `to` is `None` when nothing changes or the target is not known yet.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionChange {
    /// `Kubernetes`, or the node pool's name.
    pub what: String,
    pub from: String,
    pub to: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitLine {
    pub seconds: i32,
    pub state: UpdateState,
    /// When a running wait ends.
    pub ends_at: Option<DateTime<Utc>>,
    pub skippable: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateLine {
    /// The Gate object's name, once the run reached the gate.
    pub gate_id: Option<String>,
    pub display_name: Option<String>,
    pub gate_type: GateType,
    /// The run's entry: NotStarted until reached, Pending while it holds the run.
    pub state: UpdateState,
    /// A ScheduledStart gate's time.
    pub scheduled_at: Option<DateTime<Utc>>,
    /// A Pending Approval gate whose Gate object is Pending: Approve is offered.
    pub approvable: bool,
}

/// The run's page from the run, the fleet's members, the run's Gate objects and the release
/// catalogue (for the targets of members not upgraded yet), at `now`.
pub fn detail(
    run: &UpdateRun,
    members: &[MemberCluster],
    gates: &[Gate],
    catalogue: &ReleaseCatalogue,
    now: DateTime<Utc>,
) -> UpgradeDetail {
    let status = run.status.clone().unwrap_or_default();
    let run_state = state_of(&status.status);
    let update = &run.spec.managed_cluster_update;
    let selected: Vec<NodeImage> = status
        .node_image_selection
        .as_ref()
        .and_then(|s| s.selected_node_image_versions.as_deref())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| NodeImage::parse(&v.version).ok())
        .collect();
    let clusters: BTreeMap<&str, &MemberCluster> = members
        .iter()
        .filter_map(|m| m.metadata.name.as_deref().map(|n| (n, m)))
        .collect();
    let gate_objects: BTreeMap<&str, &Gate> = gates
        .iter()
        .filter_map(|g| g.metadata.name.as_deref().map(|n| (n, g)))
        .collect();
    let strategy_stages = run
        .spec
        .strategy
        .as_ref()
        .map(|s| s.stages.as_slice())
        .unwrap_or_default();
    let skippable = |type_: SkipTargetType, name: &str| {
        let target = SkipTarget {
            type_,
            name: name.to_string(),
        };
        skip_refusal(&status, &target).is_none()
    };
    let progress = |s: &Option<UpdateStatus>, type_: SkipTargetType, name: &str| Progress {
        state: state_of(s),
        started: time(s.as_ref().and_then(|s| s.start_time.as_ref())),
        ended: time(s.as_ref().and_then(|s| s.completed_time.as_ref())),
        error: error_text(s),
        skippable: skippable(type_, name),
    };
    let gate_lines = |entries: &Option<Vec<UpdateRunGateStatus>>,
                      configs: Option<&Vec<GateConfiguration>>| {
        entries
            .iter()
            .flatten()
            .enumerate()
            .map(|(i, e)| {
                let object = e.gate_id.as_deref().and_then(|id| gate_objects.get(id));
                let config = configs.and_then(|c| c.get(i));
                let gate_type = object
                    .map(|g| g.spec.gate_type)
                    .or(config.map(|c| c.type_))
                    .unwrap_or_default();
                let state = state_of(&e.status);
                GateLine {
                    gate_id: e.gate_id.clone(),
                    display_name: e.display_name.clone(),
                    gate_type,
                    state,
                    scheduled_at: object
                        .and_then(|g| g.spec.scheduled_start_properties.as_ref())
                        .and_then(|p| time(Some(&p.absolute_start_time))),
                    approvable: gate_type == GateType::Approval
                        && state == UpdateState::Pending
                        && object.is_some_and(|g| g.spec.state == GateState::Pending),
                }
            })
            .collect::<Vec<_>>()
    };
    let member_line = |m: &MemberUpdateStatus| {
        let cluster = clusters.get(m.name.as_str()).copied();
        MemberLine {
            name: m.name.clone(),
            progress: progress(&m.status, SkipTargetType::Member, &m.name),
            message: m.message.clone(),
            window: cluster.and_then(|c| {
                let view = member_view(c);
                view.window_for(update.upgrade.type_)
                    .map(|w| describe_window(w, now))
            }),
            ..changes(m, cluster, update, &selected, catalogue, now)
        }
    };
    let stages = status
        .stages
        .iter()
        .flatten()
        .map(|s: &UpdateStageStatus| {
            let config = strategy_stages.iter().find(|c| c.name == s.name);
            StageLine {
                name: s.name.clone(),
                progress: progress(&s.status, SkipTargetType::Stage, &s.name),
                before_gates: gate_lines(
                    &s.before_gates,
                    config.and_then(|c| c.before_gates.as_ref()),
                ),
                after_gates: gate_lines(
                    &s.after_gates,
                    config.and_then(|c| c.after_gates.as_ref()),
                ),
                wait: s.after_stage_wait_status.as_ref().map(|w| {
                    let state = state_of(&w.status);
                    let seconds = w.wait_duration_in_seconds.unwrap_or_default();
                    let started = time(w.status.as_ref().and_then(|s| s.start_time.as_ref()));
                    WaitLine {
                        seconds,
                        state,
                        ends_at: started
                            .filter(|_| state == UpdateState::Running)
                            .map(|t| t + Duration::seconds(seconds.into())),
                        skippable: skippable(SkipTargetType::AfterStageWait, &s.name),
                    }
                }),
                groups: s
                    .groups
                    .iter()
                    .flatten()
                    .map(|g: &UpdateGroupStatus| {
                        let gconfig = config
                            .and_then(|c| c.groups.as_ref())
                            .and_then(|gs| gs.iter().find(|c| c.name == g.name));
                        GroupLine {
                            name: g.name.clone(),
                            progress: progress(&g.status, SkipTargetType::Group, &g.name),
                            before_gates: gate_lines(
                                &g.before_gates,
                                gconfig.and_then(|c| c.before_gates.as_ref()),
                            ),
                            after_gates: gate_lines(
                                &g.after_gates,
                                gconfig.and_then(|c| c.after_gates.as_ref()),
                            ),
                            members: g.members.iter().flatten().map(member_line).collect(),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    UpgradeDetail {
        row: row(run),
        started: time(status.status.as_ref().and_then(|s| s.start_time.as_ref())),
        ended: time(
            status
                .status
                .as_ref()
                .and_then(|s| s.completed_time.as_ref()),
        ),
        selected_images: selected.iter().map(|i| i.text.clone()).collect(),
        may_start: may_start(run_state) && status.stages.as_ref().is_some_and(|s| !s.is_empty()),
        may_stop: may_stop(run_state),
        delete_refusal: crate::upgrade::spec_change::check_delete(run_state)
            .err()
            .map(|e| e.to_string()),
        profile: run.spec.auto_upgrade_profile_id.clone(),
        sequence: match (&run.spec.update_strategy_id, &run.spec.strategy) {
            (Some(id), _) => format!("stages copied from strategy {id}"),
            (None, Some(_)) => "its own stages".into(),
            (None, None) => "one member at a time (no strategy)".into(),
        },
        stages,
    }
}

/// "Saturday 02:00 +00:00 for 4 h, opens in 3 h 10 min" / "daily …, open now".
pub fn describe_window(w: &MaintenanceWindow, now: DateTime<Utc>) -> String {
    let when = match &w.day_of_week {
        Some(day) => format!("{day} {} {}", w.start_time, w.utc_offset),
        None => format!("daily {} {}", w.start_time, w.utc_offset),
    };
    let state = match w.state_at(now) {
        Ok(WindowState::Open { .. }) => "open now".to_string(),
        Ok(WindowState::Closed { opens_at }) => {
            format!("opens {}", opens_at.format("%Y-%m-%d %H:%M UTC"))
        }
        Err(e) => format!("invalid: {e}"),
    };
    format!("{when} for {} h, {state}", w.duration_hours)
}

/// The member's from → to versions. While this run's operation is on the member, the operation
/// says the targets (and, once it succeeded, what the member ran before); before that, the
/// targets are what the run would ask for now.
fn changes(
    m: &MemberUpdateStatus,
    cluster: Option<&MemberCluster>,
    update: &crate::upgrade::upgrade_run::ManagedClusterUpdate,
    selected: &[NodeImage],
    catalogue: &ReleaseCatalogue,
    now: DateTime<Utc>,
) -> MemberLine {
    let Some(cluster) = cluster else {
        return MemberLine::default();
    };
    let Some(state) = managed_cluster::of(cluster.status.as_ref()) else {
        return MemberLine::default();
    };
    let op: Option<&UpgradeOperation> = state
        .operation
        .as_ref()
        .filter(|op| m.operation_id.as_deref() == Some(op.id.as_str()));
    let planned: Option<MemberUpgrade> = if op.is_none()
        && matches!(
            state_of(&m.status),
            UpdateState::NotStarted | UpdateState::Pending
        ) {
        // The target does not depend on the window: plan as if it were open, so a member held
        // Pending by its window still shows where it is going.
        let view = MemberView {
            auto_upgrade_window: None,
            node_os_window: None,
            ..member_view(cluster)
        };
        match decide_member(&view, update, selected, catalogue, now) {
            MemberDecision::Start(u) => Some(u),
            _ => None,
        }
    } else {
        None
    };
    let succeeded = op.is_some_and(|o| o.state == OperationPhase::Succeeded);
    let kind = update.upgrade.type_;
    let kubernetes = (kind != ManagedClusterUpgradeType::NodeImageOnly).then(|| {
        let to = match op {
            Some(o) => o.kubernetes_version.clone(),
            None => planned.as_ref().and_then(|p| p.kubernetes_version.clone()),
        };
        let from = op
            .filter(|_| succeeded)
            .and_then(|o| o.from_kubernetes_version.clone())
            .unwrap_or_else(|| state.kubernetes_version.clone());
        VersionChange {
            what: "Kubernetes".into(),
            to: to.filter(|t| *t != from),
            from,
        }
    });
    let node_images = if kind == ManagedClusterUpgradeType::ControlPlaneOnly {
        Vec::new()
    } else {
        state
            .node_pools
            .iter()
            .map(|pool| {
                let to = match op {
                    Some(o) => o
                        .node_images
                        .iter()
                        .find(|p| p.name == pool.name)
                        .map(|p| p.node_image_version.clone()),
                    None => planned.as_ref().and_then(|p| {
                        p.node_images
                            .iter()
                            .find(|(name, _)| *name == pool.name)
                            .map(|(_, image)| image.clone())
                    }),
                };
                let from = op
                    .filter(|_| succeeded)
                    .and_then(|o| o.from_node_images.iter().find(|p| p.name == pool.name))
                    .map(|p| p.node_image_version.clone())
                    .unwrap_or_else(|| pool.node_image_version.clone());
                VersionChange {
                    what: pool.name.clone(),
                    to: to.filter(|t| *t != from),
                    from,
                }
            })
            .collect()
    };
    MemberLine {
        kubernetes,
        node_images,
        ..MemberLine::default()
    }
}

#[cfg(test)]
#[path = "upgrade_view_tests.rs"]
mod tests;
