use crate::error::AppError;
use leptos::prelude::*;

/// Restores a backup into an environment (a build that loads it); production
/// needs the project's name typed in `confirm`. Returns the restoring build,
/// or the request waiting for approval.
#[server(prefix = "/rpc", endpoint = "backups/restore")]
pub async fn restore_backup(
    backup_id: uuid::Uuid,
    target_env: uuid::Uuid,
    confirm: Option<String>,
) -> Result<domain::wire::RestoreQueued, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    let confirm = confirm.filter(|c| !c.trim().is_empty());
    Ok(domain::backups::restore::request(&ssr::platform()?, &actor, backup_id, target_env, confirm.as_deref()).await?)
}
