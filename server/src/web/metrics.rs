//! `/metrics`: the engine's Prometheus metrics (spec §11) for a scraper.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;

use crate::engine::metrics::{Metrics, CONTENT_TYPE};

pub async fn scrape(State(metrics): State<Arc<Metrics>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, CONTENT_TYPE)], metrics.encode())
}
