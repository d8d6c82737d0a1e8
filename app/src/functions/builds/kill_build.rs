use crate::error::AppError;
use leptos::prelude::*;

/// Stops a pending or running build.
#[server(prefix = "/rpc", endpoint = "builds/kill")]
pub async fn kill_build(id: uuid::Uuid) -> Result<(), AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::builds::queue::kill(&ssr::platform()?, &actor, id).await?)
}
