//! The upgrade runs of seed 004 (`updates.fleetdeck.dev`): the list, one run's page, and the
//! actions on it — start, stop, skip, delete and gate approval — and the auto-upgrade profiles
//! with their "Generate run", each performed on the hub as the
//! signed-in person, who the hub's RBAC allows or refuses.

mod act;
mod approve_gate;
mod delete_upgrade;
mod get_upgrade;
mod list_upgrades;
mod profiles;

pub use act::*;
pub use approve_gate::*;
pub use delete_upgrade::*;
pub use get_upgrade::*;
pub use list_upgrades::*;
pub use profiles::*;
