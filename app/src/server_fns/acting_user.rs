use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The signed-in person the dashboard acts for: the hub authorizes every request the console
/// makes for them as this user (impersonation), and every write names them in its audit Event.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActingUser {
    pub name: String,
    /// Their groups, impersonated with them (`Impersonate-Group`).
    #[serde(default)]
    pub groups: Vec<String>,
    /// The shipped role they were added with (`fleetdeck-viewer`), shown beside their name.
    #[serde(default)]
    pub role: Option<String>,
}

impl ActingUser {
    /// "alice (fleetdeck-viewer)", or just the name.
    pub fn label(&self) -> String {
        match &self.role {
            Some(role) => format!("{} ({role})", self.name),
            None => self.name.clone(),
        }
    }
}

/// Who is signed in, for the header and the confirmations; `None` on the sign-in page.
#[server(prefix = "/api", endpoint = "whoami")]
pub async fn who_am_i() -> Result<Option<ActingUser>, AppError> {
    Ok(super::ssr::signed_in())
}
