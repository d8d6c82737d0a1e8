use crate::error::AppError;
use domain::wire::BuildView;
use leptos::prelude::*;

/// One build.
#[server(prefix = "/rpc", endpoint = "builds/get")]
pub async fn get_build(id: uuid::Uuid) -> Result<BuildView, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::builds::queue::get(&ssr::platform()?, &actor, id).await?)
}
