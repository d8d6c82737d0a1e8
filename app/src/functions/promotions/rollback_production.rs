use crate::error::AppError;
use leptos::prelude::*;

/// Redeploys an earlier production build, keeping the database; audited. Returns the new build.
#[server(prefix = "/rpc", endpoint = "promotions/rollback")]
pub async fn rollback_production(build_id: uuid::Uuid) -> Result<uuid::Uuid, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::promotions::rollback_to(&ssr::platform()?, &actor, build_id, None).await?)
}
