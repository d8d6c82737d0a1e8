use crate::error::AppError;
use leptos::prelude::*;

/// A share link to a live build's preview, valid for a day: for testers
/// without an OdooOps account.
#[server(prefix = "/rpc", endpoint = "builds/share")]
pub async fn share_build(id: uuid::Uuid) -> Result<String, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::builds::preview::share_link(&ssr::platform()?, &actor, id, 24).await?)
}
