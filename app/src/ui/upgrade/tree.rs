//! The timeline: stages in order, each with its gates, its groups (which run side by side) and
//! its after-stage wait; each group with its gates and members; each member with its state, its
//! from → to versions, its window or Pending message, its error and times. Skip is offered on
//! exactly the nodes the run would accept it for (the domain's own check).

use leptos::prelude::*;

use super::actions::{Acts, Approve, Confirm};
use crate::fleet::upgrade::upgrade_run::{GateType, UpdateState};
use crate::fleet::views::upgrade_view::{
    GateLine, GroupLine, MemberLine, Progress, StageLine, UpgradeDetail, VersionChange, WaitLine,
};
use crate::server_fns::upgrades::UpgradeAction;
use crate::ui::clock::{span, stamp, Clock};
use crate::ui::upgrades::StatePill;

#[component]
pub(crate) fn Stages(
    name: Memo<String>,
    detail: Signal<UpgradeDetail>,
    acts: Acts,
) -> impl IntoView {
    let names = Memo::new(move |_| {
        detail
            .read()
            .stages
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
    });
    view! {
        <Show
            when=move || !names.read().is_empty()
            fallback=|| view! {
                <p class="text-sm text-slate-700 dark:text-slate-300">
                    "No plan yet: the engine lists the stages, groups and members when it plans the run."
                </p>
            }
        >
            // Keyed by name: a stage keeps its DOM (and an open confirmation) while its state
            // changes underneath.
            <ol id="upgrade-stages" class="flex flex-col gap-4">
                <For each=move || names.get() key=|n| n.clone() let:stage_name>
                    <Stage
                        stage=Memo::new(move |_| detail.read().stages.iter().find(|s| s.name == stage_name).cloned().unwrap_or_default())
                        name
                        acts
                    />
                </For>
            </ol>
        </Show>
    }
}

fn times(p: &Progress) -> Option<String> {
    // A skip stamps both times at once: say when, not "took 0 s".
    if p.state == UpdateState::Skipped {
        return p.ended.map(|e| format!("skipped {}", stamp(e)));
    }
    match (p.started, p.ended) {
        (Some(a), Some(b)) => Some(format!(
            "started {}, took {}",
            stamp(a),
            span((b - a).num_seconds())
        )),
        (Some(a), None) => Some(format!(
            "started {}, running {}",
            stamp(a),
            span((Clock::now() - a).num_seconds())
        )),
        _ => None,
    }
}

#[component]
fn Stage(stage: Memo<StageLine>, name: Memo<String>, acts: Acts) -> impl IntoView {
    let stage_name = stage.get_untracked().name;
    let group_names = Memo::new(move |_| {
        stage
            .read()
            .groups
            .iter()
            .map(|g| g.name.clone())
            .collect::<Vec<_>>()
    });
    let heading = format!("stage-{stage_name}");
    let skip_target = stage_name.clone();
    let wait_stage = stage_name.clone();
    view! {
        <li
            class="stage rounded-lg border border-slate-200 bg-white p-3 shadow-sm dark:border-slate-700 dark:bg-slate-900"
            data-stage=stage_name.clone()
            data-state=move || format!("{:?}", stage.read().progress.state)
            aria-labelledby=heading.clone()
        >
            <div class="flex flex-wrap items-center gap-2">
                <h3 id=heading.clone() class="font-mono font-semibold break-all">{format!("Stage {stage_name}")}</h3>
                <StatePill state=Signal::derive(move || stage.read().progress.state)/>
                <span class="text-xs text-slate-700 dark:text-slate-300">{move || times(&stage.read().progress)}</span>
                <span class="ml-auto">
                    <Show when=move || stage.read().progress.skippable>
                        <Confirm acts name action=UpgradeAction::SkipStage target=skip_target.clone() label="Skip stage…".to_string() what=skip_target.clone() small=true/>
                    </Show>
                </span>
            </div>
            {move || stage.read().progress.error.clone().map(|e| view! { <p class="error mt-1 text-sm text-rose-800 dark:text-rose-200">{e}</p> })}
            <Gates gates=Signal::derive(move || stage.read().before_gates.clone()) place=format!("before stage {}", stage.get_untracked().name) name acts/>
            <ul class="mt-3 grid gap-3 md:grid-cols-2" aria-label=format!("Groups of stage {}", stage.get_untracked().name)>
                <For each=move || group_names.get() key=|n| n.clone() let:group_name>
                    <Group
                        group=Memo::new(move |_| stage.read().groups.iter().find(|g| g.name == group_name).cloned().unwrap_or_default())
                        name
                        acts
                    />
                </For>
            </ul>
            <Gates gates=Signal::derive(move || stage.read().after_gates.clone()) place=format!("after stage {}", stage.get_untracked().name) name acts/>
            {move || stage.read().wait.clone().map(|wait| view! { <Wait wait stage=wait_stage.clone() name acts/> })}
        </li>
    }
}

