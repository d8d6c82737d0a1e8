use crate::error::AppError;
use domain::wire::AuditEventView;
use leptos::prelude::*;

/// The latest audit events the user may read.
#[server(prefix = "/rpc", endpoint = "audit/list")]
pub async fn list_audit() -> Result<Vec<AuditEventView>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::audit::list(&ssr::platform()?, &actor, 200).await?)
}
