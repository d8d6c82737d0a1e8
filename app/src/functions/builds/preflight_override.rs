use crate::error::AppError;
use leptos::prelude::*;

/// Accepts a preflight warning (project admins) or waives a failure
/// (platform staff) for a build's project, with a reason; applies from the next build. Audited.
#[server(prefix = "/rpc", endpoint = "builds/preflight_override")]
pub async fn preflight_override(
    project_id: uuid::Uuid,
    gate: String,
    waive: bool,
    reason: String,
) -> Result<(), AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    let gate = domain::types::Gate::parse(&gate).map_err(domain::DomainError::from)?;
    let reason = Some(reason).filter(|r| !r.trim().is_empty());
    Ok(domain::preflight::set_override(&ssr::platform()?, &actor, project_id, gate, waive, reason.as_deref()).await?)
}
