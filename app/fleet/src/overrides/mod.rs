//! Overrides (placement-extras §1): `ClusterResourceOverride` / `ResourceOverride`, their
//! snapshots, which of them apply to a placement and to each of its clusters, and what they make
//! of the selected resources on one cluster. Pure: the engine and the member agent read and write
//! around these.

pub mod matching;
pub mod override_snapshot;
pub mod override_spec;
pub mod rendering;
