//! The Fleet page: every member cluster with its labels, health, and the snapshot index each
//! placement runs there — rendered on the server, then kept current by the live link.

use leptos::prelude::*;

use super::layout::{Card, PageHeader};
use super::LiveLink;
use crate::fleet::views::member_view::{MemberRow, PlacementOnMember};
use crate::server_fns::fleet::list_members;

#[component]
pub fn FleetPage() -> impl IntoView {
    let link = LiveLink::expect();
    let rendered = Resource::new(|| (), |_| list_members());
    view! {
        <PageHeader title="Fleet" subtitle="Member clusters, their labels and health, and which snapshot each placement runs there."/>
        <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let rendered = rendered.await;
                let error = rendered.as_ref().err().map(|e| e.to_string());
                let rendered = rendered.ok();
                let rows = Memo::new(move |_| link.members.get().or_else(|| rendered.clone()).unwrap_or_default());
                view! {
                    {error.map(|e| view! { <p role="alert" class="mb-3 text-sm text-rose-600">{e}</p> })}
                    <Show
                        when=move || !rows.read().is_empty()
                        fallback=|| view! {
                            <Card title="No member clusters">
                                <p class="text-sm text-slate-600 dark:text-slate-400">
                                    "No member cluster has joined this fleet. Start fleetdeck with the demo fleet, or with --member NAME:labels."
                                </p>
                            </Card>
                        }
                    >
                        <div id="members" class="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
                            // Keyed by the whole row: a changed member re-renders, the rest stay.
                            <For each=move || rows.get() key=|row| row.clone() let:row>
                                <MemberCard row/>
                            </For>
                        </div>
                    </Show>
                }
            })}
        </Suspense>
    }
}

#[component]
fn MemberCard(row: MemberRow) -> impl IntoView {
    let (pill, pill_class) = match row.joined {
        Some(true) => (
            "Joined",
            "bg-emerald-100 text-emerald-800 dark:bg-emerald-900/60 dark:text-emerald-200",
        ),
        Some(false) => (
            "Not joined",
            "bg-rose-100 text-rose-800 dark:bg-rose-900/60 dark:text-rose-200",
        ),
        None => (
            "Unknown",
            "bg-slate-100 text-slate-700 dark:bg-slate-800 dark:text-slate-300",
        ),
    };
    let seen = row
        .last_seen
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.format("%H:%M:%S UTC").to_string());
    view! {
        <article class="member rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900" data-member=row.name.clone()>
            <header class="flex items-center justify-between gap-2">
                <h2 class="font-mono text-base font-semibold">{row.name.clone()}</h2>
                <span class=format!("joined rounded-full px-2 py-0.5 text-xs font-medium {pill_class}")>{pill}</span>
            </header>
            <ul class="mt-2 flex flex-wrap gap-1" aria-label="Labels">
                {row.labels.iter().map(|(k, v)| view! {
                    <li class="label rounded bg-slate-100 px-1.5 py-0.5 font-mono text-xs text-slate-700 dark:bg-slate-800 dark:text-slate-300">
                        {format!("{k}={v}")}
                    </li>
                }).collect_view()}
            </ul>
            <dl class="mt-3 grid grid-cols-[auto_1fr] gap-x-3 gap-y-1 text-xs text-slate-600 dark:text-slate-400">
                <dt>"Nodes"</dt>
                <dd>{row.node_count.clone().unwrap_or_else(|| "—".into())}</dd>
                <dt>"Agent seen"</dt>
                <dd>{seen.unwrap_or_else(|| "never".into())}</dd>
            </dl>
            <h3 class="mt-3 text-xs font-semibold uppercase tracking-wide text-slate-500 dark:text-slate-400">"Placements"</h3>
            {if row.placements.is_empty() {
                view! { <p class="mt-1 text-xs text-slate-500">"None placed here."</p> }.into_any()
            } else {
                view! {
                    <ul class="placements mt-1 space-y-1 text-sm">
                        {row.placements.into_iter().map(|p| view! { <PlacementLine p/> }).collect_view()}
                    </ul>
                }
                .into_any()
            }}
        </article>
    }
}

#[component]
fn PlacementLine(p: PlacementOnMember) -> impl IntoView {
    let index = p
        .resource_index
        .clone()
        .map(|i| format!("snapshot {i}"))
        .unwrap_or_else(|| "no snapshot yet".into());
    let (mark, mark_class, mark_title) = match p.available {
        Some(true) => ("●", "text-emerald-500", "available".to_string()),
        Some(false) => ("●", "text-amber-500", "not available yet".to_string()),
        None => ("○", "text-slate-400", p.state.to_lowercase()),
    };
    let data_index = p.resource_index.clone().unwrap_or_default();
    let data_placement = p.placement.clone();
    view! {
        <li class="placement flex items-baseline gap-2" data-placement=data_placement data-index=data_index>
            <span class=mark_class title=mark_title>{mark}</span>
            <span class="font-mono">{p.placement}</span>
            <span class="text-xs text-slate-500 dark:text-slate-400">{index}</span>
        </li>
    }
}
