//! On a real hub the member agent reaches each member cluster through a kubeconfig kept in a
//! Secret on the hub: `<namespace>/<member>-kubeconfig` (the namespace is the agent's, default
//! `fleet-system`; a MemberCluster's annotation `fleetdeck.dev/kubeconfig-secret` may name
//! another Secret there), key `kubeconfig`, its current context. The directory follows the
//! MemberClusters and those Secrets by watch and keeps the agent's member set in step: a member
//! whose Secret appears or changes is (re)connected, one that leaves or loses its Secret is
//! dropped. The embedded mode writes the same Secrets for its simulated members, so a fleetdeck
//! started with `--kubeconfig` against another fleetdeck's hub reaches its members unchanged.

use std::collections::BTreeMap;
use std::sync::Arc;

use app::fleet::MemberCluster;
use futures::{FutureExt, StreamExt};
use k8s_openapi::api::core::v1::{Namespace, Secret};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::ByteString;
use kube::api::{Api, Patch, PatchParams, PostParams};
use kube::runtime::{reflector, watcher, WatchStreamExt};
use kube::ResourceExt;
use serde::Serialize;

use super::agent::{Agent, MemberTarget};
use crate::informers::Informers;

/// Names the member's kubeconfig Secret when it is not `<member>-kubeconfig`.
pub const SECRET_ANNOTATION: &str = "fleetdeck.dev/kubeconfig-secret";
/// The key of the kubeconfig inside the Secret.
pub const KUBECONFIG_KEY: &str = "kubeconfig";
/// The label on the Secrets fleetdeck writes, naming their member.
const MEMBER_LABEL: &str = "fleetdeck.dev/member-kubeconfig";
/// Where the Secrets live unless configured otherwise.
pub const DEFAULT_NAMESPACE: &str = "fleet-system";

/// The name of the Secret that holds `member`'s kubeconfig.
pub fn secret_name(member: &MemberCluster) -> String {
    member
        .annotations()
        .get(SECRET_ANNOTATION)
        .cloned()
        .unwrap_or_else(|| format!("{}-kubeconfig", member.name_any()))
}

/// Keeps `agent`'s members in step with the MemberClusters (the process's shared watch of them)
/// and their kubeconfig Secrets in `namespace`, until the watches end.
pub async fn run(informers: Informers, namespace: String, agent: Arc<Agent>) {
    let member_informer = informers.of::<MemberCluster>();
    let members = member_informer.store();
    let member_events = member_informer.changes();
    // The only watch of Secrets that needs their contents, and only of one namespace: its own.
    let (secrets, secrets_writer) = reflector::store::<Secret>();
    let secret_events = reflector(
        secrets_writer,
        watcher(
            Api::<Secret>::namespaced(informers.client().clone(), &namespace),
            watcher::Config::default(),
        ),
    )
    .default_backoff()
    .map(|_| ());
    let mut events = std::pin::pin!(futures::stream::select(member_events, secret_events));
    // The kubeconfig each connected member was connected with.
    let mut connected: BTreeMap<String, String> = BTreeMap::new();
    while events.next().await.is_some() {
        // Take every event already waiting before looking at the whole picture once.
        while let Some(Some(())) = events.next().now_or_never() {}
        if members.wait_until_ready().now_or_never().is_none()
            || secrets.wait_until_ready().now_or_never().is_none()
        {
            continue;
        }
        let by_name: BTreeMap<String, Arc<Secret>> = secrets
            .state()
            .into_iter()
            .map(|s| (s.name_any(), s))
            .collect();
        let mut wanted: BTreeMap<String, String> = BTreeMap::new();
        for member in members.state() {
            // A leaving member's agent has stopped (members::membership).
            if member.metadata.deletion_timestamp.is_some() {
                continue;
            }
            let secret = secret_name(&member);
            match by_name.get(&secret).map(|s| kubeconfig_of(s)) {
                Some(Ok(kubeconfig)) => {
                    wanted.insert(member.name_any(), kubeconfig);
                }
                Some(Err(problem)) => tracing::warn!(
                    member = %member.name_any(),
                    "Secret {namespace}/{secret} is unusable: {problem}"
                ),
                None => tracing::debug!(
                    member = %member.name_any(),
                    "no Secret {namespace}/{secret} with the member's kubeconfig yet"
                ),
            }
        }
        for name in connected.keys().cloned().collect::<Vec<_>>() {
            if !wanted.contains_key(&name) {
                tracing::info!(member = %name, "member agent: member no longer reachable");
                connected.remove(&name);
                agent.remove_member(&name).await;
            }
        }
        for (name, kubeconfig) in wanted {
            if connected.get(&name) == Some(&kubeconfig) {
                continue;
            }
            match client_for(&kubeconfig).await {
                Ok(client) => {
                    tracing::info!(member = %name, "member agent: member connected");
                    agent
                        .set_member(MemberTarget {
                            name: name.clone(),
                            client,
                        })
                        .await;
                }
                Err(problem) => {
                    tracing::warn!(member = %name, "member agent: cannot use the member's kubeconfig: {problem}")
                }
            }
            // Remembered even when unusable, so the same broken kubeconfig is reported once.
            connected.insert(name, kubeconfig);
        }
    }
}

