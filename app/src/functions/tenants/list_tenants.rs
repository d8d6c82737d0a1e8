use crate::error::AppError;
use domain::wire::TenantSummary;
use leptos::prelude::*;

/// Tenants the signed-in user can see.
#[server(prefix = "/rpc", endpoint = "tenants/list")]
pub async fn list_tenants() -> Result<Vec<TenantSummary>, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::tenants::list(&ssr::platform()?, &actor).await?)
}
