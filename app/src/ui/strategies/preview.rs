//! The plan preview: the draft planned over a placement's scheduled clusters with the engine's own
//! code (`fleet::views::strategy_preview`), recomputed in the browser on every change of the form.
//! The members and placements come once with the page; nothing here asks the server.

use std::collections::BTreeSet;

use leptos::prelude::*;

use super::{ERROR, FIELD, HINT, LABEL, PANEL};
use crate::fleet::staged::stage_plan::ClusterLabels;
use crate::fleet::views::strategy_form::StrategyDraft;
use crate::fleet::views::strategy_preview::{preview, StagePreview, StrategyPreview};
use crate::server_fns::strategies::PreviewContext;

/// The preview's choice of clusters: a placement's scheduled ones, or every member.
const EVERY_MEMBER: &str = "";

fn reference(namespace: &str, name: &str) -> String {
    if namespace.is_empty() {
        name.to_string()
    } else {
        format!("{namespace}/{name}")
    }
}

#[component]
pub(crate) fn PlanPreview(draft: Memo<StrategyDraft>, context: PreviewContext) -> impl IntoView {
    let context = StoredValue::new(context);
    // Placements a run of this strategy could roll out: those of its scope.
    let fitting = Memo::new(move |_| {
        let ns = draft.with(|d| d.namespace.trim().to_string());
        context.with_value(|c| {
            c.placements
                .iter()
                .filter(|p| p.namespace == ns)
                .map(|p| (reference(&p.namespace, &p.name), p.scheduled.len()))
                .collect::<Vec<_>>()
        })
    });
    let chosen = RwSignal::new(
        fitting
            .get_untracked()
            .first()
            .map(|(r, _)| r.clone())
            .unwrap_or_default(),
    );
    let plan = Memo::new(move |_| -> Result<StrategyPreview, String> {
        let choice = chosen.get();
        draft.with(|d| {
            let spec = d.spec().map_err(|problems| {
                problems
                    .iter()
                    .map(|p| format!("stage {}: {}", p.stage + 1, p.error))
                    .collect::<Vec<_>>()
                    .join("; ")
            })?;
            Ok(context.with_value(|c| {
                let scheduled: BTreeSet<String> = if choice == EVERY_MEMBER {
                    c.members.iter().map(|m| m.name.clone()).collect()
                } else {
                    c.placements
                        .iter()
                        .find(|p| reference(&p.namespace, &p.name) == choice)
                        .map(|p| p.scheduled.iter().cloned().collect())
                        .unwrap_or_default()
                };
                let members = c.members.iter().map(|m| ClusterLabels {
                    name: &m.name,
                    labels: &m.labels,
                });
                preview(&d.key(), &spec, members, &scheduled)
            }))
        })
    });
    let members = context.with_value(|c| c.members.len());
    view! {
        <section id="preview" class=PANEL aria-labelledby="preview-title">
            <h2 id="preview-title" class="text-sm font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">"Plan preview"</h2>
            <p class=HINT>"What a run of this strategy would plan now, computed here with the engine's own planning code. It follows the form as you type."</p>
            <div class="mt-2">
                <label for="preview-placement" class=LABEL>"Clusters of"</label>
                <select id="preview-placement" class=FIELD on:change=move |ev| chosen.set(event_target_value(&ev))>
                    {move || fitting.get().into_iter().map(|(r, n)| {
                        let selected = r == chosen.get_untracked();
                        view! { <option value=r.clone() selected=selected>{format!("placement {r} ({n} scheduled)")}</option> }
                    }).collect_view()}
                    <option value=EVERY_MEMBER selected=move || chosen.get() == EVERY_MEMBER>{format!("every member cluster ({members}), as if all were scheduled")}</option>
                </select>
            </div>
            <div aria-live="polite" class="mt-3">
                {move || match plan.get() {
                    Err(e) => view! { <p class=ERROR>{format!("No plan until the selectors read: {e}")}</p> }.into_any(),
                    Ok(p) => view! { <PlanView plan=p/> }.into_any(),
                }}
            </div>
        </section>
    }
}

