use crate::error::AppError;
use domain::wire::BuildDetail;
use leptos::prelude::*;

/// One build, and what the caller may do with it.
#[server(prefix = "/rpc", endpoint = "builds/get")]
pub async fn get_build(id: uuid::Uuid) -> Result<BuildDetail, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::builds::queue::detail(&ssr::platform()?, &actor, id).await?)
}
