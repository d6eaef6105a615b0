//! Liveness and readiness probes.

use std::path::Path;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use leptos::config::LeptosOptions;
use serde_json::{json, Value};

/// The process is up and answering.
pub async fn healthz() -> &'static str {
    "ok"
}

/// The process can do its job: every check must pass. Each check reports `ok` or what is wrong.
pub async fn readyz(State(options): State<LeptosOptions>) -> (StatusCode, Json<Value>) {
    let assets = assets_check(&options);
    let ready = assets.is_ok();
    let body = json!({
        "ready": ready,
        "checks": { "assets": assets.err().unwrap_or_else(|| "ok".to_string()) },
    });
    let code = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(body))
}

/// The browser bundle must exist, or pages render but never come alive.
fn assets_check(options: &LeptosOptions) -> Result<(), String> {
    let pkg = Path::new(&*options.site_root).join(&*options.site_pkg_dir);
    for name in super::assets::bundle_files(options) {
        let file = pkg.join(name);
        if !file.is_file() {
            return Err(format!(
                "{} is missing: build the dashboard with `cargo leptos build` or pass --site-root",
                file.display()
            ));
        }
    }
    Ok(())
}
