//! TLS for the hub's listener. kubectl sends bearer tokens only over HTTPS, so the hub serves
//! TLS with a certificate from fleetdeck's own small CA; the kubeconfig carries that CA.

use std::path::Path;
use std::sync::Arc;

use axum_server::tls_rustls::RustlsConfig;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::{Error, Result};

/// The CA and the hub's serving certificate, as PEM.
#[derive(Clone)]
pub struct HubTls {
    pub ca_pem: String,
    pub cert_pem: String,
    pub key_pem: String,
}

const CA: &str = "ca.crt";
const CERT: &str = "hub.crt";
const KEY: &str = "hub.key";

impl HubTls {
    /// Reuses the certificates in `dir` when all three files are there and parse, so that a
    /// kubeconfig copied elsewhere keeps working across restarts; creates them otherwise.
    pub fn load_or_create(dir: &Path) -> Result<Self> {
        if let Some(existing) = Self::load(dir) {
            return Ok(existing);
        }
        let tls = Self::generate()?;
        std::fs::create_dir_all(dir).map_err(|source| Error::DataDir {
            path: dir.to_path_buf(),
            source,
        })?;
        crate::kubeconfig::write(&dir.join(CA), &tls.ca_pem)?;
        crate::kubeconfig::write(&dir.join(CERT), &tls.cert_pem)?;
        crate::kubeconfig::write(&dir.join(KEY), &tls.key_pem)?;
        Ok(tls)
    }

    fn load(dir: &Path) -> Option<Self> {
        let read = |name| std::fs::read_to_string(dir.join(name)).ok();
        let tls = HubTls {
            ca_pem: read(CA)?,
            cert_pem: read(CERT)?,
            key_pem: read(KEY)?,
        };
        tls.server_config().ok().map(|_| tls)
    }

    /// A fresh CA (its key is not kept: a new certificate means a new CA) and a serving
    /// certificate for 127.0.0.1, ::1 and localhost.
    pub fn generate() -> Result<Self> {
        let tls_err = |e: rcgen::Error| Error::Tls(e.to_string());
        let ca_key = KeyPair::generate().map_err(tls_err)?;
        let mut ca = CertificateParams::new(Vec::<String>::new()).map_err(tls_err)?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name
            .push(DnType::CommonName, "fleetdeck hub CA");
        ca.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca_cert = ca.self_signed(&ca_key).map_err(tls_err)?;
        let issuer = Issuer::new(ca, ca_key);

        let key = KeyPair::generate().map_err(tls_err)?;
        let names = vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
            "::1".to_string(),
        ];
        let mut leaf = CertificateParams::new(names).map_err(tls_err)?;
        leaf.distinguished_name
            .push(DnType::CommonName, "fleetdeck hub");
        let cert = leaf.signed_by(&key, &issuer).map_err(tls_err)?;
        Ok(HubTls {
            ca_pem: ca_cert.pem(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    fn server_config(&self) -> Result<rustls::ServerConfig> {
        server_config(&self.cert_pem, &self.key_pem)
    }

    /// The listener's configuration.
    pub fn rustls_config(&self) -> Result<RustlsConfig> {
        Ok(RustlsConfig::from_config(Arc::new(self.server_config()?)))
    }
}

/// A rustls server configuration from a PEM certificate chain and its private key.
fn server_config(cert_pem: &str, key_pem: &str) -> Result<rustls::ServerConfig> {
    let tls_err = |e: &dyn std::fmt::Display| Error::Tls(e.to_string());
    let certs = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| tls_err(&e))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| tls_err(&e))?;
    // An explicit provider: no process-wide default to install or to collide with.
    rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(&e))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| tls_err(&e))
}

/// How long a client may take to send a request's headers, also while a kept-alive connection
/// waits for its next request; a connection that says nothing is closed (slowloris). The TLS
/// handshake has its own limit (axum-server's 10 s).
pub const HEADER_READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// An HTTPS server on `listener` whose connections must send their headers within
/// `header_timeout` (the hub's and the dashboard's).
pub fn https_server(
    listener: std::net::TcpListener,
    config: RustlsConfig,
    header_timeout: std::time::Duration,
) -> Result<axum_server::Server<std::net::SocketAddr, axum_server::tls_rustls::RustlsAcceptor>> {
    let mut server = axum_server::from_tcp_rustls(listener, config).map_err(Error::Serve)?;
    server
        .http_builder()
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_timeout);
    Ok(server)
}

/// The plain-HTTP dashboard's server, with the same header limit as [`https_server`].
pub fn http_server(
    listener: std::net::TcpListener,
    header_timeout: std::time::Duration,
) -> Result<axum_server::Server<std::net::SocketAddr>> {
    let mut server = axum_server::from_tcp(listener).map_err(Error::Serve)?;
    server
        .http_builder()
        .http1()
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(header_timeout);
    Ok(server)
}

