//! `/runs/new`: create a staged update run by picking a placement, a strategy and a snapshot
//! (latest, or an index with its age), starting in Initialize so the plan can be reviewed
//! first. "Check with the hub" sends it as a server-side dry run (`dryRun=All`), so the hub's own
//! validation messages show before anything is created.

use chrono::Utc;
use leptos::prelude::*;

use crate::server_fns::permissions::ConsoleAction;
use crate::ui::gate::{refused, use_browser_gate, GateReason};
use leptos_router::hooks::use_navigate;

use super::Outcome;
use crate::fleet::staged::staged_update_run::UpdateRunState;
use crate::server_fns::runs::{list_run_choices, CreateRun, NewRun, PlacementChoice, RunChoices};
use crate::ui::clock::{ago, Clock};
use crate::ui::layout::PageHeader;

const FIELD: &str = "mt-1 block w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:border-slate-600 dark:bg-slate-950 dark:text-slate-100";
const LABEL: &str = "block text-sm font-medium";

fn reference(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}

/// A name for the run a person can keep: the placement's name and the minute.
fn suggested_name(placement: &str) -> String {
    let base = placement.rsplit('/').next().unwrap_or(placement);
    let mut name = format!("{base}-{}", Utc::now().format("%m%d-%H%M"));
    name.truncate(63);
    name
}

