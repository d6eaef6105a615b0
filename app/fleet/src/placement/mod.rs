//! Placements: their kinds, scheduling, snapshots, bindings and binding status, rolling updates.

pub mod binding;
pub mod binding_status;
pub mod binding_writes;
pub mod member_cluster;
pub mod member_status;
pub mod membership;
pub mod placement_ref;
pub mod placement_status;
pub mod policy_snapshot;
pub mod resource_placement;
pub mod resource_selection;
pub mod rolling_update;
pub mod scheduling;
pub mod snapshot;
pub mod snapshot_diff;
pub mod snapshot_group;
pub mod snapshot_history;
