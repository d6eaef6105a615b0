use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The person the dashboard acts for: every write names them in its audit Event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActingUser {
    pub name: String,
}

impl ActingUser {
    /// The embedded mode's single local operator, until sign-in exists.
    pub fn local_operator() -> Self {
        ActingUser {
            name: "local-operator".into(),
        }
    }
}

/// Who the dashboard acts as, for the header and the confirmations.
#[server(prefix = "/api", endpoint = "whoami")]
pub async fn who_am_i() -> Result<ActingUser, AppError> {
    super::ssr::acting_user()
}
