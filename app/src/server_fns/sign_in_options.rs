use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the sign-in page offers besides names and passwords.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInOptions {
    /// The OpenID Connect provider's name, when people may sign in with it ("Sign in with …").
    pub identity_provider: Option<String>,
    /// Whether people may sign in by pasting their own Kubernetes bearer token (a real hub).
    #[serde(default)]
    pub bearer_token: bool,
}

/// Public (the sign-in page needs it before anyone is signed in); it tells no fleet data.
#[server(prefix = "/api", endpoint = "sign_in_options")]
pub async fn get_sign_in_options() -> Result<SignInOptions, AppError> {
    Ok(use_context::<SignInOptions>().unwrap_or_default())
}
