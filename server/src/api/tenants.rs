//! Tenants.

use super::error::ApiError;
use super::extract::{ApiActor, Json};
use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::wire::{NewTenant, TenantSummary};

/// Tenants the caller can see.
#[utoipa::path(get, path = "/api/v1/tenants", tag = "tenants", responses((status = 200, body = Vec<TenantSummary>)))]
pub async fn list_tenants(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<TenantSummary>>, ApiError> {
    Ok(axum::Json(domain::tenants::list(&s.platform, &actor).await?))
}

/// Creates a tenant (platform owners and operators).
#[utoipa::path(post, path = "/api/v1/tenants", tag = "tenants", request_body = NewTenant,
    responses((status = 201, body = TenantSummary), (status = 403, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn create_tenant(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(input): Json<NewTenant>,
) -> Result<(StatusCode, axum::Json<TenantSummary>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domain::tenants::create(&s.platform, &actor, input).await?)))
}

/// Adds an existing account to a tenant as `member` or `tenant_admin` (tenant admins, platform staff).
#[utoipa::path(post, path = "/api/v1/tenants/{id}/members", tag = "tenants", params(("id" = uuid::Uuid, Path)),
    request_body = domain::wire::NewMember,
    responses((status = 204), (status = 403, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn add_tenant_member(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    super::extract::Path(id): super::extract::Path<uuid::Uuid>,
    Json(input): Json<domain::wire::NewMember>,
) -> Result<StatusCode, ApiError> {
    domain::tenants::add_member(&s.platform, &actor, id, input).await?;
    Ok(StatusCode::NO_CONTENT)
}
