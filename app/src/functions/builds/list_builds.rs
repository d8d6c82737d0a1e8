use crate::error::AppError;
use domain::wire::BuildView;
use leptos::prelude::*;

/// The last builds of each branch of a project.
#[server(prefix = "/rpc", endpoint = "builds/list")]
pub async fn list_builds(project_id: uuid::Uuid) -> Result<Vec<BuildView>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::builds::queue::recent_for_project(&ssr::platform()?, &actor, project_id, 5).await?)
}
