//! People on a project from the project page: invite by email (or add at once
//! when they are in the tenant), pending invitations and their withdrawal,
//! role changes (`add_member`) and removal.

use crate::error::AppError;
use domain::wire::{InviteOutcome, ProjectInvitation};
use leptos::prelude::*;

/// Adds someone by email, or sends them an invitation (project admins).
#[server(prefix = "/rpc", endpoint = "projects/invite")]
pub async fn invite_member(project_id: uuid::Uuid, email: String, role: String) -> Result<InviteOutcome, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::projects::invite(&ssr::platform()?, &actor, project_id, domain::wire::NewMember { email, role }).await?)
}

/// The project's pending invitations (project admins).
#[server(prefix = "/rpc", endpoint = "projects/invitations")]
pub async fn list_project_invitations(project_id: uuid::Uuid) -> Result<Vec<ProjectInvitation>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::projects::invitations(&ssr::platform()?, &actor, project_id).await?)
}

/// Withdraws a pending invitation (project admins).
#[server(prefix = "/rpc", endpoint = "projects/revoke_invitation")]
pub async fn revoke_project_invitation(project_id: uuid::Uuid, invitation_id: uuid::Uuid) -> Result<(), AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::projects::revoke_invitation(&ssr::platform()?, &actor, project_id, invitation_id).await?)
}

/// Removes a member: their access to the project, its shells included, ends at once.
#[server(prefix = "/rpc", endpoint = "projects/remove_member")]
pub async fn remove_member(project_id: uuid::Uuid, user_id: uuid::Uuid) -> Result<(), AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::projects::remove_member(&ssr::platform()?, &actor, project_id, user_id).await?)
}

/// The project's members.
#[server(prefix = "/rpc", endpoint = "projects/members")]
pub async fn list_members(project_id: uuid::Uuid) -> Result<Vec<domain::wire::MemberView>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::projects::members(&ssr::platform()?, &actor, project_id).await?)
}
