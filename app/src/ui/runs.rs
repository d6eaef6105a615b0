//! The Runs page: every staged update run, newest first, with a state pill, what a waiting run
//! waits for, when it started and how long it took — filterable by state, scope and placement
//! (a GET form, so filters work without JavaScript and can be bookmarked), rendered on the
//! server, then kept current by the live link.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;

use super::clock::{ago, span, stamp, Clock};
use super::layout::{Card, PageHeader};
use super::run::pill_class;
use super::LiveLink;
use crate::fleet::views::run_view::{RunPill, RunRow};
use crate::server_fns::runs::list_runs;

/// The state filter's choices: (value, label, which pills it keeps).
const STATES: [(&str, &str, &[RunPill]); 4] = [
    ("", "Every state", &[]),
    (
        "attention",
        "Needs a person (waiting, stuck, failed, stopped)",
        &[
            RunPill::Waiting,
            RunPill::Stuck,
            RunPill::Failed,
            RunPill::Stopped,
            RunPill::Initialized,
        ],
    ),
    (
        "active",
        "In progress",
        &[
            RunPill::Pending,
            RunPill::Initialized,
            RunPill::Progressing,
            RunPill::Waiting,
            RunPill::Stuck,
            RunPill::Stopped,
        ],
    ),
    ("done", "Finished", &[RunPill::Succeeded, RunPill::Failed]),
];

#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Filter {
    state: String,
    scope: String,
    placement: String,
}

impl Filter {
    fn keeps(&self, row: &RunRow) -> bool {
        let state_ok = STATES
            .iter()
            .find(|(v, _, _)| *v == self.state && !v.is_empty())
            .is_none_or(|(_, _, pills)| pills.contains(&row.pill));
        let scope_ok = match self.scope.as_str() {
            "" => true,
            "cluster" => row.namespace.is_none(),
            ns => row.namespace.as_deref() == Some(ns),
        };
        let placement = self.placement.trim();
        state_ok && scope_ok && (placement.is_empty() || row.placement.contains(placement))
    }
}

#[component]
pub fn RunsPage() -> impl IntoView {
    let link = LiveLink::expect();
    let rendered = Resource::new(|| (), |_| list_runs());
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.read();
        Filter {
            state: q.get("state").unwrap_or_default(),
            scope: q.get("scope").unwrap_or_default(),
            placement: q.get("placement").unwrap_or_default(),
        }
    });
    view! {
        <PageHeader title="Runs" subtitle="Staged update runs, cluster- and namespace-scoped, newest first."/>
        <a
            href="/runs/new"
            id="new-run-link"
            class="mb-4 inline-flex items-center rounded-md border border-indigo-700 bg-indigo-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 dark:border-indigo-400 dark:bg-indigo-400 dark:text-slate-950"
        >
            "New run"
        </a>
        <Suspense fallback=|| view! { <p class="text-sm text-slate-600">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let rendered = rendered.await;
                let error = rendered.as_ref().err().map(|e| e.to_string());
                let rendered = rendered.ok();
                let all = Memo::new(move |_| {
                    let mut rows = link.runs.get().or_else(|| rendered.clone()).unwrap_or_default();
                    // Newest first; the name breaks ties so the order never flickers.
                    rows.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name))));
                    rows
                });
                let rows = Memo::new(move |_| {
                    let f = filter.get();
                    all.get().into_iter().filter(|r| f.keeps(r)).collect::<Vec<_>>()
                });
                let namespaces = Memo::new(move |_| {
                    let mut ns: Vec<String> = all.get().into_iter().filter_map(|r| r.namespace).collect();
                    ns.sort();
                    ns.dedup();
                    ns
                });
                view! {
                    {error.map(|e| view! { <p role="alert" class="mb-3 text-sm text-rose-700">{e}</p> })}
                    <Filters filter namespaces/>
                    <Show
                        when=move || !rows.read().is_empty()
                        fallback=move || view! {
                            <Card title="No update runs">
                                <p class="text-sm text-slate-700 dark:text-slate-300">
                                    {move || if all.read().is_empty() {
                                        "No staged update run exists yet. Create one with New run, or with kubectl apply."
                                    } else {
                                        "No run matches these filters."
                                    }}
                                </p>
                            </Card>
                        }
                    >
                        <div role="region" aria-label="Runs table (scrolls sideways)" tabindex="0" class="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">
                            <table id="runs" class="min-w-full text-sm">
                                <thead class="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-600 dark:bg-slate-800/60 dark:text-slate-400">
                                    <tr>
                                        // The status first: on a phone it must never scroll off.
                                        <th class="px-3 py-2">"Status"</th>
                                        <th class="px-3 py-2">"Run"</th>
                                        <th class="px-3 py-2">"Placement"</th>
                                        <th class="px-3 py-2">"Snapshot"</th>
                                        <th class="px-3 py-2">"Stages"</th>
                                        <th class="px-3 py-2">"Started"</th>
                                    </tr>
                                </thead>
                                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                                    <For each=move || rows.get() key=|row| row.clone() let:row>
                                        <RunLine row/>
                                    </For>
                                </tbody>
                            </table>
                        </div>
                    </Show>
                }
            })}
        </Suspense>
    }
}

