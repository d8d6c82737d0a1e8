use crate::error::AppError;
use leptos::prelude::*;

/// Deletes one caught message, or all of an environment's when `id` is absent; audited.
#[server(prefix = "/rpc", endpoint = "mails/delete")]
pub async fn delete_mails(env_id: uuid::Uuid, id: Option<uuid::Uuid>) -> Result<u64, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::mail::store::delete(&ssr::platform()?, &actor, env_id, id).await?)
}
