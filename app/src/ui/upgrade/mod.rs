//! The upgrade run page (`/upgrades/<name>`): the run's summary and actions, then its stages →
//! groups → members as a timeline, each member with its from → to versions, window and state.
//! Rendered on the server and readable without JavaScript, then kept current: it reloads the run
//! whenever the live link says the hub changed, or right after this page acted.

mod actions;
mod profiles;
mod tree;

pub use profiles::ProfilesSection;

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::clock::{span, stamp, Clock};
use super::upgrades::StatePill;
use super::LiveLink;
use crate::error::AppError;
use crate::fleet::upgrade::upgrade_run::{GateType, ManagedClusterUpgradeType, UpdateState};
use crate::fleet::views::upgrade_view::{selection_label, upgrade_type_label, UpgradeDetail};
use crate::server_fns::upgrades::get_upgrade;

/// What the browser fetched since the server rendered the page.
#[derive(Clone, Copy)]
pub(crate) struct Live {
    detail: RwSignal<Option<(String, Result<UpgradeDetail, AppError>)>>,
    /// Bumped after each action this page took, to reload at once.
    pub acted: RwSignal<u64>,
}

impl Live {
    fn follow(name: Memo<String>) -> Self {
        let live = Live {
            detail: RwSignal::new(None),
            acted: RwSignal::new(0),
        };
        let link = LiveLink::expect();
        let latest = StoredValue::new(0u64);
        Effect::new(move |_| {
            let name = name.get();
            link.changed.track();
            live.acted.track();
            let ticket = latest.get_value() + 1;
            latest.set_value(ticket);
            leptos::task::spawn_local(async move {
                let detail = get_upgrade(name.clone()).await;
                // A slower answer never overwrites a newer one.
                if latest.get_value() == ticket {
                    live.detail.set(Some((name, detail)));
                }
            });
        });
        live
    }
}

#[component]
pub fn UpgradePage() -> impl IntoView {
    let params = use_params_map();
    let name = Memo::new(move |_| params.read().get("name").unwrap_or_default());
    let rendered = Resource::new(move || name.get(), get_upgrade);
    let live = Live::follow(name);
    view! {
        <Suspense fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Loading the upgrade run…"</p> }>
            {move || Suspend::new(async move {
                let first = rendered.await;
                let fetched = move || live.detail.get().filter(|(n, _)| *n == name.get()).map(|(_, d)| d);
                let first_ok = first.clone().ok();
                // The newest good state: what the browser fetched, else what the server rendered.
                let detail = Memo::new(move |_| fetched().and_then(Result::ok).or_else(|| first_ok.clone()));
                let error = Memo::new(move |_| match fetched() {
                    Some(Err(e)) => Some(e),
                    Some(Ok(_)) => None,
                    None => first.clone().err(),
                });
                view! {
                    {move || error.get().map(|e| view! {
                        <p role="alert" class="mb-4 rounded-md border border-rose-300 bg-rose-50 px-3 py-2 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-100">
                            {e.to_string()}
                        </p>
                    })}
                    <Show
                        when=move || detail.read().is_some()
                        fallback=move || view! {
                            <leptos_meta::Title text="Upgrade run not found"/>
                            <p class="text-sm"><a href="/upgrades" class="text-indigo-700 underline dark:text-indigo-300">"Back to the upgrades"</a></p>
                        }
                    >
                        <UpgradeBody name detail=Signal::derive(move || detail.get().unwrap_or_default()) live/>
                    </Show>
                }
            })}
        </Suspense>
    }
}

