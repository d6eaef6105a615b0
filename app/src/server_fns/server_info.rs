use chrono::{DateTime, Utc};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the dashboard shows about the server it talks to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServerInfo {
    pub version: String,
    pub started_at: DateTime<Utc>,
    /// How the server runs: `embedded` (own hub and simulated members) or `hub` (a real cluster).
    pub mode: String,
}

#[server(prefix = "/api", endpoint = "server_info")]
pub async fn get_server_info() -> Result<ServerInfo, AppError> {
    use_context::<ServerInfo>().ok_or_else(|| {
        crate::error::respond(AppError::Unavailable(
            "server information was not provided".into(),
        ))
    })
}
