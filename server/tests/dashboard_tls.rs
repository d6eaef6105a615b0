//! The dashboard over HTTPS (`--tls-cert` / `--tls-key`): pages and sign-in served with the given
//! certificate, the session cookie `Secure`, links and the OIDC callback on `https://`, and a
//! certificate that cannot be used refused at start naming the file.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use server::cli::ServeArgs;

const PASSWORD: &str = "correct horse battery staple";

/// A self-signed certificate for 127.0.0.1 written to `dir`: (cert path, key path, its DER).
fn certificate(dir: &std::path::Path) -> (std::path::PathBuf, std::path::PathBuf, Vec<u8>) {
    let key = rcgen::KeyPair::generate().expect("key");
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
    let cert = params.self_signed(&key).expect("certificate");
    let (cert_path, key_path) = (dir.join("dashboard.crt"), dir.join("dashboard.key"));
    std::fs::write(&cert_path, cert.pem()).expect("write cert");
    std::fs::write(&key_path, key.serialize_pem()).expect("write key");
    (cert_path, key_path, cert.der().to_vec())
}

type Https = Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

/// A client that trusts only `der`.
fn client(der: Vec<u8>) -> Https {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(der))
        .expect("root");
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only()
        .enable_http1()
        .build();
    Client::builder(TokioExecutor::new()).build(https)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_serves_https_with_secure_cookies() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, key, der) = certificate(dir.path());
    let data = dir.path().join("data");
    let running = server::serve::start(ServeArgs {
        tls_cert: Some(cert),
        tls_key: Some(key),
        ..ServeArgs::ephemeral(&data)
    })
    .await
    .expect("starts with TLS");
    let base = format!("https://{}", running.dashboard_addr);

    // What fleetdeck tells people to open says https.
    let url = std::fs::read_to_string(data.join(server::accounts::DASHBOARD_URL_FILE))
        .expect("dashboard url");
    assert_eq!(url.trim(), base);
    let link =
        std::fs::read_to_string(data.join(server::accounts::ADMIN_LINK_FILE)).expect("admin link");
    let token = link
        .trim()
        .strip_prefix(&format!("{base}/signin/setup?token="))
        .unwrap_or_else(|| panic!("the link is on https: {link}"))
        .to_string();

    let https = client(der);
    let page = https
        .get(format!("{base}/signin").parse().expect("uri"))
        .await
        .expect("the sign-in page over TLS");
    assert_eq!(page.status(), 200);

    // Setting the admin's password signs them in: the session cookie is Secure.
    let form = format!(
        "token={token}&password={p}&confirm={p}",
        p = PASSWORD.replace(' ', "+")
    );
    let req = http::Request::post(format!("{base}/auth/setup"))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("origin", &base)
        .body(Full::new(Bytes::from(form)))
        .expect("request");
    let res = https.request(req).await.expect("setup");
    assert_eq!(res.status(), 303, "{:?}", res.headers());
    let cookie = res
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .expect("a session cookie")
        .to_string();
    for attribute in ["HttpOnly", "SameSite=Strict", "Secure"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let session = cookie.split(';').next().unwrap_or_default().to_string();
    let req = http::Request::get(format!("{base}/"))
        .header("cookie", session)
        .body(Full::new(Bytes::new()))
        .expect("request");
    let res = https.request(req).await.expect("the overview");
    assert_eq!(res.status(), 200);
    let body = res.into_body().collect().await.expect("body").to_bytes();
    assert!(String::from_utf8_lossy(&body).contains("admin"));
    running.shutdown();
    running.wait().await.expect("clean shutdown");
}

#[tokio::test]
async fn a_certificate_that_cannot_be_used_is_refused_naming_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (cert, _, _) = certificate(dir.path());
    let not_a_key = dir.path().join("not-a-key.pem");
    std::fs::write(&not_a_key, "hello").expect("write");
    let refused = server::serve::start(ServeArgs {
        tls_cert: Some(cert.clone()),
        tls_key: Some(not_a_key.clone()),
        ..ServeArgs::ephemeral(&dir.path().join("data"))
    })
    .await;
    let message = match refused {
        Ok(_) => panic!("a key that is not PEM must stop fleetdeck"),
        Err(e) => e.to_string(),
    };
    assert!(
        message.starts_with(&format!(
            "cannot set up TLS: --tls-cert {} with --tls-key {}: ",
            cert.display(),
            not_a_key.display()
        )),
        "{message}"
    );
    assert!(message.contains("(both must be PEM"), "{message}");
}
