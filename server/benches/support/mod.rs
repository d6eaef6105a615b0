//! What the benches share: sending a request through the router, timing rounds, reporting
//! percentiles.

use std::time::{Duration, Instant};

use app::live::Topics;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use server::web::AppState;
use tower::ServiceExt;

// The tests' sign-in, as a browser does it: the benches measure pages as a signed-in person sees
// them (session lookup and impersonation included), as the dashboard serves every page.
#[path = "../../tests/signin_support/mod.rs"]
mod signin_support;

/// Rounds run before measuring (caches, the allocator, the first hub reads).
pub const WARM_UP: usize = 5;

/// The dashboard's state over the hub of `client`, following `topics`.
pub fn state(client: &kube::Client, topics: Topics) -> AppState {
    AppState::in_process(client, topics)
}

/// The dashboard's router over `state`, every request carrying the session of `ops`, a person
/// bound to `fleetdeck-admin` (signed in once, through `/auth/signin`).
pub async fn signed_in_router(state: AppState) -> Router {
    let cookie = signin_support::ops_cookie(&state).await;
    let cookie = axum::http::HeaderValue::from_str(&cookie).expect("a session cookie is ASCII");
    server::web::router(state).layer(axum::middleware::map_request(
        move |mut req: Request<Body>| {
            let cookie = cookie.clone();
            async move {
                req.headers_mut().insert(axum::http::header::COOKIE, cookie);
                req
            }
        },
    ))
}

/// Sends `req` through `app`; the status, the body's size, and the body when it is an error.
pub async fn send(app: &Router, req: Request<Body>) -> (StatusCode, usize, String) {
    let res = app.clone().oneshot(req).await.expect("infallible");
    let status = res.status();
    let bytes = res.into_body().collect().await.expect("body").to_bytes();
    let text = if status.is_success() {
        String::new()
    } else {
        String::from_utf8_lossy(&bytes).into_owned()
    };
    (status, bytes.len(), text)
}

/// Times `f` `rounds` times after the warm-up; returns the sorted durations and the last size.
pub async fn time<F, Fut>(rounds: usize, mut f: F) -> (Vec<Duration>, usize)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = usize>,
{
    for _ in 0..WARM_UP {
        f().await;
    }
    let mut samples = Vec::with_capacity(rounds);
    let mut size = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        size = f().await;
        samples.push(start.elapsed());
    }
    samples.sort();
    (samples, size)
}

pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub fn report(what: &str, (samples, size): &(Vec<Duration>, usize)) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "  {what:<44} p50 {:>8.2} ms   p95 {:>8.2} ms   max {:>8.2} ms   {:>9} B",
        ms(percentile(samples, 50.0)),
        ms(percentile(samples, 95.0)),
        ms(*samples.last().expect("samples")),
        size
    );
}
