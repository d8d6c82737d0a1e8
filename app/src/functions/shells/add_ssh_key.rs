use crate::error::AppError;
use domain::wire::SshKeyView;
use leptos::prelude::*;

/// Adds an SSH public key to the caller's profile.
#[server(prefix = "/rpc", endpoint = "ssh_keys/add")]
pub async fn add_ssh_key(name: String, public_key: String) -> Result<SshKeyView, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::shell::keys::add(&ssr::platform()?, &actor, domain::wire::NewSshKey { name, public_key }).await?)
}
