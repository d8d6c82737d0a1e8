use crate::error::AppError;
use domain::wire::MemberView;
use leptos::prelude::*;

/// Adds a tenant member to a project with a role (project admins only).
#[server(prefix = "/rpc", endpoint = "projects/add_member")]
pub async fn add_member(project_id: uuid::Uuid, email: String, role: String) -> Result<MemberView, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::projects::add_member(&ssr::platform()?, &actor, project_id, domain::wire::NewMember { email, role })
        .await?)
}
