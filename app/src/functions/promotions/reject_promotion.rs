use crate::error::AppError;
use domain::wire::PromotionView;
use leptos::prelude::*;

/// Rejects a promotion waiting for approval; audited.
#[server(prefix = "/rpc", endpoint = "promotions/reject")]
pub async fn reject_promotion(promotion_id: uuid::Uuid, reason: Option<String>) -> Result<PromotionView, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::promotions::reject(&ssr::platform()?, &actor, promotion_id, reason.as_deref()).await?)
}
