//! Request bodies on the dashboard, read whole and bounded: at most `max` bytes (413), arriving
//! within `timeout` of the hub reading them (408, and the connection is closed). The HTTP layer
//! bounds how long headers may take (`tls::HEADER_READ_TIMEOUT`), nothing bounds a body: a client
//! that sent headers and then trickled or stopped held a server function and a connection for
//! as long as it liked, and Leptos' server functions read bodies of any size.

use std::time::Duration;

use app::error::AppError;
use axum::body::{Body, HttpBody};
use axum::extract::State;
use axum::http::{header, Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// The dashboard's bounds on request bodies.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimits {
    /// The largest body accepted. The dashboard's forms and server-function arguments are a few
    /// KiB; a strategy with many stages stays far below this.
    pub max: usize,
    /// How long a whole body may take to arrive.
    pub timeout: Duration,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            max: 1 << 20,
            timeout: Duration::from_secs(30),
        }
    }
}

pub async fn bounded_bodies(
    State(limits): State<BodyLimits>,
    request: Request<Body>,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    if body.size_hint().exact() == Some(0) {
        return next.run(Request::from_parts(parts, body)).await;
    }
    let bytes =
        match tokio::time::timeout(limits.timeout, axum::body::to_bytes(body, limits.max)).await {
            Ok(Ok(bytes)) => bytes,
            Err(_) => {
                return refuse(
                    StatusCode::REQUEST_TIMEOUT,
                    format!(
                        "the request body did not arrive within {} s",
                        limits.timeout.as_secs()
                    ),
                )
            }
            Ok(Err(e)) if over_limit(&e) => {
                return refuse(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the request body is larger than {} bytes", limits.max),
                )
            }
            Ok(Err(e)) => {
                return refuse(
                    StatusCode::BAD_REQUEST,
                    format!("the request body could not be read: {e}"),
                )
            }
        };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

fn over_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// An answer in the server functions' error encoding; the connection is not kept (the rest of
/// the body may still be on its way).
fn refuse(code: StatusCode, message: String) -> Response {
    let body = serde_json::to_string(&AppError::Invalid(message)).unwrap_or_default();
    (
        code,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CONNECTION, "close"),
        ],
        body,
    )
        .into_response()
}
