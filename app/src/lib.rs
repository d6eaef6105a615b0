//! fleetdeck's shared crate: the fleet domain (`fleet`), the dashboard (`ui`) and the server
//! functions it calls (`server_fns`). Compiled twice: with `ssr` into the server and with
//! `hydrate` into the browser's WASM.

// The placement page's view type nests deeper than rustc's default query depth when views are
// not type-erased (release builds of the server without `--cfg erase_components`, e.g. benches).
#![recursion_limit = "256"]

#[cfg(feature = "ssr")]
pub mod auto_upgrade_actions;
pub mod error;
/// The domain crate (`app/fleet`), under the path the UI and the server have always used.
pub use fleet;
pub mod live;
pub mod server_fns;
pub mod ui;
#[cfg(feature = "ssr")]
pub mod upgrade_actions;

pub use ui::{shell, App};
