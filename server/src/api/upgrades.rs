//! The upgrade advisor over REST: preview production on a target series
//! (project admins), list a project's previews, read one as JSON, download
//! its report as a standalone HTML file, and ask to upgrade production with
//! it (a promotion someone else approves).

use super::error::ApiError;
use super::extract::{ApiActor, Json, Path};
use crate::startup::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use domain::wire::{NewPreview, PreviewStarted, PreviewView, PromotionView};
use uuid::Uuid;

/// Starts a preview: a build of the target series on a neutralized copy of production, `-u all` and the tests.
#[utoipa::path(post, path = "/api/v1/projects/{id}/upgrade-previews", tag = "upgrades", params(("id" = Uuid, Path)),
    request_body = NewPreview,
    responses((status = 202, body = PreviewStarted), (status = 403, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn start_preview(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(project): Path<Uuid>,
    Json(r): Json<NewPreview>,
) -> Result<(StatusCode, axum::Json<PreviewStarted>), ApiError> {
    let (id, build_id) =
        domain::upgrades::preview(&s.platform, &actor, project, &r.target_series, r.branch.as_deref()).await?;
    Ok((StatusCode::ACCEPTED, axum::Json(PreviewStarted { id, build_id })))
}

/// A project's previews, newest first.
#[utoipa::path(get, path = "/api/v1/projects/{id}/upgrade-previews", tag = "upgrades", params(("id" = Uuid, Path)),
    responses((status = 200, body = Vec<PreviewView>)))]
pub async fn list_previews(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(project): Path<Uuid>,
) -> Result<axum::Json<Vec<PreviewView>>, ApiError> {
    Ok(axum::Json(domain::upgrades::list(&s.platform, &actor, project).await?))
}

/// One preview with its report and risk.
#[utoipa::path(get, path = "/api/v1/upgrade-previews/{id}", tag = "upgrades", params(("id" = Uuid, Path)),
    responses((status = 200, body = PreviewView), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn get_preview(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<PreviewView>, ApiError> {
    Ok(axum::Json(domain::upgrades::get(&s.platform, &actor, id).await?))
}

/// The report as a standalone HTML file (a download; no scripts run in it).
#[utoipa::path(get, path = "/api/v1/upgrade-previews/{id}/report.html", tag = "upgrades", params(("id" = Uuid, Path)),
    responses((status = 200, content_type = "text/html", body = String), (status = 404, body = domain::wire::ApiErrorBody)))]
pub async fn preview_html(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<axum::response::Response, ApiError> {
    let (html, name) = domain::upgrades::html(&s.platform, &actor, id).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
            (header::CONTENT_SECURITY_POLICY, "default-src 'none'; style-src 'unsafe-inline'".to_owned()),
        ],
        html,
    )
        .into_response())
}

/// Asks to upgrade production with a finished, unblocked preview: a promotion
/// that someone else with release rights approves (backup first, `-u all`,
/// rollback to the backup on failure; the project then is on the target series).
#[utoipa::path(post, path = "/api/v1/upgrade-previews/{id}/upgrade", tag = "upgrades", params(("id" = Uuid, Path)),
    responses((status = 201, body = PromotionView), (status = 403, body = domain::wire::ApiErrorBody), (status = 409, body = domain::wire::ApiErrorBody), (status = 422, body = domain::wire::ApiErrorBody)))]
pub async fn request_upgrade(
    State(s): State<AppState>,
    ApiActor(actor): ApiActor,
    Path(id): Path<Uuid>,
) -> Result<(StatusCode, axum::Json<PromotionView>), ApiError> {
    let promotion = domain::upgrades::request_upgrade(&s.platform, &actor, id).await?;
    Ok((StatusCode::CREATED, axum::Json(domain::promotions::get(&s.platform, &actor, promotion).await?)))
}
