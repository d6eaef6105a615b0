//! A new run: its strategy copied in (aks §2), validated (aks §10), and its status tree planned —
//! stages in order, groups, members — with thresholds resolved and the Consistent images chosen.
//! The member list is fixed here (aks §4: members are listed at creation).

use std::collections::{BTreeMap, BTreeSet};

use super::maintenance_window::{parse_hhmm, parse_utc_offset, parse_weekday};
use super::member_view::MemberView;
use super::release_catalogue::{custom_images, ReleaseCatalogue};
use super::thresholds::{
    resolve_max_allowed_failures, resolve_max_concurrency, GROUP_DEFAULT_CONCURRENCY,
    STAGE_MAX_CONCURRENCY,
};
use super::upgrade_error::UpgradeError;
use super::upgrade_run::{
    GateConfiguration, GateType, ManagedClusterUpgradeType, MemberSelector, MemberUpdateStatus,
    NodeImageSelectionStatus, NodeImageSelectionType, NodeImageVersion, UpdateGroup,
    UpdateGroupStatus, UpdateRunGateStatus, UpdateRunSpec, UpdateRunStatus, UpdateRunStrategy,
    UpdateStage, UpdateStageStatus, UpdateState, UpdateStatus, WaitStatus,
};
use super::versions::{KubernetesVersion, NodeImage};
use crate::types::label_selector::selector_matches;
use crate::types::selector_text;

/// Decision (aks §18.1, undocumented by Azure): a one-by-one run shows one stage and one group,
/// both named `default`, holding every member of the fleet.
pub const ONE_BY_ONE_STAGE: &str = "default";
pub const ONE_BY_ONE_GROUP: &str = "default";

/// At creation (aks §2): a run naming `updateStrategyId` gets a copy of that strategy, and later
/// edits of the strategy never reach it. `lookup` finds a strategy by name; the id may be an ARM
/// id whose last segment is the name. The id stays set, to show where the copy came from.
pub fn copy_strategy(
    spec: &mut UpdateRunSpec,
    lookup: impl Fn(&str) -> Option<UpdateRunStrategy>,
) -> Result<(), UpgradeError> {
    let Some(id) = spec.update_strategy_id.as_deref() else {
        return Ok(());
    };
    if spec.strategy.is_some() {
        return Err(UpgradeError::BothStrategies);
    }
    let name = id.rsplit('/').next().unwrap_or(id);
    let strategy = lookup(name).ok_or_else(|| UpgradeError::StrategyNotFound(id.to_string()))?;
    spec.strategy = Some(strategy);
    Ok(())
}

/// The sequence a run follows: its strategy, or the one-by-one default (aks §3, §6.2).
pub fn effective_strategy(spec: &UpdateRunSpec) -> UpdateRunStrategy {
    spec.strategy.clone().unwrap_or_else(|| UpdateRunStrategy {
        stages: vec![UpdateStage {
            name: ONE_BY_ONE_STAGE.into(),
            groups: Some(vec![UpdateGroup {
                name: ONE_BY_ONE_GROUP.into(),
                ..Default::default()
            }]),
            ..Default::default()
        }],
    })
}

/// `^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`, 1–50 (aks §10).
pub fn check_name(what: &'static str, name: &str) -> Result<(), UpgradeError> {
    let b = name.as_bytes();
    let ok_char = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    let ok = (1..=50).contains(&b.len())
        && b.first().is_some_and(ok_char)
        && b.last().is_some_and(ok_char)
        && b.iter().all(|c| ok_char(c) || *c == b'-');
    if ok {
        Ok(())
    } else {
        Err(UpgradeError::InvalidName {
            what,
            name: name.to_string(),
        })
    }
}

