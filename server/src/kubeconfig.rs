//! The kubeconfig fleetdeck writes so that `kubectl` (and any client-go or kube-rs tool) reaches
//! the embedded hub and the simulated members: one context per API server, `hub` current.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use serde::Serialize;

use crate::{Error, Result};

/// One API server a context points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    /// Context, cluster and user name (`hub`, `member1`, …).
    pub name: String,
    /// e.g. `https://127.0.0.1:6443` (kubectl sends bearer tokens over HTTPS only).
    pub server: String,
    pub token: String,
    /// PEM of the CA that signed the server's certificate (HTTPS endpoints).
    pub ca_pem: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct Kubeconfig<'a> {
    #[serde(rename = "apiVersion")]
    api_version: &'static str,
    kind: &'static str,
    current_context: &'a str,
    clusters: Vec<Named<'a, Cluster<'a>>>,
    users: Vec<Named<'a, User<'a>>>,
    contexts: Vec<Named<'a, Context<'a>>>,
    preferences: Preferences,
}

#[derive(Serialize)]
struct Named<'a, T> {
    name: &'a str,
    #[serde(flatten)]
    inner: T,
}

#[derive(Serialize)]
struct Cluster<'a> {
    cluster: ClusterBody<'a>,
}
#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ClusterBody<'a> {
    server: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    certificate_authority_data: Option<String>,
}
#[derive(Serialize)]
struct User<'a> {
    user: UserBody<'a>,
}
#[derive(Serialize)]
struct UserBody<'a> {
    token: &'a str,
}
#[derive(Serialize)]
struct Context<'a> {
    context: ContextBody<'a>,
}
#[derive(Serialize)]
struct ContextBody<'a> {
    cluster: &'a str,
    user: &'a str,
    namespace: &'static str,
}
#[derive(Serialize)]
struct Preferences {}

/// Renders a kubeconfig with one context per endpoint; `current` must be one of their names.
pub fn render(endpoints: &[Endpoint], current: &str) -> Result<String> {
    if !endpoints.iter().any(|e| e.name == current) {
        return Err(Error::Config(format!(
            "kubeconfig: no endpoint named {current:?}"
        )));
    }
    let config = Kubeconfig {
        api_version: "v1",
        kind: "Config",
        current_context: current,
        clusters: endpoints
            .iter()
            .map(|e| Named {
                name: &e.name,
                inner: Cluster {
                    cluster: ClusterBody {
                        server: &e.server,
                        certificate_authority_data: e.ca_pem.as_ref().map(|pem| BASE64.encode(pem)),
                    },
                },
            })
            .collect(),
        users: endpoints
            .iter()
            .map(|e| Named {
                name: &e.name,
                inner: User {
                    user: UserBody { token: &e.token },
                },
            })
            .collect(),
        contexts: endpoints
            .iter()
            .map(|e| Named {
                name: &e.name,
                inner: Context {
                    context: ContextBody {
                        cluster: &e.name,
                        user: &e.name,
                        namespace: "default",
                    },
                },
            })
            .collect(),
        preferences: Preferences {},
    };
    serde_saphyr::to_string(&config).map_err(|e| Error::Config(format!("kubeconfig: {e}")))
}

/// Where the kubeconfig lives inside a data directory.
pub fn path_in(data_dir: &Path) -> PathBuf {
    data_dir.join("kubeconfig")
}

/// Writes the file readable by its owner only: it holds bearer tokens.
pub fn write(path: &Path, contents: &str) -> Result<()> {
    write_private(path, contents.as_bytes())
}

/// The bearer token kept in `<data-dir>/token`, created on first use, so that a kubeconfig
/// written by an earlier run keeps working after a restart.
pub fn token(data_dir: &Path) -> Result<String> {
    let path = data_dir.join("token");
    match std::fs::read_to_string(&path) {
        Ok(existing) if is_token(existing.trim()) => return Ok(existing.trim().to_string()),
        Ok(_) | Err(_) => {}
    }
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|e| Error::Config(format!("cannot generate a token: {e}")))?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    write_private(&path, token.as_bytes())?;
    Ok(token)
}

fn is_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    use std::io::Write;
    let io_err = |source| Error::DataDir {
        path: path.to_path_buf(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(io_err)?;
    file.write_all(contents).map_err(io_err)?;
    file.sync_all().map_err(io_err)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(name: &str, port: u16) -> Endpoint {
        Endpoint {
            name: name.into(),
            server: format!("https://127.0.0.1:{port}"),
            token: format!("t-{name}"),
            ca_pem: Some(format!("PEM of {name}")),
        }
    }

    #[test]
    fn renders_one_context_per_endpoint_with_hub_current() {
        let yaml =
            render(&[endpoint("hub", 6443), endpoint("member1", 6444)], "hub").expect("renders");
        let doc: serde_json::Value = serde_saphyr::from_str(&yaml).expect("valid YAML");
        assert_eq!(doc["apiVersion"], "v1");
        assert_eq!(doc["current-context"], "hub");
        assert_eq!(doc["clusters"][1]["name"], "member1");
        assert_eq!(
            doc["clusters"][1]["cluster"]["server"],
            "https://127.0.0.1:6444"
        );
        assert_eq!(
            doc["clusters"][1]["cluster"]["certificate-authority-data"],
            BASE64.encode("PEM of member1")
        );
        assert_eq!(doc["users"][0]["user"]["token"], "t-hub");
        assert_eq!(doc["contexts"][1]["context"]["cluster"], "member1");
        assert_eq!(doc["contexts"][1]["context"]["namespace"], "default");
    }

    #[test]
    fn an_unknown_current_context_is_an_error() {
        assert!(render(&[endpoint("hub", 1)], "nope").is_err());
    }

    #[test]
    fn token_is_created_once_and_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = token(dir.path()).expect("token");
        assert!(is_token(&first));
        assert_eq!(token(dir.path()).expect("token"), first);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join("token"))
                .expect("stat")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(dir.path().join("token"), "garbage").expect("write");
        assert_ne!(
            token(dir.path()).expect("token"),
            first,
            "an unreadable token is replaced"
        );
    }
}
