//! The Upgrades page's auto-upgrade profiles (aks §11): channel, strategy, whether enabled, the
//! last trigger (when, how it went, the error, the run it made, linked), and "Generate run"
//! behind a confirmation — a form posting to its server function as the signed-in person, so it
//! works without JavaScript; disabled with the reason when the hub's RBAC would refuse it.

use leptos::prelude::*;

use super::actions::BUTTON;
use crate::error::AppError;
use crate::fleet::views::permission_view::ConsoleAction;
use crate::fleet::views::profile_view::ProfileRow;
use crate::server_fns::upgrades::{list_profiles, GenerateUpgradeRun};
use crate::ui::gate::{gate_of, use_browser_permissions, DISABLED, REASON};
use crate::ui::LiveLink;

const PRIMARY: &str = "border-indigo-700 bg-indigo-700 text-white hover:bg-indigo-800 dark:border-indigo-400 dark:bg-indigo-400 dark:text-slate-950 dark:hover:bg-indigo-300";
const PANEL: &str = "mt-2 max-w-sm rounded-md border border-slate-200 bg-white p-3 text-sm font-normal text-slate-900 shadow dark:border-slate-700 dark:bg-slate-900 dark:text-slate-100";
const GENERATE_REASON: &str = "profile-generate-reason";

/// `initial`: what the server rendered, fetched with the page's runs in one resource (two
/// resources resolving at once in one SSR render is what hung Leptos' reactive graph before, see
/// [`crate::ui::gate::use_browser_permissions`]); reloaded in the browser whenever the hub changed.
#[component]
pub fn ProfilesSection(initial: Result<Vec<ProfileRow>, AppError>) -> impl IntoView {
    let link = LiveLink::expect();
    let fetched = RwSignal::new(None::<Vec<ProfileRow>>);
    let latest = StoredValue::new(0u64);
    let generate = ServerAction::<GenerateUpgradeRun>::new();
    Effect::new(move |first: Option<()>| {
        link.changed.track();
        generate.version().track();
        if first.is_none() {
            return;
        }
        let ticket = latest.get_value() + 1;
        latest.set_value(ticket);
        leptos::task::spawn_local(async move {
            if let Ok(rows) = list_profiles().await {
                if latest.get_value() == ticket {
                    fetched.set(Some(rows));
                }
            }
        });
    });
    let answer = use_browser_permissions(|| None);
    let refusal = Signal::derive(move || {
        answer
            .get()
            .map(|a| gate_of(a, ConsoleAction::GenerateUpgradeRun))
            .filter(|g| !g.enabled)
            .map(|g| g.reason.unwrap_or_default())
    });
    let error = initial.as_ref().err().map(|e| e.to_string());
    let initial = initial.ok();
    let rows = Memo::new(move |_| {
        fetched
            .get()
            .or_else(|| initial.clone())
            .unwrap_or_default()
    });
    view! {
        <section aria-labelledby="profiles-heading" class="mb-6">
            <h2 id="profiles-heading" class="mb-2 text-lg font-semibold text-slate-900 dark:text-slate-100">"Auto-upgrade profiles"</h2>
            <p class="mb-2 text-sm text-slate-700 dark:text-slate-300">
                "A profile creates and starts a run when the release catalogue offers its channel a newer version; what was already available when it was created does not count. Create one with "
                <code class="font-mono">"fleetdeck autoupgradeprofile create"</code> " or kubectl."
            </p>
            {error.map(|e| view! { <p role="alert" class="mb-3 text-sm text-rose-900 dark:text-rose-100">{e}</p> })}
            <Show
                when=move || !rows.read().is_empty()
                fallback=|| view! { <p id="no-profiles" class="text-sm text-slate-700 dark:text-slate-300">"No auto-upgrade profile exists."</p> }
            >
                <div role="region" aria-label="Auto-upgrade profiles table (scrolls sideways)" tabindex="0" class="relative overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm dark:border-slate-800 dark:bg-slate-900">
                    <table id="profiles" class="min-w-full text-sm">
                        <caption class="sr-only">"Auto-upgrade profiles"</caption>
                        <thead class="bg-slate-50 text-left text-xs uppercase tracking-wide text-slate-700 dark:bg-slate-800/60 dark:text-slate-300">
                            <tr>
                                <th scope="col" class="px-3 py-2">"Profile"</th>
                                <th scope="col" class="px-3 py-2">"Channel"</th>
                                <th scope="col" class="px-3 py-2">"Strategy"</th>
                                <th scope="col" class="px-3 py-2">"Enabled"</th>
                                <th scope="col" class="px-3 py-2">"Last trigger"</th>
                                <th scope="col" class="px-3 py-2">"Actions"</th>
                            </tr>
                        </thead>
                        <tbody class="divide-y divide-slate-100 dark:divide-slate-800">
                            <For each=move || rows.get() key=|row| format!("{row:?}") let:row>
                                <ProfileLine row generate refusal/>
                            </For>
                        </tbody>
                    </table>
                </div>
                {move || refusal.get().map(|r| view! { <p id=GENERATE_REASON class=REASON>{r}</p> })}
            </Show>
            <div aria-live="polite" class="action-outcome">
                {move || generate.value().get().map(|r| match r {
                    Ok(message) => view! { <p role="status" class="mt-2 text-sm text-emerald-800 dark:text-emerald-300">{message}</p> }.into_any(),
                    Err(e) => view! {
                        <p role="alert" class="mt-2 rounded-md border border-rose-300 bg-rose-50 px-3 py-2 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-100">{e.to_string()}</p>
                    }.into_any(),
                })}
            </div>
        </section>
    }
}

