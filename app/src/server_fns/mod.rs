//! Server functions, one per file, grouped by what they act on. Their bodies run on the server
//! (`ssr`); the browser build only gets the typed client stubs. Every function that changes
//! anything writes desired state to the hub, as kubectl would, and names the acting user.

pub mod acting_user;
pub mod activity;
pub mod approvals;
pub mod fleet;
pub mod permissions;
pub mod placements;
pub mod runs;
pub mod server_info;
pub mod sign_in_options;
#[cfg(feature = "ssr")]
pub mod ssr;
pub mod strategies;
pub mod upgrades;
