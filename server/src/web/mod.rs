//! The HTTP surface: dashboard pages, server functions, the event stream, health probes and
//! metrics.

pub mod assets;
pub mod bearer_token;
mod body_limits;
pub mod dashboard;
mod events;
pub mod fleet_view;
mod health;
mod metrics;
pub mod oidc;
mod origin;
pub mod run_activity;
pub mod signin;

use std::sync::Arc;

pub use body_limits::BodyLimits;
pub use events::{EventStreams, MAX_EVENT_STREAMS};

use app::live::{Feed, Topics, EVENTS_PATH};
use app::server_fns::server_info::ServerInfo;
use app::server_fns::ssr::{Catalogue, Hub, Members};
use app::{shell, App};
use axum::extract::FromRef;
use axum::routing::{get, post};
use axum::Router;
use leptos::config::LeptosOptions;
use leptos::prelude::provide_context;
use leptos_axum::{file_and_error_handler_with_context, generate_route_list, LeptosRoutes};
use tokio_util::sync::CancellationToken;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

/// What every handler and server function can reach.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub feed: Feed,
    /// Views of hub state that browsers follow live.
    pub topics: Topics,
    pub info: ServerInfo,
    /// Cancelled when the server is shutting down; long-lived streams end on it.
    pub shutdown: CancellationToken,
    /// The engine's metrics, served on `/metrics`.
    pub metrics: Arc<crate::engine::metrics::Metrics>,
    /// The hub the dashboard's server functions read and write.
    pub hub: Hub,
    /// The member clusters the dashboard may ask directly (embedded mode).
    pub members: Members,
    /// Accounts, sessions and login limits: who is signed in on each request.
    pub sign_in: signin::SignIn,
    /// The release catalogue upgrade runs start from (seed 004).
    pub catalogue: Catalogue,
    /// The open `/api/events` streams, bounded (503 past the bound).
    pub event_streams: EventStreams,
    /// How large a request body may be and how long it may take to arrive.
    pub body_limits: BodyLimits,
}

impl AppState {
    /// The dashboard over the hub of `client`, in this process, following `topics`: what tests
    /// and benches drive through [`router`] (no engine, no members, a small feed, accounts in
    /// memory — add people with `state.sign_in.accounts`).
    pub fn in_process(client: &kube::Client, topics: Topics) -> AppState {
        AppState {
            leptos_options: LeptosOptions::builder().output_name("fleetdeck").build(),
            feed: Feed::new(16),
            topics,
            info: ServerInfo {
                version: env!("CARGO_PKG_VERSION").to_string(),
                started_at: chrono::Utc::now(),
                mode: "embedded".into(),
            },
            shutdown: CancellationToken::new(),
            metrics: Default::default(),
            hub: Hub(client.clone()),
            members: Default::default(),
            sign_in: signin::SignIn::new(Arc::new(crate::accounts::Accounts::in_memory())),
            catalogue: Default::default(),
            event_streams: EventStreams::default(),
            body_limits: BodyLimits::default(),
        }
    }
}

/// The console's routes, generated once per process. Generating them runs the whole app with
/// Leptos' process-global "suppress resource loads" flag set; a resource of a page being rendered
/// at that moment on another thread never loads (leptos#4773). A second router (tests build one
/// per request, many at once) must not generate them again.
fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let context = {
        let feed = state.feed.clone();
        let topics = state.topics.clone();
        let info = state.info.clone();
        let hub = state.hub.clone();
        let members = state.members.clone();
        let sign_in_options = state.sign_in.options();
        let catalogue = state.catalogue.clone();
        move || {
            provide_context(feed.clone());
            provide_context(topics.clone());
            provide_context(info.clone());
            provide_context(hub.clone());
            provide_context(members.clone());
            provide_context(sign_in_options.clone());
            provide_context(catalogue.clone());
        }
    };
    let options = state.leptos_options.clone();
    let pkg_route = format!("/{}/{{*file}}", options.site_pkg_dir);
    Router::new()
        .route(&pkg_route, get(assets::serve))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::scrape))
        .route(EVENTS_PATH, get(events::stream))
        .route(signin::SIGN_IN_PATH, post(signin::sign_in))
        .route(signin::SETUP_PATH, post(signin::set_up))
        .route(signin::SIGN_OUT_PATH, post(signin::sign_out))
        .route(bearer_token::TOKEN_PATH, post(bearer_token::sign_in))
        .route(oidc::START_PATH, get(oidc::start))
        .route(oidc::CALLBACK_PATH, get(oidc::callback))
        .leptos_routes_with_context(&state, route_list(), context.clone(), move || {
            shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        .layer(axum::middleware::from_fn(assets::html_no_cache))
        // Every request carries the session's person, or is answered 401 / sent to /signin.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            signin::require,
        ))
        .layer(state.sign_in.layer())
        // Bodies are read whole, bounded in size and time, before anything else sees them.
        .layer(axum::middleware::from_fn_with_state(
            state.body_limits,
            body_limits::bounded_bodies,
        ))
        .layer(axum::middleware::from_fn(origin::same_origin_writes))
        // Pages and server-function answers go out compressed when the browser accepts it;
        // precompressed assets pass through untouched, and the event stream is left alone
        // (tower-http's default predicate), so no event waits in a compressor's buffer.
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
