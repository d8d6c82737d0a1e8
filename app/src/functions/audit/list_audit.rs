use crate::error::AppError;
use domain::wire::AuditEventView;
use leptos::prelude::*;

/// The audit events the user may read, filtered by actor (part of an email),
/// action (a prefix), project (an id) and a date range (`YYYY-MM-DD`, UTC, both inclusive).
#[server(prefix = "/rpc", endpoint = "audit/list")]
pub async fn list_audit(
    actor: String,
    action: String,
    project: String,
    from: String,
    to: String,
) -> Result<Vec<AuditEventView>, AppError> {
    use super::super::ssr;
    let who = ssr::actor().await?;
    let filter =
        crate::models::audit::filter(&actor, &action, &project, &from, &to).map_err(domain::DomainError::Invalid)?;
    Ok(domain::audit::search(&ssr::platform()?, &who, &filter).await?)
}
