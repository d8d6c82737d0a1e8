use crate::error::AppError;
use leptos::prelude::*;

/// Restores a backup into an environment (a build that loads it); production
/// needs the project's name typed in `confirm`. Returns the restoring build.
#[server(prefix = "/rpc", endpoint = "backups/restore")]
pub async fn restore_backup(
    backup_id: uuid::Uuid,
    target_env: uuid::Uuid,
    confirm: Option<String>,
) -> Result<uuid::Uuid, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    let confirm = confirm.filter(|c| !c.trim().is_empty());
    Ok(domain::backups::restore::request(&ssr::platform()?, &actor, backup_id, target_env, confirm.as_deref()).await?)
}
