//! The fleet domain: API types, validation, stage planning and the other pure functions that the
//! engine, the hub's admission checks and the dashboard (in WASM) share. No I/O lives here.
//!
//! Every kind is [`Object<K>`](object::Object) over a marker in [`kind`]; the aliases below are
//! the names to use (`ClusterStagedUpdateRun`, `StagedUpdateRun`, …).
#![forbid(unsafe_code)]

pub mod approval;
pub mod approval_view;
pub mod binding;
pub mod binding_status;
pub mod binding_writes;
pub mod concurrency;
pub mod condition;
#[cfg(feature = "kube")]
pub mod crd;
pub mod error;
pub mod event;
pub mod kind;
pub mod label_selector;
pub mod member_cluster;
pub mod member_view;
pub mod merge_patch;
pub mod names;
pub mod object;
pub mod placement;
pub mod placement_ref;
pub mod placement_status;
pub mod placement_view;
pub mod pod_trouble;
pub mod policy_snapshot;
pub mod resource_selection;
pub mod rolling_update;
pub mod run;
pub mod run_action;
pub mod run_detail;
pub mod run_view;
pub mod scheduling;
pub mod snapshot;
pub mod snapshot_diff;
pub mod snapshot_group;
pub mod snapshot_history;
pub mod stage_plan;
pub mod staged_update;
pub mod staged_update_run;
pub mod upgrade_run;
pub mod validation;
pub mod wait_time;
pub mod yaml;

pub use error::{Error, Result};
pub use object::{FleetKind, Object, Scope};

pub type ClusterResourcePlacement = Object<kind::ClusterResourcePlacement>;
pub type ResourcePlacement = Object<kind::ResourcePlacement>;
pub type ClusterResourceSnapshot = Object<kind::ClusterResourceSnapshot>;
pub type ResourceSnapshot = Object<kind::ResourceSnapshot>;
pub type ClusterSchedulingPolicySnapshot = Object<kind::ClusterSchedulingPolicySnapshot>;
pub type SchedulingPolicySnapshot = Object<kind::SchedulingPolicySnapshot>;
pub type ClusterResourceBinding = Object<kind::ClusterResourceBinding>;
pub type ResourceBinding = Object<kind::ResourceBinding>;
pub type ClusterStagedUpdateStrategy = Object<kind::ClusterStagedUpdateStrategy>;
pub type StagedUpdateStrategy = Object<kind::StagedUpdateStrategy>;
pub type ClusterStagedUpdateRun = Object<kind::ClusterStagedUpdateRun>;
pub type StagedUpdateRun = Object<kind::StagedUpdateRun>;
pub type ClusterApprovalRequest = Object<kind::ClusterApprovalRequest>;
pub type ApprovalRequest = Object<kind::ApprovalRequest>;
pub type MemberCluster = Object<kind::MemberCluster>;
pub type UpdateRun = Object<kind::UpdateRun>;
pub type UpdateStrategy = Object<kind::UpdateStrategy>;
