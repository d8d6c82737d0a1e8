use crate::error::AppError;
use leptos::prelude::*;

/// Removes one of the caller's SSH keys.
#[server(prefix = "/rpc", endpoint = "ssh_keys/remove")]
pub async fn remove_ssh_key(id: uuid::Uuid) -> Result<(), AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::shell::keys::remove(&ssr::platform()?, &actor, id).await?)
}
