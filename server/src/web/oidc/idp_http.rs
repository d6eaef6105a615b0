//! The HTTP client fleetdeck talks to the identity provider with (discovery, keys, token
//! endpoint): hyper over rustls with the system's roots, no redirects followed (openidconnect's
//! advice against SSRF: a provider's answer must not send fleetdeck elsewhere), and a timeout so
//! a provider that hangs fails the sign-in instead of holding it.

use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use openidconnect::{HttpRequest, HttpResponse};

/// How long one request to the identity provider may take.
const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct IdpHttp {
    client: Client<HttpsConnector<HttpConnector>, Full<bytes::Bytes>>,
}

/// A request to the identity provider that got no answer.
#[derive(Debug, thiserror::Error)]
pub enum IdpHttpError {
    #[error("{0}")]
    Transport(String),
    #[error("no answer within {} seconds", TIMEOUT.as_secs())]
    Timeout,
}

impl IdpHttp {
    pub fn new() -> std::io::Result<IdpHttp> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::ring::default_provider())?
            // Plain HTTP only reaches a loopback provider: the configuration refuses others.
            .https_or_http()
            .enable_http1()
            .build();
        Ok(IdpHttp {
            client: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, IdpHttpError> {
        let (parts, body) = request.into_parts();
        let request = http::Request::from_parts(parts, Full::new(bytes::Bytes::from(body)));
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| IdpHttpError::Transport(e.to_string()))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| IdpHttpError::Transport(e.to_string()))?
                .to_bytes();
            Ok(http::Response::from_parts(parts, body.to_vec()))
        };
        tokio::time::timeout(TIMEOUT, exchange)
            .await
            .map_err(|_| IdpHttpError::Timeout)?
    }
}
