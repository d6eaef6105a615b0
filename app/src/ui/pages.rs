//! The page for addresses the dashboard has no page at.

use leptos::prelude::*;

use super::layout::PageHeader;

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
