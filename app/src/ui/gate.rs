//! Buttons that say who may: the hub's answer for the signed-in person (`my_permissions`) turned
//! into a gate per action — enabled, or disabled with the reason beside it.

use leptos::prelude::*;

use crate::error::AppError;
use crate::server_fns::permissions::{my_permissions, ConsoleAction, Gate, Permissions};

/// A button the person may not use: visibly off, its reason beside it.
pub const DISABLED: &str = "inline-flex cursor-not-allowed items-center rounded-md border border-slate-400 bg-slate-100 px-2.5 py-1 text-xs font-medium text-slate-700 dark:border-slate-500 dark:bg-slate-800 dark:text-slate-300";
/// The words saying why (AA contrast on both themes' page backgrounds).
pub const REASON: &str = "gate-reason mt-1 text-xs text-slate-800 dark:text-slate-200";

/// The gate of `action` from the hub's answer; a failed question disables, saying why.
pub fn gate_of(answer: Result<Permissions, AppError>, action: ConsoleAction) -> Gate {
    match answer {
        Ok(p) => p.gate(action),
        Err(e) => Gate {
            enabled: false,
            reason: Some(format!("cannot tell what you may do: {e}")),
        },
    }
}

/// What the hub says the person may do in `scope`'s namespace (None: cluster-scoped objects),
/// asked from the browser once the page runs and again when the scope changes; `None` until it
/// answers. The server's HTML leaves the buttons on: without JavaScript the hub still refuses,
/// naming the permission. (Asked in the server's render instead, as a resource, it deadlocked
/// Leptos 0.8's reactive graph in SSR — two workers blocked on its RwLocks and the whole server
/// hung, seen on /runs/new — so it is asked from an effect, which runs only in the browser.)
pub fn use_browser_permissions(
    scope: impl Fn() -> Option<String> + Send + Sync + 'static,
) -> Signal<Option<Result<Permissions, AppError>>> {
    let answer = RwSignal::new(None);
    Effect::new(move |_| {
        let namespace = scope().filter(|ns| !ns.is_empty());
        leptos::task::spawn_local(async move {
            answer.set(Some(my_permissions(namespace).await));
        });
    });
    answer.into()
}

/// The gate of one action, asked from the browser (see [`use_browser_permissions`]).
pub fn use_browser_gate(
    scope: impl Fn() -> Option<String> + Send + Sync + 'static,
    action: ConsoleAction,
) -> Signal<Option<Gate>> {
    let answer = use_browser_permissions(scope);
    Signal::derive(move || answer.get().map(|a| gate_of(a, action)))
}

/// Whether the hub has said no (an unanswered gate is not refused).
pub fn refused(gate: Signal<Option<Gate>>) -> bool {
    gate.get().is_some_and(|g| !g.enabled)
}

/// The reason beside a disabled button, with the id its `aria-describedby` names.
#[component]
pub fn GateReason(gate: Signal<Option<Gate>>, id: &'static str) -> impl IntoView {
    move || {
        gate.get()
            .and_then(|g| g.reason)
            .map(|r| view! { <p id=id class=REASON>{r}</p> })
    }
}
