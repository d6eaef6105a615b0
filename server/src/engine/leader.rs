//! Leader election among engine replicas on a real hub. Where users outgrow one machine,
//! Kubernetes is the distributed engine (DESIGN): replicas campaign for a
//! `coordination.k8s.io/v1` Lease through kube-lease-manager, and only the holder runs the
//! controllers and the member agent. A replica that loses the lease stops them at once and
//! campaigns again; on shutdown it releases the lease, so a standby takes over without waiting
//! for the lease to expire. Dashboards need no lease: they only read and write desired state.

use std::future::Future;
use std::time::Duration;

use k8s_openapi::api::core::v1::Namespace;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube_lease_manager::LeaseManagerBuilder;
use tokio_util::sync::CancellationToken;

use super::{Error, Result};

/// How long a released lease may take to be written back on shutdown.
const RELEASE_WAIT: Duration = Duration::from_secs(5);

/// The Lease replicas elect their leader with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Election {
    pub namespace: String,
    pub name: String,
    /// This replica's holder identity (unique per replica).
    pub identity: String,
    /// How long a lease lasts without renewal; a crashed leader is replaced after at most this.
    pub duration: Duration,
    /// How long before expiry the holder renews.
    pub grace: Duration,
}

impl Election {
    /// `namespace/name` of the Lease, KubeFleet-like defaults for the timings (15 s, renew 5 s
    /// before expiry).
    pub fn new(lease: &str, identity: impl Into<String>) -> Result<Self> {
        let Some((namespace, name)) = lease
            .split_once('/')
            .filter(|(ns, n)| !ns.is_empty() && !n.is_empty())
        else {
            return Err(Error::Invalid(format!(
                "the leader lease {lease:?} must be written namespace/name, e.g. fleet-system/fleetdeck-engine"
            )));
        };
        Ok(Election {
            namespace: namespace.to_string(),
            name: name.to_string(),
            identity: identity.into(),
            duration: Duration::from_secs(15),
            grace: Duration::from_secs(5),
        })
    }
}

/// Runs `lead` whenever this replica holds the lease, until `shutdown`. `lead` gets a token that
/// is cancelled when the lease is lost (or at shutdown) and must stop its work then.
pub async fn while_leading<F, Fut>(
    client: kube::Client,
    election: Election,
    shutdown: CancellationToken,
    mut lead: F,
) -> Result<()>
where
    F: FnMut(CancellationToken) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    ensure_namespace(&client, &election.namespace).await?;
    let secs = |d: Duration| d.as_secs().max(1);
    if secs(election.grace) >= secs(election.duration) {
        return Err(Error::Invalid(format!(
            "the lease renewal grace ({:?}) must be shorter than its duration ({:?})",
            election.grace, election.duration
        )));
    }
    let manager = LeaseManagerBuilder::new(client, &election.name)
        .with_namespace(&election.namespace)
        .with_identity(&election.identity)
        .with_duration(secs(election.duration))
        .with_grace(secs(election.grace))
        .build()
        .await
        .map_err(|e| Error::Invalid(format!("cannot campaign for the leader lease: {e}")))?;
    let (mut leading, campaign) = manager.watch().await;
    let lease = format!("{}/{}", election.namespace, election.name);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => break,
            acquired = leading.wait_for(|held| *held) => if acquired.is_err() { break },
        }
        tracing::info!(%lease, identity = %election.identity, "holding the leader lease: starting the engine");
        let stop = shutdown.child_token();
        let work = tokio::spawn(lead(stop.clone()));
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = leading.wait_for(|held| !*held) => {
                tracing::warn!(%lease, identity = %election.identity, "lost the leader lease: stopping the engine");
            }
        }
        stop.cancel();
        if let Err(e) = work.await {
            tracing::error!(error = %e, "the engine stopped abnormally");
        }
        if shutdown.is_cancelled() {
            break;
        }
    }
    // Closing the channel makes the campaign release the lease.
    drop(leading);
    match tokio::time::timeout(RELEASE_WAIT, campaign).await {
        Ok(Ok(Ok(_))) => tracing::info!(%lease, "leader lease released"),
        Ok(Ok(Err(e))) => tracing::warn!(%lease, error = %e, "could not release the leader lease"),
        Ok(Err(e)) => tracing::warn!(%lease, error = %e, "the campaign ended abnormally"),
        Err(_) => {
            tracing::warn!(%lease, "releasing the leader lease timed out; it expires on its own")
        }
    }
    Ok(())
}

async fn ensure_namespace(client: &kube::Client, name: &str) -> Result<()> {
    let namespaces: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.to_string()),
            ..ObjectMeta::default()
        },
        ..Namespace::default()
    };
    match namespaces.create(&PostParams::default(), &ns).await {
        Ok(_) => Ok(()),
        // Exists already, or we may not create namespaces (then it must exist: the Lease create
        // will say so).
        Err(kube::Error::Api(s)) if s.code == 409 || s.code == 403 => Ok(()),
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lease_is_namespace_slash_name() {
        let e = Election::new("fleet-system/fleetdeck-engine", "a").expect("valid");
        assert_eq!(
            (e.namespace.as_str(), e.name.as_str()),
            ("fleet-system", "fleetdeck-engine")
        );
        for bad in ["fleetdeck-engine", "/x", "x/", ""] {
            let err = Election::new(bad, "a").unwrap_err().to_string();
            assert!(err.contains("namespace/name"), "{bad:?}: {err}");
        }
    }
}
