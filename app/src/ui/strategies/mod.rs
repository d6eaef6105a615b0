//! The Strategies pages: every ClusterStagedUpdateStrategy and StagedUpdateStrategy with its
//! stages in words (`/strategies`), one strategy in the editor (`/strategies/<name>`,
//! `/strategies/<namespace>/<name>`) and a new one (`/strategies/new`). The editor is a form with
//! the YAML it stands for beside it, and a plan preview the browser computes with the engine's
//! own planning code. Rendered on the server, then reloaded when the hub changes.

mod detail;
mod editor;
mod preview;
mod stage_fields;

pub use detail::{NewStrategyPage, StrategyPage};
use leptos::prelude::*;

use super::layout::{Card, PageHeader};
use super::LiveLink;
use crate::fleet::views::strategy_form::stages_in_words;
use crate::server_fns::strategies::{list_strategies, StrategyRow};

pub(crate) const FIELD: &str = "mt-1 block w-full rounded-md border border-slate-400 bg-white px-2 py-1.5 text-sm text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 aria-[invalid=true]:border-rose-600 dark:border-slate-500 dark:bg-slate-950 dark:text-slate-100 dark:aria-[invalid=true]:border-rose-400";
pub(crate) const LABEL: &str = "block text-sm font-medium";
pub(crate) const HINT: &str = "mt-1 text-xs text-slate-600 dark:text-slate-400";
pub(crate) const LINK: &str = "text-indigo-700 underline underline-offset-2 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:text-indigo-300";
pub(crate) const BUTTON: &str = "inline-flex items-center rounded-md border px-3 py-1.5 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 disabled:opacity-60 dark:focus-visible:ring-offset-slate-950";
pub(crate) const NEUTRAL: &str = "border-slate-300 bg-white text-slate-900 hover:bg-slate-50 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100 dark:hover:bg-slate-700";
pub(crate) const PRIMARY: &str = "border-indigo-700 bg-indigo-700 text-white hover:bg-indigo-800 dark:border-indigo-400 dark:bg-indigo-400 dark:text-slate-950 dark:hover:bg-indigo-300";
pub(crate) const DANGER: &str = "border-rose-700 bg-rose-700 text-white hover:bg-rose-800 dark:border-rose-400 dark:bg-rose-400 dark:text-slate-950 dark:hover:bg-rose-300";
pub(crate) const ERROR: &str = "mt-1 text-sm text-rose-800 dark:text-rose-300";
pub(crate) const PANEL: &str = "rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900";

#[component]
pub fn StrategiesPage() -> impl IntoView {
    let link = LiveLink::expect();
    let rows = Resource::new(move || link.changed.get(), |_| list_strategies());
    view! {
        <PageHeader title="Strategies" subtitle="How runs roll a placement out: stages of clusters chosen by labels, how many update at once, and the gates between stages. Open one to edit it and preview its plan."/>
        <p class="mb-4"><a href="/strategies/new" id="new-strategy" class=format!("{BUTTON} {PRIMARY}")>"New strategy"</a></p>
        <Transition fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading strategies…"</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Err(e) => view! { <p role="alert" class="text-sm text-rose-700 dark:text-rose-300">{e.to_string()}</p> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <Card title="No strategies">
                            <p class="text-sm text-slate-600 dark:text-slate-400">
                                "The hub has no ClusterStagedUpdateStrategy or StagedUpdateStrategy. Create one here, or apply one with kubectl (see the seeds)."
                            </p>
                        </Card>
                    }.into_any(),
                    Ok(rows) => view! { <StrategyTable rows/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn StrategyTable(rows: Vec<StrategyRow>) -> impl IntoView {
    view! {
        <div class="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <table id="strategies" class="w-full text-left text-sm">
                <caption class="sr-only">"Staged update strategies with their stages"</caption>
                <thead class="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-600 dark:border-slate-800 dark:text-slate-400">
                    <tr>
                        <th scope="col" class="px-3 py-2">"Strategy"</th>
                        <th scope="col" class="px-3 py-2">"Stages"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let scope = match row.key.namespace() {
                            Some(ns) => format!("StagedUpdateStrategy in {ns}"),
                            None => "ClusterStagedUpdateStrategy".to_string(),
                        };
                        view! {
                            <tr class="strategy border-b border-slate-100 align-top last:border-0 dark:border-slate-800" data-strategy=row.key.reference()>
                                <td class="px-3 py-2">
                                    <a href=row.key.path() class=format!("{LINK} font-mono font-medium")>{row.key.reference()}</a>
                                    <div class="text-xs text-slate-600 dark:text-slate-400">{scope}</div>
                                </td>
                                <td class="stages px-3 py-2">{stages_in_words(&row.stages)}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
