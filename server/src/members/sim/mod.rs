//! The simulated member clusters of the embedded mode, apart from the member agent (which works
//! the same against real members): a hub instance per member ([`simulated`]), its kubelet and
//! deployment controller ([`kubelet`]) and the container runtime's image check ([`image`]).

pub mod image;
pub mod kubelet;
pub mod simulated;

pub use simulated::SimulatedMember;
