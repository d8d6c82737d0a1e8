use crate::error::AppError;
use domain::wire::TenantSummary;
use leptos::prelude::*;

/// Creates a tenant (platform owners and operators).
#[server(prefix = "/rpc", endpoint = "tenants/create")]
pub async fn create_tenant(name: String, slug: Option<String>) -> Result<TenantSummary, AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::tenants::create(&ssr::platform()?, &actor, domain::wire::NewTenant { name, slug }).await?)
}
