//! Reading the engine's informer caches (controller-runtime's pattern, as KubeFleet uses it): the
//! process's shared reflector stores ([`crate::informers`]), filled by the very watch whose events
//! wake the reconcilers, so a reconcile woken by an event always sees that event or a later state.
//! A 10,000-member rollout no longer lists every MemberCluster and binding from the hub on every
//! pass.
//!
//! A cache may still lag the engine's own writes, so callers keep two rules: act only in ways
//! that are safe to repeat (creating a binding is not: it re-lists from the hub first), and
//! confirm against the hub before anything that cannot be taken back (a run's failure).

use std::hash::Hash;
use std::sync::Arc;

use kube::runtime::reflector::Store;
use kube::Resource;

use app::fleet::types::names::PARENT_PLACEMENT_LABEL;

use super::{Error, Result};

/// Everything in `store` in the hub's list order (by name), once it has seen its first complete
/// list (before that an empty store would read as "no bindings" and fail a run).
pub async fn all<K>(store: &Store<K>) -> Result<Vec<Arc<K>>>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    store
        .wait_until_ready()
        .await
        .map_err(|_| Error::CacheStopped)?;
    let mut all = store.state();
    all.sort_by(|a, b| a.meta().name.cmp(&b.meta().name));
    Ok(all)
}

/// The bindings of placement `placement` in namespace `ns` (None: cluster scope), by name.
pub async fn bindings_of<K>(
    store: &Store<K>,
    ns: Option<&str>,
    placement: &str,
) -> Result<Vec<Arc<K>>>
where
    K: Resource + Clone + 'static,
    K::DynamicType: Eq + Hash + Clone,
{
    Ok(all(store)
        .await?
        .into_iter()
        .filter(|b| {
            b.meta().namespace.as_deref() == ns
                && b.meta()
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(PARENT_PLACEMENT_LABEL))
                    .is_some_and(|p| p == placement)
        })
        .collect())
}
