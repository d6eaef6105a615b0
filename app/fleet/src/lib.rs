//! The fleet domain: API types, validation, stage planning and the other pure functions that the
//! engine, the hub's admission checks and the dashboard (in WASM) share. No I/O lives here.
//!
//! Folders by concept: [`types`] (the object model and Kubernetes machinery every kind shares),
//! [`placement`] (placements, scheduling, snapshots, bindings), [`staged`] (staged update runs),
//! [`upgrade`] (seed 004's upgrade runs), [`views`] (what the dashboard shows), plus [`validation`]
//! and `crd` (the admission rules and the CRD documents).
//!
//! Every kind is [`Object<K>`](types::object::Object) over a marker in [`types::kind`]; the aliases
//! below are the names to use (`ClusterStagedUpdateRun`, `StagedUpdateRun`, …).
#![forbid(unsafe_code)]

pub mod apply;
#[cfg(feature = "kube")]
pub mod crd;
pub mod error;
pub mod overrides;
pub mod placement;
pub mod staged;
pub mod types;
pub mod upgrade;
pub mod validation;
pub mod views;

pub use error::{Error, Result};
pub use types::object::{FleetKind, Object, Scope};

pub type ClusterResourcePlacement = Object<types::kind::ClusterResourcePlacement>;
pub type ResourcePlacement = Object<types::kind::ResourcePlacement>;
pub type ClusterResourceSnapshot = Object<types::kind::ClusterResourceSnapshot>;
pub type ResourceSnapshot = Object<types::kind::ResourceSnapshot>;
pub type ClusterSchedulingPolicySnapshot = Object<types::kind::ClusterSchedulingPolicySnapshot>;
pub type SchedulingPolicySnapshot = Object<types::kind::SchedulingPolicySnapshot>;
pub type ClusterResourceBinding = Object<types::kind::ClusterResourceBinding>;
pub type ResourceBinding = Object<types::kind::ResourceBinding>;
pub type ClusterStagedUpdateStrategy = Object<types::kind::ClusterStagedUpdateStrategy>;
pub type StagedUpdateStrategy = Object<types::kind::StagedUpdateStrategy>;
pub type ClusterStagedUpdateRun = Object<types::kind::ClusterStagedUpdateRun>;
pub type StagedUpdateRun = Object<types::kind::StagedUpdateRun>;
pub type ClusterApprovalRequest = Object<types::kind::ClusterApprovalRequest>;
pub type ApprovalRequest = Object<types::kind::ApprovalRequest>;
pub type MemberCluster = Object<types::kind::MemberCluster>;
pub type UpdateRun = Object<types::kind::UpdateRun>;
pub type UpdateStrategy = Object<types::kind::UpdateStrategy>;
pub type Gate = Object<types::kind::Gate>;
pub type AutoUpgradeProfile = Object<types::kind::AutoUpgradeProfile>;
pub type ClusterResourceOverride = Object<types::kind::ClusterResourceOverride>;
pub type ResourceOverride = Object<types::kind::ResourceOverride>;
pub type ClusterResourceOverrideSnapshot = Object<types::kind::ClusterResourceOverrideSnapshot>;
pub type ResourceOverrideSnapshot = Object<types::kind::ResourceOverrideSnapshot>;
