//! The Placements pages: every placement with its state in words and where its clusters stand
//! (`/placements`), and one placement (`/placements/<name>`, `/placements/<namespace>/<name>`)
//! with its clusters × snapshots view, its snapshot history, a diff between any two snapshots
//! and rollback by picking one. Rendered on the server, then reloaded when the hub changes.

mod detail;
mod diff;
mod rollback;

pub use detail::PlacementPage;
use leptos::prelude::*;

use super::layout::{Card, PageHeader};
use super::LiveLink;
use crate::fleet::views::placement_view::{PlacementRow, Tone};
use crate::server_fns::placements::list_placements;

/// Tone chips: icon and word, colour only as a second signal.
pub(crate) fn tone_chip(tone: Tone) -> (&'static str, &'static str, &'static str) {
    match tone {
        Tone::Settled => (
            "✓",
            "Settled",
            "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/60 dark:text-emerald-100",
        ),
        Tone::Moving => (
            "⟳",
            "Rolling out",
            "bg-sky-100 text-sky-900 dark:bg-sky-900/60 dark:text-sky-100",
        ),
        Tone::Trouble => (
            "⚠",
            "Trouble",
            "bg-rose-100 text-rose-900 dark:bg-rose-900/60 dark:text-rose-100",
        ),
        Tone::Unknown => (
            "○",
            "Unknown",
            "bg-slate-100 text-slate-800 dark:bg-slate-800 dark:text-slate-200",
        ),
    }
}

#[component]
pub(crate) fn ToneChip(tone: Tone) -> impl IntoView {
    let (icon, word, class) = tone_chip(tone);
    view! {
        <span class=format!("tone inline-flex items-center gap-1 whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium {class}") data-tone=word>
            <span aria-hidden="true">{icon}</span>{word}
        </span>
    }
}

fn path(row: &PlacementRow) -> String {
    match &row.namespace {
        Some(ns) => format!("/placements/{ns}/{}", row.name),
        None => format!("/placements/{}", row.name),
    }
}

/// Clusters per snapshot index as one line: `3 on snapshot 1 · 1 on snapshot 0`.
pub(crate) fn spread(row: &PlacementRow) -> String {
    row.by_index()
        .into_iter()
        .map(|(index, n)| match index {
            Some(i) => format!("{n} on snapshot {i}"),
            None => format!("{n} without a snapshot"),
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

#[component]
pub fn PlacementsPage() -> impl IntoView {
    let link = LiveLink::expect();
    let rows = Resource::new(move || link.changed.get(), |_| list_placements());
    view! {
        <PageHeader title="Placements" subtitle="Every resource placement, its state in words, and which snapshot each of its clusters runs. Open one for its history, diffs and rollback."/>
        <Transition fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading placements…"</p> }>
            {move || Suspend::new(async move {
                match rows.await {
                    Err(e) => view! { <p role="alert" class="text-sm text-rose-700 dark:text-rose-300">{e.to_string()}</p> }.into_any(),
                    Ok(rows) if rows.is_empty() => view! {
                        <Card title="No placements">
                            <p class="text-sm text-slate-600 dark:text-slate-400">
                                "The hub has no ClusterResourcePlacement or ResourcePlacement. Apply one with kubectl (see the seeds), and it shows here."
                            </p>
                        </Card>
                    }.into_any(),
                    Ok(rows) => view! { <PlacementTable rows/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn PlacementTable(rows: Vec<PlacementRow>) -> impl IntoView {
    view! {
        <div role="region" aria-label="Placements table (scrolls sideways)" tabindex="0" class="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <table id="placements" class="w-full text-left text-sm">
                <caption class="sr-only">"Placements with their state and where their clusters stand"</caption>
                <thead class="border-b border-slate-200 text-xs uppercase tracking-wide text-slate-600 dark:border-slate-800 dark:text-slate-400">
                    <tr>
                        <th scope="col" class="px-3 py-2">"State"</th>
                        <th scope="col" class="px-3 py-2">"Placement"</th>
                        <th scope="col" class="hidden px-3 py-2 md:table-cell">"Policy"</th>
                        <th scope="col" class="hidden px-3 py-2 md:table-cell">"Strategy"</th>
                        <th scope="col" class="px-3 py-2">"Clusters"</th>
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let href = path(&row);
                        let spread = spread(&row);
                        let scope = row.namespace.clone().map(|ns| format!("ResourcePlacement in {ns}")).unwrap_or_else(|| "ClusterResourcePlacement".into());
                        view! {
                            <tr class="placement border-b border-slate-100 align-top last:border-0 dark:border-slate-800" data-placement=row.reference()>
                                <td class="px-3 py-2"><ToneChip tone=row.tone/></td>
                                <td class="px-3 py-2">
                                    <a href=href class="font-mono font-medium text-indigo-700 underline-offset-2 hover:underline focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:text-indigo-300">{row.reference()}</a>
                                    <div class="text-xs text-slate-600 dark:text-slate-400">{scope}</div>
                                    <p class="headline mt-1 text-slate-700 dark:text-slate-300">{row.headline.clone()}</p>
                                </td>
                                <td class="hidden px-3 py-2 md:table-cell">{row.policy.clone()}</td>
                                <td class="hidden px-3 py-2 md:table-cell">{row.strategy.clone()}</td>
                                <td class="px-3 py-2">
                                    <div>{format!("{} scheduled", row.clusters.len())}</div>
                                    <div class="text-xs text-slate-600 dark:text-slate-400">{spread}</div>
                                </td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}
