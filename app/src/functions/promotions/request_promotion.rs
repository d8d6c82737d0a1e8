use crate::error::AppError;
use leptos::prelude::*;

/// Asks to promote a successful staging build to production; audited.
#[server(prefix = "/rpc", endpoint = "promotions/request")]
pub async fn request_promotion(build_id: uuid::Uuid) -> Result<uuid::Uuid, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::promotions::request(&ssr::platform()?, &actor, build_id).await?)
}
