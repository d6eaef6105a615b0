//! The orchestration engine: kube-runtime controllers that drive placements, snapshots, bindings
//! and staged update runs on a hub (embedded or real). Decisions live in `app::fleet`; the
//! reconcilers here read, call the pure core, and write.

pub mod context;
mod error;
pub mod leader;
pub mod scope;
pub mod update_run;

pub use context::{Clock, Config, Context};
pub use error::{Error, Result};

pub mod placement;
pub mod selection;
pub mod snapshots;
