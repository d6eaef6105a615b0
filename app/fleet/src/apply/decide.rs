//! The per-manifest pipeline's decisions (placement-extras §2.3–§2.6), from the manifest, the
//! member's object (if any) and the apply strategy: what the agent writes, or why it writes
//! nothing, with KubeFleet's result types and error texts.

use serde_json::Value;

use super::compare::{absent_object, full_diff, partial_diff, PatchDetail};
use super::{OWNER_LABEL, SPEC_HASH_ANNOTATION, WORK_FIELD_MANAGER};
use crate::placement::resource_placement::{
    defaulted_apply_strategy, ApplyStrategy, ApplyStrategyType, ComparisonOption, WhenToApply,
    WhenToTakeOver,
};

/// Manifest result types (KubeFleet's `ManifestProcessingApplyOrReportDiffResultType`): the
/// reasons of the manifest conditions.
pub mod results {
    pub const APPLIED: &str = "Applied";
    pub const MANIFEST_APPLY_FAILED: &str = "ManifestApplyFailed";
    pub const FAILED_TO_FIND_OBJ: &str = "FailedToFindObjInMemberCluster";
    pub const FAILED_TO_TAKE_OVER: &str = "FailedToTakeOver";
    pub const NOT_TAKEN_OVER: &str = "NotTakenOver";
    pub const FOUND_DRIFTS: &str = "FoundDrifts";
    pub const FOUND_DIFF: &str = "FoundDiff";
    pub const NO_DIFF_FOUND: &str = "NoDiffFound";
    pub const FAILED_TO_REPORT_DIFF: &str = "FailedToReportDiff";
}

/// KubeFleet's error texts for the manifests it does not apply.
pub mod errors {
    pub const NOT_TAKEN_OVER: &str =
        "no ownership of the object in the member cluster; takeover is needed";
    pub const OWNED_BY_OTHER_FLEET: &str =
        "failed to take over a pre-existing object: the object is already owned by another Fleet AppliedWork object";
    pub const TAKEOVER_DIFFS: &str = "cannot take over object: configuration differences are found between the manifest object and the corresponding object in the member cluster";
    pub const FOUND_DRIFTS: &str =
        "cannot apply manifest: drifts are found between the manifest and the object from the member cluster";

    /// Other owners while co-ownership is off; `owners` as Go prints the owner references.
    pub fn co_owned(owners: &str) -> String {
        format!("failed to take over a pre-existing object: the object is already owned by some other sources(s) and co-ownership is disallowed (existingOwnerRefs: {owners})")
    }

    /// The apply op failed; `error` is the member API's message.
    pub fn apply_failed(error: &str) -> String {
        format!("failed to apply the manifest: {error}")
    }
}

/// Why a manifest was not applied: its result type (the manifest condition's reason), KubeFleet's
/// error text, and the diffs or drifts found on the way.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Failure {
    pub reason: &'static str,
    pub error: String,
    /// The member object's generation, when there is one.
    pub generation: Option<i64>,
    /// Configuration differences (an `IfNoDiff` takeover refused).
    pub diffs: Vec<PatchDetail>,
    /// Drifts (`IfNotDrifted` refusing to apply).
    pub drifts: Vec<PatchDetail>,
}

impl Failure {
    /// The manifest's `Applied` False message (KubeFleet's `Failed to apply the manifest
    /// (error: …)`).
    pub fn message(&self) -> String {
        format!("Failed to apply the manifest (error: {})", self.error)
    }

    /// The apply op itself failed: the member API's message.
    pub fn apply_failed(error: &str) -> Self {
        Failure {
            reason: results::MANIFEST_APPLY_FAILED,
            error: errors::apply_failed(error),
            ..Failure::default()
        }
    }
}

/// A ReportDiff manifest's result: the differences (none: `NoDiffFound`) and the member object's
/// generation (`None` when the member lacks the object).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DiffReport {
    pub diffs: Vec<PatchDetail>,
    pub generation: Option<i64>,
}

impl DiffReport {
    pub fn reason(&self) -> &'static str {
        if self.diffs.is_empty() {
            results::NO_DIFF_FOUND
        } else {
            results::FOUND_DIFF
        }
    }

    pub fn message(&self) -> &'static str {
        if self.diffs.is_empty() {
            "No diff has been found between the hub cluster and the member cluster"
        } else {
            "Diff has been found between the hub cluster and the member cluster"
        }
    }
}