#[component]
fn Group(group: Memo<GroupLine>, name: Memo<String>, acts: Acts) -> impl IntoView {
    let group_name = group.get_untracked().name;
    let skip_target = group_name.clone();
    let member_names = Memo::new(move |_| {
        group
            .read()
            .members
            .iter()
            .map(|m| m.name.clone())
            .collect::<Vec<_>>()
    });
    view! {
        <li
            class="group-node rounded-md border border-slate-200 p-2 dark:border-slate-700"
            data-group=group_name.clone()
            data-state=move || format!("{:?}", group.read().progress.state)
        >
            <div class="flex flex-wrap items-center gap-2">
                <h4 class="font-mono text-sm font-semibold break-all">{format!("Group {group_name}")}</h4>
                <StatePill state=Signal::derive(move || group.read().progress.state)/>
                <span class="ml-auto">
                    <Show when=move || group.read().progress.skippable>
                        <Confirm acts name action=UpgradeAction::SkipGroup target=skip_target.clone() label="Skip group…".to_string() what=skip_target.clone() small=true/>
                    </Show>
                </span>
            </div>
            <p class="text-xs text-slate-700 dark:text-slate-300">{move || times(&group.read().progress)}</p>
            {move || group.read().progress.error.clone().map(|e| view! { <p class="error mt-1 text-sm text-rose-800 dark:text-rose-200">{e}</p> })}
            <Gates gates=Signal::derive(move || group.read().before_gates.clone()) place=format!("before group {}", group.get_untracked().name) name acts/>
            <ul class="mt-2 flex flex-col gap-2" aria-label=format!("Members of group {}", group.get_untracked().name)>
                <For each=move || member_names.get() key=|n| n.clone() let:member_name>
                    <Member
                        member=Memo::new(move |_| group.read().members.iter().find(|m| m.name == member_name).cloned().unwrap_or_default())
                        name
                        acts
                    />
                </For>
            </ul>
            <Gates gates=Signal::derive(move || group.read().after_gates.clone()) place=format!("after group {}", group.get_untracked().name) name acts/>
        </li>
    }
}

/// One version change; each version moves to its own line before it breaks (node images are
/// long), so a phone reads `nodepool1: <from> → <to>` whole.
fn change_view(c: &VersionChange) -> impl IntoView {
    let version = "inline-block max-w-full break-all";
    view! {
        <li data-what=c.what.clone() data-changing=c.to.is_some().to_string()>
            <span class="font-sans text-slate-700 dark:text-slate-300">{format!("{}: ", c.what)}</span>
            <span class=version>{c.from.clone()}</span>
            {match &c.to {
                Some(to) => view! {
                    <span aria-hidden="true">" → "</span><span class="sr-only">" to "</span>
                    <span class=format!("{version} font-semibold")>{to.clone()}</span>
                }.into_any(),
                None => view! { <span class="font-sans">" (no change)"</span> }.into_any(),
            }}
        </li>
    }
}

#[component]
fn Member(member: Memo<MemberLine>, name: Memo<String>, acts: Acts) -> impl IntoView {
    let member_name = member.get_untracked().name;
    let skip_target = member_name.clone();
    let running = move || member.read().progress.state == UpdateState::Running;
    view! {
        <li
            class="member rounded border border-slate-200 px-2 py-1.5 text-xs dark:border-slate-700"
            data-member=member_name.clone()
            data-state=move || format!("{:?}", member.read().progress.state)
        >
            <div class="flex flex-wrap items-center gap-2">
                <span class="font-mono text-sm font-medium">{member_name.clone()}</span>
                <StatePill state=Signal::derive(move || member.read().progress.state)/>
                <Show when=running>
                    <span class="text-slate-700 dark:text-slate-300">{move || member.read().progress.started.map(|s| format!("upgrading for {}", span((Clock::now() - s).num_seconds())))}</span>
                </Show>
                <span class="ml-auto">
                    <Show when=move || member.read().progress.skippable>
                        <Confirm acts name action=UpgradeAction::SkipMember target=skip_target.clone() label="Skip…".to_string() what=format!("member {}", skip_target) small=true/>
                    </Show>
                </span>
            </div>
            <ul class="versions mt-1 font-mono text-slate-800 dark:text-slate-200" aria-label=format!("Versions of {member_name}")>
                {move || {
                    let m = member.read();
                    m.kubernetes.iter().chain(m.node_images.iter()).map(change_view).collect_view()
                }}
            </ul>
            {move || member.read().window.clone().map(|w| view! {
                <p class="window mt-1 text-slate-700 dark:text-slate-300">{format!("Maintenance window: {w}")}</p>
            })}
            {move || member.read().message.clone().map(|m| view! {
                <p class="message mt-1 text-slate-800 dark:text-slate-200">{m}</p>
            })}
            {move || member.read().progress.error.clone().map(|e| view! {
                <p class="error mt-1 rounded bg-rose-50 px-1.5 py-1 text-rose-900 dark:bg-rose-950 dark:text-rose-100">{format!("Error: {e}")}</p>
            })}
            {move || {
                let p = member.read().progress.clone();
                (!running()).then(|| times(&p)).flatten().map(|t| view! { <p class="times mt-1 text-slate-700 dark:text-slate-300">{t}</p> })
            }}
        </li>
    }
}

