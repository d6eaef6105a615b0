//! fleetdeck's shared crate: the fleet domain (`fleet`), the dashboard (`ui`) and the server
//! functions it calls (`server_fns`). Compiled twice: with `ssr` into the server and with
//! `hydrate` into the browser's WASM.

pub mod error;
/// The domain crate (`app/fleet`), under the path the UI and the server have always used.
pub use fleet;
pub mod live;
pub mod server_fns;
pub mod ui;

pub use ui::{shell, App};
