use crate::error::AppError;
use domain::wire::PromotionView;
use leptos::prelude::*;

/// Approves a promotion (release rights, never your own); audited.
#[server(prefix = "/rpc", endpoint = "promotions/approve")]
pub async fn approve_promotion(promotion_id: uuid::Uuid) -> Result<PromotionView, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::promotions::approve(&ssr::platform()?, &actor, promotion_id).await?)
}
