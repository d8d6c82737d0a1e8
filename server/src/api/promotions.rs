//! Promotions and rollbacks over REST: request a staging build's promotion,
//! approve or reject it (release rights; never your own), follow it, and
//! roll production back to an earlier build in one call.

use super::error::ApiError;
use super::extract::{ApiActor, Json, Path};
use crate::startup::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use domain::wire::{PromotionView, RejectRequest, ReleaseSettings, RollbackQueued, RollbackRequest};
use uuid::Uuid;

/// Asks to promote a successful staging build to production.
#[utoipa::path(post, path = "/api/v1/builds/{id}/promote", tag = "promotions", params(("id" = Uuid, Path)),
    responses((status = 201, body = PromotionView), (status = 403, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn request(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(build): Path<Uuid>,
) -> Result<(StatusCode, axum::Json<PromotionView>), ApiError> {
    let id = domain::promotions::request(&s.platform, &actor, build).await?;
    Ok((StatusCode::CREATED, axum::Json(domain::promotions::get(&s.platform, &actor, id).await?)))
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/promotions", tag = "promotions", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<PromotionView>)))]
pub async fn list(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(project): Path<Uuid>,
) -> Result<axum::Json<Vec<PromotionView>>, ApiError> {
    Ok(axum::Json(domain::promotions::list(&s.platform, &actor, project).await?))
}

#[utoipa::path(get, path = "/api/v1/promotions/{id}", tag = "promotions", params(("id" = Uuid, Path)),
    responses((status = 200, body = PromotionView), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn get(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<PromotionView>, ApiError> {
    Ok(axum::Json(domain::promotions::get(&s.platform, &actor, id).await?))
}

/// Approves (release rights; never the requester). The last approval needed starts the deployment.
#[utoipa::path(post, path = "/api/v1/promotions/{id}/approve", tag = "promotions", params(("id" = Uuid, Path)),
    responses((status = 200, body = PromotionView), (status = 403, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody)))]
pub async fn approve(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<PromotionView>, ApiError> {
    Ok(axum::Json(domain::promotions::approve(&s.platform, &actor, id).await?))
}

#[utoipa::path(post, path = "/api/v1/promotions/{id}/reject", tag = "promotions", params(("id" = Uuid, Path)),
    request_body = RejectRequest,
    responses((status = 200, body = PromotionView), (status = 403, body = domain::wire::ApiErrorBody)))]
pub async fn reject(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
    Json(r): Json<RejectRequest>,
) -> Result<axum::Json<PromotionView>, ApiError> {
    Ok(axum::Json(domain::promotions::reject(&s.platform, &actor, id, r.reason.as_deref()).await?))
}

/// Redeploys an earlier production build (project admins), restoring a backup or keeping the database.
#[utoipa::path(post, path = "/api/v1/projects/{id}/rollback", tag = "promotions", params(("id" = Uuid, Path)),
    request_body = RollbackRequest,
    responses((status = 202, body = RollbackQueued), (status = 403, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn rollback(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(project): Path<Uuid>,
    Json(r): Json<RollbackRequest>,
) -> Result<(StatusCode, axum::Json<RollbackQueued>), ApiError> {
    let queued = domain::promotions::rollback(&s.platform, &actor, project, r.build_id, r.restore_backup).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(RollbackQueued { build_id: queued })))
}

#[utoipa::path(get, path = "/api/v1/projects/{id}/release-settings", tag = "promotions", params(("id" = Uuid, Path)),
    responses((status = 200, body = ReleaseSettings)))]
pub async fn get_release_settings(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(project): Path<Uuid>,
) -> Result<axum::Json<ReleaseSettings>, ApiError> {
    Ok(axum::Json(domain::promotions::release_settings(&s.platform, &actor, project).await?))
}

/// Approvals a promotion needs, and the project's token scrubbing (project admins); fields left out stay.
#[utoipa::path(patch, path = "/api/v1/projects/{id}/release-settings", tag = "promotions", params(("id" = Uuid, Path)),
    request_body = ReleaseSettings,
    responses((status = 200, body = ReleaseSettings), (status = 403, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn patch_release_settings(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(project): Path<Uuid>,
    Json(input): Json<ReleaseSettings>,
) -> Result<axum::Json<ReleaseSettings>, ApiError> {
    Ok(axum::Json(domain::promotions::save_release_settings(&s.platform, &actor, project, input).await?))
}
