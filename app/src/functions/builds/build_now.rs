use crate::error::AppError;
use leptos::prelude::*;

/// Builds the head of an environment's branch, read from the repository (as a push would); audited.
#[server(prefix = "/rpc", endpoint = "builds/build_now")]
pub async fn build_now(env_id: uuid::Uuid) -> Result<String, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::builds::build_now::build_now(&ssr::platform()?, &actor, env_id).await?)
}
