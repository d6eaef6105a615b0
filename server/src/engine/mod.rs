//! The orchestration engine: kube-runtime controllers that drive placements, snapshots, bindings
//! and staged update runs on a hub (embedded or real). Decisions live in `app::fleet`; the
//! reconcilers here read, call the pure core, and write.

pub mod auto_upgrade;
mod cache;
pub mod context;
mod controllers;
mod error;
pub mod events;
pub mod leader;
pub mod metrics;
pub mod overrides;
mod retry;
pub mod update_run;
pub mod upgrade_run;

pub use context::{Clock, Config, Context};
pub use controllers::Engine;
pub use error::{Error, Result};

pub mod placement;
pub mod selection;
pub mod snapshots;
