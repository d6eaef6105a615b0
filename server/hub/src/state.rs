//! What every request is served from: the kinds, the objects and the body limits. [`crate::Hub`]
//! is a cheap handle to one of these; the request handlers take it as their axum state, so they
//! need nothing from the crate root.

use std::sync::Arc;

use crate::registry::Registry;
use crate::store::Store;
use crate::watch::OpenWatches;

pub(crate) struct HubState {
    pub registry: Registry,
    pub store: Arc<Store>,
    pub max_body: usize,
    pub body_timeout: std::time::Duration,
    pub slow_watch_grace: std::time::Duration,
    pub open_watches: Arc<OpenWatches>,
    pub openapi: crate::openapi::Cache,
    pub writes: crate::writes::Writes,
}
