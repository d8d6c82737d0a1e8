use crate::error::AppError;
use domain::wire::BackupView;
use leptos::prelude::*;

/// An environment's backups, newest first.
#[server(prefix = "/rpc", endpoint = "backups/list")]
pub async fn list_backups(env_id: uuid::Uuid) -> Result<Vec<BackupView>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::backups::jobs::list(&ssr::platform()?, &actor, env_id).await?)
}
