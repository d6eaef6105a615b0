//! The dashboard: the HTML shell, the router and the pages, grouped by area.

mod activity;
mod approvals;
mod clock;
mod fleet;
mod gate;
mod layout;
mod live_link;
mod overview;
mod pages;
mod placements;
mod routes;
mod run;
mod runs;
pub mod signin;
mod strategies;
mod theme;
mod upgrade;
mod upgrades;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, HashedStylesheet, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};

pub use live_link::{LinkStatus, LiveLink};
pub use routes::preload as preload_route;

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
                // The stylesheet's name carries its content hash (cargo-leptos `hash-files`).
                <HashedStylesheet options=options.clone() id="leptos"/>
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
        <Title formatter=|page: String| format!("{page} · fleetdeck")/>
        <Router>
            <layout::Layout>
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/") view=overview::OverviewPage ssr=SsrMode::InOrder/>
                    <Route path=path!("/signin") view={Lazy::<routes::SignInRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/signin/setup") view={Lazy::<routes::SetupRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/fleet") view={Lazy::<routes::FleetRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/runs") view={Lazy::<routes::RunsRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/runs/new") view={Lazy::<routes::NewRunRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/runs/:name") view={Lazy::<routes::RunRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/runs/:namespace/:name") view={Lazy::<routes::RunRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/upgrades") view={Lazy::<routes::UpgradesRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/upgrades/:name") view={Lazy::<routes::UpgradeRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/approvals") view={Lazy::<routes::ApprovalsRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/placements") view={Lazy::<routes::PlacementsRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/placements/:name") view={Lazy::<routes::PlacementRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/placements/:namespace/:name") view={Lazy::<routes::PlacementRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/strategies") view={Lazy::<routes::StrategiesRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/strategies/new") view={Lazy::<routes::NewStrategyRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/strategies/:name") view={Lazy::<routes::StrategyRoute>::new()} ssr=SsrMode::InOrder/>
                    <Route path=path!("/strategies/:namespace/:name") view={Lazy::<routes::StrategyRoute>::new()} ssr=SsrMode::InOrder/>
                </Routes>
            </layout::Layout>
        </Router>
    }
}
