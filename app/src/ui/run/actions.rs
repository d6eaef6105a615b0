//! Start, Stop, Resume and Delete: each behind a confirmation that says what will happen (a
//! native `<details>`, so it opens by keyboard and works without JavaScript), each a form that
//! posts to its server function — which writes `spec.state` or deletes the run, as kubectl would.

use leptos::prelude::*;

use super::Live;
use crate::error::AppError;
use crate::fleet::staged::run_action::RunAction;
use crate::fleet::views::run_detail::RunDetail;
use crate::server_fns::permissions::ConsoleAction;
use crate::server_fns::runs::{DeleteRun, RunKey, SetRunState};
use crate::ui::gate::{gate_of, use_browser_permissions, DISABLED, REASON};

const BUTTON: &str = "inline-flex items-center rounded-md border px-3 py-1.5 text-sm font-medium focus:outline-none focus-visible:ring-2 focus-visible:ring-indigo-500 focus-visible:ring-offset-2 dark:focus-visible:ring-offset-slate-950";
const NEUTRAL: &str = "border-slate-300 bg-white text-slate-900 hover:bg-slate-50 dark:border-slate-600 dark:bg-slate-800 dark:text-slate-100 dark:hover:bg-slate-700";
const PRIMARY: &str = "border-indigo-700 bg-indigo-700 text-white hover:bg-indigo-800 dark:border-indigo-400 dark:bg-indigo-400 dark:text-slate-950 dark:hover:bg-indigo-300";
const DANGER: &str = "border-rose-700 bg-rose-700 text-white hover:bg-rose-800 dark:border-rose-400 dark:bg-rose-400 dark:text-slate-950 dark:hover:bg-rose-300";

#[component]
pub fn RunActions(key: Memo<RunKey>, detail: Signal<RunDetail>, live: Live) -> impl IntoView {
    let set_state = ServerAction::<SetRunState>::new();
    let delete = ServerAction::<DeleteRun>::new();
    // Reload at once after an action, instead of waiting for the live link.
    Effect::new(move |_| {
        set_state.version().track();
        delete.version().track();
        live.acted.update(|n| *n += 1);
    });
    let allowed = move |action: RunAction| {
        let a = detail.get().actions;
        match action {
            RunAction::Start => a.start,
            RunAction::Stop => a.stop,
            RunAction::Resume => a.resume,
        }
    };
    // What the hub says this person may do with runs here; the rest is disabled with the reason.
    let permissions = use_browser_permissions(move || Some(key.get().namespace));
    let gate = move |action: ConsoleAction| permissions.get().map(|answer| gate_of(answer, action));
    // Until the hub answers (and without JavaScript) the buttons stay on; the hub decides anyway.
    let may = move |action: ConsoleAction| gate(action).is_none_or(|g| g.enabled);
    let reason = move |action: ConsoleAction| gate(action).and_then(|g| g.reason);
    let state_form = move |action: RunAction| {
        let label = action.label();
        view! {
            <Show when=move || allowed(action) && reason(ConsoleAction::ChangeRunState).is_some()>
                <button type="button" disabled class=DISABLED data-action=label.to_lowercase() aria-describedby="run-state-reason">
                    {label}
                </button>
            </Show>
            <Show when=move || allowed(action) && may(ConsoleAction::ChangeRunState)>
                <details class="action" data-action=label.to_lowercase()>
                    <summary class=format!("{BUTTON} {} cursor-pointer list-none", if action == RunAction::Stop { NEUTRAL } else { PRIMARY })>
                        {label} "…"
                    </summary>
                    <div class="mt-2 max-w-sm rounded-md border border-slate-200 bg-white p-3 text-sm shadow dark:border-slate-700 dark:bg-slate-900">
                        <p>{action.consequence()}</p>
                        <ActionForm action=set_state>
                            <input type="hidden" name="key[namespace]" value=move || key.get().namespace/>
                            <input type="hidden" name="key[name]" value=move || key.get().name/>
                            <input type="hidden" name="action" value=format!("{action:?}")/>
                            <button
                                type="submit"
                                class=format!("{BUTTON} {PRIMARY} mt-3")
                                disabled=move || set_state.pending().get()
                            >
                                {format!("{label} the run")}
                            </button>
                        </ActionForm>
                    </div>
                </details>
            </Show>
        }
    };
    view! {
        <div id="run-actions" class="mt-4 flex flex-wrap items-start gap-2">
            {state_form(RunAction::Start)}
            {state_form(RunAction::Stop)}
            {state_form(RunAction::Resume)}
            <Show when=move || reason(ConsoleAction::DeleteRun).is_some()>
                <button type="button" disabled class=DISABLED data-action="delete" aria-describedby="run-delete-reason">"Delete"</button>
            </Show>
            <details class="action" data-action="delete" class:hidden=move || !may(ConsoleAction::DeleteRun)>
                <summary class=format!("{BUTTON} {NEUTRAL} cursor-pointer list-none")>"Delete…"</summary>
                <div class="mt-2 max-w-sm rounded-md border border-slate-200 bg-white p-3 text-sm shadow dark:border-slate-700 dark:bg-slate-900">
                    <p>
                        "The run and its approval requests are deleted. Clusters keep what they run now; nothing is rolled back. This cannot be undone."
                    </p>
                    <ActionForm action=delete>
                        <input type="hidden" name="key[namespace]" value=move || key.get().namespace/>
                        <input type="hidden" name="key[name]" value=move || key.get().name/>
                        <button type="submit" class=format!("{BUTTON} {DANGER} mt-3") disabled=move || delete.pending().get()>
                            "Delete the run"
                        </button>
                    </ActionForm>
                </div>
            </details>
        </div>
        {move || {
            let a = detail.get().actions;
            (a.start || a.stop || a.resume)
                .then(|| reason(ConsoleAction::ChangeRunState))
                .flatten()
                .map(|r| view! { <p id="run-state-reason" class=REASON>{r}</p> })
        }}
        {move || reason(ConsoleAction::DeleteRun).map(|r| view! { <p id="run-delete-reason" class=REASON>{r}</p> })}
        <Outcome value=Signal::derive(move || set_state.value().get()) done="Done: the run's state was written to the hub; the engine takes it from here."/>
        <Outcome value=Signal::derive(move || delete.value().get()) done="Deleted. The Runs page no longer lists it."/>
    }
}

/// What happened to the last action, announced to screen readers.
#[component]
pub fn Outcome(value: Signal<Option<Result<(), AppError>>>, done: &'static str) -> impl IntoView {
    view! {
        <div aria-live="polite" class="action-outcome">
            {move || match value.get() {
                None => None,
                Some(Ok(())) => Some(view! {
                    <p role="status" class="mt-2 text-sm text-emerald-800 dark:text-emerald-300">{done}</p>
                }.into_any()),
                Some(Err(e)) => Some(view! {
                    <p role="alert" class="mt-2 rounded-md border border-rose-300 bg-rose-50 px-3 py-2 text-sm text-rose-900 dark:border-rose-800 dark:bg-rose-950 dark:text-rose-100">
                        {e.to_string()}
                    </p>
                }.into_any()),
            }}
        </div>
    }
}
