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

/// The gate of `action` in the namespace `scope` gives (None: cluster-scoped objects), asked of
/// the hub whenever the scope changes; `None` until it answers. Read it inside a `Suspense` so
/// the server's HTML already has the button on or off.
pub fn use_gate(
    scope: impl Fn() -> Option<String> + Send + Sync + 'static,
    action: ConsoleAction,
) -> Signal<Option<Gate>> {
    let permissions = Resource::new(move || scope().filter(|ns| !ns.is_empty()), my_permissions);
    Signal::derive(move || permissions.get().map(|answer| gate_of(answer, action)))
}

/// Whether the gate is open (not while the hub has not answered).
pub fn open(gate: Signal<Option<Gate>>) -> bool {
    gate.get().is_some_and(|g| g.enabled)
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