/// The rules that need no member list (aks §10): what the hub can check on any write.
pub fn validate_spec(spec: &UpdateRunSpec) -> Result<(), UpgradeError> {
    let upgrade = &spec.managed_cluster_update.upgrade;
    match (upgrade.type_, upgrade.kubernetes_version.as_deref()) {
        (ManagedClusterUpgradeType::NodeImageOnly, Some(_)) => {
            return Err(UpgradeError::KubernetesVersionForbidden)
        }
        (ManagedClusterUpgradeType::NodeImageOnly, None) => {}
        (_, None) => return Err(UpgradeError::KubernetesVersionRequired),
        (_, Some(v)) => {
            KubernetesVersion::parse(v)?;
        }
    }
    let selection = spec.managed_cluster_update.node_image_selection.as_ref();
    let custom = selection
        .and_then(|s| s.custom_node_image_versions.as_deref())
        .unwrap_or_default();
    match selection.map(|s| s.type_) {
        Some(NodeImageSelectionType::Custom) if custom.is_empty() => {
            return Err(UpgradeError::CustomImagesRequired)
        }
        Some(NodeImageSelectionType::Custom) => {
            custom_images(custom)?;
        }
        _ if !custom.is_empty() => return Err(UpgradeError::CustomImagesForbidden),
        _ => {}
    }
    if let Some(strategy) = &spec.strategy {
        validate_strategy(strategy)?;
    }
    Ok(())
}

/// An `UpdateStrategy`'s sequence (aks §3.1, §10).
pub fn validate_strategy(strategy: &UpdateRunStrategy) -> Result<(), UpgradeError> {
    if strategy.stages.is_empty() {
        return Err(UpgradeError::NoStages);
    }
    let mut stages = BTreeSet::new();
    let mut groups = BTreeSet::new();
    for stage in &strategy.stages {
        check_name("stage", &stage.name)?;
        if !stages.insert(stage.name.as_str()) {
            return Err(UpgradeError::DuplicateStage(stage.name.clone()));
        }
        let scope = format!("stage {}", stage.name);
        let stage_groups = stage.groups.as_deref().unwrap_or_default();
        if stage_groups.is_empty() && stage.member_selector.is_none() {
            return Err(UpgradeError::NoGroups(stage.name.clone()));
        }
        if stage_groups.len() > 50 {
            return Err(UpgradeError::TooManyGroups {
                stage: stage.name.clone(),
                count: stage_groups.len(),
            });
        }
        if stage.after_stage_wait_in_seconds.is_some_and(|w| w < 0) {
            return Err(UpgradeError::NegativeWait(stage.name.clone()));
        }
        check_scope(
            &scope,
            stage.max_concurrency.as_deref(),
            stage.max_allowed_failures.as_deref(),
            stage.member_selector.as_ref(),
        )?;
        check_gates(
            &scope,
            stage.before_gates.as_deref(),
            stage.after_gates.as_deref(),
        )?;
        for group in stage_groups {
            check_name("group", &group.name)?;
            if !groups.insert(group.name.as_str()) {
                return Err(UpgradeError::DuplicateGroup(group.name.clone()));
            }
            let scope = format!("group {}", group.name);
            check_scope(
                &scope,
                group.max_concurrency.as_deref(),
                group.max_allowed_failures.as_deref(),
                group.member_selector.as_ref(),
            )?;
            check_gates(
                &scope,
                group.before_gates.as_deref(),
                group.after_gates.as_deref(),
            )?;
        }
    }
    Ok(())
}

fn check_scope(
    scope: &str,
    max_concurrency: Option<&str>,
    max_allowed_failures: Option<&str>,
    selector: Option<&MemberSelector>,
) -> Result<(), UpgradeError> {
    if let Some(v) = max_concurrency {
        resolve_max_concurrency(v, 1, scope)?;
    }
    resolve_max_allowed_failures(max_allowed_failures, 1, scope)?;
    if let Some(text) = selector.and_then(|s| s.by_label.as_deref()) {
        if text.chars().count() > 512 {
            return Err(UpgradeError::SelectorTooLong {
                scope: scope.to_string(),
                len: text.chars().count(),
            });
        }
        parse_selector(scope, text)?;
    }
    Ok(())
}

