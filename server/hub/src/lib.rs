//! fleetdeck's embedded hub: a Kubernetes-compatible API server over SQLite that kubectl and
//! kube-rs use unchanged (issue 4; protocol in `shared/spec/kube-api-subset.md`).
//!
//! ```no_run
//! # async fn demo() -> Result<(), hub::Error> {
//! use hub::{Hub, KindSpec, PrinterColumn, Registry, Scope, Storage};
//! let mut kinds = Registry::new();
//! kinds.register(
//!     KindSpec::new("example.dev", "v1", "Widget", "widgets", Scope::Namespaced)
//!         .short_names(&["wd"])
//!         .status_subresource()
//!         .columns(vec![PrinterColumn::new("Size", "integer", ".spec.size"), PrinterColumn::age()]),
//! );
//! let hub = Hub::open(Storage::Sqlite("hub.db".into()), kinds)?;
//! let router = hub.router_with_token("secret"); // serve with axum::serve, or
//! let client_service = hub.router();            // hand to kube::Client::new(service, "default")
//! # Ok(()) }
//! ```

pub mod auth;
mod builtin;
mod crd;
mod deletion;
mod discovery;
mod handlers;
mod managed;
mod object;
mod openapi;
mod ops;
mod options;
mod patch;
mod protobuf;
mod registry;
mod render;
mod request;
mod scale;
mod schema;
mod selector;
mod state;
mod status;
mod store;
mod table;
mod watch;
pub mod writes;

use std::sync::Arc;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::Router;
use serde_json::json;

use state::HubState;

pub use auth::users::{token_sha256, Authenticator, SigninLink, UserEntry, UsersFile};
pub use options::{Options, BODY_TIMEOUT, MAX_BODY, SLOW_WATCH_GRACE};
pub use registry::{
    AdmitDeleteFn, AdmitFn, CellFn, CellSource, DefaultFn, KindSpec, NameRule, PrinterColumn,
    Registry, ScaleSpec, Scope, ValidateFn,
};
pub use schema::OpenApiSchema;
pub use status::{Cause, Error, Result, Subject};
pub use store::{CommitStats, Storage};

/// A running hub: cheap to clone, all clones share one store.
#[derive(Clone)]
pub struct Hub {
    inner: Arc<HubState>,
}

impl Hub {
    /// Opens (or creates) the store and serves the built-in kinds plus `kinds`; a kind in `kinds`
    /// replaces a built-in of the same group and plural.
    pub fn open(storage: Storage, kinds: Registry) -> Result<Hub> {
        Self::open_with(storage, kinds, Options::default())
    }

    pub fn open_with(storage: Storage, kinds: Registry, opts: Options) -> Result<Hub> {
        let mut registry = Registry::new();
        builtin::register_builtins(&mut registry);
        for k in kinds.kinds() {
            registry.register((**k).clone());
        }
        let hub = Hub {
            inner: Arc::new(HubState {
                registry,
                store: Arc::new(store::Store::open(&storage, &opts)?),
                max_body: opts.max_body,
                body_timeout: opts.body_timeout,
                slow_watch_grace: opts.slow_watch_grace,
                open_watches: Arc::default(),
                openapi: Default::default(),
                writes: Default::default(),
            }),
        };
        hub.ensure_namespaces(&["default", "kube-system"])?;
        Ok(hub)
    }

    /// A memory-only hub (tests, simulated members).
    pub fn memory(kinds: Registry) -> Hub {
        match Self::open(Storage::Memory, kinds) {
            Ok(h) => h,
            Err(e) => unreachable!("a memory store cannot fail to open: {e}"),
        }
    }

    /// Like kube-apiserver, `default` (and `kube-system`) always exist.
    fn ensure_namespaces(&self, names: &[&str]) -> Result<()> {
        let kind = self
            .inner
            .registry
            .find("", "v1", "namespaces")
            .ok_or(Error::NoRoute)?;
        self.inner.store.write(false, |tx| {
            for n in names {
                if tx.get("namespaces", "", n).is_none() {
                    ops::create(
                        tx,
                        &kind,
                        "v1",
                        None,
                        json!({"metadata": {"name": n}}),
                        ops::Fields::Keep,
                    )?;
                }
            }
            Ok(())
        })
    }

    pub fn registry(&self) -> &Registry {
        &self.inner.registry
    }

    /// The watch streams open now, per resource (`plural.group`, or `plural` for core kinds):
    /// how many watches the hub's clients keep. Kinds without an open watch are absent.
    pub fn open_watches(&self) -> std::collections::BTreeMap<String, usize> {
        self.inner.open_watches.snapshot()
    }

    /// Every write made through authentication from now on (kubectl users, the console acting
    /// as a person), with who made it; the in-process callers' own writes (the engine) are not
    /// announced.
    pub fn writes(&self) -> tokio::sync::broadcast::Receiver<writes::Write> {
        self.inner.writes.subscribe()
    }

    /// The current global resourceVersion.
    /// How many database transactions (fsyncs) carried how many writes: concurrent writes share
    /// one (group commit).
    pub fn commit_stats(&self) -> CommitStats {
        self.inner.store.commit_stats()
    }

    pub fn resource_version(&self) -> u64 {
        self.inner.store.current_rv()
    }

    /// The API as an axum Router (a tower Service): `kube::Client::new(hub.router(), "default")`
    /// works in-process, and `axum::serve` serves it over TCP (spec §6.6). No authentication:
    /// callers are `system:masters`, unless a request carries `Impersonate-User` (and
    /// `Impersonate-Group`) headers, which make it run as that user under RBAC.
    pub fn router(&self) -> Router {
        let hub = self.inner.clone();
        self.unguarded()
            .layer(middleware::from_fn(move |req: Request, next: Next| {
                let hub = hub.clone();
                async move { auth::in_process(&hub, req, next).await }
            }))
    }

    fn unguarded(&self) -> Router {
        Router::new()
            .fallback(handlers::dispatch)
            .with_state(self.inner.clone())
    }

    /// The router behind bearer-token authentication with `token` as the only (admin) user.
    pub fn router_with_token(&self, token: impl Into<String>) -> Router {
        self.router_with_auth(Authenticator::admin(&token.into()))
    }

    /// The router behind authentication, impersonation and RBAC (issue 17): 401 without a
    /// known token, 403 in the apiserver's words when RBAC says no. `/version` and health
    /// checks stay open, as on kube-apiserver (the kubectl dispatcher probes `/version` first).
    pub fn router_with_auth(&self, authn: Authenticator) -> Router {
        let hub = self.inner.clone();
        let authn = Arc::new(authn);
        self.unguarded()
            .layer(middleware::from_fn(move |req: Request, next: Next| {
                let (hub, authn) = (hub.clone(), authn.clone());
                async move { auth::guard(&hub, &authn, req, next).await }
            }))
    }
}
