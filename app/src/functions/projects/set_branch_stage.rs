use crate::error::AppError;
use domain::wire::EnvironmentView;
use leptos::prelude::*;

/// Moves a branch between development and staging (project admins); audited.
#[server(prefix = "/rpc", endpoint = "projects/set_stage")]
pub async fn set_branch_stage(env_id: uuid::Uuid, stage: String) -> Result<EnvironmentView, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::projects::set_stage(&ssr::platform()?, &actor, env_id, &stage).await?)
}
