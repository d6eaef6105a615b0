//! How the member agent applies one manifest under a placement's apply strategy
//! (placement-extras §2, KubeFleet's work applier): the comparison of a manifest with the
//! member's object ([`compare`]) and the decisions of the per-manifest pipeline ([`decide`]):
//! takeover of a pre-existing object, ReportDiff, ownership, the pre-apply drift check, the
//! apply itself (create, client-side or server-side with force) and the post-apply drift check.
//! The agent reads the member's object, asks [`decide::decide`] and does what it says.

pub mod compare;
pub mod decide;

/// The label marking an object placed (owned) by fleetdeck, with the record of the placement
/// that owns it: fleetdeck's counterpart of Fleet's owner reference to an AppliedWork.
pub const OWNER_LABEL: &str = "fleetdeck.dev/applied-by";
/// The hash of the manifest last applied, for the pre-apply drift check.
pub const SPEC_HASH_ANNOTATION: &str = "kubernetes-fleet.io/spec-hash";
/// The field manager of the member agent's writes on members (KubeFleet's).
pub const WORK_FIELD_MANAGER: &str = "work-api-agent";