/// Who owns the member's object, as fleetdeck records it: the [`OWNER_LABEL`] naming this
/// placement's record (ours) or another's, and the object's own owner references.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ownership {
    Absent,
    Ours,
    /// Placed by another placement of fleetdeck (the same object placed twice).
    OtherPlacement,
    /// Owned by something outside the fleet; the owner references as Go prints them.
    OtherOwners(String),
    /// Not owned by anyone: an object that was on the member before fleetdeck placed it.
    Unowned,
}

impl Ownership {
    pub fn of(live: Option<&Value>, record: &str) -> Self {
        let Some(live) = live else {
            return Ownership::Absent;
        };
        let meta = &live["metadata"];
        match meta["labels"][OWNER_LABEL].as_str() {
            Some(r) if r == record => return Ownership::Ours,
            Some(_) => return Ownership::OtherPlacement,
            None => {}
        }
        match meta["ownerReferences"].as_array() {
            Some(refs) if !refs.is_empty() => Ownership::OtherOwners(go_owner_refs(refs)),
            _ => Ownership::Unowned,
        }
    }
}

/// Owner references as Go's `%+v` prints a slice of them (the fields a user recognizes).
fn go_owner_refs(refs: &[Value]) -> String {
    let one = |r: &Value| {
        let s = |k: &str| r[k].as_str().unwrap_or_default().to_string();
        format!(
            "{{APIVersion:{} Kind:{} Name:{} UID:{}}}",
            s("apiVersion"),
            s("kind"),
            s("name"),
            s("uid")
        )
    };
    format!("[{}]", refs.iter().map(one).collect::<Vec<_>>().join(" "))
}

/// What the agent does with one manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// ReportDiff: nothing is written; this is reported.
    Report(DiffReport),
    /// Nothing is written; the manifest failed for this reason.
    Refuse(Failure),
    /// Create the object (the member lacks it).
    Create,
    /// Write the manifest over the member's object (taking it over if it is not ours yet).
    Apply(ApplyOp),
}

/// How an apply writes an existing object.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ApplyOp {
    /// `ClientSideApply`: replace the object with the manifest, when it differs.
    Replace,
    /// `ServerSideApply` as field manager [`WORK_FIELD_MANAGER`], with `force`.
    ServerSide { force: bool },
}

