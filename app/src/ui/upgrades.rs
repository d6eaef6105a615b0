//! The Upgrades page: every upgrade run (seed 004) with its state, upgrade type, target version,
//! progress and age, newest first — rendered on the server, then reloaded whenever the live link
//! says the hub changed, so runs appear and move without a reload.

use leptos::prelude::*;

use super::clock::{ago, stamp, Clock};
use super::layout::{Card, PageHeader};
use super::upgrade::ProfilesSection;
use super::LiveLink;
use crate::fleet::upgrade::upgrade_run::UpdateState;
use crate::fleet::views::upgrade_view::{
    selection_label, state_label, upgrade_type_label, UpgradeRow,
};
use crate::server_fns::upgrades::{list_profiles, list_upgrades};

/// The pill of a state: colour and an icon, so the state never rests on colour alone.
pub fn state_look(state: UpdateState) -> (&'static str, &'static str) {
    match state {
        UpdateState::Completed => (
            "✓",
            "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/60 dark:text-emerald-100",
        ),
        UpdateState::Failed => (
            "✕",
            "bg-rose-100 text-rose-900 dark:bg-rose-900/60 dark:text-rose-100",
        ),
        UpdateState::Pending | UpdateState::Stopping | UpdateState::Stopped => (
            "◑",
            "bg-amber-100 text-amber-900 dark:bg-amber-900/60 dark:text-amber-100",
        ),
        UpdateState::Running => (
            "⟳",
            "bg-sky-100 text-sky-900 dark:bg-sky-900/60 dark:text-sky-100",
        ),
        UpdateState::Skipped => (
            "⤼",
            "bg-slate-100 text-slate-800 dark:bg-slate-800 dark:text-slate-200",
        ),
        UpdateState::NotStarted => (
            "○",
            "bg-slate-100 text-slate-800 dark:bg-slate-800 dark:text-slate-200",
        ),
    }
}

/// A state pill with its icon (hidden from screen readers, which read the word).
#[component]
pub fn StatePill(state: Signal<UpdateState>) -> impl IntoView {
    view! {
        <span
            class=move || format!("pill whitespace-nowrap rounded-full px-2 py-0.5 text-xs font-medium {}", state_look(state.get()).1)
            data-state=move || state_label(state.get())
        >
            <span aria-hidden="true">{move || state_look(state.get()).0} " "</span>
            {move || state_label(state.get())}
        </span>
    }
}

