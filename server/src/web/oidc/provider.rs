//! The identity provider as fleetdeck's OpenID Connect relying party sees it: its configuration
//! (`--oidc-*`), discovery, the authorization request (code flow with PKCE, a nonce, a state),
//! and the code exchange whose ID token is verified — signature against the provider's
//! published keys, issuer, audience, nonce, expiry — before its claims name anyone.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm,
    CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthorizationCode, ClaimsVerificationError, Client, ClientId, ClientSecret,
    CsrfToken, DiscoveryError, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, HttpRequest, IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, RequestTokenError, Scope, StandardErrorResponse, StandardTokenResponse,
    TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::claims::{ClaimMapping, ClaimRefusal, Identity};
use super::flags::OidcArgs;
use super::idp_http::{IdpHttp, IdpHttpError};
use crate::{Error, Result};

/// Where the provider sends people back to: registered with the provider as the redirect URL.
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";

/// How long discovered metadata (endpoints and signing keys) is reused when starting a sign-in;
/// the callback always fetches it afresh, so a rotated key is picked up when it matters.
const METADATA_TTL: Duration = Duration::from_secs(5 * 60);

/// Every claim of the ID token, so any of them can be the username or the groups.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(transparent)]
struct OtherClaims(Map<String, Value>);

impl AdditionalClaims for OtherClaims {}

type IdFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;

/// A client as discovery makes it: authorization endpoint set, token endpoint as discovered.
type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    StandardTokenResponse<IdFields, CoreTokenType>,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Why a sign-in with the provider did not name anyone. Each has a code the sign-in page turns
/// into words (app `ui::signin`), never the provider's own text, which a crafted link could set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The provider (discovery, keys or token endpoint) could not be reached.
    Unreachable,
    /// Discovery answered, but not with metadata for the configured issuer.
    Discovery,
    /// The provider said no at its own sign-in page (or the person cancelled).
    Denied,
    /// The callback does not belong to a sign-in this browser started here (or it took too long).
    State,
    /// The token endpoint refused the code (client id/secret, redirect URL, PKCE).
    Exchange,
    /// The token endpoint's answer had no ID token.
    NoIdToken,
    /// The ID token is not signed by a key the provider publishes.
    Signature,
    /// The ID token is for another client.
    Audience,
    /// The ID token was issued by someone else.
    Issuer,
    Expired,
    /// The ID token answers another sign-in (replay).
    Nonce,
    /// Anything else wrong with the ID token.
    Token,
    NoUsername,
    UnverifiedEmail,
}

impl Refusal {
    /// The code in `/signin?error=…`.
    pub fn code(self) -> &'static str {
        match self {
            Refusal::Unreachable => "oidc-unreachable",
            Refusal::Discovery => "oidc-discovery",
            Refusal::Denied => "oidc-denied",
            Refusal::State => "oidc-state",
            Refusal::Exchange => "oidc-exchange",
            Refusal::NoIdToken => "oidc-no-id-token",
            Refusal::Signature => "oidc-signature",
            Refusal::Audience => "oidc-audience",
            Refusal::Issuer => "oidc-issuer",
            Refusal::Expired => "oidc-expired",
            Refusal::Nonce => "oidc-nonce",
            Refusal::Token => "oidc-token",
            Refusal::NoUsername => "oidc-username",
            Refusal::UnverifiedEmail => "oidc-email",
        }
    }
}

/// A sign-in sent to the provider: where to send the browser, and what the callback checks.
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// The configured provider.
pub struct Provider {
    issuer: IssuerUrl,
    client_id: ClientId,
    client_secret: Option<ClientSecret>,
    redirect: RedirectUrl,
    scopes: Vec<String>,
    mapping: ClaimMapping,
    /// The name on the sign-in button.
    pub display_name: String,
    http: IdpHttp,
    metadata: tokio::sync::Mutex<Option<(Instant, CoreProviderMetadata)>>,
}

