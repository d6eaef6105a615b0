//! The pages that load lazily. The Overview (the first page) stays in the main WASM; each page
//! below is a [`LazyRoute`] whose view is a `#[lazy]` function, so a release build made with
//! `cargo leptos build --split` (see `.ci/release.sh`) moves its code into a WASM chunk of its own
//! that the browser fetches the first time it shows that page. The server renders every page
//! in full either way, and names the chunks a page needs in its `<head>` (Leptos does that for
//! `#[lazy]` functions), so hydration does not wait for a second round trip.
//!
//! `#[lazy]` turns a function into an import from a chunk that only exists after `--split`;
//! a build without it could not start. So the attribute applies only under
//! `--cfg fleetdeck_split`, which `.ci/release.sh` sets together with `--split`; other builds
//! (debug, tests) run the same routes with the page code in the main WASM.

use leptos::prelude::*;
use leptos_router::LazyRoute;

/// One lazily loaded page: a route type whose view is a `#[lazy]` function rendering `$page`.
macro_rules! lazy_page {
    ($(#[$doc:meta])* $route:ident, $view:ident, $page:path) => {
        $(#[$doc])*
        pub struct $route;

        impl LazyRoute for $route {
            fn data() -> Self {
                $route
            }

            async fn view(_: Self) -> AnyView {
                $view().await
            }
        }

        #[cfg_attr(fleetdeck_split, leptos::lazy)]
        async fn $view() -> AnyView {
            view! { <$page/> }.into_any()
        }
    };
}

lazy_page!(
    /// `/runs`: the runs list and its filters.
    RunsRoute, runs_view, super::runs::RunsPage
);
lazy_page!(
    /// `/runs/<name>` and `/runs/<namespace>/<name>`: the run page (timeline, actions, history).
    RunRoute, run_view, super::run::RunPage
);
lazy_page!(
    /// `/runs/new`: the create-run form.
    NewRunRoute, new_run_view, super::run::NewRunPage
);
lazy_page!(
    /// `/upgrades`: the upgrade runs (seed 004).
    UpgradesRoute, upgrades_view, super::upgrades::UpgradesPage
);
lazy_page!(
    /// `/upgrades/<name>`: one upgrade run (timeline, versions, actions, gates).
    UpgradeRoute, upgrade_view, super::upgrade::UpgradePage
);
lazy_page!(
    /// `/approvals`: the approvals inbox.
    ApprovalsRoute, approvals_view, super::approvals::ApprovalsPage
);
lazy_page!(
    /// `/placements`: every placement and where its clusters stand.
    PlacementsRoute, placements_view, super::placements::PlacementsPage
);
lazy_page!(
    /// `/placements/<name>` and `/placements/<namespace>/<name>`: one placement, its snapshot
    /// history, diffs and rollback.
    PlacementRoute, placement_view, super::placements::PlacementPage
);
lazy_page!(
    /// `/strategies`: every staged update strategy and its stages.
    StrategiesRoute, strategies_view, super::strategies::StrategiesPage
);
lazy_page!(
    /// `/strategies/<name>` and `/strategies/<namespace>/<name>`: one strategy in the editor,
    /// with its plan preview.
    StrategyRoute, strategy_view, super::strategies::StrategyPage
);
lazy_page!(
    /// `/strategies/new`: the editor for a new strategy (or a clone, `?from=`).
    NewStrategyRoute, new_strategy_view, super::strategies::NewStrategyPage
);
lazy_page!(
    /// `/fleet`: the members, their counts and filters.
    FleetRoute, fleet_view, super::fleet::FleetPage
);

lazy_page!(
    /// `/signin`: name and password (a plain form, no JavaScript needed).
    SignInRoute, signin_view, super::signin::SignInPage
);
lazy_page!(
    /// `/signin/setup`: set a password with a one-time link.
    SetupRoute, setup_view, super::signin::SetupPage
);

/// Room for wasm-split to lay out the pages' static data. `--split` moves a page's static data
/// (strings, markup, tables) into its chunk along with its code, by laying the linker's `.rodata`
/// out again module by module. Alignment padding makes that layout longer than the original, and
/// when it is, wasm-split (cargo-leptos 0.3.11) keeps *all* the data in the main WASM, with
/// every page's strings (its warning, "Overlong segment 0 by N after relocation, putting it in
/// main module", was 964 B over at 4ba54ca). Nothing refers to these bytes, so no module takes
/// them: the layout gets them back as room, and no WASM file carries them.
#[cfg(fleetdeck_split)]
#[used]
static SPLIT_DATA_ROOM: [u8; 16 * 1024] = [0x5a; 16 * 1024];

/// Loads the chunk of the lazily loaded page at `path` (the browser's location at start), so that
/// hydration finds the page's code in place. Hydrating while the chunk is still on its way makes
/// the router render the page a second time beside the server's HTML (seen in the release build:
/// every element of the run page twice). Without `--split` there is nothing to load.
pub async fn preload(path: &str) {
    #[cfg(fleetdeck_split)]
    {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            ["fleet"] => __preload_fleet_view().await,
            ["signin"] => __preload_signin_view().await,
            ["signin", "setup"] => __preload_setup_view().await,
            ["runs"] => __preload_runs_view().await,
            ["runs", "new"] => __preload_new_run_view().await,
            ["runs", _] | ["runs", _, _] => __preload_run_view().await,
            ["upgrades"] => __preload_upgrades_view().await,
            ["upgrades", _] => __preload_upgrade_view().await,
            ["approvals"] => __preload_approvals_view().await,
            ["placements"] => __preload_placements_view().await,
            ["placements", _] | ["placements", _, _] => __preload_placement_view().await,
            ["strategies"] => __preload_strategies_view().await,
            ["strategies", "new"] => __preload_new_strategy_view().await,
            ["strategies", _] | ["strategies", _, _] => __preload_strategy_view().await,
            _ => {}
        }
    }
    #[cfg(not(fleetdeck_split))]
    let _ = path;
}
