//! Rollback by picker: the snapshot chosen in the history, what it would change on which
//! clusters, the strategy (the placement's last one preselected) with the stages it would run,
//! and one button that creates the run in Initialize. Nothing moves until Start is pressed on
//! the run's page, where the run's own computed stages can be reviewed first.

use chrono::Utc;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_navigate;

use crate::fleet::staged::staged_update_run::UpdateRunState;
use crate::server_fns::placements::{plan_rollback, PlacementKey, RollbackPlan, RollbackRequest};
use crate::server_fns::runs::CreateRun;
use crate::ui::run::Outcome;

const FIELD: &str = "mt-1 block rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm text-slate-900 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:border-slate-600 dark:bg-slate-950 dark:text-slate-100";
const LINK: &str = "text-indigo-700 underline underline-offset-2 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:text-indigo-300";

#[component]
pub fn RollbackPanel(key: PlacementKey, target: u64, strategy: String) -> impl IntoView {
    let request = RollbackRequest {
        placement: key.clone(),
        target,
        strategy,
    };
    let plan = Resource::new(move || request.clone(), plan_rollback);
    view! {
        <section id="rollback" aria-labelledby="rollback-title" class="mt-6 rounded-lg border border-indigo-300 bg-white p-4 shadow-sm dark:border-indigo-700 dark:bg-slate-900">
            <h2 id="rollback-title" class="text-lg font-semibold">{format!("Roll back to snapshot #{target}")}</h2>
            <Suspense fallback=|| view! { <p class="text-sm text-slate-600 dark:text-slate-400">"Planning…"</p> }>
                {move || {
                    let key = key.clone();
                    Suspend::new(async move {
                        match plan.await {
                            Err(e) => view! { <p role="alert" class="text-sm text-rose-700 dark:text-rose-300">{e.to_string()}</p> }.into_any(),
                            Ok(p) => view! { <Plan key target plan=p/> }.into_any(),
                        }
                    })
                }}
            </Suspense>
        </section>
    }
}

fn list(clusters: &[String]) -> String {
    if clusters.len() <= 6 {
        clusters.join(", ")
    } else {
        format!(
            "{}, … ({} in all)",
            clusters[..5].join(", "),
            clusters.len()
        )
    }
}

#[component]
fn Plan(key: PlacementKey, target: u64, plan: RollbackPlan) -> impl IntoView {
    let base = key.path();
    let changing = plan.impact.changing_count();
    let run_kind = if key.namespace().is_some() {
        "StagedUpdateRun"
    } else {
        "ClusterStagedUpdateRun"
    };
    let name = RwSignal::new({
        let mut n = format!(
            "{}-rollback-{target}-{}",
            key.name,
            Utc::now().format("%m%d-%H%M")
        );
        n.truncate(63);
        n
    });
    let create = ServerAction::<CreateRun>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(run)) = create.value().get() {
            navigate(&run.path(), Default::default());
        }
    });
    let strategy = plan.strategy.clone();
    let picked = StoredValue::new(plan.strategy.clone());
    let can_create = changing > 0 && plan.plan_error.is_none();
    view! {
        <p id="rollback-impact" class="mt-1 text-sm text-slate-700 dark:text-slate-300">
            {if changing == 0 {
                format!("Every scheduled cluster already runs #{target}: a rollback would change nothing.")
            } else {
                format!("{changing} cluster{} would change; {} already run{} #{target}.",
                    if changing == 1 { "" } else { "s" },
                    plan.impact.unchanged.len(),
                    if plan.impact.unchanged.len() == 1 { "s" } else { "" })
            }}
        </p>
        <ul class="mt-2 space-y-1 text-sm">
            {plan.changes.iter().map(|(from, s)| {
                let clusters = plan.impact.changing.get(from).cloned().unwrap_or_default();
                let what = format!("{} changed, {} added, {} removed", s.changed, s.added, s.removed);
                match from {
                    Some(from) => view! {
                        <li>
                            <span class="font-medium">{format!("From #{from} → #{target}")}</span>
                            {format!(" on {}: {what}. ", list(&clusters))}
                            <a class=LINK href=format!("{base}?from={from}&to={target}&rollback={target}#diff")>"See the diff"</a>
                        </li>
                    }.into_any(),
                    None => view! {
                        <li><span class="font-medium">"Not rolled out yet"</span>{format!(" on {}: they get #{target} in full.", list(&clusters))}</li>
                    }.into_any(),
                }
            }).collect_view()}
        </ul>
        <Form method="GET" action="" attr:class="mt-4 flex flex-wrap items-end gap-3" attr:id="rollback-strategy">
            <input type="hidden" name="rollback" value=target.to_string()/>
            <div>
                <label for="rollback-strategy-select" class="block text-sm font-medium">"Strategy"</label>
                <select id="rollback-strategy-select" name="strategy" class=FIELD>
                    {plan.strategies.iter().map(|s| view! { <option value=s.clone() selected=picked.with_value(|p| p == s)>{s.clone()}</option> }).collect_view()}
                </select>
            </div>
            <button type="submit" class="rounded-md border border-slate-300 px-3 py-1.5 text-sm font-medium hover:bg-slate-50 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 dark:border-slate-600 dark:hover:bg-slate-800">"Preview with this strategy"</button>
        </Form>
        <h3 class="mt-4 text-sm font-semibold">{format!("Stages with {}", plan.strategy)}</h3>
        {match &plan.plan_error {
            Some(e) => view! { <p role="alert" class="mt-1 text-sm text-rose-700 dark:text-rose-300">{format!("This strategy cannot plan the placement: {e}")}</p> }.into_any(),
            None => view! {
                <ol id="rollback-stages" class="mt-1 space-y-1 text-sm">
                    {plan.stages.iter().enumerate().map(|(i, s)| view! {
                        <li data-stage=s.name.clone()>
                            <span class="font-medium">{format!("{}. {}", i + 1, s.name)}</span>
                            {format!(": {}", if s.clusters.is_empty() { "no cluster".to_string() } else { list(&s.clusters) })}
                        </li>
                    }).collect_view()}
                </ol>
            }.into_any(),
        }}
        <ActionForm action=create attr:id="rollback-create" attr:class="mt-4 space-y-2">
            <input type="hidden" name="dry_run" value="false"/>
            <input type="hidden" name="run[placement]" value=key.reference()/>
            <input type="hidden" name="run[strategy]" value=plan.strategy.clone()/>
            <input type="hidden" name="run[snapshot_index]" value=target.to_string()/>
            <input type="hidden" name="run[state]" value=UpdateRunState::Initialize.to_string()/>
            <div>
                <label for="rollback-name" class="block text-sm font-medium">"Run name"</label>
                <input id="rollback-name" name="run[name]" class=format!("{FIELD} w-full max-w-md") value=name.get_untracked() prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) required maxlength="63"/>
            </div>
            <p class="text-sm text-slate-700 dark:text-slate-300">
                {move || format!(
                    "Creates {run_kind} {} for snapshot #{target} with strategy {} in Initialize. Nothing moves until you press Start on its page, after reviewing the stages it computed.",
                    name.get(), strategy
                )}
            </p>
            <button type="submit" disabled=move || !can_create || create.pending().get()
                class="inline-flex items-center rounded-md border border-indigo-700 bg-indigo-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-800 focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 disabled:opacity-60 dark:border-indigo-400 dark:bg-indigo-400 dark:text-slate-950">
                "Create the rollback run"
            </button>
        </ActionForm>
        <div id="rollback-result">
            <Outcome value=Signal::derive(move || create.value().get().map(|r| r.map(|_| ()))) done="Created. Opening its page…"/>
        </div>
    }
}
