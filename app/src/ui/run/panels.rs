//! The run page's panels around the timeline: the summary with what the run is doing now, the
//! troubleshooting explanation, the conditions and the history.

use leptos::prelude::*;

use crate::fleet::views::run_detail::RunDetail;
use crate::fleet::views::run_view::RunPill;
use crate::server_fns::runs::{HistoryLine, RunKey};
use crate::ui::clock::{ago, stamp, Clock};

/// Pill colours, with the label always in text (colour is never the only signal).
pub fn pill_class(pill: RunPill) -> &'static str {
    match pill {
        RunPill::Succeeded => {
            "bg-emerald-100 text-emerald-900 dark:bg-emerald-900/60 dark:text-emerald-100"
        }
        RunPill::Failed | RunPill::Stuck => {
            "bg-rose-100 text-rose-900 dark:bg-rose-900/60 dark:text-rose-100"
        }
        RunPill::Waiting | RunPill::Stopped => {
            "bg-amber-100 text-amber-900 dark:bg-amber-900/60 dark:text-amber-100"
        }
        RunPill::Progressing => "bg-sky-100 text-sky-900 dark:bg-sky-900/60 dark:text-sky-100",
        RunPill::Initialized | RunPill::Pending => {
            "bg-slate-100 text-slate-800 dark:bg-slate-800 dark:text-slate-200"
        }
    }
}

#[component]
pub fn Summary(key: Memo<RunKey>, detail: Signal<RunDetail>) -> impl IntoView {
    let row = move || detail.get().row;
    let headline = move || detail.get().headline;
    let scope = move || match key.get().namespace() {
        Some(ns) => format!("StagedUpdateRun in namespace {ns}"),
        None => "ClusterStagedUpdateRun".to_string(),
    };
    view! {
        <div class="mb-4 flex flex-wrap items-start gap-3">
            <div class="min-w-0 flex-1">
                <p class="text-xs text-slate-600 dark:text-slate-400">
                    <a href="/runs" class="underline">"Runs"</a> " / " {scope}
                </p>
                <h1 class="break-all font-mono text-2xl font-semibold tracking-tight">{move || key.get().name.clone()}</h1>
            </div>
            <span
                id="run-pill"
                data-pill=move || row().pill.label()
                class=move || format!("rounded-full px-3 py-1 text-sm font-semibold {}", pill_class(row().pill))
            >
                {move || row().pill.label()}
            </span>
        </div>
        // A live region: a run that goes Stuck, Waiting or Succeeded is announced.
        <section
            id="run-now"
            role="status"
            aria-live="polite"
            aria-atomic="true"
            class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900"
        >
            <p class="text-base font-medium">
                <span class="sr-only">{move || format!("Run {}: ", row().pill.label())}</span>
                {move || headline().doing}
            </p>
            {move || headline().waiting_for.map(|w| view! {
                <p class="mt-1 text-sm text-slate-700 dark:text-slate-300">"Waiting for " {w}</p>
            })}
            {move || headline().who_acts.map(|w| view! {
                <p class="mt-1 text-sm text-slate-700 dark:text-slate-300">"Who acts: " {w}</p>
            })}
        </section>
        <dl class="mt-4 grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 text-sm sm:grid-cols-[auto_1fr_auto_1fr]">
            <dt class="text-slate-600 dark:text-slate-400">"Placement"</dt>
            <dd class="font-mono break-all">{move || row().placement}</dd>
            <dt class="text-slate-600 dark:text-slate-400">"Strategy"</dt>
            <dd class="font-mono break-all">{move || row().strategy}</dd>
            <dt class="text-slate-600 dark:text-slate-400">"Resource snapshot"</dt>
            <dd data-field="snapshot">{move || row().resource_index.map(|i| format!("index {i}")).unwrap_or_else(|| "not chosen yet".into())}</dd>
            <dt class="text-slate-600 dark:text-slate-400">"State"</dt>
            <dd data-field="state">{move || row().state}</dd>
            <dt class="text-slate-600 dark:text-slate-400">"Policy snapshot"</dt>
            <dd>{move || detail.get().policy_index.map(|i| format!("index {i}")).unwrap_or_else(|| "—".into())}</dd>
            <dt class="text-slate-600 dark:text-slate-400">"Created"</dt>
            <dd>{move || detail.get().created.map(|t| ago(t, Clock::now())).unwrap_or_else(|| "—".into())}</dd>
        </dl>
    }
}

