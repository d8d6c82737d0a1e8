use crate::error::AppError;
use leptos::prelude::*;

/// Invites an email address into a tenant as `member` or `tenant_admin`
/// (tenant admins); the same answer whether or not the address has an account.
#[server(prefix = "/rpc", endpoint = "tenants/invite")]
pub async fn invite_member(tenant_id: uuid::Uuid, email: String, role: String) -> Result<(), AppError> {
    use super::super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::tenants::invite(&ssr::platform()?, &actor, tenant_id, domain::wire::NewMember { email, role }).await?)
}