fn check_gates(
    scope: &str,
    before: Option<&[GateConfiguration]>,
    after: Option<&[GateConfiguration]>,
) -> Result<(), UpgradeError> {
    let before = before.unwrap_or_default();
    let after = after.unwrap_or_default();
    for gate in before.iter().chain(after) {
        if gate
            .display_name
            .as_deref()
            .is_some_and(|n| !(1..=100).contains(&n.chars().count()))
        {
            return Err(UpgradeError::GateDisplayName(scope.to_string()));
        }
    }
    if after.iter().any(|g| g.type_ == GateType::ScheduledStart) {
        return Err(UpgradeError::ScheduledStartAfterGate(scope.to_string()));
    }
    for gate in before
        .iter()
        .filter(|g| g.type_ == GateType::ScheduledStart)
    {
        let bad = |why: String| UpgradeError::InvalidScheduledStart {
            scope: scope.to_string(),
            why,
        };
        let c = gate
            .scheduled_start_configuration
            .as_ref()
            .ok_or_else(|| bad("scheduledStartConfiguration is required".into()))?;
        parse_weekday(&c.start_day).map_err(bad)?;
        parse_hhmm(&c.start_time).map_err(bad)?;
        parse_utc_offset(&c.utc_offset).map_err(bad)?;
    }
    Ok(())
}

/// A `byLabel` selector; empty text selects every member, as `kubectl get -l ''` does.
fn parse_selector(
    scope: &str,
    text: &str,
) -> Result<crate::types::label_selector::LabelSelector, UpgradeError> {
    let bad = |why: String| UpgradeError::InvalidSelector {
        scope: scope.to_string(),
        why,
    };
    let selector = selector_text::parse(text)
        .map_err(|e| bad(e.to_string()))?
        .unwrap_or_default();
    crate::types::label_selector::validate(&selector).map_err(|e| bad(e.to_string()))?;
    Ok(selector)
}

fn selects(
    scope: &str,
    selector: Option<&MemberSelector>,
    member: &MemberView,
) -> Result<bool, UpgradeError> {
    let Some(text) = selector.and_then(|s| s.by_label.as_deref()) else {
        return Ok(true);
    };
    let sel = parse_selector(scope, text)?;
    selector_matches(&sel, &member.labels).map_err(|e| UpgradeError::InvalidSelector {
        scope: scope.to_string(),
        why: e.to_string(),
    })
}

/// One stage's groups and their members, in order.
pub type StagePlan<'m> = Vec<(String, Vec<&'m MemberView>)>;

/// Members of each stage's groups, in the plan's order.
///
/// - One-by-one: every member (aks §6.2).
/// - A group without a selector takes the members whose update group is its name; with one, the
///   members its `byLabel` selects (aks §6.5). A stage selector pre-filters both; a stage with a
///   selector and no groups gets one implicit group named after the stage (decision).
/// - Members in no group of the strategy are left out: not listed, not upgraded (aks §6.6).
/// - Decision: a member selected by two groups (possible only with selectors) belongs to the
///   first in stage then group order, so no run upgrades a cluster twice.
/// - Within a group, members are listed by name: the tie order of the §6.3 ranking.
pub fn assign_members<'m>(
    strategy: &UpdateRunStrategy,
    one_by_one: bool,
    members: &'m [MemberView],
) -> Result<Vec<StagePlan<'m>>, UpgradeError> {
    let mut sorted: Vec<&MemberView> = members.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let known_groups: BTreeSet<&str> = members.iter().filter_map(|m| m.group.as_deref()).collect();
    let mut taken: BTreeSet<&str> = BTreeSet::new();
    let mut plan = Vec::new();
    for stage in &strategy.stages {
        let scope = format!("stage {}", stage.name);
        let mut in_stage = Vec::new();
        for m in &sorted {
            if selects(&scope, stage.member_selector.as_ref(), m)? {
                in_stage.push(*m);
            }
        }
        let implicit = [UpdateGroup {
            name: stage.name.clone(),
            ..Default::default()
        }];
        let (groups, is_implicit) = match stage.groups.as_deref() {
            Some(g) if !g.is_empty() => (g, false),
            _ => (&implicit[..], true),
        };
        let mut stage_plan = Vec::new();
        for group in groups {
            let scope = format!("group {}", group.name);
            let by_name = group.member_selector.is_none() && !is_implicit;
            if by_name && !one_by_one && !known_groups.contains(group.name.as_str()) {
                return Err(UpgradeError::UnknownGroup(group.name.clone()));
            }
            let mut chosen = Vec::new();
            for m in &in_stage {
                let wanted = if one_by_one {
                    true
                } else if by_name {
                    m.group.as_deref() == Some(group.name.as_str())
                } else {
                    selects(&scope, group.member_selector.as_ref(), m)?
                };
                if wanted && taken.insert(m.name.as_str()) {
                    chosen.push(*m);
                }
            }
            stage_plan.push((group.name.clone(), chosen));
        }
        plan.push(stage_plan);
    }
    Ok(plan)
}