#[component]
fn PlanView(plan: StrategyPreview) -> impl IntoView {
    let StrategyPreview {
        stages,
        unmatched,
        error,
        error_stage,
    } = plan;
    // The engine computes maxConcurrency when a stage starts: a bad one fails the run there.
    let bad_concurrency = stages
        .iter()
        .enumerate()
        .find_map(|(i, s)| s.concurrency_error.clone().map(|e| (i, e)));
    let verdict = match (&error, unmatched.is_empty()) {
        (None, _) if bad_concurrency.is_some() => {
            let (i, e) = bad_concurrency.unwrap_or_default();
            view! {
                <p id="preview-verdict" role="alert" class=ERROR>
                    {format!("✕ A run would initialize, then fail when stage {} starts: {e}", i + 1)}
                </p>
            }.into_any()
        }
        (None, _) => view! {
            <p id="preview-verdict" class="text-sm text-emerald-800 dark:text-emerald-300">"✓ A run would initialize with this plan."</p>
        }.into_any(),
        (Some(e), true) => view! {
            <p id="preview-verdict" role="alert" class=ERROR>
                {format!("✕ A run would fail to initialize{}: {e}", error_stage.map(|i| format!(" (stage {})", i + 1)).unwrap_or_default())}
            </p>
        }.into_any(),
        (Some(e), false) => view! {
            <div id="preview-unmatched" role="alert" class="rounded-md border border-rose-300 bg-rose-50 p-2 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-100">
                <p class="font-medium">{format!("No stage takes {}: ", if unmatched.len() == 1 { "this scheduled cluster" } else { "these scheduled clusters" })}
                    {unmatched.iter().map(|c| view! { <span class="cluster unmatched mr-1 font-mono" data-cluster=c.clone()>{c.clone()}</span> }).collect_view()}
                </p>
                <p class="mt-1">{format!("A run would fail to initialize: {e}")}</p>
            </div>
        }.into_any(),
    };
    view! {
        {verdict}
        <ol id="preview-stages" class="mt-3 space-y-3">
            {stages.into_iter().enumerate().map(|(i, s)| view! { <StageView index=i stage=s/> }).collect_view()}
        </ol>
    }
}

#[component]
fn StageView(index: usize, stage: StagePreview) -> impl IntoView {
    let n = stage.clusters.len();
    let summary = match (n, stage.max_concurrency) {
        (0, _) => "no cluster".to_string(),
        (_, None) => format!("{n} cluster{}", if n == 1 { "" } else { "s" }),
        (_, Some(m)) => format!(
            "{n} cluster{}, {} at a time: {} batch{}",
            if n == 1 { "" } else { "s" },
            m.min(n),
            stage.batches.len(),
            if stage.batches.len() == 1 { "" } else { "es" }
        ),
    };
    view! {
        <li class="preview-stage rounded-md border border-slate-200 p-2 dark:border-slate-700" data-stage=stage.name.clone()>
            <p class="text-sm"><span class="font-semibold">{format!("{}. {}", index + 1, stage.name)}</span>{format!(" — {summary}")}</p>
            {stage.concurrency_error.map(|e| view! { <p class=ERROR>{e}</p> })}
            <ol class="mt-1 space-y-1">
                {stage.batches.into_iter().enumerate().map(|(b, batch)| view! {
                    <li class="batch flex flex-wrap items-center gap-1 text-xs" data-batch=b.to_string()>
                        <span class="text-slate-600 dark:text-slate-400">{format!("Batch {}:", b + 1)}</span>
                        {batch.into_iter().map(|c| view! {
                            <span class="cluster rounded bg-indigo-100 px-1.5 py-0.5 font-mono text-indigo-950 dark:bg-indigo-900/60 dark:text-indigo-50" data-cluster=c.clone()>{c.clone()}</span>
                        }).collect_view()}
                    </li>
                }).collect_view()}
            </ol>
            {(stage.max_concurrency.is_none()).then(|| view! {
                <p class="mt-1 flex flex-wrap gap-1 text-xs">
                    {stage.clusters.into_iter().map(|c| view! {
                        <span class="cluster rounded bg-slate-100 px-1.5 py-0.5 font-mono text-slate-900 dark:bg-slate-800 dark:text-slate-100" data-cluster=c.clone()>{c.clone()}</span>
                    }).collect_view()}
                </p>
            })}
        </li>
    }
}