#[component]
pub fn UpgradesPage() -> impl IntoView {
    let link = LiveLink::expect();
    // One resource for the runs and the profiles (see `ProfilesSection`).
    let rendered = Resource::new(
        || (),
        |_| async { (list_upgrades().await, list_profiles().await) },
    );
    // What the browser fetched since: reloaded whenever the hub changed.
    let fetched = RwSignal::new(None::<Vec<UpgradeRow>>);
    let latest = StoredValue::new(0u64);
    Effect::new(move |first: Option<()>| {
        link.changed.track();
        // The server rendered the current list; reload only once the hub moves.
        if first.is_none() {
            return;
        }
        let ticket = latest.get_value() + 1;
        latest.set_value(ticket);
        leptos::task::spawn_local(async move {
            if let Ok(rows) = list_upgrades().await {
                if latest.get_value() == ticket {
                    fetched.set(Some(rows));
                }
            }
        });
    });
    view! {
        <PageHeader title="Upgrades" subtitle="Upgrade runs: Kubernetes and node-image upgrades of the member clusters, stage by stage, newest first."/>
        <Suspense fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let (rendered, profiles) = rendered.await;
                let error = rendered.as_ref().err().map(|e| e.to_string());
                let rendered = rendered.ok();
                let rows = Memo::new(move |_| fetched.get().or_else(|| rendered.clone()).unwrap_or_default());
                view! {
                    <ProfilesSection initial=profiles/>
                    <h2 class="mb-2 text-lg font-semibold text-slate-900 dark:text-slate-100">"Upgrade runs"</h2>
                    <p class="mb-4 text-sm text-slate-700 dark:text-slate-300">
                        "Create a run with " <code class="font-mono">"fleetdeck updaterun create"</code> " or kubectl; start, stop, skip, delete and approve here."
                    </p>
                    {error.map(|e| view! {
                        <p role="alert" class="mb-3 rounded-md border border-rose-300 bg-rose-50 px-3 py-2 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-100">{e}</p>
                    })}
                    <Show
                        when=move || !rows.read().is_empty()
                        fallback=|| view! {
                            <Card title="No upgrade runs">
                                <p class="text-sm text-slate-700 dark:text-slate-300">
                                    "No upgrade run exists yet. Create one with fleetdeck updaterun create, or with kubectl apply."
                                </p>
                            </Card>
                        }
                    >
                        <div role="region" aria-label="Upgrade runs table (scrolls sideways)" tabindex="0" class="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:border-slate-800 dark:bg-slate-900">
                            <table id="upgrades" class="min-w-full text-sm">
                                <caption class="sr-only">"Upgrade runs, newest first"</caption>
                                <thead class="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-700 dark:bg-slate-800/60 dark:text-slate-300">
                                    <tr>
                                        // The state first: on a phone it must never scroll off.
                                        <th scope="col" class="px-3 py-2">"State"</th>
                                        <th scope="col" class="px-3 py-2">"Run"</th>
                                        <th scope="col" class="px-3 py-2">"Upgrade"</th>
                                        <th scope="col" class="px-3 py-2">"Members"</th>
                                        <th scope="col" class="px-3 py-2">"Created"</th>
                                    </tr>
                                </thead>
                                <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                                    <For each=move || rows.get() key=|row| row.name.clone() let:row>
                                        <UpgradeLine row=Memo::new(move |_| rows.read().iter().find(|r| r.name == row.name).cloned().unwrap_or_default())/>
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
fn UpgradeLine(row: Memo<UpgradeRow>) -> impl IntoView {
    let name = row.get_untracked().name;
    let href = format!("/upgrades/{name}");
    let percent = move || {
        let r = row.read();
        (r.members_done * 100)
            .checked_div(r.members_total)
            .unwrap_or(0)
    };
    view! {
        <tr class="upgrade align-top" data-run=name.clone() data-state=move || state_label(row.read().state)>
            <td class="px-3 py-2">
                <StatePill state=Signal::derive(move || row.read().state)/>
                {move || row.read().message.clone().map(|m| view! {
                    <p class="message mt-1 max-w-md text-xs text-slate-700 dark:text-slate-300">{m}</p>
                })}
            </td>
            <th scope="row" class="px-3 py-2 text-left font-normal">
                <a href=href class="font-mono font-medium text-indigo-700 underline dark:text-indigo-300">{name.clone()}</a>
                {move || row.read().strategy.clone().map(|s| view! {
                    <div class="text-xs text-slate-700 dark:text-slate-300">{format!("strategy {s}")}</div>
                })}
            </th>
            <td class="px-3 py-2 text-xs text-slate-800 dark:text-slate-200">
                <div class="upgrade-type font-medium">{move || upgrade_type_label(row.read().upgrade_type)}</div>
                <div class="target">{move || {
                    let r = row.read();
                    match &r.kubernetes_version {
                        Some(v) => format!("Kubernetes {v}"),
                        None => format!("node images: {}", selection_label(r.node_image_selection)),
                    }
                }}</div>
            </td>
            <td class="progress px-3 py-2 text-xs text-slate-800 dark:text-slate-200">
                <span>{move || format!("{} of {} done", row.read().members_done, row.read().members_total)}</span>
                <div
                    class="mt-1 h-1.5 w-24 overflow-hidden rounded-full bg-slate-200 dark:bg-slate-700"
                    role="progressbar"
                    aria-label=format!("Run {name} progress")
                    aria-valuemin="0"
                    aria-valuemax=move || row.read().members_total.to_string()
                    aria-valuenow=move || row.read().members_done.to_string()
                >
                    <div class="h-full bg-indigo-600 dark:bg-indigo-400" style=move || format!("width: {}%", percent())></div>
                </div>
            </td>
            <td class="px-3 py-2 text-xs text-slate-700 dark:text-slate-300">
                {move || match row.read().created {
                    Some(t) => view! { <span title=stamp(t)>{ago(t, Clock::now())}</span> }.into_any(),
                    None => view! { <span>"—"</span> }.into_any(),
                }}
            </td>
        </tr>
    }
}
