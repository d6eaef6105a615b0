//! `--oidc-*`: the flags (and `FLEETDECK_OIDC_*` variables) that configure sign-in with an
//! OpenID Connect provider; [`super::Provider::from_args`] checks them at start.

/// `--oidc-*`: sign people in with an OpenID Connect provider. Its `Debug` hides the secret.
#[derive(Clone, clap::Args)]
pub struct OidcArgs {
    /// Sign people in with this OpenID Connect provider: its issuer URL (HTTPS; plain HTTP only
    /// on loopback), e.g. https://dex.example.com. The dashboard then offers "Sign in with …".
    #[arg(
        long = "oidc-issuer",
        id = "oidc_issuer",
        env = "FLEETDECK_OIDC_ISSUER",
        value_name = "URL"
    )]
    pub issuer: Option<String>,
    /// The client id fleetdeck is registered with at the provider (the ID token's audience).
    #[arg(
        long = "oidc-client-id",
        env = "FLEETDECK_OIDC_CLIENT_ID",
        requires = "oidc_issuer"
    )]
    pub client_id: Option<String>,
    /// The client secret, for providers that register fleetdeck as a confidential client
    /// (PKCE is used either way). Prefer the environment variable over the flag.
    #[arg(
        long = "oidc-client-secret",
        env = "FLEETDECK_OIDC_CLIENT_SECRET",
        hide_env_values = true,
        requires = "oidc_issuer"
    )]
    pub client_secret: Option<String>,
    /// The redirect URL registered with the provider; its path must be /auth/oidc/callback.
    /// Default: http://<dashboard address>/auth/oidc/callback.
    #[arg(
        long = "oidc-redirect-url",
        env = "FLEETDECK_OIDC_REDIRECT_URL",
        value_name = "URL",
        requires = "oidc_issuer"
    )]
    pub redirect_url: Option<String>,
    /// The ID-token claim whose value is the person's Kubernetes username (as kube-apiserver's
    /// --oidc-username-claim). With `email`, an address the provider marks unverified is refused.
    #[arg(
        long = "oidc-username-claim",
        env = "FLEETDECK_OIDC_USERNAME_CLAIM",
        default_value = "email"
    )]
    pub username_claim: String,
    /// Put before every username (e.g. `oidc:`), to match kube-apiserver's --oidc-username-prefix.
    #[arg(
        long = "oidc-username-prefix",
        env = "FLEETDECK_OIDC_USERNAME_PREFIX",
        default_value = ""
    )]
    pub username_prefix: String,
    /// The ID-token claim listing the person's groups (a string or a list of strings).
    #[arg(
        long = "oidc-groups-claim",
        env = "FLEETDECK_OIDC_GROUPS_CLAIM",
        default_value = "groups"
    )]
    pub groups_claim: String,
    /// Put before every group (e.g. `oidc:`), to match kube-apiserver's --oidc-groups-prefix.
    #[arg(
        long = "oidc-groups-prefix",
        env = "FLEETDECK_OIDC_GROUPS_PREFIX",
        default_value = ""
    )]
    pub groups_prefix: String,
    /// Scopes asked for besides `openid` (repeat; default `email` and `profile`); some providers
    /// need one for groups (Dex: `groups`).
    #[arg(long = "oidc-scope", env = "FLEETDECK_OIDC_SCOPES", value_delimiter = ',', default_values = ["email", "profile"])]
    pub scopes: Vec<String>,
    /// The provider's name on the sign-in button ("Sign in with <name>"). Default: the issuer's host.
    #[arg(
        long = "oidc-display-name",
        env = "FLEETDECK_OIDC_DISPLAY_NAME",
        requires = "oidc_issuer"
    )]
    pub display_name: Option<String>,
}

impl Default for OidcArgs {
    fn default() -> Self {
        OidcArgs {
            issuer: None,
            client_id: None,
            client_secret: None,
            redirect_url: None,
            username_claim: "email".into(),
            username_prefix: String::new(),
            groups_claim: "groups".into(),
            groups_prefix: String::new(),
            scopes: vec!["email".into(), "profile".into()],
            display_name: None,
        }
    }
}

impl std::fmt::Debug for OidcArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcArgs")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "<hidden>"),
            )
            .field("redirect_url", &self.redirect_url)
            .field("username_claim", &self.username_claim)
            .field("username_prefix", &self.username_prefix)
            .field("groups_claim", &self.groups_claim)
            .field("groups_prefix", &self.groups_prefix)
            .field("scopes", &self.scopes)
            .field("display_name", &self.display_name)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_client_secret_never_appears_in_debug_output() {
        let args = OidcArgs {
            client_secret: Some("s3cr3t-value".into()),
            ..OidcArgs::default()
        };
        let shown = format!("{args:?}");
        assert!(!shown.contains("s3cr3t-value"), "{shown}");
        assert!(shown.contains("<hidden>"), "{shown}");
    }
}