/// Seed 003's troubleshooting guide, built in: each problem with what it means and what to do.
#[component]
pub fn Problems(detail: Signal<RunDetail>) -> impl IntoView {
    let problems = move || detail.get().problems;
    view! {
        <Show when=move || !problems().is_empty()>
            <section
                id="problems"
                aria-labelledby="problems-heading"
                class="mt-4 rounded-lg border border-rose-300 bg-rose-50 p-4 text-rose-950 dark:border-rose-800 dark:bg-rose-950/60 dark:text-rose-50"
            >
                <h2 id="problems-heading" class="text-sm font-semibold uppercase tracking-wide">"What went wrong"</h2>
                {move || problems().into_iter().map(|p| view! {
                    <div class="problem mt-3">
                        <h3 class="font-semibold">{p.title}</h3>
                        <p class="mt-1 text-sm">{p.explanation}</p>
                        <ul class="mt-2 list-disc pl-5 text-sm">
                            {p.details.into_iter().map(|d| view! { <li class="font-mono text-xs break-words">{d}</li> }).collect_view()}
                        </ul>
                        <p class="mt-2 text-sm"><span class="font-semibold">"Next step: "</span>{p.next_step}</p>
                    </div>
                }).collect_view()}
            </section>
        </Show>
    }
}

#[component]
pub fn Conditions(detail: Signal<RunDetail>) -> impl IntoView {
    view! {
        <section aria-labelledby="conditions-heading" class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <h2 id="conditions-heading" class="mb-3 text-sm font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">"Conditions"</h2>
            <ul id="conditions" class="space-y-2 text-sm">
                {move || {
                    let conditions = detail.get().conditions;
                    if conditions.is_empty() {
                        return view! { <li class="text-slate-600 dark:text-slate-400">"None yet: the engine has not looked at this run."</li> }.into_any();
                    }
                    conditions.into_iter().map(|c| {
                        let since = c.since.map(|t| (ago(t, Clock::now()), stamp(t)));
                        let (type_, status) = (c.type_.clone(), c.status.clone());
                        view! {
                            <li class="condition" data-type=type_ data-status=status>
                                <span class="font-medium">{c.type_}</span>
                                " is " <span class="font-mono">{c.status}</span>
                                " (" <span class="font-mono">{c.reason}</span> ")"
                                {since.map(|(a, s)| view! { <span class="text-slate-600 dark:text-slate-400" title=s>{format!(" · {a}")}</span> })}
                                <p class="text-slate-700 dark:text-slate-300">{c.message}</p>
                            </li>
                        }
                    }).collect_view().into_any()
                }}
            </ul>
        </section>
    }
}

#[component]
pub fn History(history: Memo<Vec<HistoryLine>>) -> impl IntoView {
    view! {
        <section aria-labelledby="history-heading" class="rounded-lg border border-slate-200 bg-white p-4 shadow-sm dark:border-slate-800 dark:bg-slate-900">
            <h2 id="history-heading" class="mb-3 text-sm font-semibold uppercase tracking-wide text-slate-600 dark:text-slate-400">"History"</h2>
            <ol id="history" class="space-y-2 text-sm">
                {move || {
                    let lines = history.get();
                    if lines.is_empty() {
                        return view! { <li class="text-slate-600 dark:text-slate-400">"Nothing has happened yet."</li> }.into_any();
                    }
                    lines.into_iter().map(|h| {
                        let warning = h.type_ == "Warning";
                        let (reason, by) = (h.reason.clone(), h.by.clone());
                        view! {
                            <li class="history-line" data-reason=reason data-by=by>
                                <span class=if warning { "font-semibold text-rose-800 dark:text-rose-300" } else { "font-semibold" }>
                                    {if warning { "⚠ " } else { "" }}{h.reason}
                                </span>
                                <span class="text-slate-600 dark:text-slate-400">
                                    {format!(" · by {}", h.by)}
                                    {h.at.map(|t| format!(" · {}", stamp(t)))}
                                </span>
                                <p class="text-slate-700 dark:text-slate-300">{h.message}</p>
                            </li>
                        }
                    }).collect_view().into_any()
                }}
            </ol>
        </section>
    }
}
