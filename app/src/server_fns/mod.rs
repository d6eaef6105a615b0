//! Server functions, one per file, grouped by what they act on. Their bodies run on the server
//! (`ssr`); the browser build only gets the typed client stubs.

pub mod activity;
pub mod fleet;
pub mod runs;
pub mod server_info;
