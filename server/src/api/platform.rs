//! The platform's own REST: who holds a platform role (owners grant them),
//! and billing's subscriptions. Thin edges over `domain::platform_roles` and
//! `domain::fleet`.

use super::error::ApiError;
use super::extract::{ApiActor, Json};
use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::wire::{PlatformMember, PlatformRoleGrant, SubscriptionView};

/// The people with a platform role (platform staff and auditors).
#[utoipa::path(get, path = "/api/v1/platform/roles", tag = "system",
    responses((status = 200, body = Vec<PlatformMember>), (status = 403, body = domain::wire::ApiErrorBody)))]
pub async fn list_roles(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<PlatformMember>>, ApiError> {
    Ok(axum::Json(domain::platform_roles::list(&s.platform, &actor).await?))
}

/// Grants a platform role to an account, or withdraws it (`role` left out). Owners only.
#[utoipa::path(put, path = "/api/v1/platform/roles", tag = "system", request_body = PlatformRoleGrant,
    responses((status = 204), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody),
        (status = 409, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn set_role(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(g): Json<PlatformRoleGrant>,
) -> Result<StatusCode, ApiError> {
    domain::platform_roles::set(&s.platform, &actor, &g.email, g.role.as_deref()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The subscriptions the caller sees: every tenant's for staff, auditors and finance; their own for others.
#[utoipa::path(get, path = "/api/v1/billing/subscriptions", tag = "system",
    responses((status = 200, body = Vec<SubscriptionView>)))]
pub async fn subscriptions(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<SubscriptionView>>, ApiError> {
    Ok(axum::Json(domain::fleet::subscriptions(&s.platform, &actor).await?))
}

/// Every tenant the caller sees, with status, plan, region, groups and instances.
#[utoipa::path(get, path = "/api/v1/fleet/tenants", tag = "tenants", responses((status = 200, body = Vec<domain::wire::FleetTenant>)))]
pub async fn fleet_tenants(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<domain::wire::FleetTenant>>, ApiError> {
    Ok(axum::Json(domain::fleet::tenants(&s.platform, &actor).await?))
}

/// One tenant with its instances, members, subscription, SSO and last 7 days of audit events.
#[utoipa::path(get, path = "/api/v1/fleet/tenants/{slug}", tag = "tenants", params(("slug" = String, Path)),
    responses((status = 200, body = domain::wire::TenantDetail), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn fleet_tenant(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    super::extract::Path(slug): super::extract::Path<String>,
) -> Result<axum::Json<domain::wire::TenantDetail>, ApiError> {
    Ok(axum::Json(domain::fleet::tenant(&s.platform, &actor, &slug).await?))
}

/// The recommendations console's findings over the instances the caller sees.
#[utoipa::path(get, path = "/api/v1/fleet/findings", tag = "instances", responses((status = 200, body = Vec<domain::types::Finding>)))]
pub async fn findings(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<domain::types::Finding>>, ApiError> {
    Ok(axum::Json(domain::fleet::findings(&s.platform, &actor).await?))
}

/// The platform's run-time settings (platform staff and auditors).
#[utoipa::path(get, path = "/api/v1/platform/settings", tag = "system",
    responses((status = 200, body = domain::wire::PlatformSettingsView), (status = 403, body = domain::wire::ApiErrorBody)))]
pub async fn settings(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<domain::wire::PlatformSettingsView>, ApiError> {
    Ok(axum::Json(domain::platform_settings::get(&s.platform, &actor).await?))
}

/// Changes the settings given (owners only).
#[utoipa::path(patch, path = "/api/v1/platform/settings", tag = "system", request_body = domain::wire::PlatformSettingsInput,
    responses((status = 200, body = domain::wire::PlatformSettingsView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn patch_settings(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(input): Json<domain::wire::PlatformSettingsInput>,
) -> Result<axum::Json<domain::wire::PlatformSettingsView>, ApiError> {
    Ok(axum::Json(domain::platform_settings::set(&s.platform, &actor, input).await?))
}

/// Plan changes the caller sees, newest first.
#[utoipa::path(get, path = "/api/v1/billing/plan-changes", tag = "system",
    responses((status = 200, body = Vec<domain::wire::PlanChangeView>)))]
pub async fn plan_changes(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<domain::wire::PlanChangeView>>, ApiError> {
    Ok(axum::Json(domain::plan_changes::list(&s.platform, &actor).await?))
}

/// Proposes a plan for a tenant (finance and platform owners).
#[utoipa::path(post, path = "/api/v1/billing/plan-changes", tag = "system", request_body = domain::wire::NewPlanChange,
    responses((status = 201, body = domain::wire::PlanChangeView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn propose_plan_change(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(input): Json<domain::wire::NewPlanChange>,
) -> Result<(StatusCode, axum::Json<domain::wire::PlanChangeView>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domain::plan_changes::propose(&s.platform, &actor, input).await?)))
}

/// Approves or rejects a proposal (platform owners).
#[utoipa::path(post, path = "/api/v1/billing/plan-changes/{id}/decide", tag = "system",
    request_body = domain::wire::PlanChangeDecision, params(("id" = uuid::Uuid, Path)),
    responses((status = 200, body = domain::wire::PlanChangeView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn decide_plan_change(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    super::extract::Path(id): super::extract::Path<uuid::Uuid>,
    Json(d): Json<domain::wire::PlanChangeDecision>,
) -> Result<axum::Json<domain::wire::PlanChangeView>, ApiError> {
    Ok(axum::Json(domain::plan_changes::decide(&s.platform, &actor, id, d).await?))
}

/// What the fleet's live instances reserve (CPU, memory) and store, against the runtime's capacity.
#[utoipa::path(get, path = "/api/v1/fleet/capacity", tag = "tenants",
    responses((status = 200, body = domain::wire::FleetCapacity), (status = 403, body = domain::wire::ApiErrorBody)))]
pub async fn fleet_capacity(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<domain::wire::FleetCapacity>, ApiError> {
    Ok(axum::Json(domain::fleet::capacity(&s.platform, &actor).await?))
}

/// Deletes a tenant (platform owners only), once it runs and keeps nothing:
/// no live instance, no project, no backup kept.
#[utoipa::path(delete, path = "/api/v1/fleet/tenants/{slug}", tag = "tenants", params(("slug" = String, Path)),
    responses((status = 204), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody),
        (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn delete_tenant(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    super::extract::Path(slug): super::extract::Path<String>,
) -> Result<StatusCode, ApiError> {
    domain::tenants::delete(&s.platform, &actor, &slug).await?;
    Ok(StatusCode::NO_CONTENT)
}
