//! The stage timeline: stages left to right (wrapping on narrow screens), each with its
//! before-stage gates, its clusters as chips and its after-stage gates as their own nodes, and the
//! deletion stage at the end. A stage of thousands of clusters shows counts, a progress bar and a
//! bounded number of chips (problem clusters first).

use leptos::prelude::*;

use super::Live;
use crate::fleet::views::run_detail::{
    ApprovalState, ClusterChip, ClusterState, GateView, RunDetail, StageState, StageView,
    CHIPS_PER_STAGE,
};
use crate::server_fns::runs::{stage_clusters, RunKey};
use crate::ui::approvals::ApproveForm;
use crate::ui::clock::{span, stamp, Clock};

#[component]
pub fn Timeline(key: Memo<RunKey>, detail: Signal<RunDetail>, live: Live) -> impl IntoView {
    let names = Memo::new(move |_| {
        detail
            .read()
            .stages
            .iter()
            .map(|s| s.name.clone())
            .collect::<Vec<_>>()
    });
    let has_deletion = Memo::new(move |_| detail.read().deletion.is_some());
    view! {
        <Show
            when=move || !names.read().is_empty()
            fallback=|| view! {
                <p class="text-sm text-slate-600 dark:text-slate-400">
                    "No plan yet: the engine computes the stages when it initializes the run."
                </p>
            }
        >
            // Keyed by name: a stage keeps its DOM (and an open cluster browser) while its
            // state changes underneath.
            <ol id="timeline" class="flex flex-wrap items-stretch gap-3">
                <For each=move || names.get() key=|n| n.clone() let:name>
                    <Stage
                        stage=Memo::new(move |_| detail.read().stages.iter().find(|s| s.name == name).cloned().unwrap_or_default())
                        key
                        live
                        deletion=false
                    />
                </For>
                <Show when=move || has_deletion.get()>
                    <Stage
                        stage=Memo::new(move |_| detail.read().deletion.clone().unwrap_or_default())
                        key
                        live
                        deletion=true
                    />
                </Show>
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
fn Stage(stage: Memo<StageView>, key: Memo<RunKey>, live: Live, deletion: bool) -> impl IntoView {
    let name = stage.get_untracked().name;
    let title = if deletion {
        "Deletion".to_string()
    } else {
        name.clone()
    };
    let counts = move || stage.read().counts;
    let badge = move || stage_badge(stage.read().state);
    let timing = move || {
        let s = stage.read();
        match (s.started, s.ended) {
            (Some(a), Some(b)) => Some(format!("took {}", span((b - a).num_seconds()))),
            (Some(a), None) => Some(format!("started {}", stamp(a))),
            _ => None,
        }
    };
    let hidden = move || counts().total.saturating_sub(stage.read().chips.len());
    let percent = move || {
        (counts().done() * 100)
            .checked_div(counts().total)
            .unwrap_or(0)
    };
    let stage_name = name.clone();
    let browse_name = name.clone();
    let gate_name = name.clone();
    let after_name = name.clone();
    view! {
        <li
            class="stage flex w-full flex-col gap-2 rounded-lg border border-slate-200 bg-white p-3 shadow-sm sm:w-72 dark:border-slate-700 dark:bg-slate-900"
            data-stage=name.clone()
            data-state=move || stage.read().state.label()
        >
            <div class="flex items-center justify-between gap-2">
                <h3 class="font-mono font-semibold break-all">{title}</h3>
                <span class=move || format!("rounded-full px-2 py-0.5 text-xs font-medium {}", badge().1)>
                    <span aria-hidden="true">{move || badge().0} " "</span>{move || stage.read().state.label()}
                </span>
            </div>
            <p class="text-xs text-slate-600 dark:text-slate-400">{timing}</p>
            <For each=move || stage.read().before.clone() key=|g| g.clone() let:gate>
                <Gate gate side="before" stage=gate_name.clone() key live/>
            </For>
            <div>
                <div class="flex justify-between text-xs text-slate-700 dark:text-slate-300">
                    <span>{move || format!("{} of {} clusters done", counts().done(), counts().total)}</span>
                    <span>{move || summary(&counts())}</span>
                </div>
                <div
                    class="mt-1 h-1.5 w-full overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700"
                    role="progressbar"
                    aria-label=format!("Stage {stage_name} progress")
                    aria-valuemin="0"
                    aria-valuemax=move || counts().total.to_string()
                    aria-valuenow=move || counts().done().to_string()
                >
                    <div class="h-full bg-indigo-600 dark:bg-indigo-400" style=move || format!("width: {}%", percent())></div>
                </div>
            </div>
            <Show when=move || deletion && counts().total == 0>
                <p class="text-xs text-slate-600 dark:text-slate-400">"No cluster leaves the placement in this run."</p>
            </Show>
            <ul class="chips flex flex-wrap gap-1" aria-label=format!("Clusters of stage {name}")>
                <For each=move || stage.read().chips.clone() key=|c| c.clone() let:chip>
                    <Chip chip/>
                </For>
            </ul>
            <Show when=move || { hidden() > 0 }>
                <ClusterBrowser key stage=browse_name.clone() total=Signal::derive(move || counts().total) live/>
            </Show>
            <For each=move || stage.read().after.clone() key=|g| g.clone() let:gate>
                <Gate gate side="after" stage=after_name.clone() key live/>
            </For>
        </li>
    }
}

/// Every cluster of a large stage, a page at a time, filtered by name and state: the stage
/// itself shows a bounded number of chips.
#[component]
fn ClusterBrowser(
    key: Memo<RunKey>,
    stage: String,
    total: Signal<usize>,
    live: Live,
) -> impl IntoView {
    let filter = RwSignal::new(String::new());
    let state = RwSignal::new(None::<ClusterState>);
    let page = RwSignal::new(0usize);
    let open = RwSignal::new(false);
    let link = crate::ui::LiveLink::expect();
    let stage_for_fetch = stage.clone();
    let result = Resource::new(
        move || {
            (
                key.get(),
                filter.get(),
                state.get(),
                page.get(),
                open.get(),
                link.changed.get(),
                live.acted.get(),
            )
        },
        move |(key, filter, state, page, open, _, _)| {
            let stage = stage_for_fetch.clone();
            async move {
                if !open {
                    return None;
                }
                stage_clusters(key, stage, filter, state, page).await.ok()
            }
        },
    );
    let field = "rounded border border-slate-300 bg-white px-2 py-1 text-xs text-slate-900 dark:border-slate-600 dark:bg-slate-950 dark:text-slate-100";
    let filter_id = format!("cluster-filter-{stage}");
    let state_id = format!("cluster-state-{stage}");
    view! {
        <details class="cluster-browser text-xs" on:toggle=move |_| open.update(|o| *o = !*o)>
            <summary class="cursor-pointer text-indigo-800 underline dark:text-indigo-300">
                {move || format!("and {} more: browse all {} clusters", total.get().saturating_sub(CHIPS_PER_STAGE.min(total.get())), total.get())}
            </summary>
            <div class="mt-2 flex flex-wrap items-end gap-2">
                <label for=filter_id.clone()>"Name contains"</label>
                <input id=filter_id class=field prop:value=move || filter.get() on:input=move |ev| { filter.set(event_target_value(&ev)); page.set(0); }/>
                <label for=state_id.clone()>"State"</label>
                <select id=state_id class=field on:change=move |ev| {
                    state.set(serde_json::from_str(&format!("\"{}\"", event_target_value(&ev))).ok());
                    page.set(0);
                }>
                    <option value="">"any"</option>
                    {[ClusterState::Failed, ClusterState::Stuck, ClusterState::Updating, ClusterState::Pending, ClusterState::Succeeded, ClusterState::Skipped]
                        .into_iter()
                        .map(|s| view! { <option value=format!("{s:?}")>{s.label()}</option> })
                        .collect_view()}
                </select>
            </div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let Some(found) = result.await else {
                        return view! { <p class="mt-2">"Open to load the list."</p> }.into_any();
                    };
                    let (current, pages) = (found.page, found.pages);
                    view! {
                        <p class="mt-2" aria-live="polite">{format!("{} clusters match · page {} of {}", found.matching, current + 1, pages)}</p>
                        <ul class="mt-1 flex flex-wrap gap-1">
                            {found.chips.into_iter().map(|chip| view! { <Chip chip/> }).collect_view()}
                        </ul>
                        <div class="mt-2 flex gap-2">
                            <button type="button" class=field disabled=current == 0 on:click=move |_| page.set(current.saturating_sub(1))>"Previous page"</button>
                            <button type="button" class=field disabled=current + 1 >= pages on:click=move |_| page.set(current + 1)>"Next page"</button>
                        </div>
                    }.into_any()
                })}
            </Transition>
        </details>
    }
}

fn summary(c: &crate::fleet::views::run_detail::ClusterCounts) -> String {
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
