//! The dashboard: the HTML shell, the router and the pages, grouped by area.

mod activity;
mod approvals;
mod clock;
mod fleet;
mod layout;
mod live_link;
mod overview;
mod pages;
mod placements;
mod run;
mod runs;
mod theme;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

pub use live_link::{LinkStatus, LiveLink};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                // Applies the saved or system theme before the first paint, so a dark-mode user
                // never sees a white flash.
                <script inner_html=theme::EARLY_SCRIPT></script>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body class="min-h-screen bg-slate-50 text-slate-900 antialiased dark:bg-slate-950 dark:text-slate-100">
                <App/>
            </body>
        </html>
    }
}

/// The dashboard application: one live link for the whole page, and the routes. Pages render
/// in order (`SsrMode::InOrder`) so that the HTML is complete without JavaScript.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    LiveLink::provide();
    clock::Clock::provide();

    view! {
        <Stylesheet id="leptos" href="/pkg/fleetdeck.css"/>
        <Title formatter=|page: String| format!("{page} · fleetdeck")/>
        <Router>
            <layout::Layout>
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/") view=overview::OverviewPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/fleet") view=fleet::FleetPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/runs") view=runs::RunsPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/runs/new") view=run::NewRunPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/runs/:name") view=run::RunPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/runs/:namespace/:name") view=run::RunPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/approvals") view=approvals::ApprovalsPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/placements") view=placements::PlacementsPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/placements/:name") view=placements::PlacementPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/placements/:namespace/:name") view=placements::PlacementPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/strategies") view=pages::StrategiesPage ssr=SsrMode::InOrder/>
                </Routes>
            </layout::Layout>
        </Router>
    }
}
