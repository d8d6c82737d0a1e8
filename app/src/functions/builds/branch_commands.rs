use crate::error::AppError;
use leptos::prelude::*;

/// Creates branch `branch` in the repository at an environment's head and builds it; audited.
#[server(prefix = "/rpc", endpoint = "builds/fork_branch")]
pub async fn fork_branch(env_id: uuid::Uuid, branch: String) -> Result<String, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    let name = domain::types::BranchName::parse(branch.trim()).map_err(domain::error::DomainError::from)?;
    Ok(domain::builds::branches::fork(&ssr::platform()?, &actor, env_id, &name).await?)
}

/// Deletes an environment's branch from the repository and tears its builds down; audited.
#[server(prefix = "/rpc", endpoint = "builds/delete_branch")]
pub async fn delete_branch(env_id: uuid::Uuid) -> Result<String, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::builds::branches::delete(&ssr::platform()?, &actor, env_id).await?)
}

/// A branch's History: its builds and what was done to it.
#[server(prefix = "/rpc", endpoint = "builds/branch_history")]
pub async fn branch_history(env_id: uuid::Uuid) -> Result<domain::wire::BranchHistory, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::builds::branches::history(&ssr::platform()?, &actor, env_id, 30).await?)
}
