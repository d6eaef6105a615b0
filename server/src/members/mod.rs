//! Member clusters. In the embedded mode each member is a simulated cluster: its own hub instance
//! (own store, own HTTPS port, own kubeconfig context) with a simulated kubelet, registered on the
//! fleet hub as a `MemberCluster`.

pub mod agent;
pub mod fleet_config;
pub mod image;
pub mod kubeconfig_secrets;
pub mod kubelet;
pub mod registration;
pub mod simulated;

pub use fleet_config::{demo_fleet, MemberConfig};
pub use simulated::SimulatedMember;
