use crate::error::AppError;
use domain::wire::ShellSessionView;
use leptos::prelude::*;

/// Shell sessions on a build that the caller may read.
#[server(prefix = "/rpc", endpoint = "shells/list")]
pub async fn list_shells(build_id: uuid::Uuid) -> Result<Vec<ShellSessionView>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::shell::sessions::list_for_build(&ssr::platform()?, &actor, build_id).await?)
}
