//! Platform roles: who holds one, and granting or withdrawing them (owners).

use crate::error::AppError;
use domain::wire::PlatformMember;
use leptos::prelude::*;

/// The people with a platform role.
#[server(prefix = "/rpc", endpoint = "platform/roles")]
pub async fn platform_roles() -> Result<Vec<PlatformMember>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::platform_roles::list(&ssr::platform()?, &actor).await?)
}

/// Grants `role` to the account with `email` (empty role: withdraws it). Owners only; audited.
#[server(prefix = "/rpc", endpoint = "platform/set_role")]
pub async fn set_platform_role(email: String, role: String) -> Result<(), AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::platform_roles::set(&ssr::platform()?, &actor, &email, Some(role.as_str())).await?)
}
