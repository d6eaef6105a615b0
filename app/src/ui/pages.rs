//! Pages the dashboard does not have yet. Each says so, and how to see the same objects with
//! `kubectl` today, rather than pretending to show them.

use leptos::prelude::*;

use super::layout::{Card, PageHeader};

#[component]
fn NotYet(what: &'static str, kubectl: &'static str) -> impl IntoView {
    view! {
        <Card title="Not in the dashboard yet">
            <p class="text-sm text-slate-600 dark:text-slate-400">
                {what} " Until this page is built, the hub lists them with:"
            </p>
            <pre class="mt-2 overflow-x-auto rounded-md bg-slate-100 px-3 py-2 text-sm text-slate-800 dark:bg-slate-800 dark:text-slate-200"><code>{kubectl}</code></pre>
        </Card>
    }
}

#[component]
pub fn StrategiesPage() -> impl IntoView {
    view! {
        <PageHeader title="Strategies" subtitle="Staged update strategies with a live preview of the stage plan."/>
        <NotYet
            what="Update strategies will be listed here."
            kubectl="kubectl get clusterstagedupdatestrategies; kubectl get stagedupdatestrategies -A"
        />
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http_not_found());
    }
    view! {
        <PageHeader title="Page not found" subtitle="There is no page at this address."/>
        <a href="/" class="text-indigo-700 underline dark:text-indigo-300">"Back to the overview"</a>
    }
}

#[cfg(feature = "ssr")]
fn http_not_found() -> http::StatusCode {
    http::StatusCode::NOT_FOUND
}