/// The pipeline up to the write (placement-extras §2.3): find → takeover → ReportDiff →
/// ownership → pre-apply drift check → apply. `strategy` is the binding's (defaulted here);
/// `live` the member's object; `record` this placement's record (the owner). The takeover step
/// never writes under ReportDiff: fleetdeck's ReportDiff touches nothing (KubeFleet's quirk of
/// adding its owner reference there is not kept).
pub fn decide(
    strategy: Option<&ApplyStrategy>,
    manifest: &Value,
    live: Option<&Value>,
    record: &str,
) -> Decision {
    let strategy = defaulted_apply_strategy(strategy);
    let type_ = strategy.type_.unwrap_or_default();
    let comparison = strategy.comparison_option.unwrap_or_default();
    let compare = |live: &Value| match comparison {
        ComparisonOption::PartialComparison => partial_diff(manifest, live),
        ComparisonOption::FullComparison => full_diff(manifest, live),
    };
    let generation = live.map(|l| l["metadata"]["generation"].as_i64().unwrap_or(0));
    let ownership = Ownership::of(live, record);
    let report_diff = type_ == ApplyStrategyType::ReportDiff;
    let when = strategy.when_to_take_over.unwrap_or_default();
    let co_ownership = strategy.allow_co_ownership.unwrap_or(false);
    let refuse = |reason, error: String| {
        Decision::Refuse(Failure {
            reason,
            error,
            generation,
            ..Failure::default()
        })
    };

    // Takeover (§2.4): only for objects not ours, and not with `Never`.
    if !report_diff && when != WhenToTakeOver::Never {
        match &ownership {
            Ownership::OtherOwners(owners) if !co_ownership => {
                return refuse(results::FAILED_TO_TAKE_OVER, errors::co_owned(owners));
            }
            Ownership::OtherPlacement => {
                return refuse(
                    results::FAILED_TO_TAKE_OVER,
                    errors::OWNED_BY_OTHER_FLEET.into(),
                );
            }
            Ownership::OtherOwners(_) | Ownership::Unowned if when == WhenToTakeOver::IfNoDiff => {
                let diffs = live.map(compare).unwrap_or_default();
                if !diffs.is_empty() {
                    return Decision::Refuse(Failure {
                        reason: results::FAILED_TO_TAKE_OVER,
                        error: errors::TAKEOVER_DIFFS.into(),
                        generation,
                        diffs,
                        drifts: Vec::new(),
                    });
                }
            }
            _ => {}
        }
    }

    // ReportDiff (§2.6): the diff against whatever the member has, owned or not.
    if report_diff {
        return Decision::Report(match live {
            None => DiffReport {
                diffs: absent_object(),
                generation: None,
            },
            Some(live) => DiffReport {
                diffs: compare(live),
                generation,
            },
        });
    }
    let Some(live) = live else {
        return Decision::Create;
    };

    // Ownership: with `Never` an object not ours stays as it is.
    if when == WhenToTakeOver::Never && ownership != Ownership::Ours {
        return refuse(results::NOT_TAKEN_OVER, errors::NOT_TAKEN_OVER.into());
    }

    // Pre-apply drift check (§2.3): only while the hub's manifest is the one last applied, so a
    // hub edit always overwrites drifts.
    if strategy.when_to_apply.unwrap_or_default() == WhenToApply::IfNotDrifted
        && live["metadata"]["annotations"][SPEC_HASH_ANNOTATION].as_str()
            == Some(super::compare::spec_hash(manifest).as_str())
    {
        let drifts = compare(live);
        if !drifts.is_empty() {
            return Decision::Refuse(Failure {
                reason: results::FOUND_DRIFTS,
                error: errors::FOUND_DRIFTS.into(),
                generation,
                diffs: Vec::new(),
                drifts,
            });
        }
    }

    Decision::Apply(match type_ {
        ApplyStrategyType::ServerSideApply => ApplyOp::ServerSide {
            force: strategy
                .server_side_apply_config
                .as_ref()
                .and_then(|c| c.force)
                .unwrap_or(false)
                || only_fleet_managers(live),
        },
        _ => ApplyOp::Replace,
    })
}

/// KubeFleet forces a server-side apply on its own objects: every field manager is the agent's
/// or `before-first-apply` (placement-extras §2.5).
pub fn only_fleet_managers(live: &Value) -> bool {
    live["metadata"]["managedFields"]
        .as_array()
        .is_some_and(|fields| {
            !fields.is_empty()
                && fields.iter().all(|f| {
                    matches!(
                        f["manager"].as_str(),
                        Some(WORK_FIELD_MANAGER) | Some("before-first-apply")
                    )
                })
        })
}

/// The post-apply drift check (§2.3): with `FullComparison`, every difference left between the
/// manifest and what the member holds after the apply (fields the member added, say) is a drift;
/// the manifest still counts as applied.
pub fn post_apply_drifts(
    strategy: Option<&ApplyStrategy>,
    manifest: &Value,
    applied: &Value,
) -> Vec<PatchDetail> {
    let strategy = defaulted_apply_strategy(strategy);
    match strategy.comparison_option.unwrap_or_default() {
        ComparisonOption::FullComparison => full_diff(manifest, applied),
        ComparisonOption::PartialComparison => Vec::new(),
    }
}

/// The manifest as the agent writes it: labelled with its owner `record` and annotated with its
/// spec hash.
pub fn prepared(manifest: &Value, record: &str) -> Value {
    let hash = super::compare::spec_hash(manifest);
    let mut object = manifest.clone();
    if let Some(fields) = object.as_object_mut() {
        let meta = fields
            .entry("metadata")
            .or_insert_with(|| Value::Object(Default::default()));
        if let Some(meta) = meta.as_object_mut() {
            for (map, key, value) in [
                ("labels", OWNER_LABEL, record),
                ("annotations", SPEC_HASH_ANNOTATION, hash.as_str()),
            ] {
                let entries = meta
                    .entry(map)
                    .or_insert_with(|| Value::Object(Default::default()));
                if let Some(entries) = entries.as_object_mut() {
                    entries.insert(key.into(), Value::String(value.into()));
                }
            }
        }
    }
    object
}

#[cfg(test)]
#[path = "decide_tests.rs"]
mod tests;
