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

/// The platform's run-time settings.
#[server(prefix = "/rpc", endpoint = "platform/settings")]
pub async fn platform_settings() -> Result<domain::wire::PlatformSettingsView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::platform_settings::get(&ssr::platform()?, &actor).await?)
}

/// Changes the platform's settings (owners). Audited.
#[server(prefix = "/rpc", endpoint = "platform/save_settings")]
pub async fn save_platform_settings(
    signup_open: Option<String>,
    instances_per_tenant: i64,
    /// Comma- or space-separated extension names.
    preflight_extensions: String,
    preflight_objects_warn: i64,
    preflight_objects_fail: i64,
) -> Result<(), AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let input = domain::wire::PlatformSettingsInput {
        signup_open: Some(signup_open.is_some()),
        instances_per_tenant: Some(instances_per_tenant),
        preflight_extensions: Some(crate::models::word_list(&preflight_extensions)),
        preflight_objects_warn: Some(preflight_objects_warn),
        preflight_objects_fail: Some(preflight_objects_fail),
    };
    domain::platform_settings::set(&ssr::platform()?, &actor, input).await?;
    Ok(())
}
