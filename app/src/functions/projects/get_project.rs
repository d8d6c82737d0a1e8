use crate::error::AppError;
use domain::wire::ProjectDetail;
use leptos::prelude::*;

/// One project with its environments and members.
#[server(prefix = "/rpc", endpoint = "projects/get")]
pub async fn get_project(tenant: String, project: String) -> Result<ProjectDetail, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::projects::detail(&ssr::platform()?, &actor, &tenant, &project).await?)
}
