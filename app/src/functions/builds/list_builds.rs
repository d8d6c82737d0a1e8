use crate::error::AppError;
use domain::wire::GridPage;
use leptos::prelude::*;

/// One page of the project's grid: twenty branches with their newest builds.
#[server(prefix = "/rpc", endpoint = "builds/list")]
pub async fn project_grid(project_id: uuid::Uuid, page: u32) -> Result<GridPage, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    let which = domain::builds::grid::PageQuery { page: Some(page), per_page: None };
    Ok(domain::builds::grid::page(&ssr::platform()?, &actor, project_id, which).await?)
}
