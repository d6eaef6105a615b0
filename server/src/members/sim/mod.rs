//! The simulated member clusters of the embedded mode, apart from the member agent (which works
//! the same against real members): a hub instance per member ([`simulated`]), its kubelet and
//! deployment controller ([`kubelet`]), the container runtime's image check ([`image`]) and the
//! cluster upgrades of upgrade runs ([`upgrader`]).

pub mod fleet;
pub mod image;
pub mod kubelet;
pub mod simulated;
pub mod upgrader;

pub use simulated::SimulatedMember;
