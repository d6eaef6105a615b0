//! The stage timeline: stages left to right (wrapping on narrow screens), each with its
//! before-stage gates, its clusters as chips and its after-stage gates as their own nodes, and the
//! deletion stage at the end. A stage of thousands of clusters shows counts, a progress bar and a
//! bounded number of chips (problem clusters first).

use leptos::prelude::*;

use super::Live;
use crate::fleet::run_detail::{
    ApprovalState, ClusterChip, ClusterState, GateView, RunDetail, StageState, StageView,
};
use crate::server_fns::runs::RunKey;
use crate::ui::approvals::ApproveForm;
use crate::ui::clock::{span, stamp, Clock};

#[component]
pub fn Timeline(key: Memo<RunKey>, detail: Signal<RunDetail>, live: Live) -> impl IntoView {
    let stages = move || detail.get().stages;
    let deletion = move || detail.get().deletion;
    view! {
        <Show
            when=move || !stages().is_empty()
            fallback=|| view! {
                <p class="text-sm text-slate-600 dark:text-slate-400">
                    "No plan yet: the engine computes the stages when it initializes the run."
                </p>
            }
        >
            <ol id="timeline" class="flex flex-wrap items-stretch gap-3">
                <For each=stages key=|s| s.clone() let:stage>
                    <Stage stage key live deletion=false/>
                </For>
                {move || deletion().map(|stage| view! { <Stage stage key live deletion=true/> })}
            </ol>
        </Show>
    }
}

fn stage_badge(state: StageState) -> (&'static str, &'static str) {
    match state {
        StageState::Succeeded => (
            "✓",
            "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/60 dark:text-emerald-100",
        ),
        StageState::Failed => (
            "✕",
            "bg-rose-100 text-rose-900 dark:bg-rose-900/60 dark:text-rose-100",
        ),
        StageState::Waiting | StageState::Stopping | StageState::Stopped => (
            "◑",
            "bg-amber-100 text-amber-900 dark:bg-amber-900/60 dark:text-amber-100",
        ),
        StageState::Updating => (
            "⟳",
            "bg-sky-100 text-sky-900 dark:bg-sky-900/60 dark:text-sky-100",
        ),
        StageState::Skipped => (
            "⤼",
            "bg-slate-100 text-slate-800 dark:bg-slate-800 dark:text-slate-200",
        ),
        StageState::Pending => (
            "○",
            "bg-slate-100 text-slate-800 dark:bg-slate-800 dark:text-slate-200",
        ),
    }
}

#[component]
fn Stage(stage: StageView, key: Memo<RunKey>, live: Live, deletion: bool) -> impl IntoView {
    let (icon, badge) = stage_badge(stage.state);
    let title = if deletion {
        "Deletion".to_string()
    } else {
        stage.name.clone()
    };
    let timing = match (stage.started, stage.ended) {
        (Some(s), Some(e)) => Some(format!("took {}", span((e - s).num_seconds()))),
        (Some(s), None) => Some(format!("started {}", stamp(s))),
        _ => None,
    };
    let counts = stage.counts;
    let hidden = counts.total.saturating_sub(stage.chips.len());
    let percent = (counts.done() * 100).checked_div(counts.total).unwrap_or(0);
    view! {
        <li
            class="stage flex w-full flex-col gap-2 rounded-lg border border-slate-200 bg-white p-3 shadow-sm sm:w-72 dark:border-slate-700 dark:bg-slate-900"
            data-stage=stage.name.clone()
            data-state=stage.state.label()
        >
            <div class="flex items-center justify-between gap-2">
                <h3 class="font-mono font-semibold break-all">{title}</h3>
                <span class=format!("rounded-full px-2 py-0.5 text-xs font-medium {badge}")>
                    <span aria-hidden="true">{icon} " "</span>{stage.state.label()}
                </span>
            </div>
            {timing.map(|t| view! { <p class="text-xs text-slate-600 dark:text-slate-400">{t}</p> })}
            {stage.before.iter().cloned().map(|g| view! { <Gate gate=g side="before" stage=stage.name.clone() key live/> }).collect_view()}
            <div>
                <div class="flex justify-between text-xs text-slate-700 dark:text-slate-300">
                    <span>{format!("{} of {} clusters done", counts.done(), counts.total)}</span>
                    <span>{summary(&counts)}</span>
                </div>
                <div
                    class="mt-1 h-1.5 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700"
                    role="progressbar"
                    aria-label=format!("Stage {} progress", stage.name)
                    aria-valuemin="0"
                    aria-valuemax=counts.total.to_string()
                    aria-valuenow=counts.done().to_string()
                >
                    <div class="h-full bg-indigo-600 dark:bg-indigo-400" style=format!("width: {percent}%")></div>
                </div>
            </div>
            {(deletion && counts.total == 0).then(|| view! {
                <p class="text-xs text-slate-600 dark:text-slate-400">"No cluster leaves the placement in this run."</p>
            })}
            <ul class="chips flex flex-wrap gap-1" aria-label=format!("Clusters of stage {}", stage.name)>
                {stage.chips.into_iter().map(|c| view! { <Chip chip=c/> }).collect_view()}
            </ul>
            {(hidden > 0).then(|| view! {
                <p class="text-xs text-slate-600 dark:text-slate-400">
                    {format!("and {hidden} more clusters (failing, stuck and updating ones are always shown first)")}
                </p>
            })}
            {stage.after.iter().cloned().map(|g| view! { <Gate gate=g side="after" stage=stage.name.clone() key live/> }).collect_view()}
        </li>
    }
}

