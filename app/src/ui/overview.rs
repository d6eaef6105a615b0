//! The landing page: which server the dashboard talks to, and the live activity feed.

use leptos::prelude::*;

use super::activity::{ActivityFeed, NoteForm};
use super::layout::{Card, PageHeader};
use crate::server_fns::server_info::get_server_info;

#[component]
pub fn OverviewPage() -> impl IntoView {
    view! {
        <PageHeader title="Overview" subtitle="Staged rollouts across your fleet of Kubernetes clusters."/>
        <div class="grid gap-4 md:grid-cols-3">
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