impl Provider {
    /// The provider of `args`, if an issuer is given; `dashboard` is where the dashboard listens
    /// (the default redirect URL's host). Checked here, so a wrong flag stops fleetdeck at start.
    pub fn from_args(
        args: &OidcArgs,
        dashboard: SocketAddr,
        https: bool,
    ) -> Result<Option<Provider>> {
        let Some(issuer) = &args.issuer else {
            return Ok(None);
        };
        let fail = |what: String| Error::Config(what);
        let issuer = IssuerUrl::new(issuer.trim_end_matches('/').to_string())
            .map_err(|e| fail(format!("--oidc-issuer {issuer:?} is not a URL: {e}")))?;
        let issuer_url = issuer.url();
        if issuer_url.scheme() != "https" && !is_loopback(issuer_url) {
            return Err(fail(format!(
                "--oidc-issuer {} must use https (plain http is accepted on loopback only, for testing)",
                issuer.as_str()
            )));
        }
        let client_id = args
            .client_id
            .clone()
            .filter(|c| !c.is_empty())
            .ok_or_else(|| fail("--oidc-issuer needs --oidc-client-id: the client id fleetdeck is registered with at the provider".into()))?;
        let redirect = args.redirect_url.clone().unwrap_or_else(|| {
            format!(
                "{}://{}{CALLBACK_PATH}",
                if https { "https" } else { "http" },
                crate::serve::reachable(dashboard)
            )
        });
        let redirect = RedirectUrl::new(redirect.clone()).map_err(|e| {
            fail(format!(
                "--oidc-redirect-url {redirect:?} is not a URL: {e}"
            ))
        })?;
        if redirect.url().path() != CALLBACK_PATH {
            return Err(fail(format!(
                "--oidc-redirect-url {} must end in {CALLBACK_PATH}, where fleetdeck receives the provider's answer",
                redirect.as_str()
            )));
        }
        let display_name = args
            .display_name
            .clone()
            .unwrap_or_else(|| issuer_url.host_str().unwrap_or(issuer.as_str()).to_string());
        let http = IdpHttp::new().map_err(|e| {
            fail(format!(
                "cannot load the system's TLS roots for --oidc-issuer: {e}"
            ))
        })?;
        Ok(Some(Provider {
            issuer,
            client_id: ClientId::new(client_id),
            client_secret: args
                .client_secret
                .clone()
                .filter(|s| !s.is_empty())
                .map(ClientSecret::new),
            redirect,
            scopes: args
                .scopes
                .iter()
                .filter(|s| !s.is_empty() && s.as_str() != "openid")
                .cloned()
                .collect(),
            mapping: ClaimMapping {
                username_claim: args.username_claim.clone(),
                username_prefix: args.username_prefix.clone(),
                groups_claim: args.groups_claim.clone(),
                groups_prefix: args.groups_prefix.clone(),
            },
            display_name,
            http,
            metadata: tokio::sync::Mutex::new(None),
        }))
    }

    /// Whether the redirect URL is HTTPS (then the flow's cookie is `Secure`).
    pub fn redirect_is_https(&self) -> bool {
        self.redirect.url().scheme() == "https"
    }

    /// The authorization request: a fresh state, nonce and PKCE pair, and the provider's URL.
    pub async fn authorize(&self) -> Result<Authorization, Refusal> {
        let client = self.client(false).await?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client.authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        );
        for scope in &self.scopes {
            request = request.add_scope(Scope::new(scope.clone()));
        }
        let (url, state, nonce) = request.set_pkce_challenge(challenge).url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code (with the PKCE verifier), verifies the ID token against the nonce the
    /// sign-in started with, and names the person its claims say.
    pub async fn sign_in(
        &self,
        code: String,
        nonce: &str,
        pkce_verifier: String,
    ) -> Result<Identity, Refusal> {
        let client = self.client(true).await?;
        let http = self.http.clone();
        let call = move |request: HttpRequest| {
            let http = http.clone();
            async move { http.send(request).await }
        };
        let token = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|error| {
                tracing::warn!(%error, "the identity provider publishes no token endpoint");
                Refusal::Discovery
            })?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier))
            .request_async(&call)
            .await
            .map_err(exchange_refusal)?;
        let id_token = token.id_token().ok_or_else(|| {
            tracing::warn!("the identity provider's token answer has no ID token");
            Refusal::NoIdToken
        })?;
        let verifier = client.id_token_verifier();
        let claims = id_token
            .claims(&verifier, &Nonce::new(nonce.to_string()))
            .map_err(verification_refusal)?;
        let claims = match serde_json::to_value(claims) {
            Ok(Value::Object(map)) => map,
            _ => return Err(Refusal::Token),
        };
        self.mapping.identity(&claims).map_err(|refusal| {
            tracing::warn!(claim = %self.mapping.username_claim, ?refusal, "the ID token names nobody");
            match refusal {
                ClaimRefusal::NoUsername => Refusal::NoUsername,
                ClaimRefusal::UnverifiedEmail => Refusal::UnverifiedEmail,
            }
        })
    }

    /// A client from the provider's metadata: discovered afresh if `fresh` or when the cached
    /// copy is older than [`METADATA_TTL`].
    async fn client(&self, fresh: bool) -> Result<OidcClient, Refusal> {
        let mut cached = self.metadata.lock().await;
        let reusable = cached
            .as_ref()
            .filter(|(at, _)| !fresh && at.elapsed() < METADATA_TTL)
            .map(|(_, m)| m.clone());
        let metadata = match reusable {
            Some(m) => m,
            None => {
                let http = self.http.clone();
                let call = move |request: HttpRequest| {
                    let http = http.clone();
                    async move { http.send(request).await }
                };
                let m = CoreProviderMetadata::discover_async(self.issuer.clone(), &call)
                    .await
                    .map_err(|e| discovery_refusal(&self.issuer, e))?;
                *cached = Some((Instant::now(), m.clone()));
                m
            }
        };
        drop(cached);
        Ok(OidcClient::from_provider_metadata(
            metadata,
            self.client_id.clone(),
            self.client_secret.clone(),
        )
        .set_redirect_uri(self.redirect.clone()))
    }
}