/// The images a Consistent or Custom run targets (aks §9); empty for Latest and ControlPlaneOnly.
pub fn select_images<'m>(
    spec: &UpdateRunSpec,
    members: impl IntoIterator<Item = &'m MemberView>,
    catalogue: &ReleaseCatalogue,
) -> Result<Vec<NodeImage>, UpgradeError> {
    let update = &spec.managed_cluster_update;
    if update.upgrade.type_ == ManagedClusterUpgradeType::ControlPlaneOnly {
        return Ok(Vec::new());
    }
    let Some(selection) = &update.node_image_selection else {
        return Ok(Vec::new());
    };
    match selection.type_ {
        NodeImageSelectionType::Latest => Ok(Vec::new()),
        NodeImageSelectionType::Custom => custom_images(
            selection
                .custom_node_image_versions
                .as_deref()
                .unwrap_or_default(),
        ),
        NodeImageSelectionType::Consistent => {
            let mut pools = Vec::new();
            for m in members {
                for p in &m.node_pools {
                    pools.push((m.region.as_str(), NodeImage::parse(&p.node_image_version)?));
                }
            }
            Ok(catalogue.consistent_images(pools.iter().map(|(r, i)| (*r, i.family.as_str()))))
        }
    }
}

/// `status.nodeImageSelection`: shown for Consistent and, as the monitoring sample does, Custom.
pub fn selection_status(images: &[NodeImage]) -> Option<NodeImageSelectionStatus> {
    (!images.is_empty()).then(|| NodeImageSelectionStatus {
        selected_node_image_versions: Some(
            images
                .iter()
                .map(|i| NodeImageVersion {
                    version: i.text.clone(),
                })
                .collect(),
        ),
    })
}

fn not_started() -> Option<UpdateStatus> {
    Some(UpdateStatus {
        state: Some(UpdateState::NotStarted),
        ..Default::default()
    })
}

fn gate_entries(gates: Option<&[GateConfiguration]>) -> Option<Vec<UpdateRunGateStatus>> {
    let gates = gates.unwrap_or_default();
    (!gates.is_empty()).then(|| {
        gates
            .iter()
            .map(|g| UpdateRunGateStatus {
                display_name: g.display_name.clone(),
                gate_id: None,
                status: not_started(),
            })
            .collect()
    })
}