/// The dashboard's HTTPS configuration from `--tls-cert` and `--tls-key` (PEM files), with
/// errors that name the file and what is wrong with it.
pub fn dashboard_config(cert: &Path, key: &Path) -> Result<RustlsConfig> {
    let read = |path: &Path, what: &str| {
        std::fs::read_to_string(path).map_err(|e| {
            Error::Tls(format!(
                "cannot read the dashboard's {what} {}: {e}",
                path.display()
            ))
        })
    };
    let (cert_pem, key_pem) = (read(cert, "certificate")?, read(key, "private key")?);
    let config = server_config(&cert_pem, &key_pem).map_err(|e| {
        Error::Tls(format!(
            "--tls-cert {} with --tls-key {}: {e} (both must be PEM: the certificate chain, and its unencrypted private key)",
            cert.display(),
            key.display()
        ))
    })?;
    Ok(RustlsConfig::from_config(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A TLS client of `addr` that trusts `ca_pem`, sends `request` and returns what it reads
    /// before the server closes (`None`: nothing came and the connection stayed open for 30 s).
    fn exchange(addr: std::net::SocketAddr, ca_pem: &str, request: &[u8]) -> Option<Vec<u8>> {
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(ca_pem.as_bytes()).expect("CA"))
            .expect("trusted");
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
        let conn = rustls::ClientConnection::new(Arc::new(config), name).expect("client");
        let sock = std::net::TcpStream::connect(addr).expect("connect");
        // A guard against hanging, not a timing requirement.
        sock.set_read_timeout(Some(std::time::Duration::from_secs(30)))
            .expect("timeout");
        let mut tls = rustls::StreamOwned::new(conn, sock);
        tls.write_all(request).expect("send");
        let mut got = Vec::new();
        let mut buf = [0u8; 1024];
        loop {
            match tls.read(&mut buf) {
                Ok(0) => return Some(got),
                Ok(n) => got.extend_from_slice(&buf[..n]),
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return if got.is_empty() { None } else { Some(got) };
                }
                // Closed without close_notify, or reset: closed all the same.
                Err(_) => return Some(got),
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_plain_http_dashboard_lets_a_half_sent_request_go_too() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let server = http_server(listener, std::time::Duration::from_millis(300)).expect("server");
        let router = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        tokio::spawn(server.serve(router.into_make_service()));
        let closed = tokio::task::spawn_blocking(move || {
            let mut sock = std::net::TcpStream::connect(addr).expect("connect");
            // A guard against hanging, not a timing requirement.
            sock.set_read_timeout(Some(std::time::Duration::from_secs(30)))
                .expect("timeout");
            sock.write_all(b"GET / HTTP/1.1\r\nHost: dashboard\r\n")
                .expect("send");
            let mut buf = [0u8; 256];
            match sock.read(&mut buf) {
                Ok(n) => !String::from_utf8_lossy(&buf[..n]).contains("200 OK"),
                Err(e) => !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ),
            }
        })
        .await
        .expect("client");
        assert!(closed, "the half-sent request's connection was not closed");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_client_that_never_finishes_its_headers_is_let_go() {
        let tls = HubTls::generate().expect("certificates");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let addr = listener.local_addr().expect("addr");
        let server = https_server(
            listener,
            tls.rustls_config().expect("config"),
            std::time::Duration::from_millis(300),
        )
        .expect("server");
        let router = axum::Router::new().route("/", axum::routing::get(|| async { "ok" }));
        tokio::spawn(server.serve(router.into_make_service()));
        let ca = tls.ca_pem.clone();
        let (slow, whole) = tokio::task::spawn_blocking(move || {
            (
                exchange(addr, &ca, b"GET / HTTP/1.1\r\nHost: hub\r\n"),
                exchange(
                    addr,
                    &ca,
                    b"GET / HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n",
                ),
            )
        })
        .await
        .expect("client");
        let slow = slow.expect("the unfinished request's connection was closed by the server");
        assert!(
            !String::from_utf8_lossy(&slow).contains("200 OK"),
            "no answer to an unfinished request"
        );
        let whole = String::from_utf8_lossy(&whole.expect("answered")).to_string();
        assert!(whole.starts_with("HTTP/1.1 200 OK"), "{whole}");
    }

    #[test]
    fn certificates_are_created_once_and_reused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = HubTls::load_or_create(dir.path()).expect("created");
        assert!(first.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        let again = HubTls::load_or_create(dir.path()).expect("loaded");
        assert_eq!(again.cert_pem, first.cert_pem);
        std::fs::write(dir.path().join(KEY), "not a key").expect("write");
        let replaced = HubTls::load_or_create(dir.path()).expect("regenerated");
        assert_ne!(
            replaced.cert_pem, first.cert_pem,
            "a broken key means new certificates"
        );
    }
}