/// The kubeconfig text of a member's Secret.
fn kubeconfig_of(secret: &Secret) -> Result<String, String> {
    let bytes = secret
        .data
        .as_ref()
        .and_then(|d| d.get(KUBECONFIG_KEY))
        .map(|b| b.0.clone())
        .or_else(|| {
            secret
                .string_data
                .as_ref()
                .and_then(|d| d.get(KUBECONFIG_KEY))
                .map(|s| s.clone().into_bytes())
        })
        .ok_or_else(|| format!("it has no key {KUBECONFIG_KEY:?}"))?;
    String::from_utf8(bytes).map_err(|_| format!("its {KUBECONFIG_KEY:?} is not UTF-8 text"))
}

/// A client for the current context of `kubeconfig`.
async fn client_for(kubeconfig: &str) -> Result<kube::Client, String> {
    let parsed = kube::config::Kubeconfig::from_yaml(kubeconfig).map_err(|e| e.to_string())?;
    let config =
        kube::Config::from_custom_kubeconfig(parsed, &kube::config::KubeConfigOptions::default())
            .await
            .map_err(|e| e.to_string())?;
    kube::Client::try_from(config).map_err(|e| e.to_string())
}

/// A merge patch of a Secret's `data`: the keys it names are replaced, others stay.
#[derive(Debug, Serialize)]
struct DataPatch<'a> {
    data: &'a BTreeMap<String, ByteString>,
}

/// Stores `kubeconfig` as `member`'s Secret in `namespace` (created if missing), the way an
/// operator registers a real member, so the agent of any fleetdeck on this hub can reach it.
pub async fn publish(
    hub: &kube::Client,
    namespace: &str,
    member: &str,
    kubeconfig: &str,
) -> Result<(), kube::Error> {
    let namespaces: Api<Namespace> = Api::all(hub.clone());
    if namespaces.get_opt(namespace).await?.is_none() {
        let ns = Namespace {
            metadata: ObjectMeta {
                name: Some(namespace.to_string()),
                ..ObjectMeta::default()
            },
            ..Namespace::default()
        };
        match namespaces.create(&PostParams::default(), &ns).await {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    let secrets: Api<Secret> = Api::namespaced(hub.clone(), namespace);
    let name = format!("{member}-kubeconfig");
    let data = BTreeMap::from([(
        KUBECONFIG_KEY.to_string(),
        ByteString(kubeconfig.as_bytes().to_vec()),
    )]);
    match secrets.get_opt(&name).await? {
        Some(live) if live.data.as_ref() == Some(&data) => Ok(()),
        Some(_) => secrets
            .patch(
                &name,
                &PatchParams::default(),
                &Patch::Merge(&DataPatch { data: &data }),
            )
            .await
            .map(|_| ()),
        None => {
            let secret = Secret {
                metadata: ObjectMeta {
                    name: Some(name),
                    labels: Some(BTreeMap::from([(
                        MEMBER_LABEL.to_string(),
                        member.to_string(),
                    )])),
                    ..ObjectMeta::default()
                },
                type_: Some("Opaque".into()),
                data: Some(data),
                ..Secret::default()
            };
            secrets
                .create(&PostParams::default(), &secret)
                .await
                .map(|_| ())
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn member(annotations: &[(&str, &str)]) -> MemberCluster {
        serde_json::from_value(json!({
            "apiVersion": "cluster.kubernetes-fleet.io/v1beta1",
            "kind": "MemberCluster",
            "metadata": {
                "name": "member1",
                "annotations": annotations.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>(),
            },
            "spec": { "identity": { "kind": "User", "name": "x" } },
        }))
        .expect("member")
    }

    #[test]
    fn the_secret_is_named_after_the_member_unless_annotated() {
        assert_eq!(secret_name(&member(&[])), "member1-kubeconfig");
        assert_eq!(
            secret_name(&member(&[(SECRET_ANNOTATION, "prod-eu-1")])),
            "prod-eu-1"
        );
    }

    #[test]
    fn a_changed_kubeconfig_patches_only_its_key_base64_encoded() {
        let data = BTreeMap::from([(
            KUBECONFIG_KEY.to_string(),
            ByteString(b"apiVersion: v1".to_vec()),
        )]);
        assert_eq!(
            serde_json::to_value(DataPatch { data: &data }).expect("serializes"),
            json!({ "data": { "kubeconfig": "YXBpVmVyc2lvbjogdjE=" } })
        );
    }

    #[test]
    fn a_secret_without_the_key_says_which_key_is_missing() {
        let secret = Secret::default();
        assert_eq!(
            kubeconfig_of(&secret).unwrap_err(),
            "it has no key \"kubeconfig\""
        );
        let secret = Secret {
            data: Some(BTreeMap::from([(
                KUBECONFIG_KEY.to_string(),
                ByteString(b"apiVersion: v1".to_vec()),
            )])),
            ..Secret::default()
        };
        assert_eq!(kubeconfig_of(&secret).unwrap(), "apiVersion: v1");
    }
}