#[component]
fn UpgradeBody(name: Memo<String>, detail: Signal<UpgradeDetail>, live: Live) -> impl IntoView {
    let acts = actions::Acts::new(live);
    let row = move || detail.read().row.clone();
    let state = Signal::derive(move || detail.read().row.state);
    view! {
        <leptos_meta::Title text=move || name.get()/>
        <div class="mb-4 flex flex-wrap items-start gap-3">
            <div class="min-w-0 flex-1">
                <p class="text-xs text-slate-700 dark:text-slate-300">
                    <a href="/upgrades" class="underline">"Upgrades"</a> " / UpdateRun"
                </p>
                <h1 class="break-all font-mono text-2xl font-semibold tracking-tight">{move || name.get()}</h1>
            </div>
            <span id="upgrade-pill"><StatePill state/></span>
        </div>
        // A live region: a run that starts, stops, waits for a gate or completes is announced.
        <section
            id="upgrade-now"
            role="status"
            aria-live="polite"
            aria-atomic="true"
            class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900"
        >
            <p class="text-base font-medium">{move || headline(&detail.read())}</p>
            {move || row().message.map(|m| view! {
                <p class="mt-1 text-sm text-rose-800 dark:text-rose-200">{m}</p>
            })}
        </section>
        <dl class="mt-4 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm sm:grid-cols-[auto_1fr_auto_1fr]">
            <dt class="text-slate-700 dark:text-slate-300">"Upgrade type"</dt>
            <dd data-field="upgrade-type">{move || upgrade_type_label(row().upgrade_type)}</dd>
            <dt class="text-slate-700 dark:text-slate-300">"Kubernetes version"</dt>
            <dd data-field="kubernetes-version">{move || row().kubernetes_version.unwrap_or_else(|| "unchanged".into())}</dd>
            <dt class="text-slate-700 dark:text-slate-300">"Node images"</dt>
            <dd data-field="node-images">
                {move || {
                    let d = detail.read();
                    let chosen = d.selected_images.join(", ");
                    if d.row.upgrade_type == ManagedClusterUpgradeType::ControlPlaneOnly {
                        "unchanged".to_string()
                    } else if chosen.is_empty() {
                        selection_label(d.row.node_image_selection).to_string()
                    } else {
                        format!("{}: {chosen}", selection_label(d.row.node_image_selection))
                    }
                }}
            </dd>
            <dt class="text-slate-700 dark:text-slate-300">"Order"</dt>
            <dd data-field="sequence">{move || detail.read().sequence.clone()}</dd>
            // A run an auto-upgrade profile made says so (aks §11 autoUpgradeProfileId).
            {move || detail.with(|d| d.profile.clone()).map(|p| view! {
                <dt class="text-slate-700 dark:text-slate-300">"Made by"</dt>
                <dd data-field="profile">{format!("auto-upgrade profile {p}")}</dd>
            })}
            <dt class="text-slate-700 dark:text-slate-300">"Members"</dt>
            <dd data-field="members">{move || format!("{} of {} done", row().members_done, row().members_total)}</dd>
            <dt class="text-slate-700 dark:text-slate-300">"Time"</dt>
            <dd>{move || {
                let d = detail.read();
                match (d.started, d.ended) {
                    (Some(s), Some(e)) => format!("started {}, took {}", stamp(s), span((e - s).num_seconds())),
                    (Some(s), None) => format!("started {}, running {}", stamp(s), span((Clock::now() - s).num_seconds())),
                    _ => "not started".to_string(),
                }
            }}</dd>
        </dl>
        <actions::RunActions name detail acts/>
        <section aria-labelledby="stages-heading" class="mt-6">
            <h2 id="stages-heading" class="mb-3 text-sm font-semibold uppercase tracking-wide text-slate-700 dark:text-slate-300">
                "Stages"
            </h2>
            <tree::Stages name detail acts/>
        </section>
    }
}

/// One sentence on what the run does now, for the live region.
fn headline(d: &UpgradeDetail) -> String {
    let r = &d.row;
    let progress = format!("{} of {} members done", r.members_done, r.members_total);
    let waiting_gate = d
        .stages
        .iter()
        .flat_map(|s| {
            s.before_gates.iter().chain(&s.after_gates).chain(
                s.groups
                    .iter()
                    .flat_map(|g| g.before_gates.iter().chain(&g.after_gates)),
            )
        })
        .find(|g| g.state == UpdateState::Pending);
    let waiting = d.stages.iter().find_map(|s| {
        let w = s.wait.as_ref()?;
        (w.state == UpdateState::Running).then_some((s.name.as_str(), w.ends_at?))
    });
    match r.state {
        UpdateState::NotStarted if d.stages.is_empty() => {
            "Not started; the engine has not planned the run yet.".into()
        }
        UpdateState::NotStarted => format!("Not started: {} members to upgrade.", r.members_total),
        UpdateState::Running => match waiting {
            // A time, not a countdown: the live region must not announce every second.
            Some((stage, end)) => format!(
                "Running: waiting after stage {stage} until {}; {progress}.",
                stamp(end)
            ),
            None => format!("Running: {progress}."),
        },
        UpdateState::Pending => match waiting_gate {
            Some(g) if g.gate_type == GateType::Approval => format!(
                "Pending: waiting for approval of gate {}; {progress}.",
                g.display_name
                    .clone()
                    .or_else(|| g.gate_id.clone())
                    .unwrap_or_default()
            ),
            Some(g) => format!(
                "Pending: gate {} opens at its scheduled time; {progress}.",
                g.display_name
                    .clone()
                    .or_else(|| g.gate_id.clone())
                    .unwrap_or_default()
            ),
            None => format!(
                "Pending: members wait for their maintenance window or a release; {progress}."
            ),
        },
        UpdateState::Stopping => {
            format!("Stopping: members being upgraded finish, nothing new starts; {progress}.")
        }
        UpdateState::Stopped => format!("Stopped: {progress}. Start carries on from here."),
        UpdateState::Completed => format!("Completed: {progress}."),
        UpdateState::Failed => format!("Failed: {progress}. Start tries the failed members again."),
        UpdateState::Skipped => format!("Skipped: {progress}."),
    }
}
