//! Starting and stopping the server.

use std::path::PathBuf;

use app::live::Feed;
use app::server_fns::server_info::ServerInfo;
use leptos::config::{get_configuration, LeptosOptions};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::cli::ServeArgs;
use crate::web::{self, AppState};
use crate::{Error, Result};

/// How many activity entries the feed retains for late or reconnecting browsers.
const FEED_CAPACITY: usize = 512;

/// Runs fleetdeck until SIGINT or SIGTERM.
pub async fn run(args: ServeArgs) -> Result<()> {
    let data_dir = data_dir(args.data_dir.clone())?;
    let options = leptos_options(&args)?;
    let state = AppState {
        leptos_options: options.clone(),
        feed: Feed::new(FEED_CAPACITY),
        info: ServerInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            started_at: chrono::Utc::now(),
            mode: "embedded".to_string(),
        },
        shutdown: CancellationToken::new(),
    };
    state.feed.publish(
        "fleetdeck",
        format!("fleetdeck {} started", state.info.version),
    );

    let listener = TcpListener::bind(options.site_addr)
        .await
        .map_err(|source| Error::Bind {
            addr: options.site_addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(Error::Serve)?;
    info!(
        %addr,
        data_dir = %data_dir.display(),
        site_root = %options.site_root,
        "fleetdeck is serving the dashboard at http://{addr}/"
    );

    let shutdown = state.shutdown.clone();
    axum::serve(listener, web::router(state))
        .with_graceful_shutdown(shutdown_signal(shutdown))
        .await
        .map_err(Error::Serve)?;
    info!("fleetdeck stopped");
    Ok(())
}

/// The Leptos options from cargo-leptos' environment, with the CLI's choices on top.
fn leptos_options(args: &ServeArgs) -> Result<LeptosOptions> {
    let mut options = get_configuration(None)
        .map_err(|e| Error::Config(e.to_string()))?
        .leptos_options;
    // A plain `cargo build` (tests, clippy) has no name baked in; the assets are named after the app.
    if options.output_name.is_empty() {
        options.output_name = "fleetdeck".into();
    }
    options.site_addr = args.addr;
    if let Some(root) = &args.site_root {
        options.site_root = root.to_string_lossy().into();
    }
    Ok(options)
}

fn data_dir(flag: Option<PathBuf>) -> Result<PathBuf> {
    let path = match flag {
        Some(path) => path,
        None => directories::ProjectDirs::from("dev", "fleetdeck", "fleetdeck")
            .ok_or(Error::NoDataDir)?
            .data_dir()
            .to_path_buf(),
    };
    std::fs::create_dir_all(&path).map_err(|source| Error::DataDir {
        path: path.clone(),
        source,
    })?;
    Ok(path)
}

/// Resolves on SIGINT or SIGTERM, after telling long-lived streams to end so that the graceful
/// shutdown does not wait on browsers that keep their event streams open.
async fn shutdown_signal(shutdown: CancellationToken) {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => info!("SIGINT received, shutting down"),
        _ = terminate => info!("SIGTERM received, shutting down"),
        _ = shutdown.cancelled() => {}
    }
    shutdown.cancel();
}