#[component]
fn Gates(
    gates: Signal<Vec<GateLine>>,
    place: String,
    name: Memo<String>,
    acts: Acts,
) -> impl IntoView {
    move || {
        gates
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, gate)| {
                let label = gate
                    .display_name
                    .clone()
                    .unwrap_or_else(|| format!("gate {}", i + 1));
                let kind = match gate.gate_type {
                    GateType::Approval => "Approval",
                    GateType::ScheduledStart => "Scheduled start",
                };
                let what = format!("{kind} {label} {place}");
                let text = match (gate.gate_type, gate.state) {
                    (_, UpdateState::NotStarted) => "not reached yet".to_string(),
                    (GateType::Approval, UpdateState::Pending) => "waiting for approval".to_string(),
                    (GateType::ScheduledStart, UpdateState::Pending) => match gate.scheduled_at {
                        Some(t) => format!("opens {}", stamp(t)),
                        None => "waiting for its time".to_string(),
                    },
                    (GateType::Approval, UpdateState::Completed) => "approved".to_string(),
                    (_, UpdateState::Completed) => "passed".to_string(),
                    (_, UpdateState::Skipped) => "skipped".to_string(),
                    (_, s) => format!("{s:?}"),
                };
                let icon = match gate.state {
                    UpdateState::Completed => "✓",
                    UpdateState::Pending => "●",
                    UpdateState::Skipped => "⤼",
                    _ => "○",
                };
                let approve = gate
                    .gate_id
                    .clone()
                    .filter(|_| gate.approvable)
                    .map(|id| view! { <Approve acts name gate=id what=what.clone()/> });
                view! {
                    <div
                        class="gate mt-2 rounded-md border border-dashed border-slate-400 px-2 py-1.5 text-xs dark:border-slate-500"
                        data-gate=gate.gate_id.clone().unwrap_or_default()
                        data-state=format!("{:?}", gate.state)
                    >
                        <p>
                            <span aria-hidden="true">{icon} " "</span>
                            <span class="font-medium">{format!("{kind} {label} {place}: ")}</span>
                            {text}
                        </p>
                        {approve}
                    </div>
                }
            })
            .collect_view()
    }
}

#[component]
fn Wait(wait: WaitLine, stage: String, name: Memo<String>, acts: Acts) -> impl IntoView {
    let ends_at = wait.ends_at;
    let state = wait.state;
    let target = stage.clone();
    view! {
        <div class="wait mt-3 flex flex-wrap items-center gap-2 rounded-md border border-dashed border-slate-400 px-2 py-1.5 text-xs dark:border-slate-500" data-state=format!("{state:?}")>
            <p>
                <span aria-hidden="true">"◷ "</span>
                <span class="font-medium">{format!("Wait {} after stage {stage}: ", span(wait.seconds.into()))}</span>
                {move || match (state, ends_at) {
                    (UpdateState::Completed, _) => "passed".to_string(),
                    (UpdateState::Skipped, _) => "skipped".to_string(),
                    (_, Some(end)) => {
                        let left = (end - Clock::now()).num_seconds();
                        if left > 0 { format!("{} left", span(left)) } else { "ending now".to_string() }
                    }
                    _ => "starts when every group of the stage is done".to_string(),
                }}
            </p>
            {wait.skippable.then(|| view! {
                <span class="ml-auto">
                    <Confirm acts name action=UpgradeAction::SkipAfterStageWait target=target.clone() label="Skip wait…".to_string() what=format!("after stage {target}") small=true/>
                </span>
            })}
        </div>
    }
}
