use crate::error::AppError;
use leptos::prelude::*;

/// Queues the same commit again.
#[server(prefix = "/rpc", endpoint = "builds/rebuild")]
pub async fn rebuild_build(id: uuid::Uuid) -> Result<(), AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    domain::builds::queue::rebuild(&ssr::platform()?, &actor, id).await?;
    Ok(())
}
