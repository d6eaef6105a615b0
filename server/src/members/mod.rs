//! Member clusters: the member agent that applies bindings to them ([`agent`]), how they are
//! reached, registered and kept beating ([`kubeconfig_secrets`], [`registration`],
//! [`heartbeat`], [`fleet_config`]), and the simulated member clusters of the embedded mode
//! ([`sim`]): each its own hub instance (own store, own HTTPS port, own kubeconfig context) with a
//! simulated kubelet, registered on the fleet hub as a `MemberCluster`.

pub mod agent;
pub mod commands;
pub mod fleet_config;
pub mod heartbeat;
pub mod kubeconfig_secrets;
pub mod membership;
pub mod registration;
pub mod sim;

pub use fleet_config::{demo_fleet, MemberConfig};
pub use sim::SimulatedMember;
