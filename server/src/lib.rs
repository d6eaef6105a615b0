//! The `fleetdeck` server: the web dashboard, the embedded hub, the engine and the simulated
//! member clusters.

pub mod accounts;
pub mod attribution;
pub mod cli;
mod data_dir_lock;
pub mod engine;
mod error;
pub mod fleet_kinds;
pub mod hub_rbac;
pub mod informers;
pub mod kubeconfig;
pub mod members;
pub mod release_catalogue;
pub mod scope;
pub mod serve;
pub mod tls;
pub mod updates_cli;
/// Start, stop and skip of upgrade runs: shared with the dashboard's server functions.
pub use app::{auto_upgrade_actions, upgrade_actions};
pub mod web;

pub use error::{Error, Result};

/// mimalloc instead of glibc's malloc, for the binary and for the tests and benchmarks that link
/// this crate alike: the hub and the engine copy multi-MB statuses on every pass of a big fleet,
/// and glibc spent about 40% of a 1,000-member rollout's CPU in malloc/free and consolidating
/// freed chunks (`perf record` of the scale bench; README "Scale simulation").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
