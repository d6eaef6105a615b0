//! The strategy editor's form: a strategy as a person types it (a selector as `kubectl -l` text,
//! `maxConcurrency` as typed, tasks as checkboxes and a wait), and the conversions to and from the
//! object the hub stores. Values the hub checks (`maxConcurrency` "0" or "abc", a wait time
//! without a unit) are passed on as typed, so the hub's own message answers them.

use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use serde::{Deserialize, Serialize};

use crate::staged::staged_update::{
    StageConfig, StageTask, StageTaskType, StagedUpdateStrategySpec,
};
use crate::types::kind;
use crate::types::names::object_key;
use crate::types::object::FleetKind;
use crate::types::selector_text::{self, SelectorSyntaxError};

/// A strategy being edited. Strings and booleans only, so a plain HTML form posts it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StrategyDraft {
    /// Empty: a ClusterStagedUpdateStrategy; else a StagedUpdateStrategy in this namespace.
    #[serde(default)]
    pub namespace: String,
    #[serde(default)]
    pub name: String,
    /// The hub's `resourceVersion` the edit started from; empty for a strategy not created yet.
    #[serde(default)]
    pub resource_version: String,
    #[serde(default)]
    pub stages: Vec<StageDraft>,
}

/// One stage as typed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct StageDraft {
    #[serde(default)]
    pub name: String,
    /// `kubectl -l` text: empty selects no cluster, `{}` every scheduled cluster.
    #[serde(default)]
    pub selector: String,
    #[serde(default)]
    pub sorting_label_key: String,
    /// An integer, a percentage, or empty for the default (1).
    #[serde(default)]
    pub max_concurrency: String,
    #[serde(default)]
    pub approve_before: bool,
    #[serde(default)]
    pub approve_after: bool,
    /// A TimedWait after the stage (`1m`, `1h30m`); empty for none.
    #[serde(default)]
    pub wait_after: String,
}

/// A stage field the form could not turn into the object (the hub never sees it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DraftProblem {
    pub stage: usize,
    pub error: SelectorSyntaxError,
}

impl StrategyDraft {
    /// The draft of a stored strategy.
    pub fn of(
        namespace: Option<&str>,
        name: &str,
        resource_version: &str,
        spec: &StagedUpdateStrategySpec,
    ) -> Self {
        StrategyDraft {
            namespace: namespace.unwrap_or_default().to_string(),
            name: name.to_string(),
            resource_version: resource_version.to_string(),
            stages: spec.stages.iter().map(StageDraft::of).collect(),
        }
    }

    pub fn namespace(&self) -> Option<&str> {
        Some(self.namespace.trim()).filter(|ns| !ns.is_empty())
    }

    /// `namespace/name`, or `/name` for the cluster scope, as the engine's messages print it.
    pub fn key(&self) -> String {
        object_key(self.namespace(), self.name.trim())
    }

    /// The kind the draft saves as.
    pub fn kind(&self) -> &'static str {
        if self.namespace().is_some() {
            "StagedUpdateStrategy"
        } else {
            "ClusterStagedUpdateStrategy"
        }
    }

    /// The spec the draft stands for, or every stage whose selector text does not read.
    pub fn spec(&self) -> Result<StagedUpdateStrategySpec, Vec<DraftProblem>> {
        let mut problems = Vec::new();
        let mut stages = Vec::with_capacity(self.stages.len());
        for (i, stage) in self.stages.iter().enumerate() {
            match stage.config() {
                Ok(config) => stages.push(config),
                Err(error) => problems.push(DraftProblem { stage: i, error }),
            }
        }
        if problems.is_empty() {
            Ok(StagedUpdateStrategySpec { stages })
        } else {
            Err(problems)
        }
    }

    /// The object as JSON, as `kubectl get -o yaml` would show it once saved (no server fields):
    /// the same JSON as the typed object's, built without it. The editor runs this in the
    /// browser, and serialising the typed object's `ObjectMeta` would bring k8s-openapi's `Time`
    /// and with it jiff's date printing and time-zone code into the WASM; the static data of
    /// that code lands in the main WASM even when the code is in the editor's chunk (README,
    /// "Release bundle").
    pub fn object_json(&self, spec: StagedUpdateStrategySpec) -> serde_json::Value {
        let name = self.name.trim();
        let (api_version, kind, metadata) = match self.namespace() {
            None => (
                kind::ClusterStagedUpdateStrategy::api_version(),
                kind::ClusterStagedUpdateStrategy::KIND,
                serde_json::json!({ "name": name }),
            ),
            Some(ns) => (
                kind::StagedUpdateStrategy::api_version(),
                kind::StagedUpdateStrategy::KIND,
                serde_json::json!({ "name": name, "namespace": ns }),
            ),
        };
        // Serialising a plain struct with string keys cannot fail.
        let spec = serde_json::to_value(spec).unwrap_or_default();
        serde_json::json!({ "apiVersion": api_version, "kind": kind, "metadata": metadata, "spec": spec })
    }
}

impl StageDraft {
    pub fn of(config: &StageConfig) -> Self {
        let has = |tasks: &[StageTask], t: StageTaskType| tasks.iter().any(|x| x.type_ == t);
        StageDraft {
            name: config.name.clone(),
            selector: selector_text::format(config.label_selector.as_ref()),
            sorting_label_key: config.sorting_label_key.clone().unwrap_or_default(),
            max_concurrency: match &config.max_concurrency {
                None => String::new(),
                Some(IntOrString::Int(n)) => n.to_string(),
                Some(IntOrString::String(s)) => s.clone(),
            },
            approve_before: has(config.before_tasks(), StageTaskType::Approval),
            approve_after: has(config.after_tasks(), StageTaskType::Approval),
            wait_after: config
                .after_tasks()
                .iter()
                .find(|t| t.type_ == StageTaskType::TimedWait)
                .and_then(|t| t.wait_time.clone())
                .unwrap_or_default(),
        }
    }

