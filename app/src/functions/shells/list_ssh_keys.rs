use crate::error::AppError;
use domain::wire::SshKeyView;
use leptos::prelude::*;

/// The caller's SSH public keys.
#[server(prefix = "/rpc", endpoint = "ssh_keys/list")]
pub async fn list_ssh_keys() -> Result<Vec<SshKeyView>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::shell::keys::list(&ssr::platform()?, &actor).await?)
}
