//! Seed 004's upgrade runs (`updates.fleetdeck.dev`), apart from KubeFleet's staged update runs.

pub mod upgrade_run;
