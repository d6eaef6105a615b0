//! Seed 004's upgrade runs (`updates.fleetdeck.dev`), apart from KubeFleet's staged update runs.
//!
//! - [`upgrade_run`]: the API types (ARM field names).
//! - [`auto_upgrade`]: auto-upgrade profiles: channel targets, the runs they make, triggers.
//! - [`versions`], [`release_catalogue`]: version rules and which releases exist where.
//! - [`maintenance_window`]: when a member may be upgraded.
//! - [`member_view`]: what the engine observes of a member.
//! - [`managed_cluster`]: what a simulated member reports and how it performs an upgrade.
//! - [`thresholds`]: `maxConcurrency` and `maxAllowedFailures` resolved to numbers.
//! - [`plan`]: validation (aks §10) and the status tree of a new run.
//! - [`member_target`]: what one member's operation is, or why it waits, skips or fails.
//! - [`run`]: start / stop / skip and the reconcile step (aks §6–§8).
//! - [`spec_change`]: what may change on an existing run, and when it may be deleted.

pub mod auto_upgrade;
pub mod maintenance_window;
pub mod managed_cluster;
pub mod member_target;
pub mod member_view;
pub mod plan;
pub mod release_catalogue;
pub mod run;
pub mod spec_change;
pub mod thresholds;
pub mod upgrade_error;
pub mod upgrade_run;
pub mod versions;

#[cfg(test)]
mod auto_upgrade_tests;
#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod member_target_tests;
#[cfg(test)]
mod plan_tests;
