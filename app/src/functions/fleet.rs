//! The platform team's fleet views: tenants with their status and plan, the
//! operations timeline, subscriptions.

use crate::error::AppError;
use domain::wire::{FleetOperation, FleetTenant, SubscriptionView};
use leptos::prelude::*;

/// Every tenant the caller sees, with status, plan, region, groups and instances.
#[server(prefix = "/rpc", endpoint = "fleet/tenants")]
pub async fn fleet_tenants() -> Result<Vec<FleetTenant>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::fleet::tenants(&ssr::platform()?, &actor).await?)
}

/// A page of instance operations, newest first.
#[server(prefix = "/rpc", endpoint = "fleet/operations")]
pub async fn fleet_operations(offset: i64) -> Result<Vec<FleetOperation>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::fleet::operations(&ssr::platform()?, &actor, 21, offset).await?)
}

/// What the fleet reserves and stores against the runtime's capacity (staff and auditors).
#[server(prefix = "/rpc", endpoint = "fleet/capacity")]
pub async fn fleet_capacity() -> Result<domain::wire::FleetCapacity, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::fleet::capacity(&ssr::platform()?, &actor).await?)
}

/// The subscriptions the caller sees.
#[server(prefix = "/rpc", endpoint = "fleet/subscriptions")]
pub async fn subscriptions() -> Result<Vec<SubscriptionView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::fleet::subscriptions(&ssr::platform()?, &actor).await?)
}

/// One tenant's page.
#[server(prefix = "/rpc", endpoint = "fleet/tenant")]
pub async fn get_fleet_tenant(slug: String) -> Result<domain::wire::TenantDetail, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::fleet::tenant(&ssr::platform()?, &actor, &slug).await?)
}

/// The recommendations console's findings.
#[server(prefix = "/rpc", endpoint = "fleet/findings")]
pub async fn fleet_findings() -> Result<Vec<domain::types::Finding>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::fleet::findings(&ssr::platform()?, &actor).await?)
}

/// The tenants' single sign-on configurations.
#[server(prefix = "/rpc", endpoint = "fleet/sso")]
pub async fn sso_configs() -> Result<Vec<domain::wire::SsoConfigView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::fleet::sso_configs(&ssr::platform()?, &actor).await?)
}

/// Plan changes the caller sees.
#[server(prefix = "/rpc", endpoint = "billing/plan_changes")]
pub async fn plan_changes() -> Result<Vec<domain::wire::PlanChangeView>, AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    Ok(domain::plan_changes::list(&ssr::platform()?, &actor).await?)
}

/// Proposes a plan for a tenant (finance and platform owners). Audited.
#[server(prefix = "/rpc", endpoint = "billing/propose")]
pub async fn propose_plan_change(tenant: String, to_plan: String, reason: String) -> Result<(), AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    let input = domain::wire::NewPlanChange { tenant, to_plan, reason };
    domain::plan_changes::propose(&ssr::platform()?, &actor, input).await?;
    Ok(())
}

/// Approves or rejects a proposal (platform owners). Audited.
#[server(prefix = "/rpc", endpoint = "billing/decide")]
pub async fn decide_plan_change(id: uuid::Uuid, approve: bool) -> Result<(), AppError> {
    use super::ssr;
    let actor = ssr::actor().await?;
    domain::plan_changes::decide(&ssr::platform()?, &actor, id, domain::wire::PlanChangeDecision { approve }).await?;
    Ok(())
}