#[component]
fn Filters(filter: Memo<Filter>, namespaces: Memo<Vec<String>>) -> impl IntoView {
    let select = "mt-1 block rounded-md border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 dark:border-slate-600 dark:bg-slate-950 dark:text-slate-100";
    view! {
        <Form method="GET" action="" attr:id="run-filters" attr:class="mb-4 flex flex-wrap items-end gap-3">
            <div>
                <label for="filter-state" class="block text-xs font-medium">"State"</label>
                <select id="filter-state" name="state" class=select onchange="this.form.requestSubmit()">
                    {STATES.iter().map(|(value, label, _)| view! {
                        <option value=*value selected=move || filter.get().state == *value>{*label}</option>
                    }).collect_view()}
                </select>
            </div>
            <div>
                <label for="filter-scope" class="block text-xs font-medium">"Scope"</label>
                <select id="filter-scope" name="scope" class=select onchange="this.form.requestSubmit()">
                    <option value="" selected=move || filter.get().scope.is_empty()>"Cluster and namespaced"</option>
                    <option value="cluster" selected=move || filter.get().scope == "cluster">"Cluster-scoped"</option>
                    {move || namespaces.get().into_iter().map(|ns| {
                        let selected = filter.get().scope == ns;
                        view! { <option value=ns.clone() selected=selected>{format!("Namespace {ns}")}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div>
                <label for="filter-placement" class="block text-xs font-medium">"Placement contains"</label>
                <input id="filter-placement" name="placement" class=select prop:value=move || filter.get().placement/>
            </div>
            <button type="submit" class="rounded-md border border-slate-300 bg-white px-3 py-1 text-sm font-medium text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100">
                "Filter"
            </button>
        </Form>
    }
}

#[component]
fn RunLine(row: RunRow) -> impl IntoView {
    let title = match &row.namespace {
        Some(ns) => format!("{ns}/{}", row.name),
        None => row.name.clone(),
    };
    let data_run = title.clone();
    let href = match &row.namespace {
        Some(ns) => format!("/runs/{ns}/{}", row.name),
        None => format!("/runs/{}", row.name),
    };
    let (started, ended) = (row.started, row.ended);
    let note = row
        .waiting_for
        .clone()
        .map(|w| format!("Waiting for {w}"))
        .unwrap_or(row.message);
    view! {
        <tr class="run align-top" data-run=data_run data-pill=row.pill.label()>
            <td class="px-3 py-2">
                <span class=format!("pill rounded-full px-2 py-0.5 text-xs font-medium {}", pill_class(row.pill))>{row.pill.label()}</span>
                <p class="message mt-1 max-w-md text-xs text-slate-700 dark:text-slate-300">{note}</p>
            </td>
            <td class="px-3 py-2">
                <a href=href class="font-mono font-medium text-indigo-700 underline dark:text-indigo-300">{title}</a>
                <div class="text-xs text-slate-600 dark:text-slate-400">{format!("state {} · strategy {}", row.state, row.strategy)}</div>
            </td>
            <td class="px-3 py-2 font-mono">{row.placement}</td>
            <td class="px-3 py-2">{row.resource_index.unwrap_or_else(|| "—".into())}</td>
            <td class="stages px-3 py-2">{format!("{}/{}", row.stages_done, row.stages_total)}</td>
            <td class="px-3 py-2 text-xs text-slate-700 dark:text-slate-300">
                {move || match (started, ended) {
                    (Some(s), Some(e)) => view! { <span title=stamp(s)>{format!("{}, took {}", ago(s, Clock::now()), span((e - s).num_seconds()))}</span> }.into_any(),
                    (Some(s), None) => view! { <span title=stamp(s)>{format!("{}, running {}", ago(s, Clock::now()), span((Clock::now() - s).num_seconds()))}</span> }.into_any(),
                    _ => view! { <span>"not started"</span> }.into_any(),
                }}
            </td>
        </tr>
    }
}