    /// The stage config; only the selector text can fail here.
    pub fn config(&self) -> Result<StageConfig, SelectorSyntaxError> {
        let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
        let mut after = Vec::new();
        if let Some(wait) = text(&self.wait_after) {
            after.push(StageTask::timed_wait(&wait));
        }
        if self.approve_after {
            after.push(StageTask::approval());
        }
        Ok(StageConfig {
            name: self.name.trim().to_string(),
            label_selector: selector_text::parse(&self.selector)?,
            sorting_label_key: text(&self.sorting_label_key),
            max_concurrency: text(&self.max_concurrency).map(max_concurrency),
            after_stage_tasks: (!after.is_empty()).then_some(after),
            before_stage_tasks: self.approve_before.then(|| vec![StageTask::approval()]),
        })
    }
}

/// An integer as typed becomes an int (so "0" meets the hub's "at least 1" rule), anything else
/// a string (so "abc" meets the percentage pattern), exactly as YAML would type them.
fn max_concurrency(text: String) -> IntOrString {
    match text.parse::<i32>() {
        Ok(n) => IntOrString::Int(n),
        Err(_) => IntOrString::String(text),
    }
}

/// A strategy's stages in words: `2 stages: staging, then canary`.
pub fn stages_in_words(names: &[String]) -> String {
    match names {
        [] => "no stages: runs using it place no cluster".to_string(),
        [one] => format!("1 stage: {one}"),
        many => format!("{} stages: {}", many.len(), many.join(", then ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_read_in_order() {
        let names = |n: &[&str]| n.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            stages_in_words(&names(&["staging", "canary"])),
            "2 stages: staging, then canary"
        );
        assert_eq!(stages_in_words(&names(&["all"])), "1 stage: all");
        assert!(stages_in_words(&[]).starts_with("no stages"));
    }

    fn seed_002() -> StagedUpdateStrategySpec {
        serde_json::from_value(serde_json::json!({"stages": [
            {"name": "staging", "labelSelector": {"matchLabels": {"environment": "staging"}},
             "maxConcurrency": "30%", "afterStageTasks": [{"type": "TimedWait", "waitTime": "1m"}]},
            {"name": "canary", "labelSelector": {"matchLabels": {"environment": "canary"}},
             "sortingLabelKey": "order", "maxConcurrency": 2,
             "beforeStageTasks": [{"type": "Approval"}], "afterStageTasks": [{"type": "Approval"}]}
        ]}))
        .expect("spec")
    }

    #[test]
    fn a_seed_strategy_round_trips_through_the_form() {
        let spec = seed_002();
        let draft = StrategyDraft::of(None, "example-strategy", "7", &spec);
        assert_eq!(draft.stages[0].selector, "environment=staging");
        assert_eq!(draft.stages[0].max_concurrency, "30%");
        assert_eq!(draft.stages[1].max_concurrency, "2");
        assert!(draft.stages[1].approve_before && draft.stages[1].approve_after);
        assert_eq!(draft.spec(), Ok(spec));
        assert_eq!(draft.key(), "/example-strategy");
        assert_eq!(draft.kind(), "ClusterStagedUpdateStrategy");
    }

    #[test]
    fn typed_values_reach_the_hub_as_typed() {
        let mut stage = StageDraft {
            name: "s".into(),
            max_concurrency: "0".into(),
            ..Default::default()
        };
        assert_eq!(
            stage.config().expect("config").max_concurrency,
            Some(IntOrString::Int(0))
        );
        stage.max_concurrency = "abc".into();
        assert_eq!(
            stage.config().expect("config").max_concurrency,
            Some(IntOrString::String("abc".into()))
        );
        stage.max_concurrency = " ".into();
        assert_eq!(stage.config().expect("config").max_concurrency, None);
    }

    #[test]
    fn unreadable_selectors_are_reported_per_stage() {
        let draft = StrategyDraft {
            name: "s".into(),
            stages: vec![
                StageDraft {
                    name: "a".into(),
                    selector: "env=x".into(),
                    ..Default::default()
                },
                StageDraft {
                    name: "b".into(),
                    selector: "env in x".into(),
                    ..Default::default()
                },
            ],
            ..Default::default()
        };
        let problems = draft.spec().expect_err("stage b");
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].stage, 1);
    }

    #[test]
    fn the_object_is_namespaced_when_the_draft_is() {
        let draft = StrategyDraft {
            namespace: "team-a".into(),
            name: "s".into(),
            ..Default::default()
        };
        let json = draft.object_json(StagedUpdateStrategySpec::default());
        assert_eq!(json["kind"], "StagedUpdateStrategy");
        assert_eq!(json["metadata"]["namespace"], "team-a");
    }

    #[test]
    fn the_object_json_is_the_typed_objects() {
        use crate::{ClusterStagedUpdateStrategy, StagedUpdateStrategy};
        let typed = |value: Result<serde_json::Value, serde_json::Error>| value.expect("json");
        let draft = StrategyDraft::of(None, " example-strategy ", "7", &seed_002());
        assert_eq!(
            draft.object_json(seed_002()),
            typed(serde_json::to_value(ClusterStagedUpdateStrategy::new(
                "example-strategy",
                seed_002()
            )))
        );
        let draft = StrategyDraft::of(Some("team-a"), "s", "", &seed_002());
        assert_eq!(
            draft.object_json(seed_002()),
            typed(serde_json::to_value(StagedUpdateStrategy::new_namespaced(
                "team-a",
                "s",
                seed_002()
            )))
        );
    }
}
