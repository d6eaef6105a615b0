//! Errors of upgrade runs: validation of a run (aks §10, the CLI's messages verbatim where the spec
//! gives them), refused actions (§7.1, §8) and the per-member errors a member's status carries
//! (§13, with an ARM error `code`).

use thiserror::Error;

/// Where the AKS docs send users for a version missing in a region (aks §13).
pub const RELEASE_TRACKER: &str = "https://releases.aks.azure.com/";

/// Prefix of a member put in Pending by a failed validation (aks §13: "the member was put in
/// Pending because a validation failed, followed by the same text").
pub const PENDING_VALIDATION: &str =
    "Member has been put into Pending state because a validation failed";

/// The name pattern of runs, strategies, stages, groups and members (aks §10).
pub const NAME_RULE: &str = "must match ^[a-z0-9]([-a-z0-9]*[a-z0-9])?$ and be 1-50 characters";

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum UpgradeError {
    // --- versions and the release catalogue (aks §3.2, §9, §13) ---
    #[error("invalid Kubernetes version {0:?}: expected an optional v, then major.minor or major.minor.patch")]
    InvalidKubernetesVersion(String),
    #[error("invalid node image version {0:?}: expected <image family>-<dotted version>")]
    InvalidNodeImageVersion(String),
    #[error("upgrading Kubernetes version {from} to {to} is not allowed: the target is older than the current version")]
    Downgrade { from: String, to: String },
    #[error("upgrading Kubernetes version {from} to {to} is not allowed: it skips a minor version; upgrade one minor version at a time")]
    SkipsMinor { from: String, to: String },
    #[error("Kubernetes version {version} is not available in region {region}; see the AKS release tracker {RELEASE_TRACKER}")]
    KubernetesVersionNotAvailable { version: String, region: String },
    #[error("node image version {version} for agent pool {agent_pool} is not available in region {region}; see the AKS release tracker {RELEASE_TRACKER}")]
    NodeImageVersionNotAvailable {
        version: String,
        agent_pool: String,
        region: String,
    },
    #[error("another operation is in progress on member {0}; retry when it has finished")]
    OperationInProgress(String),
    #[error("member {0} has left the fleet while its upgrade was in progress")]
    MemberLeft(String),
    #[error("the maintenance window of member {member} is invalid: {why}")]
    InvalidMaintenanceWindow { member: String, why: String },

    // --- validation of a run or strategy (aks §10) ---
    #[error("updateStrategyId and strategy cannot both be set")]
    BothStrategies,
    #[error("referenced updateStrategy not found: `{0}`")]
    StrategyNotFound(String),
    #[error("{what} name {name:?} is invalid: {NAME_RULE}")]
    InvalidName { what: &'static str, name: String },
    #[error("strategy.stages must have at least 1 stage")]
    NoStages,
    #[error("stage name {0:?} is used more than once")]
    DuplicateStage(String),
    #[error("stage {0} must have at least 1 group unless it has a memberSelector")]
    NoGroups(String),
    #[error("stage {stage} has {count} groups; at most 50 groups are allowed per stage")]
    TooManyGroups { stage: String, count: usize },
    #[error("group name {0:?} is used more than once")]
    DuplicateGroup(String),
    #[error("group {0} does not match the update group of any fleet member")]
    UnknownGroup(String),
    #[error("Please set kubernetes version when upgrade type is 'Full'/'ControlPlaneOnly'")]
    KubernetesVersionRequired,
    #[error("Cannot set kubernetes version when upgrade type is 'NodeImageOnly'")]
    KubernetesVersionForbidden,
    #[error("customNodeImageVersions is required when the node image selection type is Custom")]
    CustomImagesRequired,
    #[error(
        "customNodeImageVersions must be empty unless the node image selection type is Custom"
    )]
    CustomImagesForbidden,
    #[error("customNodeImageVersions has more than one version for image family {0}")]
    CustomImagesDuplicateFamily(String),
    #[error("invalid maxConcurrency {value:?} on {scope}: must be an integer ≥ 1 or a percentage from 1% to 100%")]
    InvalidMaxConcurrency { scope: String, value: String },
    #[error(
        "maxConcurrency {value:?} on {scope} resolves to {resolved}, over the limit of {limit}"
    )]
    MaxConcurrencyTooHigh {
        scope: String,
        value: String,
        resolved: usize,
        limit: usize,
    },
    #[error("invalid maxAllowedFailures {value:?} on {scope}: must be an integer ≥ 0 or a percentage from 0% to 100%")]
    InvalidMaxAllowedFailures { scope: String, value: String },
    #[error("afterStageWaitInSeconds of stage {0} must not be negative")]
    NegativeWait(String),
    #[error("gate displayName on {0} must be 1-100 characters")]
    GateDisplayName(String),
    #[error("ScheduledStart gates can only be before-gates ({0})")]
    ScheduledStartAfterGate(String),
    #[error("invalid scheduledStartConfiguration on {scope}: {why}")]
    InvalidScheduledStart { scope: String, why: String },
    #[error("memberSelector.byLabel on {scope} is {len} characters; at most 512 are allowed")]
    SelectorTooLong { scope: String, len: usize },
    #[error("memberSelector.byLabel on {scope} is invalid: {why}")]
    InvalidSelector { scope: String, why: String },

    // --- changes to an existing run (aks §3, §8.1, §8.5) ---
    #[error("{0} can only be set when the update run is created")]
    CreateOnly(&'static str),
    #[error("strategy and managedClusterUpdate cannot change once the update run has started (it is {0})")]
    SpecFrozen(&'static str),
    #[error("cannot delete an update run that is {0}: stop it first")]
    DeleteWhileActive(&'static str),

    // --- actions (aks §7.1, §8) ---
    #[error("cannot {action} an update run that is {state}")]
    ActionNotAllowed {
        action: &'static str,
        state: &'static str,
    },
    #[error("skip needs at least one target")]
    NoSkipTargets,
    #[error("skip target {kind}:{name} does not exist in this update run")]
    SkipTargetNotFound { kind: &'static str, name: String },
    #[error("skip target {kind}:{name} is already {state}")]
    SkipTargetFinished {
        kind: &'static str,
        name: String,
        state: &'static str,
    },
    #[error("member {0} is being upgraded and cannot be skipped: an operation in flight is never cancelled")]
    SkipInFlight(String),
    #[error("stage {0} has no after-stage wait to skip")]
    NoAfterStageWait(String),

    // --- auto-upgrade profiles (aks §11) ---
    #[error("targetKubernetesVersion {0:?} must be in major.minor form, for example \"1.33\"")]
    TargetKubernetesVersionForm(String),
    #[error("the release catalogue has no GA version for channel {0}")]
    NoRelease(&'static str),
    #[error("cannot upgrade to {target}: members are at {lowest} and a run moves one minor version at a time, but the release catalogue has no GA {step} version; publish one")]
    NoStepRelease {
        target: String,
        lowest: String,
        step: String,
    },
    #[error("the fleet has no member clusters to upgrade")]
    NoMembers,
}

impl UpgradeError {
    /// The ARM `ErrorDetail.code` a member's status carries for this error. Only
    /// `NodeImageVersionNotAvailable` is documented (aks §13); the others are fleetdeck's names.
    pub fn code(&self) -> &'static str {
        match self {
            UpgradeError::NodeImageVersionNotAvailable { .. } => "NodeImageVersionNotAvailable",
            UpgradeError::KubernetesVersionNotAvailable { .. } => "KubernetesVersionNotAvailable",
            UpgradeError::SkipsMinor { .. } | UpgradeError::Downgrade { .. } => "UpgradeNotAllowed",
            UpgradeError::OperationInProgress(_) => "OperationNotAllowed",
            UpgradeError::MemberLeft(_) => "MemberNotFound",
            UpgradeError::InvalidKubernetesVersion(_)
            | UpgradeError::InvalidNodeImageVersion(_) => "InvalidVersion",
            UpgradeError::ActionNotAllowed { .. }
            | UpgradeError::NoSkipTargets
            | UpgradeError::SkipTargetNotFound { .. }
            | UpgradeError::SkipTargetFinished { .. }
            | UpgradeError::SkipInFlight(_)
            | UpgradeError::NoAfterStageWait(_)
            | UpgradeError::SpecFrozen(_)
            | UpgradeError::DeleteWhileActive(_) => "Conflict",
            UpgradeError::StrategyNotFound(_) => "NotFound",
            _ => "InvalidParameter",
        }
    }
}
