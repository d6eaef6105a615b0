use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What the plan preview plans over: the member clusters with their labels, and each placement's
/// scheduled clusters. Loaded once per editor; the browser recomputes the plan as the form
/// changes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewContext {
    pub members: Vec<PreviewMember>,
    pub placements: Vec<PreviewPlacement>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewMember {
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviewPlacement {
    /// Empty for a ClusterResourcePlacement.
    pub namespace: String,
    pub name: String,
    /// The clusters a run would roll out to: targets of bindings that are not `Unscheduled`.
    pub scheduled: Vec<String>,
}

#[server(prefix = "/api", endpoint = "strategies/preview-context")]
pub async fn strategy_preview_context() -> Result<PreviewContext, AppError> {
    use crate::error::respond;
    let client = crate::server_fns::ssr::hub()?;
    super::ssr::preview_context(&client).await.map_err(respond)
}
