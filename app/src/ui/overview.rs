//! The landing page: first what needs a person (approvals waiting, runs stuck, failed or
//! stopped), then which server the dashboard talks to and the live activity feed.

use leptos::prelude::*;

use super::activity::{ActivityFeed, NoteForm};
use super::layout::{Card, PageHeader};
use super::LiveLink;
use crate::fleet::views::approval_view::{ApprovalRow, ApprovalStatus};
use crate::fleet::views::run_view::RunPill;
use crate::server_fns::approvals::list_approvals;
use crate::server_fns::runs::list_runs;
use crate::server_fns::server_info::get_server_info;

#[component]
pub fn OverviewPage() -> impl IntoView {
    view! {
        <PageHeader title="Overview" subtitle="Staged rollouts across your fleet of Kubernetes clusters."/>
        <NeedsYou/>
        <div class="mt-4 grid gap-4 md:grid-cols-3">
            <div class="md:col-span-1">
                <ServerCard/>
            </div>
            <div class="md:col-span-2">
                <Card title="Activity">
                    <NoteForm/>
                    <ActivityFeed/>
                </Card>
            </div>
        </div>
    }
}

/// What waits for a person, live: pending approvals (oldest first) and runs that are stuck,
/// failed or stopped — each a link to where to act.
#[component]
fn NeedsYou() -> impl IntoView {
    let link = LiveLink::expect();
    let approvals = Resource::new(move || link.changed.get(), |_| list_approvals());
    let runs = Resource::new(|| (), |_| list_runs());
    view! {
        <section id="needs-you" aria-labelledby="needs-you-heading" class="rounded-lg border border-amber-300 bg-amber-50 p-4 dark:border-amber-800 dark:bg-amber-950/40">
            <h2 id="needs-you-heading" class="text-sm font-semibold uppercase tracking-wide text-amber-950 dark:text-amber-100">"Needs a person"</h2>
            <Transition fallback=|| view! { <p class="text-sm">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let pending: Vec<ApprovalRow> = approvals
                        .await
                        .unwrap_or_default()
                        .into_iter()
                        .filter(|a| a.state == ApprovalStatus::Pending)
                        .collect();
                    let rendered = runs.await.ok();
                    let troubled = Memo::new(move |_| {
                        link.runs
                            .get()
                            .or_else(|| rendered.clone())
                            .unwrap_or_default()
                            .into_iter()
                            .filter(|r| matches!(r.pill, RunPill::Stuck | RunPill::Failed | RunPill::Stopped))
                            .collect::<Vec<_>>()
                    });
                    let nothing = pending.is_empty();
                    view! {
                        <ul class="mt-2 space-y-1 text-sm text-slate-900 dark:text-slate-100">
                            {pending.into_iter().map(|a| {
                                let run = match &a.namespace { Some(ns) => format!("/runs/{ns}/{}", a.run), None => format!("/runs/{}", a.run) };
                                view! {
                                    <li class="needs-approval" data-request=a.name.clone()>
                                        "Approval waiting: " <a class="font-mono underline" href="/approvals">{a.name.clone()}</a>
                                        {format!(" ({} stage {} of run ", a.side, a.stage)}
                                        <a class="font-mono underline" href=run>{a.run.clone()}</a> ")"
                                    </li>
                                }
                            }).collect_view()}
                            {move || troubled.get().into_iter().map(|r| {
                                let href = match &r.namespace { Some(ns) => format!("/runs/{ns}/{}", r.name), None => format!("/runs/{}", r.name) };
                                view! {
                                    <li class="needs-run" data-run=r.name.clone()>
                                        {format!("Run {}: ", r.pill.label())}
                                        <a class="font-mono underline" href=href>{r.name.clone()}</a>
                                        {format!(" — {}", r.message)}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <Show when=move || nothing && troubled.read().is_empty()>
                            <p class="mt-2 text-sm text-slate-900 dark:text-slate-100">"Nothing: no approval is waiting and no run is stuck, failed or stopped."</p>
                        </Show>
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ServerCard() -> impl IntoView {
    let info = Resource::new(|| (), |_| get_server_info());
    view! {
        <Card title="Server">
            <Suspense fallback=|| view! { <p class="text-sm text-slate-500">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match info.await {
                        Ok(info) => {
                            view! {
                                <dl id="server-info" class="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm">
                                    <dt class="text-slate-500 dark:text-slate-400">"Version"</dt>
                                    <dd data-field="version">{info.version}</dd>
                                    <dt class="text-slate-500 dark:text-slate-400">"Mode"</dt>
                                    <dd data-field="mode">{info.mode}</dd>
                                    <dt class="text-slate-500 dark:text-slate-400">"Up since"</dt>
                                    <dd data-field="started">
                                        {info.started_at.format("%Y-%m-%d %H:%M:%S UTC").to_string()}
                                    </dd>
                                </dl>
                            }
                                .into_any()
                        }
                        Err(e) => view! { <p class="text-sm text-rose-600">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Suspense>
        </Card>
    }
}
