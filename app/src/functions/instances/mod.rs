//! Tenant instances: list, one, its operations, create (tenant admins), ask
//! for an operation, and the live subdomain check of the create form.

use crate::error::AppError;
use domain::wire::{InstanceOperationView, InstanceUsage, InstanceView, PlanView};
use leptos::prelude::*;

/// Instances the signed-in user can see, newest first.
#[server(prefix = "/rpc", endpoint = "instances/list")]
pub async fn list_instances() -> Result<Vec<InstanceView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::instances::list(&ssr::platform()?, &actor, None, None, 200, 0).await?)
}

/// One instance.
#[server(prefix = "/rpc", endpoint = "instances/get")]
pub async fn get_instance(id: uuid::Uuid) -> Result<InstanceView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::instances::get(&ssr::platform()?, &actor, id).await?)
}

/// An instance's operations, newest first.
#[server(prefix = "/rpc", endpoint = "instances/operations")]
pub async fn list_instance_operations(id: uuid::Uuid) -> Result<Vec<InstanceOperationView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::instances::operations(&ssr::platform()?, &actor, id).await?)
}

/// What an instance uses of its plan, measured now.
#[server(prefix = "/rpc", endpoint = "instances/usage")]
pub async fn measure_instance_usage(id: uuid::Uuid) -> Result<InstanceUsage, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::instances::quota::usage(&ssr::platform()?, &actor, id).await?)
}

/// The plan catalog.
#[server(prefix = "/rpc", endpoint = "instances/plans")]
pub async fn list_plans() -> Result<Vec<PlanView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::instances::quota::plans(&ssr::platform()?, &actor).await?)
}

/// Whether a subdomain is valid and free (the create form asks as you type).
#[server(prefix = "/rpc", endpoint = "instances/available")]
pub async fn subdomain_available(subdomain: String) -> Result<bool, AppError> {
    use super::ssr;
    ssr::actor().await?;
    Ok(domain::instances::subdomain_available(&ssr::platform()?, &subdomain).await?)
}

/// Creates an instance in the caller's tenant and starts provisioning it; audited.
/// `modules` is a list separated by commas or spaces.
#[server(prefix = "/rpc", endpoint = "instances/create")]
pub async fn create_instance(
    name: String,
    subdomain: String,
    modules: String,
    admin_login: String,
    admin_password: String,
    tenant: Option<String>,
    plan: Option<String>,
    lang: Option<String>,
    country: Option<String>,
    timezone: Option<String>,
) -> Result<InstanceView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let input = domain::wire::NewInstance {
        tenant: tenant.filter(|t| !t.trim().is_empty()),
        name,
        subdomain,
        odoo_version: None,
        modules: crate::models::instance::parse_modules(&modules),
        plan,
        db_strategy: None,
        dedicated_required: false,
        expected_size_gb: None,
        expected_users: None,
        admin_login,
        admin_password,
        draft: false,
        lang,
        country,
        timezone,
    };
    Ok(domain::instances::create(&ssr::platform()?, &actor, input).await?)
}

/// Asks for an operation on an instance (its tenant's admins); audited.
#[server(prefix = "/rpc", endpoint = "instances/operate")]
pub async fn operate_instance(
    id: uuid::Uuid,
    kind: String,
    idempotency_key: Option<String>,
    db_strategy: Option<String>,
    bundle_id: Option<uuid::Uuid>,
) -> Result<InstanceOperationView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let input = domain::wire::OperationRequest {
        kind,
        idempotency_key,
        backup_id: None,
        admin_password: None,
        db_strategy,
        bundle_id,
    };
    Ok(domain::instances::request(&ssr::platform()?, &actor, id, input).await?)
}

/// An instance's custom domains.
#[server(prefix = "/rpc", endpoint = "instances/domains")]
pub async fn list_instance_domains(id: uuid::Uuid) -> Result<Vec<domain::wire::CustomDomainView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::instances::domains::list(&ssr::platform()?, &actor, domain::instances::domains::Owner::Instance(id))
        .await?)
}

/// Adds a custom domain to an instance (its tenant's admins); audited.
#[server(prefix = "/rpc", endpoint = "instances/domain_add")]
pub async fn add_instance_domain(id: uuid::Uuid, hostname: String) -> Result<domain::wire::CustomDomainView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let input = domain::wire::NewCustomDomain { hostname };
    Ok(domain::instances::domains::add(
        &ssr::platform()?,
        &actor,
        domain::instances::domains::Owner::Instance(id),
        input,
    )
    .await?)
}

/// Verifies a custom domain through public DNS; audited.
#[server(prefix = "/rpc", endpoint = "instances/domain_verify")]
pub async fn verify_instance_domain(
    id: uuid::Uuid,
    domain_id: uuid::Uuid,
) -> Result<domain::wire::CustomDomainView, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::instances::domains::verify(
        &ssr::platform()?,
        &actor,
        domain::instances::domains::Owner::Instance(id),
        domain_id,
    )
    .await?)
}

/// Removes a custom domain; audited.
#[server(prefix = "/rpc", endpoint = "instances/domain_remove")]
pub async fn remove_instance_domain(id: uuid::Uuid, domain_id: uuid::Uuid) -> Result<(), AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::instances::domains::remove(
        &ssr::platform()?,
        &actor,
        domain::instances::domains::Owner::Instance(id),
        domain_id,
    )
    .await?)
}

/// The members of an instance's tenant.
#[server(prefix = "/rpc", endpoint = "instances/members")]
pub async fn list_instance_members(id: uuid::Uuid) -> Result<Vec<domain::wire::InstanceMember>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::instances::members(&ssr::platform()?, &actor, id).await?)
}
