use crate::error::AppError;
use domain::wire::PromotionView;
use leptos::prelude::*;

/// A project's promotions, newest first.
#[server(prefix = "/rpc", endpoint = "promotions/list")]
pub async fn list_promotions(project_id: uuid::Uuid) -> Result<Vec<PromotionView>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::promotions::list(&ssr::platform()?, &actor, project_id).await?)
}
