//! Tenant instances over REST: list (filters, pages), create, get, and
//! operations (`POST /api/v1/instances/{id}/operations`, idempotent by key),
//! each a thin edge over `domain::instances`.

use super::error::ApiError;
use super::extract::{ApiActor, Json, Path};
use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::instances::domains::{self, Owner};
use domain::wire::{InstanceOperationView, InstanceView, NewInstance, OperationRequest};
use uuid::Uuid;

#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct ListQuery {
    /// A tenant's slug.
    tenant: Option<String>,
    /// draft, provisioning, active, paused, decommissioning, decommissioned or error.
    state: Option<String>,
    /// At most 500 (default 50).
    limit: Option<i64>,
    offset: Option<i64>,
}

#[utoipa::path(get, path = "/api/v1/instances", tag = "instances", params(ListQuery),
    responses((status = 200, body = Vec<InstanceView>), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn list_instances(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    axum::extract::Query(q): axum::extract::Query<ListQuery>,
) -> Result<axum::Json<Vec<InstanceView>>, ApiError> {
    let list = domain::instances::list(
        &s.platform,
        &actor,
        q.tenant.as_deref(),
        q.state.as_deref(),
        q.limit.unwrap_or(50),
        q.offset.unwrap_or(0),
    )
    .await?;
    Ok(axum::Json(list))
}

/// Creates an instance in a tenant you administer; provisioning starts at once unless `draft`.
#[utoipa::path(post, path = "/api/v1/instances", tag = "instances", request_body = NewInstance,
    responses((status = 201, body = InstanceView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 409, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn create_instance(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Json(input): Json<NewInstance>,
) -> Result<(StatusCode, axum::Json<InstanceView>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domain::instances::create(&s.platform, &actor, input).await?)))
}

#[utoipa::path(get, path = "/api/v1/instances/{id}", tag = "instances", params(("id" = Uuid, Path)),
    responses((status = 200, body = InstanceView), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn get_instance(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<InstanceView>, ApiError> {
    Ok(axum::Json(domain::instances::get(&s.platform, &actor, id).await?))
}

#[utoipa::path(get, path = "/api/v1/instances/{id}/operations", tag = "instances", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<InstanceOperationView>), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn list_operations(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<InstanceOperationView>>, ApiError> {
    Ok(axum::Json(domain::instances::operations(&s.platform, &actor, id).await?))
}

/// The instance's backups (scheduled, manual, before changes, final), newest first.
#[utoipa::path(get, path = "/api/v1/instances/{id}/backups", tag = "instances", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<domain::wire::BackupView>), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn list_instance_backups(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<domain::wire::BackupView>>, ApiError> {
    Ok(axum::Json(domain::instances::backups(&s.platform, &actor, id).await?))
}

/// What the instance uses of its plan, measured now (storage against the plan, with its level).
#[utoipa::path(get, path = "/api/v1/instances/{id}/usage", tag = "instances", params(("id" = Uuid, Path)),
    responses((status = 200, body = domain::wire::InstanceUsage), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn instance_usage(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<domain::wire::InstanceUsage>, ApiError> {
    Ok(axum::Json(domain::instances::quota::usage(&s.platform, &actor, id).await?))
}

/// The plan catalog: limits (CPU, memory, workers, storage, users), backup retention, support, price.
#[utoipa::path(get, path = "/api/v1/plans", tag = "instances",
    responses((status = 200, body = Vec<domain::wire::PlanView>)))]
pub async fn list_plans(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
) -> Result<axum::Json<Vec<domain::wire::PlanView>>, ApiError> {
    Ok(axum::Json(domain::instances::quota::plans(&s.platform, &actor).await?))
}

/// Asks for an operation; the same `idempotency_key` answers the same operation.
#[utoipa::path(post, path = "/api/v1/instances/{id}/operations", tag = "instances", params(("id" = Uuid, Path)),
    request_body = OperationRequest,
    responses((status = 202, body = InstanceOperationView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 409, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn request_operation(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(input): Json<OperationRequest>,
) -> Result<(StatusCode, axum::Json<InstanceOperationView>), ApiError> {
    Ok((StatusCode::ACCEPTED, axum::Json(domain::instances::request(&s.platform, &actor, id, input).await?)))
}

/// The instance's custom domains, with what to point their DNS at.
#[utoipa::path(get, path = "/api/v1/instances/{id}/domains", tag = "instances", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<domain::wire::CustomDomainView>), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn list_domains(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<domain::wire::CustomDomainView>>, ApiError> {
    Ok(axum::Json(domains::list(&s.platform, &actor, Owner::Instance(id)).await?))
}

/// Adds a custom domain (pending until verified); tenant admins.
#[utoipa::path(post, path = "/api/v1/instances/{id}/domains", tag = "instances", params(("id" = Uuid, Path)),
    request_body = domain::wire::NewCustomDomain,
    responses((status = 201, body = domain::wire::CustomDomainView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 409, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn add_domain(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(input): Json<domain::wire::NewCustomDomain>,
) -> Result<(StatusCode, axum::Json<domain::wire::CustomDomainView>), ApiError> {
    Ok((StatusCode::CREATED, axum::Json(domains::add(&s.platform, &actor, Owner::Instance(id), input).await?)))
}

/// Verifies a custom domain: the console fetches its challenge URL through public DNS (422 with the reason when it fails).
#[utoipa::path(post, path = "/api/v1/instances/{id}/domains/{domain_id}/verify", tag = "instances",
    params(("id" = Uuid, Path), ("domain_id" = Uuid, Path)),
    responses((status = 200, body = domain::wire::CustomDomainView), (status = 403, body = domain::wire::ApiErrorBody),
        (status = 409, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn verify_domain(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, domain_id)): Path<(Uuid, Uuid)>,
) -> Result<axum::Json<domain::wire::CustomDomainView>, ApiError> {
    Ok(axum::Json(domains::verify(&s.platform, &actor, Owner::Instance(id), domain_id).await?))
}

/// Removes a custom domain: it stops routing at once.
#[utoipa::path(delete, path = "/api/v1/instances/{id}/domains/{domain_id}", tag = "instances",
    params(("id" = Uuid, Path), ("domain_id" = Uuid, Path)),
    responses((status = 204), (status = 403, body = domain::wire::ApiErrorBody), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn remove_domain(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path((id, domain_id)): Path<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    domains::remove(&s.platform, &actor, Owner::Instance(id), domain_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The members of the instance's tenant and their roles.
#[utoipa::path(get, path = "/api/v1/instances/{id}/members", tag = "instances", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<domain::wire::InstanceMember>), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn list_members(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<Vec<domain::wire::InstanceMember>>, ApiError> {
    Ok(axum::Json(domain::instances::members(&s.platform, &actor, id).await?))
}
