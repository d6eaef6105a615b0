//! Pages whose data source (the hub) is not part of this build yet. Each says what it will show
//! rather than pretending to show it.

use leptos::prelude::*;

use super::layout::{Card, PageHeader};

#[component]
fn NotYet(what: &'static str) -> impl IntoView {
    view! {
        <Card title="Nothing to show yet">
            <p class="text-sm text-slate-600 dark:text-slate-400">
                {what} " This build of fleetdeck has no hub connected, so there is no data to list."
            </p>
        </Card>
    }
}

#[component]
pub fn ApprovalsPage() -> impl IntoView {
    view! {
        <PageHeader title="Approvals" subtitle="Every approval request waiting for a person, cluster- and namespace-scoped."/>
        <NotYet what="Pending approval requests will be listed here."/>
    }
}

#[component]
pub fn PlacementsPage() -> impl IntoView {
    view! {
        <PageHeader title="Placements" subtitle="Resource placements, their snapshot history, diffs and rollback."/>
        <NotYet what="Placements and their snapshots will be listed here."/>
    }
}

#[component]
pub fn StrategiesPage() -> impl IntoView {
    view! {
        <PageHeader title="Strategies" subtitle="Staged update strategies with a live preview of the stage plan."/>
        <NotYet what="Update strategies will be listed here."/>
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
