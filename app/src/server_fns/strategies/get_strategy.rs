use leptos::prelude::*;

use super::StrategyKey;
use crate::error::AppError;
use crate::fleet::views::strategy_form::StrategyDraft;

/// One strategy as the editor's form, with the `resourceVersion` an update will be made against.
#[server(prefix = "/api", endpoint = "strategies/get")]
pub async fn get_strategy(key: StrategyKey) -> Result<StrategyDraft, AppError> {
    use crate::error::respond;
    let client = crate::server_fns::ssr::hub()?;
    super::ssr::draft(&client, &key).await.map_err(respond)
}
