//! Tenants, and invitations into them: a tenant admin invites an address,
//! its owner accepts or declines.

use super::error::ApiError;
use super::extract::{ApiActor, Json, Path};
use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::wire::{Invitation, NewTenant, TenantSummary};

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

/// Invites an email address into a tenant as `member` or `tenant_admin`
/// (tenant admins, platform staff). The answer is the same whether or not an
/// account has the address; its owner joins by accepting the invitation.
#[utoipa::path(post, path = "/api/v1/tenants/{id}/members", tag = "tenants", params(("id" = uuid::Uuid, Path)),
    request_body = domain::wire::NewMember,
    responses((status = 202), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody),
        (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn invite_member(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<uuid::Uuid>,
    Json(input): Json<domain::wire::NewMember>,
) -> Result<StatusCode, ApiError> {
    domain::tenants::invite(&s.platform, &actor, id, input).await?;
    Ok(StatusCode::ACCEPTED)
}

/// The caller's pending invitations into tenants.
#[utoipa::path(get, path = "/api/v1/me/invitations", tag = "tenants", responses((status = 200, body = Vec<Invitation>)))]
pub async fn list_invitations(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<Invitation>>, ApiError> {
    Ok(axum::Json(domain::tenants::invitations(&s.platform, &actor).await?))
}

/// Accepts one of the caller's invitations: they join the tenant.
#[utoipa::path(post, path = "/api/v1/invitations/{id}/accept", tag = "tenants", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn accept_invitation(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<uuid::Uuid>,
) -> Result<StatusCode, ApiError> {
    domain::tenants::answer(&s.platform, &actor, id, true).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Declines one of the caller's invitations.
#[utoipa::path(post, path = "/api/v1/invitations/{id}/decline", tag = "tenants", params(("id" = uuid::Uuid, Path)),
    responses((status = 204), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn decline_invitation(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<uuid::Uuid>,
) -> Result<StatusCode, ApiError> {
    domain::tenants::answer(&s.platform, &actor, id, false).await?;
    Ok(StatusCode::NO_CONTENT)
}
