use crate::error::AppError;
use leptos::prelude::*;

/// Redeploys an earlier production build, keeping the database or restoring
/// `restore_backup` (a backup id, or empty); audited. Returns the new build.
#[server(prefix = "/rpc", endpoint = "promotions/rollback")]
pub async fn rollback_production(build_id: uuid::Uuid, restore_backup: String) -> Result<uuid::Uuid, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    let backup = match restore_backup.trim() {
        "" => None,
        b => Some(b.parse::<uuid::Uuid>().map_err(|_| domain::DomainError::Invalid("not a backup id".into()))?),
    };
    Ok(domain::promotions::rollback_to(&ssr::platform()?, &actor, build_id, backup).await?)
}
