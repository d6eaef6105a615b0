//! The Runs page: every staged update run with a state pill, its latest message and stage
//! progress — rendered on the server, then kept current by the live link.

use leptos::prelude::*;

use super::layout::{Card, PageHeader};
use super::LiveLink;
use crate::fleet::run_view::{RunPill, RunRow};
use crate::server_fns::runs::list_runs;

#[component]
pub fn RunsPage() -> impl IntoView {
    let link = LiveLink::expect();
    let rendered = Resource::new(|| (), |_| list_runs());
    view! {
        <PageHeader title="Runs" subtitle="Staged update runs, cluster- and namespace-scoped, stage by stage."/>
        <a
            href="/runs/new"
            id="new-run-link"
            class="mb-4 inline-flex items-center rounded-md border border-indigo-700 bg-indigo-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 dark:border-indigo-400 dark:bg-indigo-400 dark:text-slate-950"
        >
            "New run"
        </a>
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let rendered = rendered.await;
                let error = rendered.as_ref().err().map(|e| e.to_string());
                let rendered = rendered.ok();
                let rows = Memo::new(move |_| link.runs.get().or_else(|| rendered.clone()).unwrap_or_default());
                view! {
                    {error.map(|e| view! { <p role="alert" class="mb-3 text-sm text-rose-600">{e}</p> })}
                    <Show
                        when=move || !rows.read().is_empty()
                        fallback=|| view! {
                            <Card title="No update runs">
                                <p class="text-sm text-slate-600 dark:text-slate-400">
                                    "No staged update run exists yet. Create one with kubectl apply (a ClusterStagedUpdateRun or a StagedUpdateRun)."
                                </p>
                            </Card>
                        }
                    >
                        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">
                            <table id="runs" class="min-w-full text-sm">
                                <thead class="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-500 dark:bg-slate-800/60 dark:text-slate-400">
                                    <tr>
                                        <th class="px-3 py-2">"Run"</th>
                                        <th class="px-3 py-2">"Placement"</th>
                                        <th class="px-3 py-2">"Snapshot"</th>
                                        <th class="px-3 py-2">"Stages"</th>
                                        <th class="px-3 py-2">"Status"</th>
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
fn RunLine(row: RunRow) -> impl IntoView {
    let pill_class = match row.pill {
        RunPill::Succeeded => {
            "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/60 dark:text-emerald-200"
        }
        RunPill::Failed | RunPill::Stuck => {
            "bg-rose-100 text-rose-800 dark:bg-rose-900/60 dark:text-rose-200"
        }
        RunPill::Waiting | RunPill::Stopped => {
            "bg-amber-100 text-amber-800 dark:bg-amber-900/60 dark:text-amber-200"
        }
        RunPill::Progressing => "bg-sky-100 text-sky-800 dark:bg-sky-900/60 dark:text-sky-200",
        RunPill::Initialized | RunPill::Pending => {
            "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300"
        }
    };
    let title = match &row.namespace {
        Some(ns) => format!("{ns}/{}", row.name),
        None => row.name.clone(),
    };
    let data_run = title.clone();
    let href = match &row.namespace {
        Some(ns) => format!("/runs/{ns}/{}", row.name),
        None => format!("/runs/{}", row.name),
    };
    view! {
        <tr class="run align-top" data-run=data_run data-pill=row.pill.label()>
            <td class="px-3 py-2">
                <a href=href class="font-mono font-medium text-indigo-700 underline dark:text-indigo-300">{title}</a>
                <div class="text-xs text-slate-500 dark:text-slate-400">{format!("state {} · strategy {}", row.state, row.strategy)}</div>
            </td>
            <td class="px-3 py-2 font-mono">{row.placement}</td>
            <td class="px-3 py-2">{row.resource_index.unwrap_or_else(|| "—".into())}</td>
            <td class="px-3 py-2">{format!("{}/{}", row.stages_done, row.stages_total)}</td>
            <td class="px-3 py-2">
                <span class=format!("pill rounded-full px-2 py-0.5 text-xs font-medium {pill_class}")>{row.pill.label()}</span>
                <p class="message mt-1 max-w-md text-xs text-slate-600 dark:text-slate-400">{row.message}</p>
            </td>
        </tr>
    }
}