#[component]
fn ProfileLine(
    row: ProfileRow,
    generate: ServerAction<GenerateUpgradeRun>,
    refusal: Signal<Option<String>>,
) -> impl IntoView {
    let name = row.name.clone();
    let channel = match &row.target_version {
        Some(v) => format!("{} {v}", row.channel),
        None => row.channel.clone(),
    };
    let last = match (&row.last_status, &row.last_triggered) {
        (Some(s), Some(at)) => format!("{s} at {at}"),
        (Some(s), None) => s.clone(),
        _ => "never triggered".to_string(),
    };
    let versions =
        (!row.last_versions.is_empty()).then(|| format!("to {}", row.last_versions.join(", ")));
    let observed = (!row.observed.is_empty())
        .then(|| format!("already available: {}", row.observed.join(", ")));
    let texts = StoredValue::new(name.clone());
    let profile = move || texts.get_value();
    view! {
        <tr class="profile align-top" data-profile=name.clone() data-last-status=row.last_status.clone().unwrap_or_default()>
            <th scope="row" class="px-3 py-2 text-left font-mono font-medium">{name.clone()}</th>
            <td class="px-3 py-2 text-xs">{channel}</td>
            <td class="px-3 py-2 text-xs">{row.strategy.clone().unwrap_or_else(|| "one by one".to_string())}</td>
            <td class="enabled px-3 py-2 text-xs">{if row.enabled { "Yes" } else { "No (disabled)" }}</td>
            <td class="last-trigger px-3 py-2 text-xs">
                <div>{last}</div>
                {versions.map(|v| view! { <div>{v}</div> })}
                {row.last_run.clone().map(|r| {
                    let href = format!("/upgrades/{r}");
                    view! { <a class="run-link font-mono text-indigo-700 underline dark:text-indigo-300" href=href>{r}</a> }
                })}
                {row.last_error.clone().map(|e| view! { <p class="trigger-error mt-1 max-w-md text-rose-900 dark:text-rose-200">{e}</p> })}
                {observed.map(|o| view! { <div class="text-slate-600 dark:text-slate-400">{o}</div> })}
            </td>
            <td class="px-3 py-2">
                <Show
                    when=move || refusal.get().is_none()
                    fallback=|| view! { <button type="button" disabled class=DISABLED data-action="generate" aria-describedby=GENERATE_REASON>"Generate run"</button> }
                >
                    <details class="action inline-block" data-action="generate">
                        <summary class=format!("{BUTTON} {PRIMARY} cursor-pointer list-none")>"Generate run…"<span class="sr-only">{format!(" for profile {}", profile())}</span></summary>
                        <div class=PANEL>
                            <p>{format!("Creates profile {}'s update run for what its channel offers now, without starting it; start it from its page. If that run exists already, it is shown instead of a second one.", profile())}</p>
                            <ActionForm action=generate>
                                <input type="hidden" name="profile" value=profile()/>
                                <button type="submit" class=format!("{BUTTON} {PRIMARY} mt-3") disabled=move || generate.pending().get()>
                                    "Generate the run"
                                </button>
                            </ActionForm>
                        </div>
                    </details>
                </Show>
            </td>
        </tr>
    }
}
