use crate::error::AppError;
use domain::wire::RestoreApprovalView;
use leptos::prelude::*;

/// A project's production restores waiting for approval, and recent decisions.
#[server(prefix = "/rpc", endpoint = "backups/restore_requests")]
pub async fn list_restore_requests(project_id: uuid::Uuid) -> Result<Vec<RestoreApprovalView>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::backups::approvals::list(&ssr::platform()?, &actor, project_id).await?)
}

/// Approves a production restore (release rights, never your own); the restore starts. Audited.
#[server(prefix = "/rpc", endpoint = "backups/approve_restore")]
pub async fn approve_restore(request_id: uuid::Uuid) -> Result<RestoreApprovalView, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::backups::approvals::approve(&ssr::platform()?, &actor, request_id).await?)
}

/// Rejects (or, as its requester, withdraws) a production restore; audited.
#[server(prefix = "/rpc", endpoint = "backups/reject_restore")]
pub async fn reject_restore(request_id: uuid::Uuid, reason: Option<String>) -> Result<RestoreApprovalView, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::backups::approvals::reject(&ssr::platform()?, &actor, request_id, reason.as_deref()).await?)
}