fn summary(c: &crate::fleet::run_detail::ClusterCounts) -> String {
    let mut parts = Vec::new();
    for (n, what) in [
        (c.failed, "failed"),
        (c.stuck, "stuck"),
        (c.updating, "updating"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    parts.join(", ")
}

fn chip_look(state: ClusterState) -> (&'static str, &'static str) {
    match state {
        ClusterState::Succeeded => ("✓", "border-emerald-300 bg-emerald-50 text-emerald-900 dark:border-emerald-700 dark:bg-emerald-950 dark:text-emerald-100"),
        ClusterState::Failed => ("✕", "border-rose-400 bg-rose-50 text-rose-900 dark:border-rose-600 dark:bg-rose-950 dark:text-rose-100"),
        ClusterState::Stuck => ("⚠", "border-rose-400 bg-rose-50 text-rose-900 dark:border-rose-600 dark:bg-rose-950 dark:text-rose-100"),
        ClusterState::Updating => ("⟳", "border-sky-300 bg-sky-50 text-sky-900 dark:border-sky-700 dark:bg-sky-950 dark:text-sky-100"),
        ClusterState::Skipped => ("⤼", "border-slate-300 bg-slate-50 text-slate-700 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-300"),
        ClusterState::Pending => ("○", "border-slate-300 bg-white text-slate-700 dark:border-slate-600 dark:bg-slate-900 dark:text-slate-300"),
    }
}

#[component]
fn Chip(chip: ClusterChip) -> impl IntoView {
    let (icon, look) = chip_look(chip.state);
    let detail = match (chip.started, chip.ended) {
        (Some(s), Some(e)) => format!(
            "{}: started {}, took {}",
            chip.state.label(),
            stamp(s),
            span((e - s).num_seconds())
        ),
        (Some(s), None) => format!("{}: started {}", chip.state.label(), stamp(s)),
        _ => chip.state.label().to_string(),
    };
    let started = chip.started;
    let name = chip.name.clone();
    let running =
        chip.ended.is_none() && matches!(chip.state, ClusterState::Updating | ClusterState::Stuck);
    view! {
        <li
            class=format!("chip inline-flex items-center gap-1 rounded border px-1.5 py-0.5 font-mono text-xs {look}")
            data-cluster=name
            data-state=chip.state.label()
            title=detail
        >
            <span aria-hidden="true">{icon}</span>
            {chip.name}
            <span class="sr-only">{format!(" ({})", chip.state.label())}</span>
            {(running && started.is_some()).then(|| view! {
                <span class="text-[0.65rem] opacity-80">
                    {move || started.map(|s| span((Clock::now() - s).num_seconds())).unwrap_or_default()}
                </span>
            })}
        </li>
    }
}

#[component]
fn Gate(
    gate: GateView,
    side: &'static str,
    stage: String,
    key: Memo<RunKey>,
    live: Live,
) -> impl IntoView {
    let box_class = "gate rounded-md border border-dashed border-slate-300 px-2 py-1.5 text-xs dark:border-slate-600";
    match gate {
        GateView::Approval { request, state } => {
            let (icon, text) = match state {
                ApprovalState::NotYet => ("○", "approval, not reached yet"),
                ApprovalState::Waiting => ("●", "waiting for approval"),
                ApprovalState::Approved => ("✓", "approved, the run is accepting it"),
                ApprovalState::Accepted => ("✓", "approved"),
            };
            let waiting = state == ApprovalState::Waiting;
            let label = format!(
                "{} stage {stage}",
                if side == "before" { "before" } else { "after" }
            );
            view! {
                <div class=box_class data-gate="approval" data-request=request.clone() data-state=format!("{state:?}").to_lowercase()>
                    <p>
                        <span aria-hidden="true">{icon} " "</span>
                        <span class="font-medium">{format!("Approval {label}: ")}</span>
                        {text}
                    </p>
                    {waiting.then(|| view! {
                        <ApproveForm
                            namespace=key.get_untracked().namespace
                            name=request.clone()
                            what=label.clone()
                            on_done=Callback::new(move |_| live.acted.update(|n| *n += 1))
                        />
                    })}
                </div>
            }
            .into_any()
        }
        GateView::TimedWait {
            wait,
            ends_at,
            elapsed,
        } => {
            let state = if elapsed {
                "elapsed"
            } else if ends_at.is_some() {
                "running"
            } else {
                "not-started"
            };
            view! {
                <div class=box_class data-gate="wait" data-state=state>
                    <p>
                        <span aria-hidden="true">"◷ "</span>
                        <span class="font-medium">{format!("Wait {wait} after stage {stage}: ")}</span>
                        {move || match (elapsed, ends_at) {
                            (true, _) => "passed".to_string(),
                            (false, Some(end)) => {
                                let left = (end - Clock::now()).num_seconds();
                                if left > 0 { format!("{} left", span(left)) } else { "ending now".to_string() }
                            }
                            (false, None) => "starts when every cluster of the stage has succeeded".to_string(),
                        }}
                    </p>
                </div>
            }
            .into_any()
        }
    }
}