fn is_loopback(url: &openidconnect::url::Url) -> bool {
    match url.host() {
        Some(openidconnect::url::Host::Domain(d)) => d == "localhost",
        Some(openidconnect::url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(openidconnect::url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

fn discovery_refusal(issuer: &IssuerUrl, error: DiscoveryError<IdpHttpError>) -> Refusal {
    tracing::warn!(issuer = %issuer.as_str(), error = %error_chain(&error), "OpenID Connect discovery failed");
    match error {
        DiscoveryError::Request(_) => Refusal::Unreachable,
        _ => Refusal::Discovery,
    }
}

fn exchange_refusal(
    error: RequestTokenError<IdpHttpError, StandardErrorResponse<CoreErrorResponseType>>,
) -> Refusal {
    tracing::warn!(error = %error_chain(&error), "the identity provider's token endpoint refused the code");
    match error {
        RequestTokenError::Request(_) => Refusal::Unreachable,
        _ => Refusal::Exchange,
    }
}

fn verification_refusal(error: ClaimsVerificationError) -> Refusal {
    tracing::warn!(%error, "the identity provider's ID token is refused");
    match error {
        ClaimsVerificationError::SignatureVerification(_) => Refusal::Signature,
        ClaimsVerificationError::InvalidAudience(_) => Refusal::Audience,
        ClaimsVerificationError::InvalidIssuer(_) => Refusal::Issuer,
        ClaimsVerificationError::Expired(_) => Refusal::Expired,
        ClaimsVerificationError::InvalidNonce(_) => Refusal::Nonce,
        _ => Refusal::Token,
    }
}

/// An error with its sources, for the log.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(issuer: &str) -> OidcArgs {
        OidcArgs {
            issuer: Some(issuer.into()),
            client_id: Some("fleetdeck".into()),
            ..OidcArgs::default()
        }
    }

    fn refusal(args: &OidcArgs) -> String {
        match Provider::from_args(args, "127.0.0.1:3000".parse().expect("addr"), false) {
            Err(e) => e.to_string(),
            Ok(_) => panic!("accepted {args:?}"),
        }
    }

    #[test]
    fn a_configured_provider_defaults_its_redirect_url_and_button_to_what_it_knows() {
        let dashboard = "0.0.0.0:8080".parse().expect("addr");
        let provider = Provider::from_args(&args("https://dex.example.com/"), dashboard, false)
            .expect("valid")
            .expect("configured");
        assert_eq!(
            provider.redirect.as_str(),
            "http://127.0.0.1:8080/auth/oidc/callback"
        );
        // A dashboard served over HTTPS (--tls-cert) is called back over HTTPS.
        let https = Provider::from_args(&args("https://dex.example.com/"), dashboard, true)
            .expect("valid")
            .expect("configured");
        assert_eq!(
            https.redirect.as_str(),
            "https://127.0.0.1:8080/auth/oidc/callback"
        );
        assert_eq!(provider.display_name, "dex.example.com");
        assert_eq!(provider.issuer.as_str(), "https://dex.example.com");
        assert_eq!(provider.scopes, vec!["email", "profile"]);
        assert!(Provider::from_args(&OidcArgs::default(), dashboard, false)
            .expect("no flags, no provider")
            .is_none());
    }

    #[test]
    fn flags_that_cannot_work_stop_fleetdeck_at_start_naming_the_flag() {
        assert!(refusal(&args("http://dex.example.com"))
            .contains("--oidc-issuer http://dex.example.com must use https"));
        let mut no_client = args("https://dex.example.com");
        no_client.client_id = None;
        assert!(refusal(&no_client).contains("needs --oidc-client-id"));
        let mut elsewhere = args("https://dex.example.com");
        elsewhere.redirect_url = Some("https://fleet.example.com/callback".into());
        assert!(refusal(&elsewhere).contains("must end in /auth/oidc/callback"));
        // Plain HTTP on loopback is a test or a local provider: accepted.
        assert!(Provider::from_args(
            &args("http://127.0.0.1:5556"),
            "127.0.0.1:3000".parse().expect("addr"),
            false
        )
        .is_ok());
    }

    #[test]
    fn each_refusal_has_its_own_code() {
        let all = [
            Refusal::Unreachable,
            Refusal::Discovery,
            Refusal::Denied,
            Refusal::State,
            Refusal::Exchange,
            Refusal::NoIdToken,
            Refusal::Signature,
            Refusal::Audience,
            Refusal::Issuer,
            Refusal::Expired,
            Refusal::Nonce,
            Refusal::Token,
            Refusal::NoUsername,
            Refusal::UnverifiedEmail,
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(|r| r.code()).collect();
        assert_eq!(codes.len(), all.len());
        for code in codes {
            assert!(
                app::ui::signin::sign_in_message(code, None).is_some(),
                "the sign-in page has words for {code}"
            );
        }
    }
}