#[component]
pub fn NewRunPage() -> impl IntoView {
    let choices = Resource::new(|| (), |_| list_run_choices());
    view! {
        <PageHeader title="New run" subtitle="Roll a placement's snapshot out stage by stage. The run starts in Initialize: review the computed plan on its page, then press Start."/>
        <Suspense fallback=|| view! { <p class="text-sm text-slate-600">"Loading placements and strategies…"</p> }>
            {move || Suspend::new(async move {
                match choices.await {
                    Ok(c) if c.placements.is_empty() || c.strategies.is_empty() => view! {
                        <p class="text-sm">
                            "A run needs a placement and a strategy, and the hub has "
                            {if c.placements.is_empty() { "no placement" } else { "no strategy" }}
                            ". Create one with kubectl apply (see the seeds), then come back."
                        </p>
                    }.into_any(),
                    Ok(c) => view! { <NewRunForm choices=c/> }.into_any(),
                    Err(e) => view! { <p role="alert" class="text-sm text-rose-700">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NewRunForm(choices: RunChoices) -> impl IntoView {
    let first = choices.placements.first().cloned().unwrap_or_default();
    let placement = RwSignal::new(reference(&first.namespace, &first.name));
    let placements = StoredValue::new(choices.placements.clone());
    let chosen = Memo::new(move |_| {
        placements.with_value(|all| {
            all.iter()
                .find(|p| reference(&p.namespace, &p.name) == placement.get())
                .cloned()
                .unwrap_or_default()
        })
    });
    let name = RwSignal::new(suggested_name(&placement.get_untracked()));
    let strategy = RwSignal::new(String::new());
    let snapshot = RwSignal::new(String::new());
    let state = RwSignal::new(UpdateRunState::Initialize);
    let strategies = choices.strategies.clone();
    // Strategies of the placement's scope only: a run cannot use another namespace's strategy.
    let fitting = Memo::new(move |_| {
        let ns = chosen.get().namespace;
        strategies
            .iter()
            .filter(|s| s.namespace == ns)
            .map(|s| (reference(&s.namespace, &s.name), s.stages.join(" → ")))
            .collect::<Vec<_>>()
    });
    Effect::new(move |_| {
        let options = fitting.get();
        if !options.iter().any(|(r, _)| *r == strategy.get_untracked()) {
            strategy.set(options.first().map(|(r, _)| r.clone()).unwrap_or_default());
        }
    });
    let create = ServerAction::<CreateRun>::new();
    let check = ServerAction::<CreateRun>::new();
    // Whether the hub lets this person create runs in the placement's scope.
    let gate = use_browser_gate(
        move || Some(chosen.get().namespace),
        ConsoleAction::CreateRun,
    );
    let current = move || NewRun {
        name: name.get(),
        placement: placement.get(),
        strategy: strategy.get(),
        snapshot_index: snapshot.get(),
        state: state.get(),
    };
    // Created: go to the run's page, where the plan shows once the engine computed it.
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(key)) = create.value().get() {
            navigate(&key.path(), Default::default());
        }
    });
    view! {
        <ActionForm action=create attr:id="new-run" attr:class="max-w-xl space-y-4">
            <input type="hidden" name="dry_run" value="false"/>
            <div>
                <label for="run-placement" class=LABEL>"Placement"</label>
                <select
                    id="run-placement"
                    name="run[placement]"
                    class=FIELD
                    on:change=move |ev| {
                        let value = event_target_value(&ev);
                        name.set(suggested_name(&value));
                        snapshot.set(String::new());
                        placement.set(value);
                    }
                >
                    {choices.placements.iter().map(|p| {
                        let r = reference(&p.namespace, &p.name);
                        let label = if p.namespace.is_empty() {
                            format!("{} (ClusterResourcePlacement)", p.name)
                        } else {
                            format!("{}/{} (ResourcePlacement)", p.namespace, p.name)
                        };
                        view! { <option value=r.clone() selected=r == placement.get_untracked()>{label}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div>
                <label for="run-strategy" class=LABEL>"Strategy"</label>
                <select id="run-strategy" name="run[strategy]" class=FIELD on:change=move |ev| strategy.set(event_target_value(&ev))>
                    {move || fitting.get().into_iter().map(|(r, stages)| {
                        let selected = r == strategy.get_untracked();
                        view! { <option value=r.clone() selected=selected>{format!("{r}: {stages}")}</option> }
                    }).collect_view()}
                </select>
                <Show when=move || fitting.get().is_empty()>
                    <p class="mt-1 text-sm text-rose-700 dark:text-rose-300">"No strategy exists in this placement's scope."</p>
                </Show>
            </div>
            <div>
                <label for="run-snapshot" class=LABEL>"Resource snapshot"</label>
                <select id="run-snapshot" name="run[snapshot_index]" class=FIELD on:change=move |ev| snapshot.set(event_target_value(&ev))>
                    <option value="">"Latest (a new snapshot is taken if the resources changed)"</option>
                    {move || snapshot_options(&chosen.get())}
                </select>
                <p class="mt-1 text-xs text-slate-600 dark:text-slate-400">"An older index rolls back to what it holds."</p>
            </div>
            <div>
                <label for="run-name" class=LABEL>"Run name"</label>
                <input id="run-name" name="run[name]" class=FIELD value=name.get_untracked() prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) required maxlength="63"/>
            </div>
            <fieldset>
                <legend class=LABEL>"Start"</legend>
                <label class="mt-1 flex items-center gap-2 text-sm">
                    <input type="radio" name="run[state]" value="Initialize" checked on:change=move |_| state.set(UpdateRunState::Initialize)/>
                    "Compute the plan, then wait for me to press Start (recommended)"
                </label>
                <label class="mt-1 flex items-center gap-2 text-sm">
                    <input type="radio" name="run[state]" value="Run" on:change=move |_| state.set(UpdateRunState::Run)/>
                    "Start at once"
                </label>
            </fieldset>
            <div class="flex flex-wrap gap-2">
                <button
                    type="button"
                    id="check-run"
                    class="inline-flex items-center rounded-md border border-slate-300 bg-white px-3 py-1.5 text-sm font-medium text-slate-900 hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100"
                    on:click=move |_| { check.dispatch(CreateRun { run: current(), dry_run: true }); }
                >
                    "Check with the hub"
                </button>
                <button
                    type="submit"
                    class="inline-flex items-center rounded-md border border-indigo-700 bg-indigo-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 disabled:opacity-60 dark:border-indigo-400 dark:bg-indigo-400 dark:text-slate-950"
                    disabled=move || create.pending().get() || refused(gate)
                    aria-describedby="create-run-reason"
                >
                    "Create run"
                </button>
            </div>
            <GateReason gate id="create-run-reason"/>
        </ActionForm>
        <div id="check-result">
            <Outcome value=Signal::derive(move || check.value().get().map(|r| r.map(|_| ()))) done="The hub accepts this run: nothing was created yet."/>
        </div>
        <div id="create-result">
            <Outcome value=Signal::derive(move || create.value().get().map(|r| r.map(|_| ()))) done="Created. Opening its page…"/>
        </div>
    }
}

fn snapshot_options(placement: &PlacementChoice) -> impl IntoView {
    placement
        .snapshots
        .iter()
        .map(|s| {
            let age = s.created.map(|c| format!(", taken {}", ago(c, Clock::now()))).unwrap_or_default();
            let latest = if s.latest { " (latest)" } else { "" };
            view! { <option value=s.index.clone()>{format!("index {}{latest}{age}", s.index)}</option> }
        })
        .collect_view()
}
