use crate::error::AppError;
use domain::wire::BackupsContext;
use leptos::prelude::*;

/// The environment, its project, and where its backups may be restored.
#[server(prefix = "/rpc", endpoint = "backups/context")]
pub async fn environment_backups_context(env_id: uuid::Uuid) -> Result<BackupsContext, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::backups::jobs::context(&ssr::platform()?, &actor, env_id).await?)
}