/// Validates a run against the fleet and returns its NotStarted status tree. `spec.strategy`
/// must already hold the copy of a referenced strategy ([`copy_strategy`]).
pub fn plan(
    run_name: &str,
    spec: &UpdateRunSpec,
    members: &[MemberView],
    catalogue: &ReleaseCatalogue,
) -> Result<UpdateRunStatus, UpgradeError> {
    check_name("update run", run_name)?;
    validate_spec(spec)?;
    let strategy = effective_strategy(spec);
    let assigned = assign_members(&strategy, spec.strategy.is_none(), members)?;
    let mut stages = Vec::new();
    let mut in_run: BTreeMap<&str, &MemberView> = BTreeMap::new();
    for (stage, groups) in strategy.stages.iter().zip(&assigned) {
        let scope = format!("stage {}", stage.name);
        let stage_size: usize = groups.iter().map(|(_, m)| m.len()).sum();
        let stage_concurrency = match stage.max_concurrency.as_deref() {
            Some(v) => resolve_max_concurrency(v, stage_size, &scope)?,
            None => STAGE_MAX_CONCURRENCY,
        };
        if stage_concurrency > STAGE_MAX_CONCURRENCY {
            return Err(too_high(
                &scope,
                stage.max_concurrency.as_deref(),
                stage_concurrency,
                STAGE_MAX_CONCURRENCY,
            ));
        }
        let configs = stage.groups.as_deref().unwrap_or_default();
        let mut group_statuses = Vec::new();
        for (name, group_members) in groups {
            let config = configs.iter().find(|g| &g.name == name);
            let scope = format!("group {name}");
            let size = group_members.len();
            let value = config.and_then(|g| g.max_concurrency.as_deref());
            let concurrency = match value {
                Some(v) => resolve_max_concurrency(v, size, &scope)?,
                // The implicit group of a stage selector is governed by the stage (aks §6.4).
                None if config.is_none() => stage_concurrency,
                None => GROUP_DEFAULT_CONCURRENCY,
            };
            // Only a value the user wrote is held to the limits; the defaults never exceed them.
            let limit = stage_concurrency.min(size.max(1));
            if value.is_some() && concurrency > limit {
                return Err(too_high(&scope, value, concurrency, limit));
            }
            let failures = resolve_max_allowed_failures(
                config.and_then(|g| g.max_allowed_failures.as_deref()),
                size,
                &scope,
            )?;
            for m in group_members {
                in_run.insert(m.name.as_str(), m);
            }
            group_statuses.push(UpdateGroupStatus {
                name: name.clone(),
                status: not_started(),
                failure_count: Some(0),
                max_allowed_failures: Some(failures as i32),
                max_concurrency: Some(concurrency as i32),
                before_gates: gate_entries(config.and_then(|g| g.before_gates.as_deref())),
                after_gates: gate_entries(config.and_then(|g| g.after_gates.as_deref())),
                members: Some(
                    group_members
                        .iter()
                        .map(|m| MemberUpdateStatus {
                            name: m.name.clone(),
                            cluster_resource_id: m.cluster_resource_id.clone(),
                            status: not_started(),
                            ..Default::default()
                        })
                        .collect(),
                ),
            });
        }
        let wait = stage.after_stage_wait_in_seconds.unwrap_or(0);
        stages.push(UpdateStageStatus {
            name: stage.name.clone(),
            status: not_started(),
            failure_count: Some(0),
            max_allowed_failures: Some(resolve_max_allowed_failures(
                stage.max_allowed_failures.as_deref(),
                stage_size,
                &scope,
            )? as i32),
            max_concurrency: Some(stage_concurrency as i32),
            before_gates: gate_entries(stage.before_gates.as_deref()),
            after_gates: gate_entries(stage.after_gates.as_deref()),
            // Only a non-zero wait has an entry (aks §4).
            after_stage_wait_status: (wait > 0).then(|| WaitStatus {
                status: not_started(),
                wait_duration_in_seconds: Some(wait),
            }),
            groups: Some(group_statuses),
        });
    }
    let images = select_images(spec, in_run.values().copied(), catalogue)?;
    Ok(UpdateRunStatus {
        status: not_started(),
        stages: Some(stages),
        node_image_selection: selection_status(&images),
        failure_count: Some(0),
    })
}

fn too_high(scope: &str, value: Option<&str>, resolved: usize, limit: usize) -> UpgradeError {
    UpgradeError::MaxConcurrencyTooHigh {
        scope: scope.to_string(),
        value: value.unwrap_or_default().to_string(),
        resolved,
        limit,
    }
}
