use crate::error::AppError;
use leptos::prelude::*;

/// Revokes one of the user's tokens.
#[server(prefix = "/rpc", endpoint = "tokens/revoke")]
pub async fn revoke_token(id: uuid::Uuid) -> Result<(), AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::accounts::revoke_token(&ssr::platform()?, &actor, id).await?)
}
