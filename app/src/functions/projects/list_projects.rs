use crate::error::AppError;
use domain::wire::ProjectSummary;
use leptos::prelude::*;

/// Projects the signed-in user can see.
#[server(prefix = "/rpc", endpoint = "projects/list")]
pub async fn list_projects() -> Result<Vec<ProjectSummary>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::projects::list(&ssr::platform()?, &actor).await?)
}
