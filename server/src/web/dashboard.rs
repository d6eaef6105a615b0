//! Starting the dashboard: its state, the live views it follows (the Fleet and Runs views, the
//! run activity feed) and the HTTP server on `--addr`.

use std::net::SocketAddr;
use std::sync::Arc;

use app::live::{Feed, Topics};
use app::server_fns::server_info::ServerInfo;
use leptos::config::{get_configuration, LeptosOptions};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::AppState;
use crate::cli::ServeArgs;
use crate::engine;
use crate::informers::Informers;
use crate::serve::spawn_until;
use crate::web;
use crate::{Error, Result};

/// How many activity entries the feed retains for late or reconnecting browsers.
const FEED_CAPACITY: usize = 512;

/// What the dashboard serves besides the hub: which mode, the members it may ask, the engine's
/// metrics and the accounts people sign in with.
pub struct Served {
    pub mode: &'static str,
    pub members: app::server_fns::ssr::Members,
    pub metrics: Arc<engine::metrics::Metrics>,
    pub accounts: Arc<crate::accounts::Accounts>,
    /// The release catalogue the console starts upgrade runs with.
    pub catalogue: app::server_fns::ssr::Catalogue,
}

/// Serves the dashboard on `--addr` and keeps its live views following the hub of `informers`.
pub async fn serve(
    args: &ServeArgs,
    informers: &Informers,
    served: Served,
    shutdown: &CancellationToken,
    tasks: &mut Vec<JoinHandle<Result<()>>>,
) -> Result<SocketAddr> {
    // The dashboard, and the views of hub state it follows live.
    let client = informers.client();
    let topics = Topics::default();
    tasks.push(spawn_until(shutdown, "fleet view", {
        let (informers, topics, shutdown) = (informers.clone(), topics.clone(), shutdown.clone());
        async move {
            web::fleet_view::run(informers, topics, shutdown).await;
            Ok(())
        }
    }));
    let Served {
        mode,
        members,
        metrics,
        accounts,
        catalogue,
    } = served;
    let options = leptos_options(args)?;
    let state = AppState {
        leptos_options: options.clone(),
        feed: Feed::new(FEED_CAPACITY),
        topics: topics.clone(),
        info: ServerInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: chrono::Utc::now(),
            mode: mode.to_string(),
        },
        shutdown: shutdown.clone(),
        metrics,
        hub: app::server_fns::ssr::Hub(client.clone()),
        members,
        sign_in: web::signin::SignIn::new(accounts),
        catalogue,
        event_streams: web::EventStreams::default(),
        body_limits: web::BodyLimits::default(),
    };
    state.feed.publish(
        "fleetdeck",
        format!("fleetdeck {} started", state.info.version),
    );
    tasks.push(spawn_until(shutdown, "run activity", {
        let (client, feed, shutdown) = (client.clone(), state.feed.clone(), shutdown.clone());
        async move {
            web::run_activity::run(client, feed, shutdown).await;
            Ok(())
        }
    }));
    let listener = TcpListener::bind(options.site_addr)
        .await
        .map_err(|source| Error::Bind {
            addr: options.site_addr,
            source,
        })?;
    let dashboard_addr = listener.local_addr().map_err(Error::Serve)?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(crate::tls::dashboard_config(cert, key)?),
        _ => None,
    };
    let mut state = state;
    if tls.is_some() {
        state.sign_in = state.sign_in.served_over_https();
    } else if !dashboard_addr.ip().is_loopback() {
        // Sign-in is always on, but over plain HTTP its passwords and cookies cross the network
        // readable by anyone on the way.
        tracing::warn!(
            addr = %dashboard_addr,
            "the dashboard listens beyond loopback over plain HTTP: give --tls-cert and --tls-key, or put a TLS proxy in front"
        );
    }
    // Sign-in with an identity provider, when configured (its default redirect URL is on the
    // address just bound).
    if let Some(provider) =
        web::oidc::Provider::from_args(&args.oidc, dashboard_addr, tls.is_some())?
    {
        tracing::info!(provider = %provider.display_name, "sign-in with OpenID Connect offered");
        state.sign_in = state.sign_in.with_oidc(provider);
    }
    // On a hub reached through a kubeconfig, people may also sign in with their own token.
    if let Some(path) = &args.kubeconfig {
        let config = crate::serve::hub_config(path, args.context.as_deref()).await?;
        state.sign_in = state.sign_in.with_token_sign_in(config);
    }
    // The peer's address keys the sign-in rate limit per client.
    let app = web::router(state).into_make_service_with_connect_info::<SocketAddr>();
    tasks.push(match tls {
        None => {
            let listener = listener.into_std().map_err(Error::Serve)?;
            let handle = axum_server::Handle::new();
            let server = crate::tls::http_server(listener, crate::tls::HEADER_READ_TIMEOUT)?
                .handle(handle.clone());
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                shutdown.cancelled().await;
                handle.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
            });
            tokio::spawn(async move { server.serve(app).await.map_err(Error::Serve) })
        }
        Some(config) => {
            let listener = listener.into_std().map_err(Error::Serve)?;
            let handle = axum_server::Handle::new();
            let server =
                crate::tls::https_server(listener, config, crate::tls::HEADER_READ_TIMEOUT)?
                    .handle(handle.clone());
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                shutdown.cancelled().await;
                handle.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
            });
            tokio::spawn(async move { server.serve(app).await.map_err(Error::Serve) })
        }
    });

    Ok(dashboard_addr)
}

/// The Leptos options from cargo-leptos' environment, with the CLI's choices on top. A plain
/// `cargo build` (tests, clippy) has no asset name baked in, and Leptos' loader complains about
/// that, so then the defaults are built here.
fn leptos_options(args: &ServeArgs) -> Result<LeptosOptions> {
    let baked = option_env!("LEPTOS_OUTPUT_NAME").is_some()
        || std::env::var_os("LEPTOS_OUTPUT_NAME").is_some();
    let mut options = if baked {
        get_configuration(None)
            .map_err(|e| Error::Config(e.to_string()))?
            .leptos_options
    } else {
        let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
        LeptosOptions::builder()
            .output_name("fleetdeck")
            .site_root(site_root)
            .build()
    };
    options.site_addr = args.addr;
    if let Some(root) = &args.site_root {
        options.site_root = root.to_string_lossy().into();
    }
    web::assets::use_hash_file(&mut options);
    Ok(options)
}
