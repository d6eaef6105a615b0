//! Selecting a placement's resources on the hub (spec §3.1): discovery once, then list what the
//! selectors name. The decisions (what matches, what is skipped, the snapshot form and order) are
//! in `app::fleet::placement::resource_selection`.

use std::collections::BTreeSet;

use app::fleet::placement::resource_placement::PlacementSpec;
use app::fleet::placement::resource_selection::{
    clean_for_snapshot, is_propagatable, is_reserved_namespace, is_skipped_object,
    selector_matches, sort_selected, takes_namespace_contents, with_type, ListableKind,
};
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use kube::discovery::{verbs, Discovery, Scope};
use serde_json::Value;

/// Why a selection failed. `User` errors are the placement's fault and terminal for a run.
#[derive(Debug, thiserror::Error)]
pub enum SelectionError {
    #[error("{0}")]
    User(String),
    #[error("cannot list resources on the hub: {0}")]
    Hub(#[from] kube::Error),
    /// The hub listed an object without a name (a Namespace's would list every namespace).
    #[error("a listed {kind} has no metadata.name")]
    NoName { kind: String },
}

/// The listable kinds of a hub, discovered once.
#[derive(Clone)]
pub struct Selector {
    client: kube::Client,
    kinds: Vec<ListableKind>,
}

impl Selector {
    pub async fn discover(client: kube::Client) -> Result<Self, kube::Error> {
        let discovery = Discovery::new(client.clone()).run().await?;
        let mut kinds = Vec::new();
        for group in discovery.groups() {
            for (resource, caps) in group.recommended_resources() {
                if caps.supports_operation(verbs::LIST) {
                    kinds.push(ListableKind {
                        group: resource.group,
                        version: resource.version,
                        kind: resource.kind,
                        plural: resource.plural,
                        namespaced: caps.scope == Scope::Namespaced,
                    });
                }
            }
        }
        Ok(Selector { client, kinds })
    }

    /// The kinds whose objects placements may select: a change to one may change a snapshot.
    pub fn selectable_kinds(&self) -> impl Iterator<Item = &ListableKind> {
        self.kinds.iter().filter(|k| is_propagatable(k))
    }

    /// The resource for a listable kind.
    pub fn api_resource(kind: &ListableKind) -> ApiResource {
        ApiResource {
            group: kind.group.clone(),
            version: kind.version.clone(),
            api_version: if kind.group.is_empty() {
                kind.version.clone()
            } else {
                format!("{}/{}", kind.group, kind.version)
            },
            kind: kind.kind.clone(),
            plural: kind.plural.clone(),
        }
    }

    /// The objects a placement selects, cleaned and sorted for a snapshot. `namespace` is the
    /// ResourcePlacement's namespace, `None` for a ClusterResourcePlacement.
    pub async fn select(
        &self,
        spec: &PlacementSpec,
        namespace: Option<&str>,
    ) -> Result<Vec<Value>, SelectionError> {
        let mut selected = Vec::new();
        let mut seen = BTreeSet::new();
        for selector in &spec.resource_selectors {
            let kind = self
                .kinds
                .iter()
                .find(|k| k.group == selector.group && k.version == selector.version && k.kind == selector.kind)
                .ok_or_else(|| {
                    SelectionError::User(format!(
                        "the resource selector names an unknown kind: group {:?}, version {:?}, kind {:?}",
                        selector.group, selector.version, selector.kind
                    ))
                })?;
            match (namespace, kind.namespaced) {
                (None, true) => {
                    return Err(SelectionError::User(format!(
                        "a ClusterResourcePlacement cannot select the namespaced kind {}; select its Namespace instead",
                        kind.kind
                    )))
                }
                (Some(_), false) => {
                    return Err(SelectionError::User(format!(
                        "a ResourcePlacement can only select namespaced resources, not {}",
                        kind.kind
                    )))
                }
                _ => {}
            }
            for object in self.list(kind, namespace).await? {
                let matched = selector_matches(selector, kind, &object)
                    .map_err(|e| SelectionError::User(e.to_string()))?;
                let name = object["metadata"]["name"]
                    .as_str()
                    .ok_or_else(|| SelectionError::NoName {
                        kind: kind.kind.clone(),
                    })?
                    .to_string();
                if !matched
                    || is_skipped_object(&object)
                    || (kind.kind == "Namespace" && is_reserved_namespace(&name))
                {
                    continue;
                }
                if kind.kind == "Namespace" && takes_namespace_contents(selector) {
                    for inner in self
                        .kinds
                        .iter()
                        .filter(|k| k.namespaced && is_propagatable(k))
                    {
                        for object in self.list(inner, Some(&name)).await? {
                            if !is_skipped_object(&object) {
                                push_unique(&mut selected, &mut seen, object);
                            }
                        }
                    }
                }
                push_unique(&mut selected, &mut seen, object);
            }
        }
        let mut selected: Vec<Value> = selected.into_iter().map(clean_for_snapshot).collect();
        sort_selected(&mut selected);
        Ok(selected)
    }

    async fn list(
        &self,
        kind: &ListableKind,
        namespace: Option<&str>,
    ) -> Result<Vec<Value>, kube::Error> {
        let resource = Self::api_resource(kind);
        let api: Api<DynamicObject> = match (kind.namespaced, namespace) {
            (true, Some(ns)) => Api::namespaced_with(self.client.clone(), ns, &resource),
            _ => Api::all_with(self.client.clone(), &resource),
        };
        let items = api.list(&ListParams::default()).await?.items;
        Ok(items
            .into_iter()
            .filter_map(|item| serde_json::to_value(item).ok())
            .map(|object| with_type(object, kind))
            .collect())
    }
}

fn push_unique(selected: &mut Vec<Value>, seen: &mut BTreeSet<String>, object: Value) {
    // A key only to drop duplicates: a cluster-scoped object has no namespace, and a missing
    // field merely makes the key less specific.
    let key = format!(
        "{}/{}/{}/{}",
        object["apiVersion"].as_str().unwrap_or_default(),
        object["kind"].as_str().unwrap_or_default(),
        object["metadata"]["namespace"].as_str().unwrap_or_default(),
        object["metadata"]["name"].as_str().unwrap_or_default()
    );
    if seen.insert(key) {
        selected.push(object);
    }
}
