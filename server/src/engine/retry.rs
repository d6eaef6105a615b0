//! Failed reconciles: each object backs off exponentially while it keeps failing (a hub that
//! rejects a write should not be asked again every second for ever), and the first failure with
//! a given error is worth a Warning Event, so `kubectl describe` says why the object is stuck.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use app::fleet::{FleetKind, Object};

/// The longest wait between attempts, as controller-runtime's default rate limiter ends up.
pub const MAX_BACKOFF: Duration = Duration::from_secs(5 * 60);

/// Consecutive failures per object (`namespace/name`), forgotten at its next success.
#[derive(Default)]
pub struct Failures {
    by_object: Mutex<HashMap<String, Failure>>,
}

struct Failure {
    count: u32,
    message: String,
}

impl Failures {
    /// Records a failure of `object`; returns whether it is news (its first failure in a row, or
    /// a different error than the last one), i.e. worth telling the user.
    pub fn record(&self, object: &str, message: &str) -> bool {
        let mut by_object = self.lock();
        match by_object.get_mut(object) {
            Some(f) => {
                f.count = f.count.saturating_add(1);
                let news = f.message != message;
                if news {
                    f.message = message.to_string();
                }
                news
            }
            None => {
                by_object.insert(
                    object.to_string(),
                    Failure {
                        count: 1,
                        message: message.to_string(),
                    },
                );
                true
            }
        }
    }

    /// The wait before the next attempt: `base` after the first failure, doubling with each
    /// further one, at most [`MAX_BACKOFF`].
    pub fn backoff(&self, object: &str, base: Duration) -> Duration {
        let count = self.lock().get(object).map_or(1, |f| f.count);
        let doubled = base.saturating_mul(1u32 << count.saturating_sub(1).min(16));
        doubled.min(MAX_BACKOFF.max(base))
    }

    /// `object` reconciled: its next failure starts over.
    pub fn clear(&self, object: &str) {
        self.lock().remove(object);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failure>> {
        // Counters only: a panic elsewhere cannot leave them inconsistent.
        self.by_object.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Which object a failure counts against: kind, namespace and name.
pub fn key<K: FleetKind>(object: &Object<K>) -> String {
    // Cluster-scoped objects have no namespace: the key's segment stays empty.
    let namespace = object.namespace().unwrap_or_default();
    format!("{}/{namespace}/{}", K::KIND, object.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_while_failing_and_starts_over_after_a_success() {
        let failures = Failures::default();
        let base = Duration::from_secs(1);
        let waits: Vec<u64> = (0..12)
            .map(|_| {
                failures.record("default/p", "hub request failed");
                failures.backoff("default/p", base).as_secs()
            })
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300, 300]);
        // Another object has its own count.
        failures.record("default/q", "hub request failed");
        assert_eq!(failures.backoff("default/q", base), base);
        failures.clear("default/p");
        failures.record("default/p", "hub request failed");
        assert_eq!(failures.backoff("default/p", base), base);
    }

    #[test]
    fn only_a_first_or_different_error_is_news() {
        let failures = Failures::default();
        assert!(failures.record("p", "a"));
        assert!(!failures.record("p", "a"));
        assert!(failures.record("p", "b"));
        assert!(!failures.record("p", "b"));
        failures.clear("p");
        assert!(failures.record("p", "b"));
    }
}
