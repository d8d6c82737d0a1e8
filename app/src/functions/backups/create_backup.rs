use crate::error::AppError;
use leptos::prelude::*;

/// Takes a manual backup now (production and staging; five a day); audited.
#[server(prefix = "/rpc", endpoint = "backups/create")]
pub async fn create_backup(env_id: uuid::Uuid) -> Result<uuid::Uuid, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::backups::jobs::request(&ssr::platform()?, &actor, env_id).await?)
}
